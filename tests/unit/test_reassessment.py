"""Re-assessment as evidence lands (issue 15): a signal bringing new facts to an assessed
incident is a new versioned assessment; a raised level starts the clocks and drafts it calls for."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from incident.commands import AbsorbIncident, AttachSignal, OverrideRisk
from incident.decide import Rules, decide
from incident.events import ClockStarted, NoticeRequested, RiskAssessed, SignalAttached
from incident.model import Incident, fold
from incident.notices import DATA_SUBJECT_NOTICE
from incident.signals import Evidence
from tests.unit.builders import T0, FakeCalendar, aware_incident, directory, event

NOW = T0 + timedelta(hours=2)
RULES = Rules(directory(), FakeCalendar())


def land(state: Incident, event_id: str, **fields: Any) -> tuple[Incident, list[Any]]:
    signal = event(event_id, at=T0 + timedelta(hours=1), **fields)
    command = AttachSignal(incident_id=state.id, controller="acme", correlation_key="acme",
                           evidence=Evidence.of(signal, "joined by shared host.name"))
    events = decide(command, state, now=NOW, rules=RULES)
    after = fold(state, events)
    assert after is not None
    return after, events


def kinds(events: list[Any]) -> list[type]:
    return [type(e) for e in events]


def test_a_signal_bringing_nothing_new_is_not_a_new_assessment() -> None:
    state = aware_incident()
    _, events = land(state, "same")
    assert kinds(events) == [SignalAttached]


def test_an_exfiltration_of_card_data_raises_the_level_and_art34_follows() -> None:
    state = aware_incident()
    assert state.level == "risk" and {c.obligation for c in state.clocks} == {"art33_authority"}
    after, events = land(state, "dump", category="exfiltration", data_categories=("payment_card",))
    assert kinds(events)[:2] == [SignalAttached, RiskAssessed]
    assessed = events[1]
    assert assessed.facts.exfiltration == "suspected" and "payment_card" in assessed.facts.data_categories
    assert [e.version for e in events] == list(range(state.version + 1, state.version + 1 + len(events)))
    assert after.level == "high"
    (started,) = [e.clock for e in events if isinstance(e, ClockStarted)]
    assert started.obligation == "art34_data_subjects"
    # It runs from when the evidence reached us: then the controller could know the risk was high.
    assert started.anchor_at == T0 + timedelta(hours=1, minutes=2)
    assert [e.draft.kind for e in events if isinstance(e, NoticeRequested)] == [DATA_SUBJECT_NOTICE]
    again, more = land(after, "dump-2", category="exfiltration", data_categories=("payment_card",))
    assert kinds(more) == [SignalAttached] and len(again.clocks) == len(after.clocks)


def test_gigabytes_sent_out_make_exfiltration_suspected() -> None:
    state = aware_incident()
    _, events = land(state, "small", bytes_out=2_000, destination_ip="203.0.113.50")
    assert kinds(events) == [SignalAttached]
    _, events = land(state, "upload", bytes_out=3_000_000_000, destination_ip="203.0.113.50")
    (assessed,) = [e for e in events if isinstance(e, RiskAssessed)]
    assert assessed.facts.exfiltration == "suspected"


def test_a_count_of_people_is_reassessed_when_it_changes_its_order_of_magnitude() -> None:
    state = aware_incident()  # no count yet: the CRM's declared 5,000
    state, events = land(state, "export", records=48_210, data_store="crm.customers", action="export-table")
    (assessed,) = [e for e in events if isinstance(e, RiskAssessed)]
    assert assessed.facts.subjects_count == 48_210 and assessed.assessment.subjects_estimate == 48_210
    _, events = land(state, "export-2", records=49_000)
    assert kinds(events) == [SignalAttached]  # the same decade: no assessment per read
    _, events = land(state, "export-3", records=480_000)
    assert RiskAssessed in kinds(events)


def test_a_dpo_override_stays_in_force_and_starts_no_clock() -> None:
    state = aware_incident()
    overridden = fold(state, decide(OverrideRisk(incident_id=state.id, level="risk", by="dora", role="dpo",
                                                 justification="Card numbers were tokenised by the PSP."),
                                    state, now=NOW, rules=RULES))
    assert overridden is not None
    after, events = land(overridden, "dump", category="exfiltration", data_categories=("payment_card",))
    assert RiskAssessed in kinds(events) and after.level == "risk"
    assert ClockStarted not in kinds(events) and after.assessment is not None and after.assessment.level == "high"


def test_an_incident_not_yet_aware_is_not_assessed_by_a_signal() -> None:
    state = aware_incident()
    fresh = Incident(id="x", version=3, controller="acme", correlation_key="acme", profile_ref=state.profile_ref,
                     opened_at=T0, signals=state.signals)
    _, events = land(fresh, "dump", category="exfiltration", data_categories=("payment_card",))
    assert kinds(events) == [SignalAttached]


def test_an_asset_no_profile_declares_is_no_new_assessment() -> None:
    state = aware_incident()
    after, events = land(state, "ids", asset="sensor-7", located=False)
    assert kinds(events) == [SignalAttached] and after.unmapped_assets == ("sensor-7",)


def test_evidence_a_merge_brings_is_assessed_again() -> None:
    state = aware_incident()
    dump = Evidence.of(event("dump", at=T0 + timedelta(hours=1), category="exfiltration",
                             data_categories=("payment_card",)), "rule bulk_export matched")
    command = AbsorbIncident(incident_id=state.id, absorbed="other", controller="acme", correlation_key="acme",
                             reason="shares user.name", evidence=(dump,))
    events = decide(command, state, now=NOW, rules=RULES)
    after = fold(state, events)
    assert after is not None and after.level == "high"
    assert RiskAssessed in kinds(events) and "art34_data_subjects" in {c.obligation for c in after.clocks}
    assert decide(command, after, now=NOW, rules=RULES) == []  # redelivered: nothing new, no assessment
