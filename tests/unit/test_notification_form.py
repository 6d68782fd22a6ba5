"""The CNIL form's fields (incident/notification_form.py): what the incident shows, what the DPO
states over it, and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from console import actions
from console.users import User
from incident.commands import RecordFormAnswers, RecordSubjects, SendSubjectNotice
from incident.decide import Rules, decide
from incident.errors import CommandRejected
from incident.model import Incident, fold
from incident.notification_form import FormAnswers, form_context
from streams.kafka import codec
from streams.kafka.command_signing import HUMAN_DECISIONS
from tests.unit.builders import T0, FakeCalendar, aware_incident, directory, high_risk_incident

NOW = T0 + timedelta(hours=3)
RULES = Rules(directory(), FakeCalendar())
PROFILE = directory().profiles["acme"]


def answer(state: Incident, answers: FormAnswers, role: str = "dpo") -> Incident:
    new = fold(state, decide(RecordFormAnswers(incident_id=state.id, answers=answers, by="claire", role=role),
                             state, now=NOW, rules=RULES))
    assert new is not None
    return new


def test_what_the_incident_shows_by_itself() -> None:
    state = high_risk_incident()
    form = form_context(state, PROFILE)
    assert form["notification_type"] == "initial"
    assert (form["started_at"], form["started_from"]) == (state.first_event_at.isoformat(), "signals")  # type: ignore[union-attr]
    assert datetime.fromisoformat(form["discovered_at"]) <= datetime.fromisoformat(form["aware_at"])
    assert form["end"] == {"status": None, "at": None}
    assert (form["origin"], form["member_states"], form["police_complaint"], form["anssi_report"]) == (
        None, None, None, None)
    assert (form["intent"], form["intent_from"]) == ("malicious", "signals")  # an exfiltration signal
    assert form["people_informed"]["status"] == "planned"  # high risk: Art. 34 owed
    assert form["established_in"] == "FR"


def test_a_risk_that_is_not_high_owes_the_people_nothing_and_no_attack_means_no_intent() -> None:
    form = form_context(aware_incident(), PROFILE)
    assert form["people_informed"]["status"] == "not_required"
    assert form["intent"] is None and form["intent_from"] is None


def test_the_dpos_answers_win() -> None:
    started = T0 - timedelta(days=2)
    state = answer(high_risk_incident(), FormAnswers(
        started_at=started, ongoing=True, origin="internal", intent="accidental", member_states=("FR", "DE"),
        notification_type="complete", police_complaint=False, anssi_report=True))
    form = form_context(state, PROFILE)
    assert (form["started_at"], form["started_from"]) == (started.isoformat(), "dpo")
    assert form["end"] == {"status": "ongoing", "at": None}
    assert (form["origin"], form["intent"], form["intent_from"]) == ("internal", "accidental", "dpo")
    assert form["member_states"] == ["DE"]  # the state of establishment is not an "other" one
    assert (form["notification_type"], form["police_complaint"], form["anssi_report"]) == ("complete", False, True)


def test_the_people_informed_once_their_notice_went_out() -> None:
    state = high_risk_incident()
    state = fold(state, decide(RecordSubjects(incident_id=state.id, list_id="l1", count=40, invalid=0, by="claire"),
                               state, now=NOW, rules=RULES))
    assert state is not None
    state = fold(state, decide(SendSubjectNotice(incident_id=state.id, list_id="l1", by="claire", role="dpo",
                                                 measures_taken=("Accounts locked",)), state, now=NOW, rules=RULES))
    assert state is not None
    assert form_context(state, PROFILE)["people_informed"] == {"status": "informed", "how": "email",
                                                               "at": NOW.isoformat(), "count": 40}


@pytest.mark.parametrize(("answers", "role", "why"), [
    (FormAnswers(origin="internal"), "responder", "only the DPO"),
    (FormAnswers(origin="inside"), "dpo", "origin must be one of"),
    (FormAnswers(intent="evil"), "dpo", "intent must be one of"),
    (FormAnswers(notification_type="final"), "dpo", "notification_type must be one of"),
    (FormAnswers(member_states=("DE", "US")), "dpo", "not EU/EEA country codes: US"),
    (FormAnswers(started_at=NOW + timedelta(hours=1)), "dpo", "past times"),
    (FormAnswers(ended_at=T0, ongoing=True), "dpo", "not ongoing"),
    (FormAnswers(started_at=T0, ended_at=T0 - timedelta(hours=1)), "dpo", "cannot end before"),
    (FormAnswers(contact_name="Claire\nMartin"), "dpo", "contact_name is one line"),
    (FormAnswers(contact_details="x" * 201), "dpo", "contact_details is one line of at most 200"),
])
def test_refused(answers: FormAnswers, role: str, why: str) -> None:
    with pytest.raises(CommandRejected, match=why):
        answer(high_risk_incident(), answers, role=role)


def test_the_same_answers_again_are_no_event_and_everything_travels() -> None:
    answers = FormAnswers(started_at=T0, origin="external", member_states=(), police_complaint=True)
    state = answer(high_risk_incident(), answers)
    again = decide(RecordFormAnswers(incident_id=state.id, answers=answers, by="claire", role="dpo"), state,
                   now=NOW, rules=RULES)
    assert again == []
    command = RecordFormAnswers(incident_id=state.id, answers=answers, by="claire", role="dpo")
    assert codec.decode(codec.encode(command)) == command
    assert codec.decode(codec.encode(state)) == state
    assert RecordFormAnswers in HUMAN_DECISIONS


def test_the_console_form_and_the_api_body_give_the_same_answers() -> None:
    user = User(name="dora", role="dpo")
    form: dict[str, Any] = {"started_at": "2026-11-19T08:00:00+01:00", "ended_at": "", "ongoing": "yes",
                            "origin": "external", "intent": "", "member_states": "de, be",
                            "notification_type": "initial", "police_complaint": "no", "anssi_report": "",
                            "contact_name": " Claire Martin ", "contact_details": ""}
    api: dict[str, Any] = {"started_at": "2026-11-19T08:00:00+01:00", "ongoing": True, "origin": "external",
                           "member_states": ["DE", "BE"], "notification_type": "initial", "police_complaint": False,
                           "contact_name": "Claire Martin", "contact_details": None}
    built = [actions.BUILDERS["form"](body, "i", user, lambda: NOW) for body in (form, api)]
    assert built[0] == built[1]
    assert built[0].answers == FormAnswers(  # type: ignore[union-attr]
        started_at=datetime(2026, 11, 19, 7, tzinfo=UTC), ongoing=True, origin="external", member_states=("DE", "BE"),
        notification_type="initial", police_complaint=False, contact_name="Claire Martin")
    none = actions.BUILDERS["form"]({"member_states": "none"}, "i", user, lambda: NOW)
    assert none.answers.member_states == ()  # type: ignore[union-attr]
    assert actions.allowed("form", {}, User(name="rita", role="responder")) is not None
    with pytest.raises(actions.ActionError):
        actions.BUILDERS["form"]({"anssi_report": "maybe"}, "i", user, lambda: NOW)


def test_the_dpo_names_the_contact_for_this_notification_and_sees_it_in_a_new_draft() -> None:
    """Art. 33(3)(b): the DPO's own name and contact, stored with the form, in the next draft."""
    from incident.events import FormAnswered, NoticeRequested

    state = high_risk_incident()
    assert form_context(state, PROFILE)["contact"] == {"name": None, "details": None}  # the profile's DPO then
    drafts = [n for n in state.notices if n.kind == "authority_notification"]
    answers = FormAnswers(contact_name="Claire Martin", contact_details="+33 1 23 45 67 89, claire@acme.example")
    events = decide(RecordFormAnswers(incident_id=state.id, answers=answers, by="claire", role="dpo"), state,
                    now=NOW, rules=RULES)
    assert [type(e) for e in events] == [FormAnswered, NoticeRequested]
    redraft = events[1].draft  # type: ignore[attr-defined]
    assert redraft.kind == "authority_notification" and redraft.notice_id not in {n.notice_id for n in drafts}
    assert redraft.context["form"]["contact"] == {"name": "Claire Martin",
                                                  "details": "+33 1 23 45 67 89, claire@acme.example"}
    state = fold(state, events)
    assert state is not None and state.form == answers
    assert codec.decode(codec.encode(state)) == state
