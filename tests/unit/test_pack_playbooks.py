"""Playbooks of the rule pack (issue 17: "profile- and rule-pack-defined"): every controller's
incidents get them besides the profile's own, by regime and breach type; a profile's playbook of
the same id replaces the pack's; the event keeps the playbook's title."""

from __future__ import annotations

from dataclasses import replace

from incident.correlation import correlate
from incident.decide import decide
from incident.events import TasksAdded
from incident.model import fold
from incident.playbooks import parse_playbooks
from incident.regimes import REGIMES
from tests.unit.builders import event
from tests.unit.test_tasks import NOW, PLAYBOOK, RANSOM, rules

PACK = parse_playbooks([{"id": "siem-triage", "title": {"en": "SIEM triage", "fr": "Tri des alertes"},
                         "tasks": [{"id": "check-source", "text": {"en": "Check the alert's source",
                                                                   "fr": "Vérifier la source de l'alerte"}}]},
                        {**RANSOM, "tasks": [{"id": "isolate", "text": "Isolate the hosts"}]},
                        {"id": "nis2-early", "title": "NIS2", "regimes": ["nis2"],
                         "tasks": [{"id": "warn", "text": "Early warning"}]}],
                       source="playbooks.toml", regimes=tuple(REGIMES))


def opened(with_pack: bool) -> list[TasksAdded]:
    r = rules(PLAYBOOK, RANSOM)
    r = replace(r, playbooks=PACK) if with_pack else r
    events = decide(correlate(None, event("a"))[1][0], None, now=NOW, rules=r)
    assert fold(None, events) is not None
    return [e for e in events if isinstance(e, TasksAdded)]


def test_the_pack_s_playbooks_come_after_the_profile_s_and_keep_their_title() -> None:
    assert [e.playbook for e in opened(with_pack=False)] == ["gdpr-breach"]
    added = {e.playbook: e for e in opened(with_pack=True)}
    # The pack's triage applies to any breach; its NIS2 playbook to no GDPR-only controller.
    assert list(added) == ["gdpr-breach", "siem-triage"]
    assert added["siem-triage"].titles == {"en": "SIEM triage", "fr": "Tri des alertes"}
    assert [t.id for t in added["siem-triage"].tasks] == ["check-source"]


def test_a_profile_s_playbook_replaces_the_pack_s_of_the_same_id() -> None:
    attach = correlate(None, event("r", breach_types=("availability",)))[1][0]
    with_own = fold(None, decide(attach, None, now=NOW, rules=replace(rules(PLAYBOOK, RANSOM), playbooks=PACK)))
    without = fold(None, decide(attach, None, now=NOW, rules=replace(rules(PLAYBOOK), playbooks=PACK)))
    assert with_own is not None and without is not None
    assert [t.key for t in with_own.tasks if t.playbook == "ransomware"] == ["ransomware/restore"]
    assert [t.key for t in without.tasks if t.playbook == "ransomware"] == ["ransomware/isolate"]
