"""Rule files are validated at start: every error names the file and the line."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident.rules import FieldIs, Pattern, RulePack
from streams.rules_loader import RulesError, load_rules
from streams.settings import ROOT, SettingsError

BASE = """\
title: Failed logon
id: 0b5c3a4e-0000-4000-8000-000000000001
name: failed_logon
logsource:
  category: authentication
detection:
  selection:
    event.outcome: failure
  condition: selection
"""

CORRELATION = """\
title: Many failures
id: 0b5c3a4e-0000-4000-8000-000000000002
correlation:
  type: {kind}
  rules:
    - {ref}
  group-by:
    - user.name
  timespan: 10m
  condition:
    gte: 5
"""


def write(tmp_path: Path, text: str, name: str = "rules.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error(tmp_path: Path) -> RulesError:
    with pytest.raises(RulesError) as caught:
        load_rules(tmp_path)
    return caught.value


def test_a_valid_file_with_a_rule_and_a_correlation_loads(tmp_path: Path) -> None:
    write(tmp_path, BASE + "---\n" + CORRELATION.format(kind="event_count", ref="failed_logon"))
    pack = load_rules(tmp_path)
    assert [d.name for d in pack.detections] == ["failed_logon"]
    (correlation,) = pack.correlations
    assert correlation.rules == ("0b5c3a4e-0000-4000-8000-000000000001",) and correlation.group_by == ("user.name",)
    assert pack.held == frozenset({"0b5c3a4e-0000-4000-8000-000000000001"})


def test_rules_may_reference_rules_of_another_file(tmp_path: Path) -> None:
    write(tmp_path, BASE, "a.yml")
    write(tmp_path, CORRELATION.format(kind="value_count", ref="failed_logon").replace(
        "gte: 5", "field: user.name\n    gte: 5"), "b.yaml")
    assert load_rules(tmp_path).correlations[0].field == "user.name"


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("event.outcome: failure", "event.outcome: [failure"))
    exc = error(tmp_path)
    assert exc.source == str(path) and exc.line == 9 and "not valid YAML" in exc.reason
    assert str(exc).startswith(f"{path}:9: ")


def test_an_unknown_modifier_names_its_line(tmp_path: Path) -> None:
    write(tmp_path, BASE + "---\n" + BASE.replace("event.outcome:", "event.outcome|sounds_like:").replace(
        "000000000001", "000000000009").replace("failed_logon", "other"))
    exc = error(tmp_path)
    assert exc.line == 18 and "sounds_like" in exc.reason


def test_an_unknown_correlation_type_names_its_line(tmp_path: Path) -> None:
    write(tmp_path, BASE + "---\n" + CORRELATION.format(kind="event_sum", ref="failed_logon"))
    exc = error(tmp_path)
    assert exc.line == 14 and "event_sum" in exc.reason


def test_a_metric_correlation_type_pysigma_knows_is_refused_with_its_line(tmp_path: Path) -> None:
    write(tmp_path, BASE + "---\n" + CORRELATION.format(kind="value_sum", ref="failed_logon").replace(
        "gte: 5", "field: source.bytes\n    gte: 5"))
    exc = error(tmp_path)
    assert exc.line == 14 and "value_sum" in exc.reason and "not supported" in exc.reason


def test_a_reference_to_a_missing_rule_names_its_line(tmp_path: Path) -> None:
    write(tmp_path, BASE + "---\n" + CORRELATION.format(kind="event_count", ref="no_such_rule"))
    exc = error(tmp_path)
    assert exc.line == 16 and "no_such_rule" in exc.reason


def test_a_condition_naming_a_missing_selection_names_its_line(tmp_path: Path) -> None:
    write(tmp_path, BASE.replace("condition: selection", "condition: selection and filter"))
    exc = error(tmp_path)
    assert exc.line == 9 and "filter" in exc.reason


def test_a_bad_regular_expression_names_its_line(tmp_path: Path) -> None:
    write(tmp_path, BASE.replace("event.outcome: failure", "user.name|re: '(unclosed'"))
    exc = error(tmp_path)
    assert exc.line == 8 and "regular expression" in exc.reason.lower()


def test_a_duplicate_name_is_refused(tmp_path: Path) -> None:
    write(tmp_path, BASE, "a.yml")
    write(tmp_path, BASE.replace("000000000001", "000000000003"), "b.yml")
    exc = error(tmp_path)
    assert exc.source.endswith("b.yml") and exc.line == 3 and "failed_logon" in exc.reason


def test_a_missing_folder_is_an_error_and_an_error_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="no such rules folder"):
        load_rules(tmp_path / "absent")


def test_wildcards_become_one_precompiled_search() -> None:
    from streams.rules_loader import _Document, _test

    doc = _Document(Path("x.yml"), 1, [])
    from sigma.types import SigmaString

    contains = _test(doc, "f", SigmaString("*secret*"))
    assert isinstance(contains, Pattern) and contains.regex.pattern == "secret"
    assert isinstance(FieldIs("f", contains).test, Pattern)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
                 st.sampled_from([BASE[:n] for n in range(0, len(BASE), 7)])))
def test_any_file_content_loads_or_fails_with_a_rules_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        load_rules(tmp_path)
    except RulesError as exc:
        assert exc.source.endswith("fuzz.yml") and exc.line >= 1


def test_the_worker_refuses_to_start_on_a_bad_rule_naming_file_and_line(tmp_path: Path) -> None:
    bad = write(tmp_path, BASE.replace("event.outcome:", "event.outcome|sounds_like:"))
    env = {**os.environ, "BREACH_RULES_DIR": str(tmp_path), "BREACH_BROKER_URL": "kafka://127.0.0.1:1"}
    result = subprocess.run([sys.executable, "-m", "streams.cli", "worker"], capture_output=True, text=True, env=env,
                            timeout=60, cwd=ROOT, check=False)
    assert result.returncode == 2 and f"breach: {bad}:8: " in result.stderr and "sounds_like" in result.stderr


MODIFIERS = """\
title: {name}
id: 0b5c3a4e-0000-4000-8000-0000000001{n:02d}
name: {name}
logsource:
  category: any
detection:
  selection:
    {test}
  condition: selection
"""

# Each Sigma modifier the issue names, written in a rule file and parsed by pySigma: what must
# and must not match it (the loader's translation, not only the evaluator, is under test).
MODIFIER_CASES = [
    ("contains", "event.action|contains: port", {"event.action": "Export-Table"}, {"event.action": "delete"}),
    ("startswith", "event.action|startswith: export", {"event.action": "Export-Table"},
     {"event.action": "re-export"}),
    ("endswith", "event.action|endswith: table", {"event.action": "Export-Table"},
     {"event.action": "table-export"}),
    ("re", "rule.name|re: '^ransom(ware)?\\b'", {"rule.name": "ransomware note"}, {"rule.name": "ransomed"}),
    ("cidr", "source.ip|cidr: 10.0.0.0/8", {"source.ip": "10.1.2.3"}, {"source.ip": "192.168.1.1"}),
    ("all", "tags|contains|all: [dlp, mail]", {"tags": ["dlp", "e-mail"]}, {"tags": ["dlp", "usb"]}),
    ("exists", "data_store.name|exists: true", {"data_store.name": "crm"}, {"host.name": "crm"}),
    ("not_exists", "destination.ip|exists: false", {"host.name": "a"}, {"destination.ip": "10.0.0.1"}),
]


@pytest.mark.parametrize(("name", "test", "matching", "other"), MODIFIER_CASES, ids=[c[0] for c in MODIFIER_CASES])
def test_each_sigma_modifier_from_a_rule_file(tmp_path: Path, name: str, test: str, matching: dict[str, object],
                                              other: dict[str, object]) -> None:
    write(tmp_path, MODIFIERS.format(name=name, n=[c[0] for c in MODIFIER_CASES].index(name), test=test))
    pack = load_rules(tmp_path)
    assert [pack.title_of(r) for r in pack.matching(matching)] == [name]
    assert pack.matching(other) == ()


FOUR = BASE + """\
---
title: Export
id: 0b5c3a4e-0000-4000-8000-000000000021
name: export
logsource:
  category: any
detection:
  selection:
    event.action: export
  condition: selection
---
title: Many failures for one account
id: 0b5c3a4e-0000-4000-8000-000000000022
name: many_failures
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [user.name]
  timespan: 10m
  condition: {gte: 3}
---
title: Many accounts from one source
id: 0b5c3a4e-0000-4000-8000-000000000023
name: many_accounts
correlation:
  type: value_count
  rules: [failed_logon]
  group-by: [source.ip]
  timespan: 10m
  condition: {field: user.name, gte: 3}
---
title: Failure and export, any order
id: 0b5c3a4e-0000-4000-8000-000000000024
name: fail_and_export
correlation:
  type: temporal
  rules: [failed_logon, export]
  group-by: [host.name]
  timespan: 5m
  condition: {gte: 2}
---
title: Failure then export
id: 0b5c3a4e-0000-4000-8000-000000000025
name: fail_then_export
correlation:
  type: temporal_ordered
  rules: [failed_logon, export]
  group-by: [host.name]
  timespan: 5m
  condition: {gte: 2}
"""


def test_the_four_correlation_types_from_a_rule_file_with_group_by_timespan_and_conditions(tmp_path: Path) -> None:
    from datetime import timedelta

    from incident.commands import AttachSignal
    from incident.correlation import correlate_batch
    from tests.unit.builders import T0, event

    write(tmp_path, FOUR)
    pack = load_rules(tmp_path)
    by_name = {c.name: c for c in pack.correlations}
    assert {n: (c.type, c.group_by, c.timespan, c.condition, c.field) for n, c in by_name.items()} == {
        "many_failures": ("event_count", ("user.name",), timedelta(minutes=10), (("gte", 3.0),), None),
        "many_accounts": ("value_count", ("source.ip",), timedelta(minutes=10), (("gte", 3.0),), "user.name"),
        "fail_and_export": ("temporal", ("host.name",), timedelta(minutes=5), (("gte", 2.0),), None),
        "fail_then_export": ("temporal_ordered", ("host.name",), timedelta(minutes=5), (("gte", 2.0),), None),
    }

    # A signal is attached once, naming the correlation that released it: to see temporal_ordered
    # fire where temporal fires too, a second pack leaves temporal out.
    ordered_only = tmp_path / "ordered"
    ordered_only.mkdir()
    write(ordered_only, "---\n".join(d for d in FOUR.split("---\n") if "type: temporal\n" not in d))
    ordered_pack = load_rules(ordered_only)

    def fired(*events: object, pack: RulePack = pack) -> set[str]:
        _, commands = correlate_batch(None, list(events), pack=pack)  # type: ignore[arg-type]
        return {name for c in commands if isinstance(c, AttachSignal) for name in by_name
                if f"correlation {name} fired" in c.evidence.reason}

    def fail(i: int, minute: int, user: str = "alice", ip: str = "203.0.113.9") -> object:
        return event(f"f{i}", asset="acme-auth", at=T0 + timedelta(minutes=minute), outcome="failure",
                     user=user, source_ip=ip)

    def export(minute: int, host: str = "acme-auth") -> object:
        return event("x", asset=host, at=T0 + timedelta(minutes=minute), action="export")

    assert fired(fail(1, 0), fail(2, 1), fail(3, 2)) == {"many_failures"}
    assert fired(fail(1, 0), fail(2, 6), fail(3, 12)) == set()  # never 3 within 10 min
    assert fired(fail(1, 0, "a"), fail(2, 1, "b"), fail(3, 2, "c")) == {"many_accounts"}
    assert fired(fail(1, 0, "a", "198.51.100.1"), fail(2, 1, "b"), fail(3, 2, "c")) == set()  # 2 per source
    assert fired(fail(1, 0), export(2)) == {"fail_and_export"}
    assert fired(export(0), fail(1, 2)) == {"fail_and_export"}  # any order
    assert fired(fail(1, 0), export(2), pack=ordered_pack) == {"fail_then_export"}
    assert fired(export(0), fail(1, 2), pack=ordered_pack) == set()  # not in the declared order
    for p in (pack, ordered_pack):
        assert fired(fail(1, 0), export(6), pack=p) == set()  # outside the 5 min timespan
        assert fired(fail(1, 0), export(2, host="acme-crm-db"), pack=p) == set()  # another group
