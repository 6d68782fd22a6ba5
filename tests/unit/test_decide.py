"""The incident aggregate: lifecycle, the Art. 33 clock, idempotency, refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident.commands import AttachSignal, RecordAwareness, RecordDelivery
from incident.correlation import correlate
from incident.decide import Rules, decide
from incident.errors import CommandRejected, OutOfSequence
from incident.events import (
    AwarenessRecorded,
    ClockStarted,
    IncidentOpened,
    NoticeRequested,
    Paged,
    RiskAssessed,
    SignalAttached,
)
from incident.model import Incident, evolve, fold
from tests.unit.builders import PROFILE, T0, FakeCalendar, directory, event

NOW = T0 + timedelta(minutes=5)


def attach(e, window=None):  # type: ignore[no-untyped-def]
    return correlate(window, e)


def run(state: Incident | None, command: object) -> tuple[Incident | None, list[object]]:
    events = decide(command, state, now=NOW, rules=Rules(directory(), FakeCalendar()))  # type: ignore[arg-type]
    return fold(state, events), events  # type: ignore[arg-type]


def opened(e=None) -> tuple[Incident, AttachSignal]:  # type: ignore[no-untyped-def]
    _, (command,) = correlate(None, e or event("a"))
    state, _ = run(None, command)
    assert state is not None
    return state, command


def test_the_first_signal_opens_an_incident() -> None:
    _, (command,) = correlate(None, event("a"))
    state, events = run(None, command)
    assert [type(e) for e in events] == [IncidentOpened, SignalAttached]
    assert state is not None and state.status == "open" and state.version == 2
    assert state.controller == "acme" and state.systems == ("crm",)


def test_a_confirming_signal_records_awareness_assesses_starts_the_clock_and_drafts_notices() -> None:
    state, _ = opened()
    _, (command,) = correlate(None, event("b", confirms=True, asset="acme-crm-db"))
    command = AttachSignal(incident_id=state.id, controller="acme", correlation_key=command.correlation_key,
                           evidence=command.evidence)
    state2, events = run(state, command)
    assert [type(e) for e in events] == [SignalAttached, AwarenessRecorded, RiskAssessed, ClockStarted,
                                         NoticeRequested, Paged]
    aware = events[1]
    assert isinstance(aware, AwarenessRecorded) and aware.by == "rule:confirmed-signal"
    assert aware.aware_at == command.evidence.ingested_at  # when the signal reached us
    clock = events[3]
    assert isinstance(clock, ClockStarted)
    assert clock.clock.deadline == aware.aware_at + timedelta(hours=72)
    assert clock.clock.profile_ref is not None and clock.clock.profile_ref.startswith("acme@")
    notice = events[4]
    assert isinstance(notice, NoticeRequested)
    assert notice.draft.kind == "authority_notification" and notice.draft.locale == "fr"
    assert notice.draft.recipients == ("dpo@acme.example",) and notice.draft.audience == "dpo-review"
    assert notice.draft.context["clock"]["deadline"] == clock.clock.deadline.isoformat()
    assert state2 is not None and state2.status == "drafts_requested"


def test_high_risk_also_drafts_the_data_subject_notice() -> None:
    _, (command,) = correlate(None, event("a", asset="acme-auth", confirms=True))
    _, events = run(None, command)
    kinds = [e.draft.kind for e in events if isinstance(e, NoticeRequested)]
    assert kinds == ["authority_notification", "data_subject_notice"]
    risk = next(e for e in events if isinstance(e, RiskAssessed))
    assert risk.assessment.level == "high"


def test_a_signal_already_attached_changes_nothing() -> None:
    state, command = opened()
    assert run(state, command)[1] == []


def test_an_unmapped_asset_gets_a_clock_but_no_notice_to_nobody() -> None:
    _, (command,) = correlate(None, event("a", asset="printer-7", confirms=True))
    state, events = run(None, command)
    assert ClockStarted in [type(e) for e in events]
    assert not [e for e in events if isinstance(e, NoticeRequested)]
    assert state is not None and state.unmapped_assets == ("printer-7",)


def test_awareness_by_a_person_and_its_refusals() -> None:
    state, _ = opened()
    with pytest.raises(CommandRejected, match="future"):
        run(state, RecordAwareness(incident_id=state.id, aware_at=NOW + timedelta(hours=1), by="alice",
                                   evidence=()))
    aware_at = NOW - timedelta(minutes=1)
    state2, _ = run(state, RecordAwareness(incident_id=state.id, aware_at=aware_at, by="alice", evidence=("a",)))
    assert state2 is not None and state2.clocks[0].deadline == aware_at + timedelta(hours=72)
    with pytest.raises(CommandRejected, match="already recorded"):
        run(state2, RecordAwareness(incident_id=state.id, aware_at=aware_at, by="bob", evidence=()))
    with pytest.raises(CommandRejected, match="no incident"):
        run(None, RecordAwareness(incident_id="nope", aware_at=aware_at, by="bob", evidence=()))


def test_deliveries_settle_notices_once() -> None:
    _, (command,) = correlate(None, event("a", asset="acme-auth", confirms=True))
    state, _ = run(None, command)
    assert state is not None
    for notice in state.notices:
        delivered = RecordDelivery(incident_id=state.id, notice_id=notice.notice_id, recipient="dpo@acme.example",
                                   delivered=True, message_id="<m>", detail="ok")
        state, _ = run(state, delivered)
        assert state is not None
        assert run(state, delivered)[1] == []  # redelivered command: no second event
    assert state.status == "drafts_delivered"


def test_a_delivery_for_an_unknown_recipient_is_refused() -> None:
    _, (command,) = correlate(None, event("a", confirms=True))
    state, _ = run(None, command)
    assert state is not None
    with pytest.raises(CommandRejected, match="recipient"):
        run(state, RecordDelivery(incident_id=state.id, notice_id=state.notices[0].notice_id,
                                  recipient="eve@evil.example", delivered=True, message_id="", detail=""))


def test_events_out_of_sequence_are_refused() -> None:
    state, command = opened()
    replay = SignalAttached(incident_id=state.id, version=state.version, at=NOW, evidence=command.evidence)
    with pytest.raises(OutOfSequence):
        evolve(replay, state)


CSIRT = {"id": "anssi", "name": "ANSSI (CERT-FR)", "address": "51 boulevard de La Tour-Maubourg, 75700 Paris",
         "language": "fr", "portal": "https://cyber.gouv.fr"}


def nis2_rules() -> Rules:
    from incident.profiles import Directory, parse_profile

    return Rules(Directory.of([parse_profile({**PROFILE, "entity_type": "nis2-important", "csirt": CSIRT},
                                             source="acme.toml")]), FakeCalendar())


def test_awareness_starts_the_gdpr_clock_and_nis2_waits_for_the_significant_classification() -> None:
    from incident.commands import ClassifyIncident

    rules = nis2_rules()
    assert rules.directory.profiles["acme"].regimes == ("gdpr", "nis2")
    _, (command,) = correlate(None, event("a", confirms=True))
    events = decide(command, None, now=NOW, rules=rules)
    assert {e.clock.rule_ref for e in events if isinstance(e, ClockStarted)} == {"GDPR:art33_authority@1"}
    state = fold(None, events)
    assert state is not None and state.awareness is not None
    later = NOW + timedelta(hours=5)
    classify = ClassifyIncident(incident_id=state.id, classification="significant", by="ciso", at=later)
    events = decide(classify, state, now=later, rules=rules)
    clocks = {e.clock.rule_ref: (e.clock.anchor, e.clock.anchor_at, e.clock.deadline - e.clock.anchor_at)
              for e in events if isinstance(e, ClockStarted)}
    assert clocks == {"NIS2:early_warning@2": ("classification", later, timedelta(hours=24)),
                      "NIS2:incident_notification@2": ("classification", later, timedelta(hours=72))}
    assert {c.recipient for c in fold(state, events).clocks} == {"authority", "csirt"}  # type: ignore[union-attr]


def test_a_nis2_entity_without_a_csirt_is_refused() -> None:
    from incident.errors import ProfileError
    from incident.profiles import parse_profile

    with pytest.raises(ProfileError, match="csirt"):
        parse_profile({**PROFILE, "entity_type": "nis2-essential"}, source="acme.toml")


def test_a_breach_in_a_system_run_for_a_customer_is_owed_to_that_controller() -> None:
    # Art. 33(2): the processor tells its controller, who notifies the authority; "without undue
    # delay", so an obligation with no countdown, and nothing is drafted for the CNIL.
    from incident.profiles import Directory, parse_profile

    systems = [{**PROFILE["systems"][0], "role": "processor", "on_behalf_of": "the customer"}]  # type: ignore[index]
    rules = Rules(Directory.of([parse_profile({**PROFILE, "systems": systems}, source="acme.toml")]),
                  FakeCalendar())
    _, (command,) = correlate(None, event("a", confirms=True))
    events = decide(command, None, now=NOW, rules=rules)
    assert [e for e in events if isinstance(e, NoticeRequested)] == []
    clocks = [e.clock for e in events if isinstance(e, ClockStarted)]
    assert [(c.rule_ref, c.recipient, c.timed) for c in clocks] == [("GDPR:art33_2_controller@1", "controller",
                                                                     False)]
    state = fold(None, events)
    assert state is not None and state.awareness is not None and state.assessment is not None


def test_a_french_controller_is_held_to_the_gdpr_by_default() -> None:
    assert directory().profiles["acme"].regimes == ("gdpr",)


def test_submitting_the_nis2_notification_starts_the_final_report_clock() -> None:
    from incident.commands import ActOnObligation, ClassifyIncident

    rules = nis2_rules()
    _, (command,) = correlate(None, event("a", confirms=True))
    state = fold(None, decide(command, None, now=NOW, rules=rules))
    assert state is not None
    classify = ClassifyIncident(incident_id=state.id, classification="significant", by="ciso", at=NOW)
    state = fold(state, decide(classify, state, now=NOW, rules=rules))
    assert state is not None
    notification = "NIS2:incident_notification@2"
    for action, extra in (("approve", {}), ("submit", {"channel": "portal", "reference": "ANSSI-1"})):
        step = ActOnObligation(incident_id=state.id, obligation=notification, action=action, by="d", role="dpo",
                               at=NOW, **extra)
        events = decide(step, state, now=NOW, rules=rules)
        state = fold(state, events)
        assert state is not None
    final = next(c for c in state.clocks if c.rule_ref == "NIS2:final_report@1")
    # One calendar month after the submission, same wall-clock time in Paris.
    assert final.anchor_at == NOW and final.deadline == NOW.replace(month=12)
    # The clock starts, and the final report's own draft goes to the DPO (issue 16).
    assert [type(e) for e in events[-2:]] == [ClockStarted, NoticeRequested]
    assert (events[-1].draft.regime, events[-1].draft.kind) == ("nis2", "final_report")  # type: ignore[attr-defined]


def test_classifying_a_dora_incident_as_major_starts_its_4_hour_clock() -> None:
    from incident.commands import ClassifyIncident
    from incident.profiles import Directory, parse_profile

    rules = Rules(Directory.of([parse_profile({**PROFILE, "regimes": ["gdpr", "dora"]}, source="acme.toml")]),
                  FakeCalendar())
    _, (command,) = correlate(None, event("a", confirms=True))
    state = fold(None, decide(command, None, now=NOW, rules=rules))
    assert state is not None
    assert {c.rule_ref for c in state.clocks} == {"GDPR:art33_authority@1"}  # not major (yet)
    at = NOW + timedelta(hours=2)
    classify = ClassifyIncident(incident_id=state.id, classification="major", by="ciso", at=at)
    events = decide(classify, state, now=at, rules=rules)
    clocks = {e.clock.rule_ref: (e.clock.anchor_at, e.clock.deadline - e.clock.anchor_at)
              for e in events if isinstance(e, ClockStarted)}
    aware_at = state.awareness.aware_at  # type: ignore[union-attr]
    # One initial notification: 4 h from the classification, the 24 h from awareness still far
    # (Reg. 2025/301 Art. 5(1)(a)).
    assert clocks == {"DORA:initial_notification@2": (at, timedelta(hours=4))}
    assert at + timedelta(hours=4) < aware_at + timedelta(hours=24)
    state = fold(state, events)
    assert decide(classify, state, now=NOW, rules=rules) == []  # said twice: nothing new
    with pytest.raises(CommandRejected, match="one of"):
        decide(ClassifyIncident(incident_id=state.id, classification="huge", by="x", at=NOW), state, now=NOW,
               rules=rules)
