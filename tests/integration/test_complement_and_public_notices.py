"""The two notices the workflow drafts later (issue 16), on the shipped AMPERE sample through the
real domain, profiles and templates: the complementary notification to the authority once the
DPO records a complement (Art. 33(4), information in phases), and the public communication when
the people cannot be reached one by one (Art. 34(3)(c)), instead of a notice nobody could be sent.
Each is rendered in French and in English and must read as filed: no placeholder."""

from __future__ import annotations

import pathlib
import re
from datetime import timedelta

import pytest

from incident.commands import ActOnObligation, Command, CorrectFacts, RecordMeasures
from incident.decide import Rules, decide
from incident.events import Event, NoticeRequested
from incident.measures import MeasureText
from incident.model import Incident, fold
from incident.notices import (
    AUTHORITY_COMPLEMENT,
    DATA_SUBJECT_NOTICE,
    DPO_REVIEW,
    PUBLIC_COMMUNICATION,
    NoticeDraft,
)
from streams.calendars import HolidaysCalendar
from streams.mail.render import NoticeRenderer
from tests.sample_incidents import SampleIncident, directory, sample_incidents

ROOT = pathlib.Path(__file__).resolve().parents[2]
AMPERE: SampleIncident = next(s for s in sample_incidents() if s.profile.id == "ampere")
ART33 = "GDPR:art33_authority@1"
PLACEHOLDERS = ("à compléter", "to be completed", "{{", "}}", "none", "null")
RULES = Rules(directory(), HolidaysCalendar())


@pytest.fixture(scope="module")
def renderer() -> NoticeRenderer:
    return NoticeRenderer(ROOT / "templates" / "notices")


def run(state: Incident, *commands: Command) -> tuple[Incident, list[Event]]:
    now = AMPERE.now + timedelta(hours=1)
    events: list[Event] = []
    for command in commands:
        decided = decide(command, state, now=now, rules=RULES)
        state = fold(state, decided)
        events += decided
    return state, events


def step(action: str, **fields: str) -> ActOnObligation:
    return ActOnObligation(incident_id=AMPERE.state.id, obligation=ART33, action=action, by="user:dora", role="dpo",
                           at=AMPERE.now + timedelta(minutes=30), **fields)


def drafted(events: list[Event], kind: str) -> list[NoticeDraft]:
    return [e.draft for e in events if isinstance(e, NoticeRequested) and e.draft.kind == kind]


def own_words(renderer: NoticeRenderer, draft: NoticeDraft, locale: str) -> str:
    notice = renderer.render(regime=draft.regime, locale=locale, kind=draft.kind, context=draft.context)
    text = " ".join(notice.text.split())
    for placeholder in PLACEHOLDERS:
        found = re.search(rf"(?<!\w){re.escape(placeholder)}(?!\w)", text.lower())
        assert not found, f"{draft.kind} {locale}: {placeholder!r}"
    return notice.subject + "\n" + text


def test_a_complement_recorded_after_the_submission_is_drafted_for_the_authority(renderer: NoticeRenderer) -> None:
    submitted, before = run(AMPERE.state, step("approve"), step("submit", channel="portal",
                                                                   reference="CNIL-2026-0042"))
    assert drafted(before, AUTHORITY_COMPLEMENT) == []  # nothing to add until the DPO adds it
    first = "L'export contenait 48 210 fiches, et non 48 500.\nAucune donnée de paiement n'était exportée."
    state, events = run(submitted, step("complement", text=first))
    (draft,) = drafted(events, AUTHORITY_COMPLEMENT)
    assert (draft.audience, draft.recipients, draft.locale) == (DPO_REVIEW, (AMPERE.profile.dpo.email,), "fr")
    complement = draft.context["complement"]
    assert complement["sequence"] == 1 and complement["initial_reference"] == "CNIL-2026-0042"
    assert complement["new_information"] == ["L'export contenait 48 210 fiches, et non 48 500.",
                                             "Aucune donnée de paiement n'était exportée."]
    french = own_words(renderer, draft, "fr")
    assert "Notification complémentaire n° 1 de violation de données (RGPD art. 33(4))" in french
    assert "NOTIFICATION COMPLÉMENTAIRE N° 1" in french and "Référence de l'autorité : CNIL-2026-0042" in french
    assert "Aucune donnée de paiement n'était exportée." in french
    english = own_words(renderer, draft, "en")
    assert "Art. 33(4)" in english and "CNIL-2026-0042" in english

    # A second complement is the second, with its own id (the delivery ledger sends it too).
    _, more = run(state, step("complement", text="Le compte d'export était un compte de service."))
    (second,) = drafted(more, AUTHORITY_COMPLEMENT)
    assert second.context["complement"]["sequence"] == 2 and second.notice_id != draft.notice_id


def test_people_who_cannot_be_reached_are_told_by_a_public_communication(renderer: NoticeRenderer) -> None:
    assert AMPERE.state.level == "high" and DATA_SUBJECT_NOTICE in {n.kind for n in AMPERE.state.notices}
    unreachable = CorrectFacts(incident_id=AMPERE.state.id, changes={"subjects_contactable": False},
                               by="user:rita", reason="the newsletter list holds no valid address for most people",
                               role="responder")
    state, events = run(AMPERE.state, unreachable)
    assert [e.article for e in state.assessment.exceptions] == ["34(3)(c)"]  # type: ignore[union-attr]
    assert drafted(events, DATA_SUBJECT_NOTICE) == []
    (draft,) = drafted(events, PUBLIC_COMMUNICATION)
    assert (draft.audience, draft.locale) == (DPO_REVIEW, "fr")
    french, english = own_words(renderer, draft, "fr"), own_words(renderer, draft, "en")
    assert "AMPERE SAS" in french and "AMPERE SAS" in english
    assert "(AMPERE SAS, Direction juridique)" in french and "(AMPERE SAS, Direction juridique)" in english
    # Said once: a later correction does not draft it again.
    _, again = run(state, CorrectFacts(incident_id=state.id, changes={"subjects_count": 48210}, by="user:rita",
                                       reason="counted", role="responder"))
    assert drafted(again, PUBLIC_COMMUNICATION) == []


def test_a_public_communication_carries_the_measures_written_for_the_people() -> None:
    unreachable = CorrectFacts(incident_id=AMPERE.state.id, changes={"subjects_contactable": False},
                               by="user:rita", reason="no addresses", role="responder")
    state, _ = run(AMPERE.state, unreachable)
    texts = (MeasureText(locale="fr", taken=("Compte d'export désactivé",), proposed=()),
             MeasureText(locale="en", taken=("Export account disabled",), proposed=()))
    _, events = run(state, RecordMeasures(incident_id=state.id, audience="data_subjects", texts=texts,
                                          by="user:dora", role="dpo"))
    (redraft,) = drafted(events, PUBLIC_COMMUNICATION)
    assert redraft.context["measures"]["taken"] == ["Compte d'export désactivé"]
