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

from incident.rules import FieldIs, Pattern
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
