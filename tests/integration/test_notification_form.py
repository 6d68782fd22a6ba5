"""The CNIL form's fields in the authority notification (incident/notification_form.py): each is
present in both languages, in the text and the HTML, and never empty — what the incident or the
DPO says, else "not known yet" in the reader's language."""

from __future__ import annotations

import html as html_lib
import pathlib
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime

from incident.commands import RecordFormAnswers
from incident.decide import Rules, decide
from incident.model import fold
from incident.notices import draft, read_in
from incident.notification_form import FormAnswers, LocalText
from streams.calendars import HolidaysCalendar
from streams.mail.render import NoticeRenderer, RenderedNotice
from tests.sample_incidents import SampleIncident, directory, sample_incidents

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = sample_incidents()
LOCALES = ("fr", "en")
# The form's fields as the notification labels them: (text label, HTML row or heading).
FIELDS = {
    "fr": [("Notification :", "Notification"), ("Début de la violation :", "Début de la violation"),
           ("Fin de la violation :", "Fin de la violation"),
           ("Découverte (premier signal reçu) :", "Découverte (premier signal reçu)"),
           ("Prise de connaissance de la violation :", "Prise de connaissance de la violation"),
           ("origine :", "Cause"), ("nature :", "Cause"),
           ("Autres États membres concernés :", "Autres États membres concernés"),
           ("Information des personnes concernées (art. 34) :", "Information des personnes concernées (art. 34)"),
           ("Plainte déposée auprès des services de police ou de gendarmerie :",
            "Plainte déposée auprès des services de police ou de gendarmerie"),
           ("Signalement à l'ANSSI :", "Signalement à l'ANSSI"),
           ("Mesures de sécurité en place avant la violation :", "Mesures de sécurité en place avant la violation")],
    "en": [("Notification:", "Notification"), ("Start of the breach:", "Start of the breach"),
           ("End of the breach:", "End of the breach"), ("Discovered (first signal):", "Discovered (first signal)"),
           ("Controller became aware:", "Controller became aware"), ("origin:", "Cause"), ("nature:", "Cause"),
           ("Other Member States concerned:", "Other Member States concerned"),
           ("People informed (Art. 34):", "People informed (Art. 34)"),
           ("Complaint filed with the police:", "Complaint filed with the police"),
           ("Incident reported to ANSSI:", "Incident reported to ANSSI"),
           ("Security measures in place before the breach:", "Security measures in place before the breach")],
}
EMPTY = ("", "none", "null", "-", "—", "todo", "à compléter", "to be completed")


@pytest.fixture(scope="module")
def renderer() -> NoticeRenderer:
    return NoticeRenderer(ROOT / "templates" / "notices")


def answered(sample: SampleIncident, answers: FormAnswers) -> SampleIncident:
    rules = Rules(directory(), HolidaysCalendar())
    events = decide(RecordFormAnswers(incident_id=sample.state.id, answers=answers, by="dpo", role="dpo"),
                    sample.state, now=sample.now, rules=rules)
    state = fold(sample.state, events)
    assert state is not None and state.form == answers
    return SampleIncident(sample=sample.sample, state=state, profile=sample.profile, now=sample.now)


def render(renderer: NoticeRenderer, sample: SampleIncident, locale: str) -> RenderedNotice:
    context = draft("authority_notification", sample.state, sample.profile, sample.now).context
    return renderer.render(regime="gdpr", locale=locale, kind="authority_notification", context=context)


def text_value(text: str, label: str) -> str:
    lines = text.splitlines()
    at = next((i for i, line in enumerate(lines) if line.strip().removeprefix("- ").startswith(label)), None)
    assert at is not None, f"no field {label!r}"
    value = lines[at].strip().removeprefix("- ")[len(label):].strip()
    return value or lines[at + 1].strip().removeprefix("- ")  # a long value (or a list) starts on the next line


def html_value(page: str, label: str) -> str:
    page = html_lib.unescape(page)
    row = re.search(r"<th[^>]*>" + re.escape(label) + r"</th>\s*<td[^>]*>(.*?)</td>", page, re.S)
    if row is None:  # a heading and its paragraph
        row = re.search(r"<h3[^>]*>" + re.escape(label) + r"</h3>\s*<p[^>]*>(.*?)</p>", page, re.S)
    assert row is not None, f"no field {label!r} in the HTML"
    return re.sub(r"<[^>]+>", " ", row.group(1)).strip()


CASES = [pytest.param(s, locale, id=f"{s.sample}-{locale}") for s in SAMPLES for locale in LOCALES]


@pytest.mark.parametrize(("sample", "locale"), CASES)
def test_every_field_of_the_form_is_present_and_never_empty(renderer: NoticeRenderer, sample: SampleIncident,
                                                            locale: str) -> None:
    notice = render(renderer, sample, locale)
    for text_label, html_label in FIELDS[locale]:
        for value in (text_value(notice.text, text_label), html_value(notice.html, html_label)):
            assert value.lower().strip(" .:;") not in EMPTY, f"{text_label} is empty: {value!r}"


@pytest.mark.parametrize("locale", LOCALES)
def test_what_nobody_knows_yet_is_said_so(renderer: NoticeRenderer, locale: str) -> None:
    sample = next(s for s in SAMPLES if s.profile.id == "ama")  # the DPO recorded awareness: no attack shown
    notice = render(renderer, sample, locale)
    unknown = {"fr": "non connu à ce jour", "en": "not known yet"}[locale]
    for text_label, _ in FIELDS[locale]:
        if any(word in text_label for word in ("Fin", "End", "origin", "États", "States", "Plainte", "Complaint",
                                                "ANSSI", "sécurité", "Security")):
            assert text_value(notice.text, text_label).startswith(unknown), text_label


@pytest.mark.parametrize("locale", LOCALES)
def test_the_dpos_answers_are_rendered(renderer: NoticeRenderer, locale: str) -> None:
    sample = next(s for s in SAMPLES if s.profile.id == "ampere")
    started = sample.state.awareness.aware_at - timedelta(days=3)  # type: ignore[union-attr]
    ended = started + timedelta(hours=5)
    notice = render(renderer, answered(sample, FormAnswers(
        started_at=started, ended_at=ended, origin="external", intent="accidental", member_states=("DE", "BE", "FR"),
        notification_type="complete", police_complaint=True, anssi_report=False)), locale)
    expected = {
        "fr": {"Notification :": "complète", "origine :": "externe", "nature :": "accidentelle",
               "Autres États membres concernés :": "Allemagne, Belgique (responsable établi en : France)",
               "Plainte déposée auprès des services de police ou de gendarmerie :": "oui",
               "Signalement à l'ANSSI :": "non"},
        "en": {"Notification:": "complete", "origin:": "external", "nature:": "accidental",
               "Other Member States concerned:": "Germany, Belgium (controller established in France)",
               "Complaint filed with the police:": "yes", "Incident reported to ANSSI:": "no"},
    }[locale]
    for label, value in expected.items():
        assert text_value(notice.text, label) == value, label
    start, end = ("Début de la violation :", "Fin de la violation :") if locale == "fr" else (
        "Start of the breach:", "End of the breach:")
    paris = ZoneInfo("Europe/Paris")
    assert text_value(notice.text, start) == format_datetime(started, format="long", tzinfo=paris, locale=locale)
    assert text_value(notice.text, end) == format_datetime(ended, format="long", tzinfo=paris, locale=locale)
    assert {"fr": "indiqué par le DPO", "en": "stated by the DPO"}[locale] in notice.text


def test_discovery_is_never_after_awareness() -> None:
    """The samples' confirmed breaches: aware when the confirming signal arrived, discovered no later."""
    for sample in SAMPLES:
        form = draft("authority_notification", sample.state, sample.profile, sample.now).context["form"]
        assert datetime.fromisoformat(form["discovered_at"]) <= datetime.fromisoformat(form["aware_at"])


@pytest.mark.parametrize("locale", LOCALES)
def test_a_draft_recorded_before_the_form_still_renders(renderer: NoticeRenderer, locale: str) -> None:
    """Its context is kept in its NoticeRequested event: redelivered after an upgrade, it renders
    with what its incident facts say, and "not known yet" for the rest."""
    sample = next(s for s in SAMPLES if s.profile.id == "ampere")
    context = draft("authority_notification", sample.state, sample.profile, sample.now).context
    del context["form"]
    notice = renderer.render(regime="gdpr", locale=locale, kind="authority_notification", context=context)
    for text_label, _ in FIELDS[locale]:
        assert text_value(notice.text, text_label).lower().strip(" .:;") not in EMPTY, text_label


@pytest.mark.parametrize("locale", LOCALES)
def test_the_contact_the_dpo_names_is_the_notifications_contact(renderer: NoticeRenderer, locale: str) -> None:
    """Art. 33(3)(b): the name and contact the DPO entered stand in section 4, in the text and the HTML."""
    sample = answered(SAMPLES[0], FormAnswers(contact_name="Claire <Martin>", contact_details="+33 1 23 45 67 89"))
    notice = render(renderer, sample, locale)
    section = notice.text.split("4. ", 1)[1].split("5. ", 1)[0]
    assert "Claire <Martin>" in section and "+33 1 23 45 67 89" in section
    assert "Claire &lt;Martin&gt;" in notice.html and "Claire <Martin>" not in notice.html
    plain = render(renderer, SAMPLES[0], locale)  # nothing stated: the profile's DPO
    assert SAMPLES[0].profile.dpo.name in plain.text.split("4. ", 1)[1].split("5. ", 1)[0]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_measures_in_place_before_are_the_dpos_words_escaped(renderer: NoticeRenderer, locale: str) -> None:
    sample = answered(SAMPLES[0], FormAnswers(safeguards=(
        LocalText(locale="fr", items=("Chiffrement <AES-256> des sauvegardes",)),
        LocalText(locale="en", items=("Backups encrypted with <AES-256>",)))))
    # Drafted in the CNIL's language, read in each (the console's preview): each language's own words.
    context = read_in(draft("authority_notification", sample.state, sample.profile, sample.now).context, locale)
    notice = renderer.render(regime="gdpr", locale=locale, kind="authority_notification", context=context)
    line = {"fr": "Chiffrement <AES-256> des sauvegardes", "en": "Backups encrypted with <AES-256>"}[locale]
    label = FIELDS[locale][-1][0]
    assert text_value(notice.text, label) == line
    assert html_lib.escape(line, quote=False) in notice.html and line not in notice.html
