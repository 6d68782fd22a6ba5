"""Measures taken and proposed (Art. 33(3)(d)): the DPO writes them per language and per
audience, and the notices carry them in their own language, never another's."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from incident.commands import RecordMeasures, RecordSubjects, SendSubjectNotice
from incident.decide import Rules, decide
from incident.errors import CommandRejected
from incident.events import MeasuresRecorded
from incident.measures import MeasureText
from incident.model import Incident, fold
from incident.notices import AUTHORITY_NOTIFICATION, DATA_SUBJECT_NOTICE, draft, read_in, submission
from streams.kafka import codec
from streams.kafka.command_signing import HUMAN_DECISIONS
from tests.unit.builders import T0, FakeCalendar, directory, high_risk_incident

NOW = T0 + timedelta(hours=2)
RULES = Rules(directory(), FakeCalendar())
FR = MeasureText(locale="fr", taken=("Compte d'export désactivé", "  "),
                 proposed=("Réinitialisation des mots de passe",))
EN = MeasureText(locale="en", taken=("Export account disabled",), proposed=("Password reset for every customer",))


def record(state: Incident, *texts: MeasureText, audience: str = "authority", role: str = "dpo") -> Incident:
    events = decide(RecordMeasures(incident_id=state.id, audience=audience, texts=texts, by="claire", role=role),
                    state, now=NOW, rules=RULES)
    new = fold(state, events)
    assert new is not None
    return new


def test_the_authority_notification_carries_the_measures_in_its_language() -> None:
    state = record(high_risk_incident(), FR, EN)
    profile = directory().profiles["acme"]
    written = draft(AUTHORITY_NOTIFICATION, state, profile, NOW)
    assert written.locale == "fr"
    assert written.context["measures"] == {"taken": ["Compte d'export désactivé"],
                                           "proposed": ["Réinitialisation des mots de passe"]}
    clock = next(c for c in state.clocks if c.recipient == "authority")
    sent = submission(state, profile, clock, "", NOW)
    assert sent.context["measures"]["taken"] == ["Compte d'export désactivé"]


def test_another_languages_measures_never_stand_in() -> None:
    state = record(high_risk_incident(), EN)
    written = draft(AUTHORITY_NOTIFICATION, state, directory().profiles["acme"], NOW)
    assert written.context["measures"] == {"taken": [], "proposed": []}
    assert written.context["measures_by_locale"]["en"]["taken"] == ["Export account disabled"]


def test_each_audience_has_its_own_measures() -> None:
    plain = MeasureText(locale="fr", taken=("Nous avons bloqué l'accès frauduleux.",))
    state = record(record(high_risk_incident(), FR, EN), plain, audience="data_subjects")
    profile = directory().profiles["acme"]
    assert draft(DATA_SUBJECT_NOTICE, state, profile, NOW).context["measures"]["taken"] == [
        "Nous avons bloqué l'accès frauduleux."]
    assert draft(AUTHORITY_NOTIFICATION, state, profile, NOW).context["measures"]["taken"] == [
        "Compte d'export désactivé"]


def test_a_new_set_replaces_the_last_and_the_same_set_is_no_event() -> None:
    state = record(high_risk_incident(), FR)
    again = decide(RecordMeasures(incident_id=state.id, audience="authority", texts=(FR,), by="claire", role="dpo"),
                   state, now=NOW, rules=RULES)
    assert again == []
    fixed = replace(FR, taken=("Compte d'export supprimé",))
    state = record(state, fixed)
    written = state.measures_for("authority")
    assert written is not None and written.texts == (MeasureText(
        locale="fr", taken=("Compte d'export supprimé",), proposed=("Réinitialisation des mots de passe",)),)


@pytest.mark.parametrize(("texts", "audience", "role", "why"), [
    ((FR,), "authority", "responder", "only the DPO"),
    ((FR,), "press", "dpo", "audience must be one of"),
    ((MeasureText(locale="de", taken=("Konto gesperrt",)),), "authority", "dpo", "language 'de'"),
    ((MeasureText(locale="fr", taken=("  ",)),), "authority", "dpo", "at least one measure"),
    ((MeasureText(locale="fr", taken=("x" * 2001,)),), "authority", "dpo", "at most 2000 characters"),
])
def test_refused(texts: tuple[MeasureText, ...], audience: str, role: str, why: str) -> None:
    state = high_risk_incident()
    with pytest.raises(CommandRejected, match=why):
        decide(RecordMeasures(incident_id=state.id, audience=audience, texts=texts, by="x", role=role), state,
               now=NOW, rules=RULES)


def test_the_subject_notice_takes_the_recorded_measures_in_each_language() -> None:
    fr = MeasureText(locale="fr", taken=("Accès frauduleux bloqué.",), proposed=("Vous recevrez un lien.",))
    en = MeasureText(locale="en", taken=("Fraudulent access blocked.",), proposed=("You will get a link.",))
    state = record(high_risk_incident(), fr, en, audience="data_subjects")
    state = fold(state, decide(RecordSubjects(incident_id=state.id, list_id="l1", count=3, invalid=0, by="claire"),
                               state, now=NOW, rules=RULES))
    assert state is not None
    events = decide(SendSubjectNotice(incident_id=state.id, list_id="l1", by="claire", role="dpo",
                                      measures_taken=()), state, now=NOW, rules=RULES)
    context = events[0].context  # type: ignore[attr-defined]
    assert context["measures"] == {"taken": ["Accès frauduleux bloqué."], "proposed": ["Vous recevrez un lien."]}
    assert context["measures_by_locale"]["en"] == {"taken": ["Fraudulent access blocked."],
                                                   "proposed": ["You will get a link."]}


def test_the_dpo_gets_a_new_draft_with_the_measures_in_it() -> None:
    state = high_risk_incident()
    drafted = {n.kind: n.notice_id for n in state.notices}
    state = record(state, FR)
    authority = [n for n in state.notices if n.kind == AUTHORITY_NOTIFICATION]
    assert len(authority) == 2 and authority[0].notice_id == drafted[AUTHORITY_NOTIFICATION]
    assert authority[1].notice_id != authority[0].notice_id
    assert [n for n in state.notices if n.kind == DATA_SUBJECT_NOTICE] == [
        n for n in high_risk_incident().notices if n.kind == DATA_SUBJECT_NOTICE]  # the people's: not theirs


def test_the_command_and_event_travel_and_are_signed() -> None:
    command = RecordMeasures(incident_id="i", audience="authority", texts=(FR, EN), by="claire", role="dpo")
    assert codec.decode(codec.encode(command)) == command
    assert RecordMeasures in HUMAN_DECISIONS
    state = record(high_risk_incident(), FR)
    event = MeasuresRecorded(incident_id=state.id, version=9, at=NOW, audience="authority",
                             texts=state.measures[0].texts, by="claire")
    assert codec.decode(codec.encode(event)) == event
    assert codec.decode(codec.encode(state)) == state


def test_a_draft_read_in_another_language_shows_only_that_languages_measures() -> None:
    """The console's preview in another language (incident.notices.read_in): the DPO's words in
    that language, or none; never the draft's French measures inside English text."""
    fr = {"taken": ["Compte d'export désactivé"], "proposed": []}
    en = {"taken": ["Export account disabled"], "proposed": []}
    context = {"measures": fr, "measures_by_locale": {"fr": fr, "en": en}, "notice": {"id": "n"}}
    assert read_in(context, "en")["measures"] == en and read_in(context, "en")["notice"] == {"id": "n"}
    assert read_in({**context, "measures_by_locale": {"fr": fr}}, "en")["measures"] == {"taken": [], "proposed": []}
    assert context["measures"] == fr  # the draft itself is untouched
