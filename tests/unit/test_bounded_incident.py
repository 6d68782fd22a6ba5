"""The incident aggregate stays bounded however many signals it takes (issue 14, item 3): it
keeps a summary of every signal (counts, the sets decisions read), the latest ids for
idempotency and the first and latest items for display; decisions read the same facts as from
the full list, and a state saved with every item still loads."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

from incident.commands import AbsorbIncident, AttachSignal, Command
from incident.decide import Rules, decide, reactions
from incident.events import SignalsAbsorbed
from incident.facts import Facts
from incident.model import Incident, fold
from incident.risk import assess
from incident.signal_summary import CHUNK, FIRST_KEPT, IDS_KEPT, LATEST_KEPT, SET_CAP, SignalSummary
from incident.signals import Evidence
from incident.tape import HOSTILE_CATEGORIES, facts_of
from streams.kafka import codec
from tests.unit.builders import T0, FakeCalendar, directory, event

NOW = T0 + timedelta(hours=1)
INC, A, B = (str(uuid.UUID(int=n)) for n in (1, 2, 3))  # incident ids are UUIDs (notice references)
RULES = Rules(directory(), FakeCalendar())


def item(n: int, **fields: Any) -> Evidence:
    e = event(f"ev-{n}", at=T0 + timedelta(seconds=n), **fields)
    return Evidence.of(e, "brute force on the CRM")


def attach(state: Incident | None, evidence: Evidence, incident_id: str = INC) -> tuple[Incident | None, list[Any]]:
    command = AttachSignal(incident_id=incident_id, controller="acme", correlation_key="acme", evidence=evidence)
    events = decide(command, state, now=NOW, rules=RULES)
    return (fold(state, events) if events else state), events  # type: ignore[arg-type]


def storm(items: list[Evidence], incident_id: str = INC) -> Incident:
    state: Incident | None = None
    for e in items:
        state, _ = attach(state, e, incident_id)
    assert state is not None
    return state


def test_a_big_incident_counts_every_signal_and_keeps_its_first_and_latest_items() -> None:
    state = storm([item(n) for n in range(5_000)])
    assert state.signal_count == 5_000
    shown = [e.event_id for e in state.evidence]
    assert shown == [f"ev-{n}" for n in (*range(FIRST_KEPT), *range(5_000 - LATEST_KEPT, 5_000))]
    remembered = sum(len(chunk) for chunk in state.signals.recent_ids) + len(state.signals.open_ids)
    assert IDS_KEPT <= remembered <= IDS_KEPT + CHUNK
    assert state.first_event_at == T0 and state.last_event_at == T0 + timedelta(seconds=4_999)


def test_the_saved_state_does_not_grow_with_the_signals() -> None:
    small = len(codec.encode(storm([item(n) for n in range(LATEST_KEPT + FIRST_KEPT + IDS_KEPT)])))
    big = len(codec.encode(storm([item(n) for n in range(8_000)])))
    assert big <= small * 1.05  # every bounded part is full in both: only the numbers' digits differ


def test_a_replayed_signal_is_attached_once_and_the_lookup_survives_a_save() -> None:
    state = storm([item(n) for n in range(3_000)])
    for n in (2_999, 3_000 - IDS_KEPT):  # the replays re-send the last batches
        assert attach(state, item(n))[1] == []
    loaded = codec.decode(codec.encode(state))
    assert loaded == state
    assert attach(loaded, item(2_500))[1] == []  # a fresh tuple: its lookup set is rebuilt
    state, events = attach(loaded, item(3_000))
    assert len(events) == 1 and state is not None and state.signal_count == 3_001
    assert attach(state, item(3_000))[1] == []


def test_sets_that_could_grow_without_bound_are_capped_and_say_so() -> None:
    state = storm([item(n, asset=f"host-{n}", located=False) for n in range(SET_CAP + 500)])
    assert len(state.assets) == SET_CAP and len(state.unmapped_assets) == SET_CAP
    assert state.assets[0] == "host-0" and state.signals.capped
    assert state.signal_count == SET_CAP + 500


def old_value(items: list[Evidence]) -> dict[str, Any]:
    """An incident as the agent saved it before summaries: every Evidence, no ``signals``."""
    full = {"id": INC, "version": 1 + len(items), "controller": "acme", "correlation_key": "acme",
            "profile_ref": None, "opened_at": NOW.isoformat(), "evidence": [codec.to_jsonable(e) for e in items]}
    return {"type": "Incident", "v": 1, "data": full}


def test_a_state_saved_with_every_evidence_item_still_loads_and_is_summarised() -> None:
    items = [item(n, asset="acme-auth" if n % 3 else "acme-crm-db") for n in range(1_000)]
    loaded = codec.decode(old_value(items))
    assert loaded.signal_count == 1_000
    assert len(loaded.evidence) == FIRST_KEPT + LATEST_KEPT
    assert loaded.assets == ("acme-crm-db", "acme-auth") and loaded.systems == ("crm", "accounts")
    assert loaded.has_signal("ev-999") and not loaded.has_signal("ev-1000")
    again = codec.decode(codec.encode(loaded))
    assert again == loaded  # saved again, it is the bounded form


def full_list_facts(state: Incident, items: list[Evidence]) -> Facts:
    """facts_of() as it read the full list before summaries: the oracle."""
    profile = RULES.directory.profiles["acme"]
    systems = [s for s in profile.systems if s.id in dict.fromkeys(e.system for e in items if e.system)]
    categories = [c for e in items for c in e.data_categories] + [c for s in systems for c in s.data_categories]
    declared = [s.approx_subjects for s in systems if s.approx_subjects is not None]
    records = max((e.records for e in items if e.records is not None), default=None)
    estimate = records if records is not None else (sum(declared) if declared else None)
    signal_categories = {e.category for e in items}
    exfiltration = None
    if "exfiltration" in signal_categories:
        exfiltration = "confirmed" if any(e.confirms_breach and e.category == "exfiltration" for e in items) \
            else "suspected"
    return Facts(controller="acme",
                 breach_types=tuple(dict.fromkeys(t for e in items for t in e.breach_types)) or ("confidentiality",),
                 data_categories=tuple(dict.fromkeys(categories)), subjects_count=estimate,
                 exfiltration=exfiltration,
                 malicious=True if signal_categories & set(HOSTILE_CATEGORIES) else None,
                 unmapped_assets=tuple(dict.fromkeys(e.asset for e in items if e.system is None)))


def realistic() -> list[Evidence]:
    """A credential-stuffing storm on the auth server, an export from the CRM early on (its
    categories and records only in items the aggregate no longer shows), and an exfiltration
    confirmed at the end."""
    items = [item(n, asset="acme-auth", category="authentication", breach_types=("confidentiality",))
             for n in range(3_000)]
    items[40] = item(40, asset="acme-crm-db", category="exfiltration", records=12_000,
                     data_categories=("financial",), breach_types=("confidentiality", "integrity"))
    items[41] = item(41, asset="shadow-nas", located=False, category="malware", breach_types=("availability",))
    items.append(item(3_000, asset="acme-crm-db", category="exfiltration", confirms=True, records=800))
    return items


def test_risk_is_the_same_as_from_the_full_list() -> None:
    items = realistic()
    state = storm(items)
    assert state.awareness is not None and state.awareness.evidence == ("ev-3000",)
    assert not {"ev-40", "ev-41"} & {e.event_id for e in state.evidence}  # no longer shown, still known
    profile = RULES.directory.profiles["acme"]
    facts = facts_of(state, profile)
    assert facts == full_list_facts(state, items)
    assert facts.subjects_count == 12_000 and facts.exfiltration == "confirmed"
    assert "financial" in facts.data_categories and facts.unmapped_assets == ("shadow-nas",)
    assert state.assessment == assess(facts, profile)


class Incidents:
    """The incident agent without the broker: commands in order, reactions queued."""

    def __init__(self) -> None:
        self.states: dict[str, Incident] = {}
        self.events: dict[str, list[Any]] = {}

    def send(self, *commands: Command) -> None:
        queue = list(commands)
        while queue:
            command = queue.pop(0)
            state = self.states.get(command.incident_id)
            events = decide(command, state, now=NOW, rules=RULES)
            new = fold(state, events) if events else state  # type: ignore[arg-type]
            if new is not None:
                self.states[command.incident_id] = new
                self.events.setdefault(command.incident_id, []).extend(events)
            queue.extend(reactions(command, new, events))


def test_a_merge_hands_over_what_the_absorbed_incident_knew_of_every_signal() -> None:
    from console import views
    from console.read_model import ReadModel
    from incident.commands import MergeIncident

    world = Incidents()
    absorbed_items = [replace(e, event_id=f"b-{e.event_id}") for e in realistic()[:-1]]  # not confirmed
    world.send(*(AttachSignal(incident_id=B, controller="acme", correlation_key="acme", evidence=e)
                 for e in absorbed_items))
    world.send(AttachSignal(incident_id=A, controller="acme", correlation_key="acme", evidence=item(9_000)))
    world.send(MergeIncident(incident_id=B, into=A, reason="shares host.name#1"))
    survivor = world.states[A]
    assert survivor.signal_count == 1 + len(absorbed_items)
    assert {"acme-crm-db", "shadow-nas"} <= set(survivor.assets)
    assert survivor.records_estimate == 12_000 and "financial" in survivor.signals.data_categories
    assert any(isinstance(e, SignalsAbsorbed) for e in world.events[A])
    assert facts_of(survivor, RULES.directory.profiles["acme"]) == full_list_facts(
        survivor, [item(9_000), *absorbed_items])
    # A replayed AbsorbIncident changes nothing.
    absorb = AbsorbIncident(incident_id=A, absorbed=B, controller="acme", correlation_key="acme",
                            reason="x", evidence=world.states[B].evidence, signals=world.states[B].signals)
    assert decide(absorb, survivor, now=NOW, rules=RULES) == []
    # The console shows every signal on the survivor, each absorbed one saying why it is there.
    model = ReadModel()
    for incident_id in (B, A):
        for event_ in world.events[incident_id]:
            model.apply(event_)
    shown = model.evidence(A)
    assert len(shown) == survivor.signal_count
    page = views.detail(model.incidents[A], model.timeline[A], RULES.directory, NOW, evidence=shown)
    assert len(page["evidence"]) == page["signal_count"] == survivor.signal_count
    assert all(e.reason.startswith(f"merged from incident {B}") for e in shown if e.event_id.startswith("b-"))


def test_a_summary_of_a_full_list_equals_the_attached_one() -> None:
    items = realistic()
    assert SignalSummary.of(items).count == len(items) == storm(items).signal_count
