"""A merge that brings an earlier awareness: the controller was aware of the breach since then
(Art. 33(1) runs from the earliest awareness), so the survivor's awareness and its running
awareness clocks move back; what was already filed stays as filed; reminders already sent are
not sent again and those the earlier deadline makes due fire at the next Tick."""

from __future__ import annotations

from datetime import datetime, timedelta

from incident.commands import AbsorbIncident, ActOnObligation, Command, RecordAwareness, Tick
from incident.correlation import correlate_batch
from incident.decide import Rules, decide
from incident.events import AwarenessAdvanced, ClockMoved, Event, ReminderDue
from incident.model import Incident, fold
from incident.pages import PAGING_OFF
from incident.register import entry
from incident.reminders import next_tick_at
from tests.unit.builders import T0, FakeCalendar, directory, event

# Reminders alone: the pages that follow escalations repeat on their own Ticks (tests/unit/test_paging.py).
RULES = Rules(directory(), FakeCalendar(), paging=PAGING_OFF)
ART33 = "GDPR:art33_authority@1"
A_AWARE = T0 + timedelta(minutes=20)  # a person recorded it on the survivor
A_DEADLINE = A_AWARE + timedelta(hours=72)


def run(state: Incident | None, command: Command, now: datetime) -> tuple[Incident, list[Event]]:
    events = decide(command, state, now=now, rules=RULES)
    new = fold(state, events) if events else state
    assert new is not None
    return new, events


def survivor() -> Incident:
    """Incident A: a signal on the CRM database, awareness recorded by the DPO at A_AWARE."""
    _, (attach,) = correlate_batch(None, [event("a", asset="acme-crm-db", user="alice")])
    state, _ = run(None, attach, T0 + timedelta(minutes=5))
    state, _ = run(state, RecordAwareness(incident_id=state.id, aware_at=A_AWARE, by="dpo@acme", evidence=("a",)),
                   T0 + timedelta(minutes=30))
    assert state.level == "risk" and [c.deadline for c in state.clocks] == [A_DEADLINE]
    return state


def absorb(state: Incident, aware_at: datetime | None) -> AbsorbIncident:
    """B's hand-over (its evidence is the merge tests' business: only its awareness matters here)."""
    return AbsorbIncident(incident_id=state.id, absorbed="inc-b", controller="acme", correlation_key="acme",
                          reason="signal c shares user.name#x with incident A within 24 h", evidence=(),
                          aware_at=aware_at, aware_by="rule:confirmed-signal", aware_evidence=("b",))


def test_an_earlier_awareness_absorbed_moves_the_survivors_awareness_and_its_clock_back() -> None:
    a = survivor()
    b_aware = T0 + timedelta(minutes=3)
    now = T0 + timedelta(hours=1)
    after, events = run(a, absorb(a, b_aware), now)
    (advanced,) = [e for e in events if isinstance(e, AwarenessAdvanced)]
    assert (advanced.aware_at, advanced.previous_aware_at, advanced.absorbed) == (b_aware, A_AWARE, "inc-b")
    assert advanced.by == "rule:confirmed-signal (on incident inc-b, merged into this one)"
    (moved,) = [e for e in events if isinstance(e, ClockMoved)]
    assert (moved.rule_ref, moved.previous_deadline, moved.deadline) == (ART33, A_DEADLINE,
                                                                           b_aware + timedelta(hours=72))
    assert "incident inc-b, merged into this one, was aware first" in moved.reason
    assert after.awareness is not None and after.awareness.aware_at == b_aware
    assert after.awareness.evidence == ("b",)
    (clock,) = after.clocks
    assert (clock.anchor_at, clock.deadline) == (b_aware, b_aware + timedelta(hours=72))
    assert after.obligation(ART33) is not None and after.obligation(ART33).status == "running"  # type: ignore[union-attr]
    # The Art. 33(5) register shows the earlier awareness and the deadline that follows from it.
    record = entry(after)
    assert record["aware_at"] == b_aware.isoformat()
    assert record["obligations"][0]["deadline"] == (b_aware + timedelta(hours=72)).isoformat()
    assert record["obligations"][0]["anchor_at"] == b_aware.isoformat()


def test_a_later_or_equal_absorbed_awareness_moves_nothing_and_a_redelivery_is_harmless() -> None:
    a = survivor()
    now = T0 + timedelta(hours=1)
    for later in (A_AWARE, A_AWARE + timedelta(minutes=5)):
        _, events = run(a, absorb(a, later), now)
        assert not any(isinstance(e, (AwarenessAdvanced, ClockMoved)) for e in events)
    after, _ = run(a, absorb(a, T0 + timedelta(minutes=3)), now)
    _, again = run(after, absorb(a, T0 + timedelta(minutes=3)), now + timedelta(minutes=1))
    assert again == []


def test_a_submitted_obligation_keeps_its_deadline_when_awareness_moves_back() -> None:
    a = survivor()
    at = T0 + timedelta(hours=2)
    a, _ = run(a, ActOnObligation(incident_id=a.id, obligation=ART33, action="approve", by="dpo", role="dpo", at=at),
               at)
    a, _ = run(a, ActOnObligation(incident_id=a.id, obligation=ART33, action="submit", by="dpo", role="dpo", at=at,
                                  channel="portal", reference="CNIL-1"), at)
    after, events = run(a, absorb(a, T0 + timedelta(minutes=3)), at + timedelta(minutes=1))
    # The awareness is corrected (the register must say since when), the filed obligation is not.
    assert any(isinstance(e, AwarenessAdvanced) for e in events)
    assert not any(isinstance(e, ClockMoved) for e in events)
    assert after.clocks[0].deadline == A_DEADLINE
    obligation = after.obligation(ART33)
    assert obligation is not None and obligation.status == "submitted" and not obligation.late


def test_reminders_sent_stay_sent_and_one_the_earlier_deadline_makes_due_fires_at_the_next_tick() -> None:
    a = survivor()
    # 23 h before A's deadline the T-24h step is sent (T-48h recorded as skipped).
    first = A_DEADLINE - timedelta(hours=23)
    a, reminded = run(a, Tick(incident_id=a.id, at=first), first)
    assert [(e.step, e.skipped) for e in reminded if isinstance(e, ReminderDue)] == [("T-24h", ("T-48h",))]
    # B was aware 20 h before A: the deadline is now 20 h earlier, so T-6h has passed.
    b_aware = A_AWARE - timedelta(hours=20)
    now = first + timedelta(minutes=1)
    after, _ = run(a, absorb(a, b_aware), now)
    new_deadline = b_aware + timedelta(hours=72)
    assert after.clocks[0].deadline == new_deadline
    due = next_tick_at(after, RULES.triage_window)
    assert due is not None and due <= now  # the clock agent ticks it right away
    after, reminded = run(after, Tick(incident_id=a.id, at=now), now)
    # One reminder, the step now due, against the new deadline; T-48h/T-24h are not sent again.
    assert [(e.step, e.skipped, e.deadline) for e in reminded if isinstance(e, ReminderDue)] == [
        ("T-6h", (), new_deadline)]
    assert next_tick_at(after, RULES.triage_window) == new_deadline - timedelta(hours=1)


def test_a_moved_clock_is_never_moved_to_a_later_time_by_a_second_merge() -> None:
    a = survivor()
    now = T0 + timedelta(hours=1)
    earliest = T0 - timedelta(hours=2)
    a, _ = run(a, absorb(a, earliest), now)
    other = AbsorbIncident(incident_id=a.id, absorbed="inc-c", controller="acme", correlation_key="acme",
                           reason="r", evidence=(), aware_at=T0, aware_by="dpo", aware_evidence=())
    after, events = run(a, other, now)
    assert events == [] and after.clocks[0].deadline == earliest + timedelta(hours=72)
