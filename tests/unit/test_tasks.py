"""Playbooks as profile data (incident/playbooks.py), their tasks on an incident (incident/tasks.py),
tags and linking two incidents by hand (incident/tags.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from incident.commands import (
    AttachSignal,
    CheckTask,
    ClassifyIncident,
    LinkIncidents,
    OverrideRisk,
    RecordAwareness,
    TagIncident,
    Tick,
)
from incident.correlation import correlate
from incident.decide import Rules, decide, reactions
from incident.errors import CommandRejected, ProfileError
from incident.events import IncidentMerged, TaskChecked, TasksAdded
from incident.model import Incident, fold
from incident.profiles import Directory, parse_profile
from incident.signals import Evidence, SecurityEvent
from incident.tasks import progress
from tests.unit.builders import T0, FakeCalendar, event, profile_doc

NOW = T0 + timedelta(minutes=5)
PLAYBOOK: dict[str, Any] = {
    "id": "gdpr-breach", "title": {"en": "Personal data breach", "fr": "Violation de données"},
    "regimes": ["gdpr"],
    "tasks": [
        {"id": "contain", "text": {"en": "Contain", "fr": "Contenir"}},
        {"id": "preserve", "text": "Preserve evidence"},
        {"id": "assess", "text": "Assess the risk", "when": "aware"},
        {"id": "notify-authority", "text": "Notify the authority", "when": "risk"},
        {"id": "notify-people", "text": "Notify the people", "when": "high_risk"},
    ]}
RANSOM: dict[str, Any] = {"id": "ransomware", "title": "Ransomware", "breach_types": ["availability"],
                          "tasks": [{"id": "restore", "text": "Restore from backups"}]}


def rules(*playbooks: dict[str, Any]) -> Rules:
    doc = profile_doc(playbooks=list(playbooks or (PLAYBOOK, RANSOM)))
    return Rules(Directory.of([parse_profile(doc, source="acme.toml")]), FakeCalendar())


RULES = rules()


def run(state: Incident | None, command: object, r: Rules = RULES) -> tuple[Incident, list[object]]:
    events = decide(command, state, now=NOW, rules=r)  # type: ignore[arg-type]
    new = fold(state, events)  # type: ignore[arg-type]
    assert new is not None
    return new, events  # type: ignore[return-value]


def opened(r: Rules = RULES, **fields: Any) -> Incident:
    _, (command,) = correlate(None, event("a", severity=3, **fields))
    return run(None, command, r)[0]


def attach(state: Incident, signal: SecurityEvent) -> AttachSignal:
    return AttachSignal(incident_id=state.id, controller="acme", correlation_key="acme",
                        evidence=Evidence.of(signal, "joined by shared host.name"))


def keys(state: Incident) -> list[str]:
    return [t.key for t in state.tasks]


# --- playbooks as data -----------------------------------------------------------------------------
@pytest.mark.parametrize(("playbook", "key", "message"), [
    ({**PLAYBOOK, "tasks": []}, "playbooks[0].tasks", "non-empty array"),
    ({**PLAYBOOK, "regimes": ["hipaa"]}, "playbooks[0].regimes[0]", "'hipaa' is not one of"),
    ({**PLAYBOOK, "breach_types": ["theft"]}, "playbooks[0].breach_types[0]", "is not one of"),
    ({**PLAYBOOK, "tasks": [{"id": "x", "text": "X", "when": "someday"}]}, "playbooks[0].tasks[0].when",
     "'someday' is not one of opened, aware, risk, high_risk"),
    ({**PLAYBOOK, "tasks": [{"id": "x"}]}, "playbooks[0].tasks[0].text", "is required"),
    ({**PLAYBOOK, "tasks": [{"id": "x", "text": {"de": "X"}}]}, "playbooks[0].tasks[0].text.de", "is not one of"),
    ({**PLAYBOOK, "tasks": [{"id": "x", "text": "X"}, {"id": "x", "text": "Y"}]}, "playbooks[0].tasks[1].id",
     "duplicate id 'x'"),
    ({**PLAYBOOK, "tasks": [{"id": "Bad Id", "text": "X"}]}, "playbooks[0].tasks[0].id", "lower-case"),
    ({**PLAYBOOK, "owner": "rita"}, "playbooks[0].owner", "unknown key"),
])
def test_an_invalid_playbook_is_a_load_error_naming_its_key(playbook: dict[str, Any], key: str,
                                                            message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(profile_doc(playbooks=[playbook]), source="acme.toml")
    assert caught.value.key == key and message in caught.value.message
    assert str(caught.value).startswith(f"acme.toml: {key}: ")


def test_a_playbook_parses_with_its_texts_by_language() -> None:
    (playbook, _) = RULES.directory.profiles["acme"].playbooks
    assert playbook.titles == {"en": "Personal data breach", "fr": "Violation de données"}
    assert playbook.tasks[0].text("fr") == "Contenir" and playbook.tasks[1].text("fr") == "Preserve evidence"


# --- tasks on an incident -----------------------------------------------------------------------------
def test_tasks_are_added_as_the_incident_reaches_their_point() -> None:
    state = opened()
    assert keys(state) == ["gdpr-breach/contain", "gdpr-breach/preserve"]  # not the availability playbook
    state, events = run(state, RecordAwareness(incident_id=state.id, aware_at=T0, by="alice", evidence=()))
    added = [e for e in events if isinstance(e, TasksAdded)]
    assert len(added) == 1 and added[0].profile_ref == RULES.directory.profiles["acme"].ref
    assert state.level == "risk"
    assert keys(state)[2:] == ["gdpr-breach/assess", "gdpr-breach/notify-authority"]
    state, events = run(state, OverrideRisk(incident_id=state.id, level="high", justification="health data",
                                            by="user:dora", role="dpo"))
    assert keys(state)[-1] == "gdpr-breach/notify-people"
    # Nothing newly due: nothing added again (a redelivered decision, time passing).
    again, events = run(state, Tick(incident_id=state.id, at=NOW))
    assert not any(isinstance(e, TasksAdded) for e in events) and again.tasks == state.tasks
    assert progress(state) == (0, 5)


def test_a_playbook_for_a_breach_type_applies_to_incidents_of_that_type() -> None:
    state = opened(breach_types=("availability",))
    assert "ransomware/restore" in keys(state)


def test_a_later_signal_of_a_new_breach_type_brings_its_playbook_and_one_of_a_known_type_nothing() -> None:
    # Signals skip the second fold that finds due tasks unless they could make one due (the hot
    # path): a known type must add nothing, a new type (before any assessment) must still count.
    state = opened()
    state, events = run(state, attach(state, event("b", severity=3)))
    assert not any(isinstance(e, TasksAdded) for e in events) and "ransomware/restore" not in keys(state)
    state, events = run(state, attach(state, event("c", severity=3, breach_types=("availability",))))
    assert [e.playbook for e in events if isinstance(e, TasksAdded)] == ["ransomware"]
    assert keys(state)[-1] == "ransomware/restore"


def test_a_profile_without_playbooks_adds_no_task() -> None:
    r = Rules(Directory.of([parse_profile(profile_doc(), source="acme.toml")]), FakeCalendar())
    state = opened(r)
    assert state.tasks == () and state.version == 2  # IncidentOpened, SignalAttached: nothing more


def test_a_named_person_checks_and_unchecks_a_task_on_the_timeline() -> None:
    state = opened()
    check = CheckTask(incident_id=state.id, task="gdpr-breach/contain", done=True, by="user:rita", role="responder")
    state, events = run(state, check)
    assert [type(e) for e in events] == [TaskChecked]
    assert state.tasks[0].done_by == "user:rita" and state.tasks[0].done_at == NOW and progress(state) == (1, 2)
    assert run(state, check)[1] == []  # redelivered
    state, _ = run(state, CheckTask(incident_id=state.id, task="gdpr-breach/contain", done=False, by="user:sam",
                                    role="responder"))
    assert not state.tasks[0].done and progress(state) == (0, 2)


@pytest.mark.parametrize(("task", "role", "reason"), [
    ("gdpr-breach/nope", "responder", "no task gdpr-breach/nope"),
    ("gdpr-breach/contain", "auditor", "the auditor role may read, not act"),
])
def test_a_task_check_is_refused(task: str, role: str, reason: str) -> None:
    state = opened()
    with pytest.raises(CommandRejected, match=reason):
        run(state, CheckTask(incident_id=state.id, task=task, done=True, by="user:x", role=role))


# --- tags ---------------------------------------------------------------------------------------------
def test_tags_are_added_once_and_removed() -> None:
    state = opened()
    state, _ = run(state, TagIncident(incident_id=state.id, tag=" Phishing ", add=True, by="user:r", role="responder"))
    state, _ = run(state, TagIncident(incident_id=state.id, tag="vip", add=True, by="user:r", role="responder"))
    assert state.tags == ("phishing", "vip")
    assert run(state, TagIncident(incident_id=state.id, tag="phishing", add=True, by="u", role="responder"))[1] == []
    state, _ = run(state, TagIncident(incident_id=state.id, tag="phishing", add=False, by="u", role="responder"))
    assert state.tags == ("vip",)
    with pytest.raises(CommandRejected, match="one word"):
        run(state, TagIncident(incident_id=state.id, tag="two words", add=True, by="u", role="responder"))


# --- linking by hand -------------------------------------------------------------------------------
def test_a_person_merges_an_incident_as_the_correlator_does() -> None:
    state = opened()
    link = LinkIncidents(incident_id=state.id, into="other", reason="same phishing campaign", by="user:rita",
                         role="responder")
    merged, events = run(state, link)
    assert [type(e) for e in events] == [IncidentMerged] and merged.merged_into == "other"
    assert merged.merge_reason == "linked by hand by user:rita: same phishing campaign"
    (absorb,) = reactions(link, merged, events)  # the correlator's merge: the survivor takes the evidence
    assert absorb.incident_id == "other" and absorb.absorbed == state.id and len(absorb.evidence) == 1
    # A signal the correlator still links to the merged incident goes on to the survivor.
    (later,) = correlate(None, event("later"))[1]
    assert isinstance(later, AttachSignal)
    attach = AttachSignal(incident_id=state.id, controller="acme", correlation_key="acme", evidence=later.evidence)
    assert run(merged, attach)[1] == []
    (forwarded,) = reactions(attach, merged, [])
    assert forwarded.incident_id == "other" and forwarded.evidence[0].event_id == "later"  # type: ignore[union-attr]


def test_merging_an_incident_the_controller_is_aware_of_is_the_dpos() -> None:
    state, _ = run(opened(), RecordAwareness(incident_id=opened().id, aware_at=T0, by="alice", evidence=()))
    with pytest.raises(CommandRejected, match="only the DPO may merge"):
        run(state, LinkIncidents(incident_id=state.id, into="o", reason="same", by="user:r", role="responder"))
    merged, _ = run(state, LinkIncidents(incident_id=state.id, into="o", reason="same", by="user:d", role="dpo"))
    assert merged.merged_into == "o"
    with pytest.raises(CommandRejected, match="into itself"):
        run(state, LinkIncidents(incident_id=state.id, into=state.id, reason="x", by="user:d", role="dpo"))


def test_a_merge_carries_the_absorbed_incidents_tasks_and_who_checked_them() -> None:
    from streams.kafka import codec

    survivor = opened()
    survivor, _ = run(survivor, CheckTask(incident_id=survivor.id, task="gdpr-breach/preserve", done=True,
                                          by="user:sam", role="responder"))
    _, (command,) = correlate(None, event("b", severity=3, breach_types=("availability",), asset="acme-auth"))
    absorbed = run(None, command)[0]
    assert "ransomware/restore" in keys(absorbed) and "ransomware/restore" not in keys(survivor)
    for key in ("ransomware/restore", "gdpr-breach/contain"):
        absorbed, _ = run(absorbed, CheckTask(incident_id=absorbed.id, task=key, done=True, by="user:rita",
                                              role="responder"))
    link = LinkIncidents(incident_id=absorbed.id, into=survivor.id, reason="same intrusion", by="user:rita",
                         role="responder")
    merged, events = run(absorbed, link)
    (absorb,) = reactions(link, merged, events)
    assert codec.decode(codec.encode(absorb)) == absorb  # the tasks cross the wire with the evidence
    after, added = run(survivor, absorb)
    done = {t.key: t.done_by for t in after.tasks if t.done}
    # The survivor gains the task it lacked; what was checked there is checked here, by whoever did;
    # what was checked here already stays as it was.
    assert done == {"gdpr-breach/preserve": "user:sam", "ransomware/restore": "user:rita",
                    "gdpr-breach/contain": "user:rita"}
    assert keys(after).count("gdpr-breach/contain") == 1 and progress(after) == (3, 3)
    assert [type(e) for e in added if isinstance(e, TasksAdded | TaskChecked)] == [TasksAdded, TaskChecked,
                                                                                   TaskChecked]
    assert run(after, absorb)[1] == []  # redelivered: nothing twice


def test_tasks_and_tags_survive_the_wire_format() -> None:
    from streams.kafka import codec

    state = opened()
    state, _ = run(state, CheckTask(incident_id=state.id, task="gdpr-breach/contain", done=True, by="user:rita",
                                         role="responder"))
    state, _ = run(state, TagIncident(incident_id=state.id, tag="vip", add=True, by="user:r", role="responder"))
    assert codec.decode(codec.encode(state)) == state
    assert codec.decode(codec.as_table_value(state)) == state
    added = TasksAdded(incident_id="i", version=3, at=NOW, playbook="p", profile_ref=None,
                       tasks=RULES.directory.profiles["acme"].playbooks[0].tasks)
    assert codec.decode(codec.encode(added)) == added


def test_a_nis2_playbook_applies_once_the_incident_is_classified_significant() -> None:
    from tests.unit.test_decide import CSIRT

    nis2 = {"id": "nis2", "title": "Significant incident", "regimes": ["nis2"],
            "tasks": [{"id": "early-warning", "text": "Send the CSIRT the early warning"}]}
    doc = profile_doc(entity_type="nis2-important", csirt=CSIRT, playbooks=[PLAYBOOK, nis2])
    r = Rules(Directory.of([parse_profile(doc, source="acme.toml")]), FakeCalendar())
    state = opened(r)
    state, _ = run(state, RecordAwareness(incident_id=state.id, aware_at=T0, by="alice", evidence=()), r)
    assert not [k for k in keys(state) if k.startswith("nis2/")]  # a breach, not (yet) a significant incident
    state, _ = run(state, ClassifyIncident(incident_id=state.id, classification="significant", by="user:dora",
                                                at=NOW), r)
    assert keys(state)[-1] == "nis2/early-warning"
    with pytest.raises(ProfileError, match="'dora' is not one of gdpr, nis2"):  # not a regime of this controller
        parse_profile(profile_doc(entity_type="nis2-important", csirt=CSIRT,
                                  playbooks=[{**nis2, "regimes": ["dora"]}]), source="acme.toml")
