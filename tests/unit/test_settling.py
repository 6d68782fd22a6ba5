"""The settle delay (issue 19, incident/settling.py): a new incident holds the awareness of a
confirming signal (its assessment, clocks and drafts) and its severity page until the first Tick
``Rules.settle`` after it opened; merged meanwhile, its survivor does them, once. A zero delay
(the default) holds nothing; a person's decision is never held. Time is passed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from incident.commands import AttachSignal, Command, RecordAwareness, Tick
from incident.correlation import correlate
from incident.decide import AUTOMATIC_AWARENESS, Rules, decide, reactions
from incident.events import AwarenessRecorded, ClockStarted, NoticeRequested, Paged, RiskAssessed
from incident.model import Incident, fold
from incident.pages import AWARE, SEVERITY
from incident.reminders import next_tick_at
from incident.settling import release_at
from incident.stage_messages import Merge
from streams.settings import load_settings
from tests.unit.builders import T0, FakeCalendar, directory, event

SETTLE = timedelta(seconds=60)
ONE, A, B = (f"00000000-0000-4000-8000-00000000000{c}" for c in "0ab")  # incident ids are UUIDs (notice ids)
HELD = Rules(directory(), FakeCalendar(), settle=SETTLE)
AT_ONCE = Rules(directory(), FakeCalendar())
OUT = (AwarenessRecorded, RiskAssessed, ClockStarted, NoticeRequested, Paged)  # what leaves the service


def attach(event_id: str, incident_id: str, *, confirms: bool = False, severity: int = 0) -> AttachSignal:
    _, (command,) = correlate(None, event(event_id, confirms=confirms, severity=severity))
    assert isinstance(command, AttachSignal)
    return replace(command, incident_id=incident_id)


def run(state: Incident | None, command: Command, now: datetime, rules: Rules = HELD) -> tuple[Incident, list[Any]]:
    events = decide(command, state, now=now, rules=rules)
    new = fold(state, events) if events else state
    assert new is not None
    return new, events


def kinds(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_a_confirming_signal_waits_for_the_settle_tick_then_does_everything_once() -> None:
    state, events = run(None, attach("a", ONE, confirms=True), T0)
    assert not any(isinstance(e, OUT) for e in events)
    assert state.awareness is None and state.status == "open"
    assert release_at(state, HELD) == T0 + SETTLE
    assert next_tick_at(state, HELD.triage_window, held_until=release_at(state, HELD)) == T0 + SETTLE
    # A Tick before the end changes nothing.
    assert decide(Tick(incident_id=ONE, at=T0 + SETTLE / 2), state, now=T0 + SETTLE / 2, rules=HELD) == []
    state, events = run(state, Tick(incident_id=ONE, at=T0 + SETTLE), T0 + SETTLE)
    assert {AwarenessRecorded, RiskAssessed, ClockStarted, NoticeRequested, Paged} <= {type(e) for e in events}
    assert state.awareness is not None and state.awareness.by == AUTOMATIC_AWARENESS
    assert state.awareness.evidence == ("a",)
    (page,) = [e for e in events if isinstance(e, Paged)]
    assert page.page.reason == AWARE
    assert release_at(state, HELD) is None
    later = T0 + SETTLE + timedelta(seconds=5)
    assert not any(isinstance(e, (AwarenessRecorded, Paged, NoticeRequested))
                   for e in decide(Tick(incident_id=ONE, at=later), state, now=later, rules=HELD))


def test_the_delay_does_not_move_awareness_nor_the_deadline() -> None:
    held, _ = run(None, attach("a", ONE, confirms=True), T0)
    held, _ = run(held, Tick(incident_id=ONE, at=T0 + SETTLE), T0 + SETTLE)
    at_once, _ = run(None, attach("a", ONE, confirms=True), T0, AT_ONCE)
    assert held.awareness is not None and at_once.awareness is not None
    assert held.awareness.aware_at == at_once.awareness.aware_at  # when the signal reached us
    assert [c.deadline for c in held.clocks] == [c.deadline for c in at_once.clocks]
    assert held.level == at_once.level and len(held.notices) == len(at_once.notices)


def test_without_a_delay_nothing_is_held() -> None:
    state, events = run(None, attach("a", ONE, confirms=True, severity=5), T0, AT_ONCE)
    assert AwarenessRecorded in {type(e) for e in events} and Paged in {type(e) for e in events}
    assert release_at(state, AT_ONCE) is None


def test_a_severe_signal_pages_at_the_settle_tick() -> None:
    state, events = run(None, attach("a", ONE, severity=5), T0)
    state, more = run(state, attach("b", ONE, severity=2), T0 + timedelta(seconds=10))
    assert not any(isinstance(e, Paged) for e in (*events, *more))
    assert release_at(state, HELD) == T0 + SETTLE
    state, events = run(state, Tick(incident_id=ONE, at=T0 + SETTLE), T0 + SETTLE)
    (page,) = [e for e in events if isinstance(e, Paged)]
    assert page.page.reason == SEVERITY and page.page.trigger == "severity 5"
    assert state.awareness is None  # a severe signal pages; it does not make the controller aware
    assert release_at(state, HELD) is None
    # After the delay a severe signal pages at once again; the severity page is once per incident.
    state, events = run(state, attach("c", ONE, severity=6), T0 + SETTLE * 2)
    assert not any(isinstance(e, Paged) for e in events)


def test_a_persons_decision_is_never_held() -> None:
    state, _ = run(None, attach("a", ONE), T0)
    state, events = run(state, RecordAwareness(incident_id=ONE, aware_at=T0, by="user:rita", evidence=()),
                        T0 + timedelta(seconds=5))
    assert AwarenessRecorded in {type(e) for e in events} and Paged in {type(e) for e in events}


class Stage:
    """Incidents in order, reactions queued after the command that made them."""

    def __init__(self) -> None:
        self.states: dict[str, Incident] = {}
        self.events: list[Any] = []

    def send(self, now: datetime, *commands: Command) -> None:
        queue = list(commands)
        while queue:
            command = queue.pop(0)
            state = self.states.get(command.incident_id)
            events = decide(command, state, now=now, rules=HELD)
            new = fold(state, events) if events else state
            if new is not None:
                self.states[command.incident_id] = new
            self.events.extend(events)
            queue.extend(reactions(command, new, events))

    def tick(self, now: datetime) -> None:
        """The clock agent: a Tick to every incident whose next Tick is due."""
        for incident_id, state in list(self.states.items()):
            due = next_tick_at(state, HELD.triage_window, held_until=release_at(state, HELD))
            if due is not None and due <= now:
                self.send(now, Tick(incident_id=incident_id, at=now))


def test_an_incident_merged_within_its_delay_leaves_it_to_the_survivor_which_does_it_once() -> None:
    # b (a confirmed breach on a second host) opens its own incident, merged into a 10 s later.
    stage = Stage()
    stage.send(T0, attach("sig-a", A, severity=5))
    stage.send(T0 + timedelta(seconds=2), attach("sig-b", B, confirms=True, severity=5))
    stage.send(T0 + timedelta(seconds=10), Merge(absorbed=B, into=A, into_rank=(T0, A), absorbed_rank=(T0, B),
                                                 reason="shares user.name#x").command())
    assert not any(isinstance(e, OUT) for e in stage.events)
    for second in range(11, 200, 5):
        stage.tick(T0 + timedelta(seconds=second))
    aware = [e for e in stage.events if isinstance(e, AwarenessRecorded)]
    paged = [e for e in stage.events if isinstance(e, Paged)]
    assert [(e.incident_id, e.evidence) for e in aware] == [(A, ("sig-b",))]
    assert [(e.incident_id, e.page.reason) for e in paged] == [(A, AWARE)]  # one page, the strongest reason
    assert aware[0].at >= T0 + SETTLE and aware[0].aware_at == stage.states[B].evidence[0].ingested_at
    assert stage.states[B].status == "merged" and stage.states[B].awareness is None


def test_merged_into_an_incident_already_settled_it_is_done_at_once_there() -> None:
    stage = Stage()
    stage.send(T0, attach("sig-a", A))
    stage.tick(T0 + SETTLE)  # nothing held: no Tick needed
    stage.send(T0 + SETTLE, attach("sig-b", B, confirms=True))
    stage.send(T0 + SETTLE + timedelta(seconds=5),
               Merge(absorbed=B, into=A, into_rank=(T0, A), absorbed_rank=(T0 + SETTLE, B),
                     reason="shares user.name#x").command())
    aware = [e for e in stage.events if isinstance(e, AwarenessRecorded)]
    assert [(e.incident_id, e.at) for e in aware] == [(A, T0 + SETTLE + timedelta(seconds=5))]
    for second in range(0, 120, 5):
        stage.tick(T0 + SETTLE * 2 + timedelta(seconds=second))
    assert sum(isinstance(e, AwarenessRecorded) for e in stage.events) == 1


def test_the_setting_is_read_and_checked() -> None:
    assert load_settings({}).settle_seconds == 0  # the default holds nothing
    assert load_settings({"BREACH_SETTLE_SECONDS": "1.5"}).settle_seconds == 1.5
    with pytest.raises(ValueError, match="BREACH_SETTLE_SECONDS"):
        load_settings({"BREACH_SETTLE_SECONDS": "-1"})
