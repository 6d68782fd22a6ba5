"""Paging the on-call team (incident/paging.py): when a page is raised, what it holds, its
repeats until a named person acknowledges it, and the policy a profile overrides."""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from incident.commands import AcknowledgePage, AttachSignal, DismissIncident, MergeIncident, RecordAwareness, Tick
from incident.correlation import correlate
from incident.decide import Rules, decide
from incident.errors import CommandRejected, ProfileError
from incident.events import PageAcknowledged, Paged
from incident.model import Incident, fold
from incident.pages import AWARE, ESCALATED, PAGING_OFF, SEVERITY, Page, PagingPolicy
from incident.profiles import Directory, parse_profile
from incident.reminders import TRIAGE_RULE, next_tick_at
from tests.unit.builders import PROFILE, T0, FakeCalendar, directory, event, profile_doc

RULES = Rules(directory(), FakeCalendar())
REPEAT = timedelta(minutes=15)


def run(state: Incident | None, command: Any, now: datetime, rules: Rules = RULES) -> tuple[Incident, list[Any]]:
    events = decide(command, state, now=now, rules=rules)
    new = fold(state, events)
    assert new is not None
    return new, events


def pages(events: list[Any]) -> list[Paged]:
    return [e for e in events if isinstance(e, Paged)]


def opened(severity: int = 0, confirms: bool = False, rules: Rules = RULES) -> tuple[Incident, list[Any]]:
    _, (command,) = correlate(None, event("a", severity=severity, confirms=confirms))
    return run(None, command, T0, rules)


def aware() -> Incident:
    state, _ = opened()
    state, _ = run(state, RecordAwareness(incident_id=state.id, aware_at=T0, by="user:alice", evidence=()), T0)
    return state


def test_an_incident_that_becomes_aware_pages_at_once_in_the_same_decision() -> None:
    state, events = opened()
    assert pages(events) == [] and state.pages == ()  # a low-severity suspicion pages nobody
    state, events = run(state, RecordAwareness(incident_id=state.id, aware_at=T0, by="user:alice", evidence=()),
                        T0 + timedelta(minutes=3))
    (paged,) = pages(events)
    assert events[-1] is paged and paged.repeat == 0 and paged.at == T0 + timedelta(minutes=3)
    page = paged.page
    assert (page.reason, page.trigger, page.incident_id, page.controller) == (AWARE, "awareness", state.id, "acme")
    assert page.page_id == f"{state.id}/page-1"
    assert page.aware_at == T0 and page.level == state.level and page.opened_at == state.opened_at
    assert page.deadline == state.clocks[0].deadline  # the Art. 33 deadline, not a reminder at T-48 h
    assert (page.repeat_seconds, page.max_repeats) == (15 * 60, 12)


def test_a_page_holds_ids_references_times_and_levels_only() -> None:
    _, (command,) = correlate(None, event("a", confirms=True, user="j.dupont", source_ip="203.0.113.7",
                                          records=5000))
    _, events = run(None, command, T0)
    (paged,) = pages(events)
    held = asdict(paged.page)
    assert {f.name for f in fields(Page)} == set(held)
    text = repr(held)
    for personal_or_evidence in ("j.dupont", "203.0.113.7", "Bulk export", "acme-crm-db", "alice", "5000"):
        assert personal_or_evidence not in text


def test_a_signal_at_or_above_the_severity_pages_a_suspected_incident_once() -> None:
    state, events = opened(severity=4)
    (paged,) = pages(events)
    assert (paged.page.reason, paged.page.trigger, paged.page.severity) == (SEVERITY, "severity 4", 4)
    _, (command,) = correlate(None, event("b", severity=5))
    command = replace(command, incident_id=state.id)
    state, events = run(state, command, T0 + timedelta(minutes=1))
    assert pages(events) == []  # paged already for its severity


def test_becoming_aware_on_a_critical_signal_pages_once_for_awareness() -> None:
    _, events = opened(severity=5, confirms=True)
    (paged,) = pages(events)
    assert paged.page.reason == AWARE


def test_the_page_repeats_at_the_interval_until_acknowledged() -> None:
    state = aware()
    assert next_tick_at(state, RULES.triage_window) == T0 + REPEAT  # the repeat is the next Tick
    state, events = run(state, Tick(incident_id=state.id, at=T0 + REPEAT - timedelta(seconds=1)),
                        T0 + REPEAT - timedelta(seconds=1))
    assert pages(events) == []  # not yet
    later = T0 + REPEAT
    state, events = run(state, Tick(incident_id=state.id, at=later), later)
    (again,) = pages(events)
    assert again.repeat == 1 and again.page == state.pages[0].page  # the same page, sent again
    assert next_tick_at(state, RULES.triage_window) == later + REPEAT

    state, events = run(state, AcknowledgePage(incident_id=state.id, by="user:rita", role="responder"),
                        later + timedelta(minutes=2))
    assert events == [PageAcknowledged(incident_id=state.id, version=state.version, at=later + timedelta(minutes=2),
                                       page_ids=(f"{state.id}/page-1",), by="user:rita")]
    assert state.pages[0].acknowledged_by == "user:rita" and state.pages[0].next_at is None
    assert next_tick_at(state, RULES.triage_window) == state.clocks[0].deadline - timedelta(hours=48)
    _, events = run(state, Tick(incident_id=state.id, at=later + REPEAT), later + REPEAT)
    assert pages(events) == []  # acknowledged: no more repeats


def test_after_downtime_one_repeat_is_sent_not_a_burst() -> None:
    state = aware()
    now = T0 + 5 * REPEAT
    state, events = run(state, Tick(incident_id=state.id, at=now), now)
    assert [p.repeat for p in pages(events)] == [1]
    assert state.pages[0].next_at == now + REPEAT


def test_repeats_stop_after_the_maximum() -> None:
    rules = replace(RULES, paging=PagingPolicy(max_repeats=2))
    state, _ = opened(rules=rules)
    state, _ = run(state, RecordAwareness(incident_id=state.id, aware_at=T0, by="user:alice", evidence=()), T0,
                   rules)
    sent = []
    for n in range(1, 5):
        now = T0 + n * REPEAT
        state, events = run(state, Tick(incident_id=state.id, at=now), now, rules)
        sent += [p.repeat for p in pages(events)]
    assert sent == [1, 2] and state.pages[0].next_at is None and state.pages[0].unacknowledged


def test_an_escalation_pages_and_takes_over_the_repeats() -> None:
    state, _ = opened()
    state, _ = run(state, RecordAwareness(incident_id=state.id, aware_at=T0, by="user:alice", evidence=()), T0)
    state, _ = run(state, AcknowledgePage(incident_id=state.id, by="user:rita", role="responder"), T0)
    overdue = state.clocks[0].deadline + timedelta(minutes=1)
    state, events = run(state, Tick(incident_id=state.id, at=overdue), overdue)
    (paged,) = pages(events)
    assert (paged.page.reason, paged.page.trigger) == (ESCALATED, state.clocks[0].rule_ref)
    assert paged.page.page_id == f"{state.id}/page-2" and state.pages[-1].next_at == overdue + REPEAT


def test_an_undecided_suspected_incident_is_escalated_and_paged() -> None:
    state, _ = opened()
    later = T0 + timedelta(hours=25)
    state, events = run(state, Tick(incident_id=state.id, at=later), later)
    (paged,) = pages(events)
    assert (paged.page.reason, paged.page.trigger, paged.page.aware_at) == (ESCALATED, TRIAGE_RULE, None)


def test_a_later_page_stops_the_earlier_ones_repeats_and_one_acknowledgement_covers_both() -> None:
    state, _ = opened(severity=5)
    assert state.pages[0].next_at == T0 + REPEAT
    state, _ = run(state, RecordAwareness(incident_id=state.id, aware_at=T0, by="user:alice", evidence=()), T0)
    assert [p.next_at for p in state.pages] == [None, T0 + REPEAT]
    state, events = run(state, AcknowledgePage(incident_id=state.id, by="user:dora", role="dpo"), T0)
    assert events[0].page_ids == (f"{state.id}/page-1", f"{state.id}/page-2")
    assert all(p.acknowledged_by == "user:dora" for p in state.pages)


def test_an_acknowledgement_redelivered_changes_nothing() -> None:
    state = aware()
    ack = AcknowledgePage(incident_id=state.id, by="user:rita", role="responder")
    state, _ = run(state, ack, T0)
    assert run(state, ack, T0 + timedelta(minutes=1))[1] == []


@pytest.mark.parametrize(("role", "by", "reason"), [
    ("viewer", "user:vic", "the viewer role may read, not act"),
    ("responder", " ", "an acknowledgement names who acknowledges"),
])
def test_an_acknowledgement_is_a_named_persons_who_may_act(role: str, by: str, reason: str) -> None:
    state = aware()
    with pytest.raises(CommandRejected, match=reason):
        decide(AcknowledgePage(incident_id=state.id, by=by, role=role), state, now=T0, rules=RULES)


def test_nothing_to_acknowledge_when_nobody_was_paged() -> None:
    state, _ = opened()
    with pytest.raises(CommandRejected, match="nobody was paged"):
        decide(AcknowledgePage(incident_id=state.id, by="user:rita", role="responder"), state, now=T0, rules=RULES)


def test_a_dismissed_incident_stops_repeating() -> None:
    state, _ = opened(severity=4)
    state, _ = run(state, DismissIncident(incident_id=state.id, outcome="false_positive", reason="scanner",
                                          by="user:rita", role="responder"), T0)
    assert next_tick_at(state, RULES.triage_window) is None
    assert pages(run(state, Tick(incident_id=state.id, at=T0 + REPEAT), T0 + REPEAT)[1]) == []


def test_paging_off_pages_nobody() -> None:
    rules = replace(RULES, paging=PAGING_OFF)
    _, events = opened(severity=6, confirms=True, rules=rules)
    assert pages(events) == []


def test_a_profile_overrides_the_deployments_policy_key_by_key() -> None:
    doc = profile_doc(paging={"severity": "critical", "repeat_minutes": 5, "oncall": ["soc@acme.example"]})
    rules = replace(RULES, directory=Directory.of([parse_profile(doc, source="acme.toml")]),
                    paging=PagingPolicy(max_repeats=3))
    _, events = opened(severity=4, rules=rules)
    assert pages(events) == []  # "high" no longer pages this controller
    state, events = opened(severity=5, rules=rules)
    (paged,) = pages(events)
    assert (paged.page.repeat_seconds, paged.page.max_repeats) == (300, 3)  # its own interval, the deployment's cap
    assert state.pages[0].next_at == T0 + timedelta(minutes=5)


@pytest.mark.parametrize(("paging", "key"), [
    ({"severity": "urgent"}, "paging.severity"),
    ({"severity": 9}, "paging.severity"),
    ({"repeat_minutes": -1}, "paging.repeat_minutes"),
    ({"oncall": ["not an address"]}, "paging.oncall[0]"),
    ({"pager": True}, "paging.pager"),
])
def test_a_bad_paging_table_names_its_key(paging: dict[str, Any], key: str) -> None:
    with pytest.raises(ProfileError) as raised:
        parse_profile(profile_doc(paging=paging), source="acme.toml")
    assert key in str(raised.value)


def test_severity_never_turns_the_severity_page_off() -> None:
    profile = parse_profile(profile_doc(paging={"severity": "never", "on_aware": False}), source="acme.toml")
    assert PagingPolicy().with_overrides(profile.paging) == replace(PagingPolicy(), severity=None, on_aware=False)
    assert parse_profile(PROFILE, source="acme.toml").paging == ()


def test_a_merged_incident_pages_no_more() -> None:
    state = aware()
    state, _ = run(state, MergeIncident(incident_id=state.id, into="other", reason="shared entities"), T0)
    assert next_tick_at(state, RULES.triage_window) is None
    assert pages(run(state, Tick(incident_id=state.id, at=T0 + REPEAT), T0 + REPEAT)[1]) == []


def test_pages_survive_the_wire_format() -> None:
    from streams.kafka import codec
    state = aware()
    _, (command,) = correlate(None, event("z", confirms=True))
    assert isinstance(command, AttachSignal)
    assert codec.decode(codec.encode(state)) == state
    paged = state.pages[0]
    event_ = Paged(incident_id=state.id, version=9, at=T0, page=paged.page, repeat=2)
    assert codec.decode(codec.encode(event_)) == event_
