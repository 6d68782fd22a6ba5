"""Reminders: each step of each clock once, the most urgent only after downtime, and only for
obligations the level in force makes real."""

from __future__ import annotations

from datetime import timedelta

from incident.commands import Tick
from incident.correlation import correlate
from incident.deadlines import next_due
from incident.decide import Rules, decide
from incident.events import ReminderDue
from incident.model import Incident, fold
from incident.pages import PAGING_OFF
from tests.unit.builders import T0, FakeCalendar, aware_incident, directory, event

# Reminders alone: the pages that follow escalations repeat on their own Ticks (tests/unit/test_paging.py).
RULES = Rules(directory(), FakeCalendar(), paging=PAGING_OFF)


def tick(state: Incident, at: timedelta) -> tuple[Incident, list[ReminderDue]]:
    events = decide(Tick(incident_id=state.id, at=T0 + at), state, now=T0 + at, rules=RULES)
    new = fold(state, events)  # type: ignore[arg-type]
    assert new is not None
    return new, [e for e in events if isinstance(e, ReminderDue)]


def test_each_step_fires_once_at_its_time() -> None:
    state = aware_incident()  # deadline T0 + 72 h
    assert next_due(state.clocks, state.reminded, state.level) == T0 + timedelta(hours=24)
    state, sent = tick(state, timedelta(hours=23, minutes=59))
    assert sent == []
    state, sent = tick(state, timedelta(hours=24))
    assert [(e.step, e.skipped) for e in sent] == [("T-48h", ())]
    state, sent = tick(state, timedelta(hours=24, minutes=5))
    assert sent == []  # the same tick again, or a duplicate Tick: nothing
    assert next_due(state.clocks, state.reminded, state.level) == T0 + timedelta(hours=48)


def test_after_downtime_only_the_most_urgent_step_is_sent() -> None:
    state, sent = tick(aware_incident(), timedelta(hours=71, minutes=30))
    assert [(e.step, e.skipped) for e in sent] == [("T-1h", ("T-48h", "T-24h", "T-6h"))]
    state, sent = tick(state, timedelta(hours=72))
    assert [e.step for e in sent] == ["overdue"]
    assert next_due(state.clocks, state.reminded, state.level) is None


def test_no_reminder_for_an_obligation_the_level_does_not_require() -> None:
    state = aware_incident()
    from dataclasses import replace

    from incident.model import Override

    unlikely = replace(state, override=Override(level="unlikely", justification="…", by="dpo", at=T0))
    assert tick(unlikely, timedelta(hours=80))[1] == []
    assert next_due(unlikely.clocks, unlikely.reminded, unlikely.level) is None


def test_reminder_steps_are_a_snapshot_taken_when_the_clock_starts() -> None:
    rules = Rules(directory(), FakeCalendar(), reminders=(timedelta(hours=2), timedelta(0)))
    _, (command,) = correlate(None, event("a", confirms=True))
    state = fold(None, decide(command, None, now=T0, rules=rules))
    assert state is not None and state.clocks[0].reminders == (7200, 0)


def test_a_suspected_incident_left_undecided_is_escalated_once() -> None:
    from incident.commands import StartTriage
    from incident.reminders import TRIAGE_RULE, next_tick_at

    _, (command,) = correlate(None, event("a"))
    state = fold(None, decide(command, None, now=T0, rules=RULES))
    assert state is not None and state.awareness is None
    assert next_tick_at(state, RULES.triage_window) == state.opened_at + timedelta(hours=24)
    state = fold(state, decide(StartTriage(incident_id=state.id, by="alice", at=T0), state, now=T0, rules=RULES))
    assert state is not None and state.triage is not None and state.triage.by == "alice"
    # Triage started but no decision a day later: still escalated (investigations must be short).
    state, sent = tick(state, timedelta(hours=25))
    assert [(e.rule_ref, e.step) for e in sent] == [(TRIAGE_RULE, "overdue")]
    state, sent = tick(state, timedelta(hours=30))
    assert sent == [] and next_tick_at(state, RULES.triage_window) is None
