"""The DPO's answers (the notification form, the measures) reach every draft that shows them
(issue 16): a new version of each draft already sent to the DPO for review, the GDPR's and every
other regime's, recorded on the timeline — never of a notice already submitted, whose follow-up
is a complement. And the measures in place before the breach, per language."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from incident.commands import ActOnObligation, RecordFormAnswers, RecordMeasures
from incident.decide import decide
from incident.errors import CommandRejected
from incident.events import FormAnswered, NoticeRequested
from incident.measures import MeasureText
from incident.model import Incident, fold
from incident.notices import read_in
from incident.notification_form import FormAnswers, LocalText
from streams.kafka import codec
from tests.unit.builders import T0
from tests.unit.test_regime_drafts import aware, drafts, rules_for

LATER = T0 + timedelta(hours=2)
# A controller held to the GDPR and the LGPD: the CNIL's notification, the ANPD's, the people's.
RULES = rules_for(regimes=["gdpr", "lgpd"], languages=["fr", "en"])
CONTACT = FormAnswers(contact_name="Claire Martin", contact_details="+33 1 23 45 67 89")


def run(state: Incident, command: Any) -> tuple[Incident, list[Any]]:
    events = decide(command, state, now=LATER, rules=RULES)
    new = fold(state, events)
    assert new is not None
    return new, events


def answer(state: Incident, answers: FormAnswers) -> tuple[Incident, list[Any]]:
    return run(state, RecordFormAnswers(incident_id=state.id, answers=answers, by="user:claire", role="dpo"))


def drafted() -> Incident:
    state, events = aware(RULES)
    assert set(drafts(events)) == {("gdpr", "authority_notification"), ("gdpr", "data_subject_notice"),
                                   ("lgpd", "art6_anpd"), ("lgpd", "art9_data_subjects")}
    return state


def test_every_unsent_draft_is_redrafted_with_the_answers() -> None:
    state = drafted()
    before = {n.notice_id for n in state.notices}
    state, events = answer(state, CONTACT)
    assert isinstance(events[0], FormAnswered)  # on the timeline, then each new version
    # (the GDPR's notice to the people does not show the form: it is not redrafted)
    assert sorted(drafts(events)) == [("gdpr", "authority_notification"), ("lgpd", "art6_anpd"),
                                      ("lgpd", "art9_data_subjects")]
    for e in (e for e in events if isinstance(e, NoticeRequested)):
        assert e.draft.notice_id not in before and e.draft.audience == "dpo-review"
        assert e.draft.context["form"]["contact"] == {"name": "Claire Martin", "details": "+33 1 23 45 67 89"}
    # Changed again: a third version of each, with ids of their own.
    state, events = answer(state, FormAnswers(contact_name="Claire Martin", ongoing=True))
    assert len(drafts(events)) == 3 and len({n.notice_id for n in state.notices}) == len(state.notices) == 10
    assert all(e.draft.context["form"]["end"]["status"] == "ongoing" for e in events
               if isinstance(e, NoticeRequested))
    assert answer(state, FormAnswers(contact_name="Claire Martin", ongoing=True))[1] == []  # the same: nothing


def test_a_submitted_notice_is_never_redrafted() -> None:
    state = drafted()
    anpd = next(c.rule_ref for c in state.clocks if c.obligation == "art6_anpd")
    gdpr = next(c.rule_ref for c in state.clocks if c.obligation == "art33_authority")
    for rule_ref in (anpd, gdpr):
        for action, extra in (("approve", {}), ("submit", {"channel": "portal", "reference": "REF-1"})):
            state, _ = run(state, ActOnObligation(incident_id=state.id, obligation=rule_ref, action=action,
                                                  by="user:claire", role="dpo", at=LATER, **extra))
    state, events = answer(state, CONTACT)
    # What the ANPD and the CNIL have stays as they have it (a complement follows); the people's
    # notice, not sent yet, shows the answers.
    assert drafts(events) == [("lgpd", "art9_data_subjects")]


def test_the_measures_redraft_the_drafts_of_their_audience_in_every_regime() -> None:
    state = drafted()
    people = RecordMeasures(incident_id=state.id, audience="data_subjects", by="user:claire", role="dpo",
                            texts=(MeasureText(locale="fr", taken=("Mots de passe réinitialisés",)),))
    state, events = run(state, people)
    assert sorted(drafts(events)) == [("gdpr", "data_subject_notice"), ("lgpd", "art9_data_subjects")]
    authority = RecordMeasures(incident_id=state.id, audience="authority", by="user:claire", role="dpo",
                               texts=(MeasureText(locale="fr", taken=("Compte désactivé",)),))
    state, events = run(state, authority)
    assert sorted(drafts(events)) == [("gdpr", "authority_notification"), ("lgpd", "art6_anpd")]
    anpd = next(e.draft for e in events if isinstance(e, NoticeRequested) and e.draft.kind == "art6_anpd")
    assert anpd.context["measures_by_locale"]["fr"]["taken"] == ["Compte désactivé"]


SAFEGUARDS = (LocalText(locale="fr", items=("Chiffrement des disques", "Authentification à deux facteurs")),
              LocalText(locale="en", items=("Disk encryption", "Two-factor authentication")))


def test_the_measures_in_place_before_reach_each_draft_in_its_language() -> None:
    state, events = answer(drafted(), FormAnswers(safeguards=SAFEGUARDS))
    by_kind = {e.draft.kind: e.draft for e in events if isinstance(e, NoticeRequested)}
    notification = by_kind["authority_notification"]
    assert notification.locale == "fr"
    assert notification.context["form"]["safeguards"] == ["Chiffrement des disques",
                                                          "Authentification à deux facteurs"]
    # Read in English (the console's preview): the DPO's English words, never the French.
    assert read_in(notification.context, "en")["form"]["safeguards"] == ["Disk encryption",
                                                                         "Two-factor authentication"]
    assert read_in(notification.context, "de")["form"]["safeguards"] is None
    # The ANPD's notice, in the authority's language here (French), quotes the French text.
    assert by_kind["art6_anpd"].context["form"]["safeguards"] == ["Chiffrement des disques",
                                                                  "Authentification à deux facteurs"]
    # The answers travel (the command, signed, and the event) and fold back the same.
    for record in (*events, RecordFormAnswers(incident_id=state.id, answers=FormAnswers(safeguards=SAFEGUARDS),
                                              by="user:claire", role="dpo")):
        assert codec.decode(codec.encode(record)) == record
    assert state.form is not None and state.form.safeguards == SAFEGUARDS


@pytest.mark.parametrize(("safeguards", "why"), [
    ((LocalText(locale="de", items=("Verschlüsselung",)),), "language 'de' is not one the notices are written in"),
    ((LocalText(locale="fr", items=()),), "no empty language or line"),
    ((LocalText(locale="fr", items=("  ",)),), "no empty language or line"),
    ((LocalText(locale="fr", items=("x" * 2001,)),), "at most 50 lines of 2000 characters"),
    ((LocalText(locale="fr", items=("a",)), LocalText(locale="fr", items=("b",))), "one text per language"),
])
def test_refused_safeguards(safeguards: tuple[LocalText, ...], why: str) -> None:
    with pytest.raises(CommandRejected, match=why):
        answer(drafted(), FormAnswers(safeguards=safeguards))


def test_the_console_form_the_api_body_and_what_the_api_shows_give_the_same_safeguards() -> None:
    from console import actions
    from console.users import User

    user = User(name="dora", role="dpo")
    bodies: list[dict[str, Any]] = [
        {"safeguards_fr": "Chiffrement des disques\r\n\r\n Authentification à deux facteurs ",
         "safeguards_en": "Disk encryption\nTwo-factor authentication"},  # the console's text areas
        {"safeguards": {"fr": ["Chiffrement des disques", "Authentification à deux facteurs"],
                        "en": ["Disk encryption", "Two-factor authentication"]}},  # the API
        {"safeguards": codec.to_jsonable(SAFEGUARDS)},  # as GET /api/incidents/{id} shows them
    ]
    for body in bodies:
        command = actions.BUILDERS["form"](body, "i", user, lambda: LATER)
        assert command.answers.safeguards == SAFEGUARDS  # type: ignore[union-attr]
    for empty in ({}, {"safeguards_fr": "  \n", "safeguards_en": ""}, {"safeguards": None}):
        assert actions.BUILDERS["form"](empty, "i", user, lambda: LATER).answers.safeguards is None  # type: ignore[union-attr]
    with pytest.raises(actions.ActionError):
        actions.BUILDERS["form"]({"safeguards": {"fr": [1, 2]}}, "i", user, lambda: LATER)
