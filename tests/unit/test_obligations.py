"""The obligation workflow: approved by the DPO, submitted (late only with reasons), complemented,
closed or withdrawn; settled obligations stop reminding."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident.commands import ActOnObligation, Tick
from incident.decide import Rules, decide
from incident.errors import CommandRejected
from incident.events import ReminderDue
from incident.model import Incident, fold
from tests.unit.builders import T0, FakeCalendar, aware_incident, directory

RULES = Rules(directory(), FakeCalendar())
ART33 = "GDPR:art33_authority@1"


def act(state: Incident, action: str, *, at: timedelta = timedelta(hours=1), role: str = "dpo",
        **fields: str) -> Incident:
    command = ActOnObligation(incident_id=state.id, obligation=ART33, action=action, by="someone", role=role,
                              at=T0 + at, **fields)
    new = fold(state, decide(command, state, now=T0 + at, rules=RULES))
    assert new is not None
    return new


def test_the_happy_path() -> None:
    state = act(aware_incident(), "approve")
    state = act(state, "submit", at=timedelta(hours=30), channel="portal", reference="CNIL-2026-123")
    o = state.obligation(ART33)
    assert o is not None and (o.status, o.reference, o.late) == ("submitted", "CNIL-2026-123", False)
    assert state.status == "submitted"  # only a recorded submission makes the incident "submitted"
    state = act(state, "complement", at=timedelta(hours=40), text="Number of people now known: 1,204")
    state = act(state, "close", at=timedelta(days=10), text="CNIL acknowledged")
    o = state.obligation(ART33)
    assert o is not None and (o.status, o.complements) == ("closed", 1)
    assert state.status == "closed"


def test_only_the_dpo_approves_and_nothing_is_submitted_unapproved() -> None:
    with pytest.raises(CommandRejected, match="only the DPO"):
        act(aware_incident(), "approve", role="responder")
    with pytest.raises(CommandRejected, match="approves first"):
        act(aware_incident(), "submit", channel="email")


def test_a_late_submission_needs_reasons_which_may_be_given_ahead() -> None:
    approved = act(aware_incident(), "approve")
    with pytest.raises(CommandRejected, match="reasons for the delay"):
        act(approved, "submit", at=timedelta(hours=73), channel="email")
    late = act(approved, "submit", at=timedelta(hours=73), channel="email", text="Forensics took longer")
    o = late.obligation(ART33)
    assert o is not None and o.late and o.delay_reasons == "Forensics took longer"
    ahead = act(act(approved, "delay_reasons", at=timedelta(hours=66), text="Processor slow to answer"),
                "submit", at=timedelta(hours=73), channel="email")
    o = ahead.obligation(ART33)
    assert o is not None and o.late and o.delay_reasons == "Processor slow to answer"


def test_refusals_say_why() -> None:
    state = act(aware_incident(), "approve")
    with pytest.raises(CommandRejected, match="reference"):
        act(state, "submit", channel="portal")
    with pytest.raises(CommandRejected, match="channel"):
        act(state, "submit", channel="fax")
    with pytest.raises(CommandRejected, match="reason"):
        act(state, "withdraw")
    with pytest.raises(CommandRejected, match="no obligation"):
        decide(ActOnObligation(incident_id=state.id, obligation="NIS2:x@1", action="approve", by="d", role="dpo",
                               at=T0), state, now=T0, rules=RULES)
    with pytest.raises(CommandRejected, match="future"):
        decide(ActOnObligation(incident_id=state.id, obligation=ART33, action="close", by="d", role="dpo",
                               at=T0 + timedelta(days=1)), state, now=T0, rules=RULES)


def test_a_settled_obligation_stops_reminding() -> None:
    submitted = act(act(aware_incident(), "approve"), "submit", at=timedelta(hours=2), channel="email")
    events = decide(Tick(incident_id=submitted.id, at=T0 + timedelta(hours=80)), submitted,
                    now=T0 + timedelta(hours=80), rules=RULES)
    assert [e for e in events if isinstance(e, ReminderDue)] == []
    running = aware_incident()
    events = decide(Tick(incident_id=running.id, at=T0 + timedelta(hours=80)), running,
                    now=T0 + timedelta(hours=80), rules=RULES)
    assert [e.step for e in events if isinstance(e, ReminderDue)] == ["overdue"]


def test_submitting_by_email_sends_the_approved_notification_to_the_authority_address() -> None:
    from incident.events import NoticeRequested, ObligationActed

    approved = act(aware_incident(), "approve")
    command = ActOnObligation(incident_id=approved.id, obligation=ART33, action="submit", by="dpo", role="dpo",
                              at=T0 + timedelta(hours=80), channel="email", text="Forensics took longer")
    events = decide(command, approved, now=T0 + timedelta(hours=80), rules=RULES)
    assert [type(e) for e in events] == [ObligationActed, NoticeRequested]
    sent = events[1]
    assert isinstance(sent, NoticeRequested)
    draft = sent.draft
    assert (draft.audience, draft.recipients, draft.regime) == ("authority", ("notifications@authority.example",),
                                                                "gdpr")
    assert draft.context["notice"]["draft"] is False
    assert draft.context["clock"] == {**draft.context["clock"], "late": True, "rule_ref": ART33,
                                      "delay_reasons": "Forensics took longer"}
    # Said twice (a redelivered command): recorded and sent once.
    state = fold(approved, events)
    assert state is not None and decide(command, state, now=T0 + timedelta(hours=81), rules=RULES) == []


def test_no_submission_address_means_no_email_submission() -> None:
    from dataclasses import replace

    from incident.profiles import Directory

    profile = directory().profiles["acme"]
    rules = Rules(Directory.of([replace(profile, authority=replace(profile.authority, email=None))]),
                  FakeCalendar())
    approved = act(aware_incident(), "approve")
    command = ActOnObligation(incident_id=approved.id, obligation=ART33, action="submit", by="dpo", role="dpo",
                              at=T0 + timedelta(hours=2), channel="email")
    with pytest.raises(CommandRejected, match=r"no submission address.*portal"):
        decide(command, approved, now=T0 + timedelta(hours=2), rules=rules)


def test_a_submitted_notification_is_corrected_with_a_reason() -> None:
    submitted = act(act(aware_incident(), "approve"), "submit", at=timedelta(hours=5), channel="portal",
                    reference="CNIL-1")
    with pytest.raises(CommandRejected, match="reason"):
        act(submitted, "correct", at=timedelta(hours=6))
    with pytest.raises(CommandRejected, match="submit first"):
        act(act(aware_incident(), "approve"), "correct", text="wrong count")
    corrected = act(submitted, "correct", at=timedelta(hours=6), text="1,204 people, not 12,040")
    o = corrected.obligation(ART33)
    assert o is not None and (o.status, o.corrections) == ("submitted", 1)


def test_the_art34_communication_has_its_workflow_and_is_never_late() -> None:
    from tests.unit.builders import high_risk_incident

    state = high_risk_incident()
    art34 = "GDPR:art34_data_subjects@1"
    assert art34 in {c.rule_ref for c in state.clocks}
    for action, extra in (("approve", {}), ("submit", {"channel": "other"})):
        command = ActOnObligation(incident_id=state.id, obligation=art34, action=action, by="dpo", role="dpo",
                                  at=T0 + timedelta(days=3), **extra)
        if action == "submit":
            with pytest.raises(CommandRejected, match="how it was sent"):
                decide(command, state, now=T0 + timedelta(days=3), rules=RULES)
            command = ActOnObligation(incident_id=state.id, obligation=art34, action=action, by="dpo", role="dpo",
                                      at=T0 + timedelta(days=3), channel="other",
                                      reference="letters posted to 1,204 customers")
        state = fold(state, decide(command, state, now=T0 + timedelta(days=3), rules=RULES))  # type: ignore[assignment]
    o = state.obligation(art34)
    assert o is not None and (o.status, o.late) == ("submitted", False)
