"""The rule pack's playbooks file (deploy/rules/playbooks.toml), read from disk: none without the
file, every playbook validated as a profile's is, a bad one refused naming the file and the key;
the Sigma loader leaves the file alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from incident.errors import ProfileError
from streams.playbooks_loader import load_playbooks
from streams.rules_loader import load_rules
from streams.settings import ROOT

GOOD = """
[[playbooks]]
id = "siem-triage"
title = { en = "SIEM triage", fr = "Tri des alertes" }
regimes = ["nis2"]

[[playbooks.tasks]]
id = "check-source"
text = "Check the alert's source"
when = "aware"
"""


def test_no_file_no_playbooks_and_the_shipped_pack_loads() -> None:
    assert load_playbooks(ROOT / "deploy" / "profiles") == ()  # a folder without the file
    load_playbooks(ROOT / "deploy" / "rules")  # whatever it ships, valid


def test_a_pack_playbook_may_name_any_regime_and_the_sigma_loader_ignores_the_file(tmp_path: Path) -> None:
    (tmp_path / "playbooks.toml").write_text(GOOD, encoding="utf-8")
    (playbook,) = load_playbooks(tmp_path)
    assert (playbook.id, playbook.regimes, playbook.titles["fr"]) == ("siem-triage", ("nis2",), "Tri des alertes")
    assert [(t.id, t.when) for t in playbook.tasks] == [("check-source", "aware")]
    assert load_rules(tmp_path).detections == ()  # not a Sigma rule file


@pytest.mark.parametrize(("text", "key"), [
    (GOOD.replace('"nis2"', '"mars"'), "playbooks[0].regimes"),
    (GOOD.replace('when = "aware"', 'when = "later"'), "playbooks[0].tasks[0].when"),
    (GOOD + "\n[paging]\nseverity = 3\n", "paging"),
    ("[[playbooks]\n", "(syntax)"),
])
def test_a_bad_playbook_is_refused_naming_the_file_and_the_key(tmp_path: Path, text: str, key: str) -> None:
    (tmp_path / "playbooks.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as refused:
        load_playbooks(tmp_path)
    assert str(tmp_path / "playbooks.toml") in str(refused.value) and key in str(refused.value)
