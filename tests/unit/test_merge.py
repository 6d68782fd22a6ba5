"""Merging incidents: when a signal links two open incidents, the younger one stops and its
evidence moves to the older one, each item saying it came by the merge, why, and why it was
attached in the first place; awareness moves with it (it is the same breach)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from incident.commands import AbsorbIncident, AttachSignal, Command, MergeIncident, Tick
from incident.correlation import Window, correlate_batch
from incident.decide import Rules, decide, reactions
from incident.errors import CommandRejected
from incident.events import AwarenessRecorded, ClockStarted, IncidentMerged, SignalAttached
from incident.model import Incident, fold
from incident.reminders import next_tick_at
from tests.unit.builders import T0, FakeCalendar, directory, event

NOW = T0 + timedelta(minutes=30)
RULES = Rules(directory(), FakeCalendar())


class Incidents:
    """The incident agent without the broker: one state per id, commands in order, reactions queued."""

    def __init__(self) -> None:
        self.states: dict[str, Incident] = {}
        self.handled: list[Command] = []

    def send(self, *commands: Command) -> None:
        queue = list(commands)
        while queue:
            command = queue.pop(0)
            self.handled.append(command)
            state = self.states.get(command.incident_id)
            events = decide(command, state, now=NOW, rules=RULES)
            new = fold(state, events) if events else state  # type: ignore[arg-type]
            if new is not None:
                self.states[command.incident_id] = new
            queue.extend(reactions(command, new, events))


def two_then_linked(*, b_confirms: bool = False) -> tuple[Incidents, str, str, Window]:
    """Incident A (alice on the CRM database), incident B (bob on the auth server), then a signal
    of alice on the auth server: it links them."""
    world = Incidents()
    window, first = correlate_batch(None, [
        event("a", asset="acme-crm-db", user="alice"),
        event("b", asset="acme-auth", user="bob", at=T0 + timedelta(minutes=1), confirms=b_confirms)])
    world.send(*first)
    older, younger = first[0].incident_id, first[1].incident_id
    window, linking = correlate_batch(window, [event("c", asset="acme-auth", user="alice",
                                                     at=T0 + timedelta(minutes=2))])
    world.send(*linking)
    return world, older, younger, window


def test_the_absorbed_incidents_evidence_ends_up_on_the_survivor_each_with_why() -> None:
    world, older, younger, _ = two_then_linked()
    survivor, absorbed = world.states[older], world.states[younger]
    assert sorted(e.event_id for e in survivor.evidence) == ["a", "b", "c"]
    (moved,) = [e for e in survivor.evidence if e.event_id == "b"]
    assert moved.reason.startswith(f"merged from incident {younger}: signal c shares host.name#")
    assert f"with incident {older} within 24 h" in moved.reason
    # The reason it was attached to the absorbed incident first is kept, not replaced.
    assert "; attached there because: SIEM alert (no rule of the pack claims it); opened for" in moved.reason
    assert "bob" not in moved.reason and "alice" not in moved.reason
    # The absorbed incident keeps its history and says where it went.
    assert absorbed.status == "merged" and absorbed.merged_into == older
    assert [e.event_id for e in absorbed.evidence] == ["b"]
    assert set(survivor.assets) == {"acme-crm-db", "acme-auth"}


def test_a_merge_moves_evidence_once_whatever_is_redelivered() -> None:
    world, older, younger, _ = two_then_linked()
    merge = next(c for c in world.handled if isinstance(c, MergeIncident))
    absorb = next(c for c in world.handled if isinstance(c, AbsorbIncident))
    assert decide(merge, world.states[younger], now=NOW, rules=RULES) == []
    assert decide(absorb, world.states[older], now=NOW, rules=RULES) == []
    assert reactions(merge, world.states[younger], []) == []  # only the merge itself hands evidence over


def test_awareness_recorded_on_the_absorbed_incident_moves_to_the_survivor() -> None:
    world, older, younger, _ = two_then_linked(b_confirms=True)
    absorbed, survivor = world.states[younger], world.states[older]
    assert absorbed.awareness is not None and survivor.awareness is not None
    assert survivor.awareness.aware_at == absorbed.awareness.aware_at  # the Art. 33 clock's anchor
    assert survivor.awareness.by == f"rule:confirmed-signal (on incident {younger}, merged into this one)"
    assert [c.deadline for c in survivor.clocks] == [c.deadline for c in absorbed.clocks]
    # The absorbed incident's clocks stop: the survivor carries them, and nobody is reminded twice.
    assert decide(Tick(incident_id=younger, at=NOW + timedelta(days=5)), absorbed, now=NOW + timedelta(days=5),
                  rules=RULES) == []
    assert next_tick_at(absorbed, RULES.triage_window) is None
    assert next_tick_at(survivor, RULES.triage_window) is not None


def test_a_survivor_already_aware_keeps_its_own_awareness() -> None:
    world = Incidents()
    window, first = correlate_batch(None, [
        event("a", asset="acme-crm-db", user="alice", confirms=True),
        event("b", asset="acme-auth", user="bob", at=T0 + timedelta(minutes=1), confirms=True)])
    world.send(*first)
    older, younger = first[0].incident_id, first[1].incident_id
    before = world.states[older].awareness
    _, linking = correlate_batch(window, [event("c", asset="acme-auth", user="alice", at=T0 + timedelta(minutes=2))])
    world.send(*linking)
    survivor = world.states[older]
    assert survivor.awareness == before
    assert sum(isinstance(e, AwarenessRecorded) for e in _events_of(world, older)) == 1
    assert {e.event_id for e in survivor.evidence} == {"a", "b", "c"}
    assert world.states[younger].status == "merged"


def _events_of(world: Incidents, incident_id: str) -> list[object]:
    """Replays the commands one incident handled, from nothing: its events."""
    state: Incident | None = None
    out: list[object] = []
    for command in (c for c in world.handled if c.incident_id == incident_id):
        events = decide(command, state, now=NOW, rules=RULES)
        out.extend(events)
        state = fold(state, events)  # type: ignore[arg-type]
    return out


def test_the_merge_is_one_event_on_the_absorbed_and_attachments_on_the_survivor() -> None:
    world, older, younger, _ = two_then_linked()
    absorbed_events = _events_of(world, younger)
    (merged,) = [e for e in absorbed_events if isinstance(e, IncidentMerged)]
    assert merged.into == older and merged.reason.startswith("signal c shares")
    attached = [e for e in _events_of(world, older) if isinstance(e, SignalAttached)]
    assert [e.evidence.event_id for e in attached] == ["a", "c", "b"]
    assert not any(isinstance(e, ClockStarted) for e in _events_of(world, older))  # nothing confirmed yet


def test_a_merged_incident_passes_new_signals_on_to_the_survivor() -> None:
    # The correlator sends none after its own merge; after a person's (incident/tags.py) it still may.
    world, older, younger, _ = two_then_linked()
    stray = AttachSignal(incident_id=younger, controller="acme", correlation_key="acme",
                         evidence=replace(world.states[older].evidence[0], event_id="stray"))
    assert decide(stray, world.states[younger], now=NOW, rules=RULES) == []
    (passed,) = reactions(stray, world.states[younger], [])
    assert isinstance(passed, AbsorbIncident) and passed.incident_id == older
    assert [e.event_id for e in passed.evidence] == ["stray"]


def test_an_incident_cannot_merge_into_itself_or_before_it_exists() -> None:
    with pytest.raises(CommandRejected, match="no incident"):
        decide(MergeIncident(incident_id="x", into="y", reason="r"), None, now=NOW, rules=RULES)
    world, older, _, _ = two_then_linked()
    with pytest.raises(CommandRejected, match="itself"):
        decide(MergeIncident(incident_id=older, into=older, reason="r"), world.states[older], now=NOW, rules=RULES)


def test_the_register_says_where_a_merged_incident_went() -> None:
    from incident.register import entry

    world, older, younger, _ = two_then_linked(b_confirms=True)
    absorbed = entry(world.states[younger])
    assert absorbed["status"] == "merged"
    assert absorbed["not_notified_because"] == f"merged into incident {older}: the same breach, registered there"
    assert entry(world.states[older])["facts"]["signals"] == 3


def test_evidence_handed_to_an_incident_that_merged_on_meanwhile_goes_on_to_its_survivor() -> None:
    # C merges into B, then B into A before B has handled C's evidence: it must reach A.
    world = Incidents()
    window, first = correlate_batch(None, [
        event("a", asset="acme-crm-db", user="alice"),
        event("b", asset="acme-auth", user="bob", at=T0 + timedelta(minutes=1)),
        event("c", asset="acme-mail", user="carol", at=T0 + timedelta(minutes=2))])
    world.send(*first)
    a, b, c = (cmd.incident_id for cmd in first)
    _, links = correlate_batch(window, [event("bc", asset="acme-mail", user="bob", at=T0 + timedelta(minutes=3)),
                                        event("ab", asset="acme-crm-db", user="bob", at=T0 + timedelta(minutes=4))])
    merges = [cmd for cmd in links if isinstance(cmd, MergeIncident)]
    assert [(m.incident_id, m.into) for m in merges] == [(c, b), (b, a)]
    # B handles its own merge before the AbsorbIncident from C reaches it.
    world.send(*[cmd for cmd in links if cmd.incident_id != c])
    world.send(*[cmd for cmd in links if cmd.incident_id == c])
    assert world.states[b].merged_into == a and world.states[c].merged_into == b
    assert sorted(e.event_id for e in world.states[a].evidence) == ["a", "ab", "b", "bc", "c"]
    (from_c,) = [e for e in world.states[a].evidence if e.event_id == "c"]
    assert from_c.reason.startswith(f"merged from incident {c}: signal bc shares")
