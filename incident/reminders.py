"""Reminders: what a Tick makes due — each clock's reminder steps, and the escalation of a
suspected incident still undecided after the triage window. Each step once, ever; after
downtime, only the most urgent step of a clock is sent and the earlier ones are recorded as
skipped."""

from __future__ import annotations

from datetime import datetime, timedelta

from incident.deadlines import due_reminders, next_due
from incident.events import Event, ReminderDue
from incident.model import Incident

TRIAGE_RULE = "awareness:decision@1"
TRIAGE_REF = "Awareness decision overdue (EDPB Guidelines 9/2022 ¶34-36: the investigation must be short)"
# The same in French, for the on-call team's e-mail and the console (the event keeps the English).
TRIAGE_REF_FR = ("Décision sur la prise de connaissance en retard (lignes directrices 9/2022 de l'EDPB, points 34 à "
                 "36 : l'enquête doit être brève)")


def next_tick_at(state: Incident, triage_window: timedelta, *, held_until: datetime | None = None) -> datetime | None:
    """When this incident next needs a Tick: its next reminder, its awareness escalation, its
    page's repeat, or the end of its settle delay when that holds something (``held_until``,
    incident/settling.py ``release_at``). Never, once merged: the incident it merged into carries
    the clocks; nor while dismissed."""
    if state.merged_into is not None or state.dismissal is not None:
        return None
    times = [t for t in (next_due(state.clocks, state.reminded, state.level, state.settled_obligations),
                         held_until) if t]
    if state.awareness is None and f"{TRIAGE_RULE}|overdue" not in state.reminded:
        times.append(state.opened_at + triage_window)
    if state.pages and state.pages[-1].next_at is not None:  # the unacknowledged page's repeat (incident/paging.py)
        times.append(state.pages[-1].next_at)
    return min(times, default=None)


def tick(state: Incident, now: datetime, triage_window: timedelta) -> list[Event]:
    """The reminders now due, one event per clock: after downtime, only the most urgent step is
    sent and the earlier ones are recorded as skipped, so nobody gets a burst of stale mail.
    A suspected incident still undecided after the triage window is escalated, once."""
    events: list[Event] = []
    version = state.version
    decide_by = state.opened_at + triage_window
    if state.awareness is None and now >= decide_by and f"{TRIAGE_RULE}|overdue" not in state.reminded:
        version += 1
        events.append(ReminderDue(incident_id=state.id, version=version, at=now, controller=state.controller,
                                  rule_ref=TRIAGE_RULE, legal_ref=TRIAGE_REF, deadline=decide_by,
                                  step="overdue", skipped=()))
    for clock, step, skipped in due_reminders(state.clocks, state.reminded, now, state.level,
                                              state.settled_obligations):
        version += 1
        events.append(ReminderDue(incident_id=state.id, version=version, at=now, controller=state.controller,
                                  rule_ref=clock.rule_ref, legal_ref=clock.legal_ref, deadline=clock.deadline,
                                  step=step, skipped=skipped))
    return events
