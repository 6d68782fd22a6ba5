"""Every GDPR notice template, in French and in English, rendered for the shipped sample incidents
(tests/sample_incidents.py: the samples through the real domain, profiles and rule pack) must
read as a DPO would file it: no raw key, no placeholder, no other language's words in the text the
templates write, and plain-language dates in the notices meant for the people affected.

Text that comes from the controller's profile or from the detection tools (names, addresses,
system names, alert titles) is quoted as given, in the language it was written in: it is removed
before the language checks, and only there.
"""

from __future__ import annotations

import html as html_lib
import pathlib
import re
from typing import Any

import pytest

from incident.notices import draft
from streams.mail.render import NoticeRenderer
from tests.sample_incidents import SampleIncident, sample_incidents

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates" / "notices"
KINDS = ("authority_notification", "data_subject_notice", "authority_complement", "public_communication",
         "register_entry")
PLAIN = ("data_subject_notice", "public_communication")  # written for the people affected
LOCALES = ("fr", "en")

SAMPLES = sample_incidents()

PLACEHOLDERS = ("à compléter", "to be completed", "todo", "tbd", "xxx", "{{", "}}", "{%", "none", "null", "nan",
                "undefined", "unknown number", "nombre encore inconnu", "lorem")
# Words of one language that never occur in the other's running text.
FOREIGN = {
    "fr": ("the", "and", "of", "is", "are", "was", "with", "from", "not", "has", "been", "data", "people",
           "breach", "unknown", "assumed", "exposure", "malicious", "stated", "none", "likely"),
    "en": ("le", "la", "les", "des", "du", "et", "une", "est", "sont", "pour", "données", "personnes", "violation de",
           "à", "inconnu"),
}
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
EMAIL = re.compile(r"[\w.+-]+@[\w.-]+")
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
CLOCK_NOISE = re.compile(r"\d{1,2}:\d{2}:\d{2}|[+-]\d{2}:?\d{2}\b|\bUTC[+-]|\bGMT\b|\bCET\b")


@pytest.fixture(scope="module")
def renderer() -> NoticeRenderer:
    return NoticeRenderer(TEMPLATES)


def context_for(kind: str, sample: SampleIncident) -> dict[str, Any]:
    """The context the workflow gives the template: the draft's, and what each later kind adds."""
    context = draft(kind, sample.state, sample.profile, sample.now).context
    at = sample.now.isoformat()
    context["complement"] = {"sequence": 2, "initial_submitted_at": at, "initial_reference": "CNIL-2026-004217",
                             "new_information": ["11 842 enregistrements exportés, et non 12 000."]}
    context["delay_reasons"] = None
    context["register"] = {"notified": True, "submitted_at": at, "not_notified_reason": None}
    return context


def source_strings(context: dict[str, Any], sample: SampleIncident, locale: str = "en") -> list[str]:
    """Text quoted from the profile or the detection tools, longest first. The tools' alert titles
    are English: only an English notice may quote them (a French one describes the signals)."""
    titles = context["incident"]["summary"] if locale == "en" else []
    profile = sample.profile
    quoted = [profile.name, profile.address, profile.dpo.name, profile.dpo.postal or "", profile.authority.name,
              profile.authority.address, *(s.name for s in profile.systems),
              *(k for s in profile.systems for k in s.data_subjects), *titles,
              *context["incident"]["assets"], *context["complement"]["new_information"],
              *context["measures"]["taken"], *context["measures"]["proposed"]]
    return sorted({q for q in quoted if q}, key=len, reverse=True)


def own_words(body: str, quoted: list[str]) -> str:
    body = " ".join(body.split())  # a quoted text may be wrapped over lines
    for q in quoted:
        body = body.replace(" ".join(q.split()), " ")
    body = EMAIL.sub(" ", UUID.sub(" ", body))
    return body


def visible(html: str) -> str:
    html = re.sub(r"<(style|head)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", html))


CASES = [pytest.param(s, kind, locale, id=f"{s.sample}-{kind}-{locale}")
         for s in SAMPLES for kind in KINDS for locale in LOCALES]


def test_the_samples_give_incidents_to_render() -> None:
    assert {s.profile.id for s in SAMPLES} >= {"ampere", "atometrics", "ama", "publisher-2018"}


@pytest.mark.parametrize(("sample", "kind", "locale"), CASES)
def test_no_raw_key_placeholder_or_foreign_word(renderer: NoticeRenderer, sample: SampleIncident, kind: str,
                                                locale: str) -> None:
    context = context_for(kind, sample)
    notice = renderer.render(regime="gdpr", locale=locale, kind=kind, context=context)
    quoted = source_strings(context, sample, locale)
    problems = []
    for part, body in (("subject", notice.subject), ("text", notice.text), ("html", visible(notice.html))):
        own = own_words(body, quoted)
        lowered = own.lower()
        problems += [f"{part}: raw key {m!r}" for m in SNAKE.findall(own)]
        problems += [f"{part}: placeholder {p!r}" for p in PLACEHOLDERS
                     if re.search(r"(?<!\w)" + re.escape(p) + r"(?!\w)", lowered)]
        problems += [f"{part}: {'English' if locale == 'fr' else 'French'} word {w!r}" for w in FOREIGN[locale]
                     if re.search(r"(?<!\w)" + re.escape(w) + r"(?!\w)", lowered)]
        if kind in PLAIN:
            problems += [f"{part}: clock noise {m!r}" for m in CLOCK_NOISE.findall(own)]
    assert not problems, "\n".join(dict.fromkeys(problems))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.sample)
def test_french_notices_describe_the_signals_in_french(renderer: NoticeRenderer, sample: SampleIncident,
                                                       kind: str) -> None:
    """Issue 16: the detection tools' English alert titles never appear in a French notice."""
    context = context_for(kind, sample)
    assert context["incident"]["summary"]
    notice = renderer.render(regime="gdpr", locale="fr", kind=kind, context=context)
    for body in (notice.text, visible(notice.html)):
        flat = " ".join(body.split())
        assert not [t for t in context["incident"]["summary"] if " ".join(t.split()) in flat]
    if kind in ("authority_notification", "register_entry"):  # the two that describe the facts
        described = [line for line in notice.text.splitlines() if "autres alertes des outils de détection" in line
                     or any(w in line for w in ("connexion", "export", "alerte", "messagerie", "fichiers"))]
        assert described, notice.text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", PLAIN)
def test_plain_language_times_in_the_readers_zone(renderer: NoticeRenderer, kind: str, locale: str) -> None:
    sample = next(s for s in SAMPLES if s.profile.id == "ampere")
    context = context_for(kind, sample)
    context["incident"]["awareness_at"] = "2026-12-07T21:42:37+00:00"
    notice = renderer.render(regime="gdpr", locale=locale, kind=kind, context=context)
    expected = {"fr": "7 décembre 2026 à 22 h 42 (heure de Paris)", "en": "7 December 2026 at 10:42 pm (Paris time)"}
    assert expected[locale] in " ".join(notice.text.split())
    assert expected[locale] in " ".join(visible(notice.html).split())


@pytest.mark.parametrize("locale", LOCALES)
def test_an_unknown_number_of_people_is_said_plainly(renderer: NoticeRenderer, locale: str) -> None:
    sample = next(s for s in SAMPLES if s.profile.id == "ampere")
    context = context_for("public_communication", sample)
    context["data"]["subjects_estimate"] = None
    text = " ".join(renderer.render(regime="gdpr", locale=locale, kind="public_communication",
                                    context=context).text.split())
    expected = {"fr": "dont le nombre est encore en cours d'évaluation",
                "en": "whose number is still being assessed"}
    assert expected[locale] in text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_a_contact_who_is_not_a_dpo_is_called_a_contact_point(renderer: NoticeRenderer, kind: str,
                                                               locale: str) -> None:
    """Art. 33(3)(b) and 34(2): "the data protection officer or other contact point"."""
    publisher = next(s for s in SAMPLES if s.profile.id == "publisher-2018")
    assert publisher.profile.dpo.is_dpo is False
    context = context_for(kind, publisher)
    context["notice"]["draft"] = False  # the draft banner speaks to the reviewer, whose role is "DPO"
    notice = renderer.render(regime="gdpr", locale=locale, kind=kind, context=context)
    dpo = {"fr": "délégué à la protection des données", "en": "data protection officer"}[locale]
    contact = {"fr": "point de contact", "en": "contact point"}[locale]
    for body in (notice.text, visible(notice.html)):
        lowered = body.lower()
        if kind != "register_entry":  # the register names no contact
            assert contact in lowered
        assert dpo not in own_words(lowered, [publisher.profile.dpo.name.lower()])


@pytest.mark.parametrize("locale", LOCALES)
def test_free_text_through_the_label_macros_is_escaped_in_html(renderer: NoticeRenderer, locale: str) -> None:
    """The labels module is not autoescaped (the text parts use it too): its macros escape what
    they are given when an HTML template asks, so a system name or a group typed by a responder
    cannot inject markup."""
    sample = next(s for s in SAMPLES if s.profile.id == "ampere")
    context = context_for("authority_notification", sample)
    context["incident"]["systems"] = ["CRM <script>x</script>"]
    context["incident"]["systems_by_locale"] = {locale: ["CRM <script>x</script>"]}
    context["incident"]["awareness_by"] = "eve <img>"
    for factor in context["risk"]["factors"]:
        if factor["name"] == "special_characteristics_of_individuals":
            factor["params"]["groups"] = ["<b>minors</b>"]
    notice = renderer.render(regime="gdpr", locale=locale, kind="authority_notification", context=context)
    for raw in ("<script>", "<img>", "<b>minors"):
        assert raw not in notice.html
    for escaped in ("&lt;script&gt;", "&lt;img&gt;", "&lt;b&gt;minors"):
        assert escaped in notice.html
    assert "<b>minors</b>" in notice.text  # the text part is not HTML


@pytest.mark.parametrize("locale", LOCALES)
def test_an_assessment_saved_before_factor_params_still_renders(renderer: NoticeRenderer, locale: str) -> None:
    sample = next(s for s in SAMPLES if s.profile.id == "ampere")
    context = context_for("authority_notification", sample)
    for factor in context["risk"]["factors"]:
        factor["params"] = {}  # what the codec gives for a factor recorded before they existed
    notice = renderer.render(regime="gdpr", locale=locale, kind="authority_notification", context=context)
    decision = context["risk"]["factors"][-1]
    assert decision["reason"] in " ".join(notice.text.split())


def _with_measures(sample: SampleIncident) -> SampleIncident:
    from incident.commands import RecordMeasures
    from incident.decide import Rules, decide
    from incident.measures import MeasureText
    from incident.model import fold
    from streams.calendars import HolidaysCalendar
    from tests.sample_incidents import directory

    rules = Rules(directory(), HolidaysCalendar())
    state = sample.state
    for audience, texts in (
            ("authority", (MeasureText(locale="fr", taken=("Compte compromis bloqué et sessions révoquées",),
                                       proposed=("Audit des accès à la base marketing",)),
                           MeasureText(locale="en", taken=("Compromised account locked and sessions revoked",),
                                       proposed=("Audit of access to the marketing database",)))),
            ("data_subjects", (MeasureText(locale="fr", taken=("Nous avons bloqué l'accès frauduleux.",),
                                           proposed=("Nous vous tiendrons informé(e) des causes.",)),
                               MeasureText(locale="en", taken=("We blocked the fraudulent access.",),
                                           proposed=("We will tell you what caused it.",))))):
        state = fold(state, decide(RecordMeasures(incident_id=state.id, audience=audience, texts=texts, by="dpo",
                                                  role="dpo"), state, now=sample.now, rules=rules))
    return SampleIncident(sample=sample.sample, state=state, profile=sample.profile, now=sample.now)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_authority_notification_prints_the_dpos_measures(renderer: NoticeRenderer, locale: str) -> None:
    sample = _with_measures(next(s for s in SAMPLES if s.profile.id == "ampere"))
    context = context_for("authority_notification", sample)
    context["measures"] = context["measures_by_locale"][locale]  # the draft's language is the authority's
    notice = renderer.render(regime="gdpr", locale=locale, kind="authority_notification", context=context)
    taken = {"fr": "Compte compromis bloqué et sessions révoquées",
             "en": "Compromised account locked and sessions revoked"}[locale]
    proposed = {"fr": "Audit des accès à la base marketing", "en": "Audit of access to the marketing database"}[locale]
    none = {"fr": "Aucune mesure", "en": "No measure"}[locale]
    for body in (" ".join(notice.text.split()), " ".join(visible(notice.html).split())):
        assert taken in body and proposed in body
        assert none not in body and "No planned measure" not in body
        assert "We blocked" not in body and "Nous avons bloqué" not in body  # the people's are their own


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", PLAIN)
def test_the_people_read_what_was_done_and_what_will_be_in_their_language(renderer: NoticeRenderer, kind: str,
                                                                         locale: str) -> None:
    sample = _with_measures(next(s for s in SAMPLES if s.profile.id == "ampere"))
    notice = renderer.render(regime="gdpr", locale=locale, kind=kind, context=context_for(kind, sample))
    done, will = {"fr": ("CE QUE NOUS AVONS FAIT", "CE QUE NOUS ALLONS FAIRE"),
                  "en": ("WHAT WE HAVE DONE", "WHAT WE WILL DO")}[locale]
    taken, proposed, other = {
        "fr": ("Nous avons bloqué l'accès frauduleux.", "Nous vous tiendrons informé(e) des causes.", "We blocked"),
        "en": ("We blocked the fraudulent access.", "We will tell you what caused it.", "Nous avons bloqué")}[locale]
    text = notice.text
    assert text.index(done) < text.index(taken) < text.index(will) < text.index(proposed)
    assert other not in text and "Compromised account" not in text and "Compte compromis" not in text
    page = " ".join(visible(notice.html).split())
    assert page.index(done.capitalize()) < page.index(taken) < page.index(will.capitalize()) < page.index(proposed)


def profile_texts(sample: SampleIncident, locale: str) -> list[str]:
    """The profile's free text in ``locale`` where another language's differs (a name the same in
    both, "prospects", is no sign of either)."""
    other = "en" if locale == "fr" else "fr"
    profile = sample.profile
    pairs = [profile.names, profile.addresses, profile.dpo.names,
             *(t for s in profile.systems for t in (s.names, *s.subject_names))]
    return [t[locale] for t in pairs if locale in t and t[locale] != t.get(other)]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.sample)
def test_the_profiles_names_are_quoted_in_the_notices_language(renderer: NoticeRenderer, sample: SampleIncident,
                                                               kind: str, locale: str) -> None:
    """Issue 16: the systems and the kinds of people (and the Publisher's placeholders for its name,
    address and contact), as the profile names them in each language: a
    notice in one never quotes the other's (one draft context serves both, as the console's preview
    and the notice to people of several languages read it)."""
    context = context_for(kind, sample)
    foreign = profile_texts(sample, "en" if locale == "fr" else "fr")
    own = [t for s in sample.profile.systems if s.id in sample.state.systems for t in (s.names[locale],)]
    assert foreign and own
    notice = renderer.render(regime="gdpr", locale=locale, kind=kind, context=context)
    for body in (notice.subject, notice.text, visible(notice.html)):
        flat = " ".join(body.split())
        assert not [t for t in foreign if re.search(r"(?<!\w)" + re.escape(t) + r"(?!\w)", flat)]
    if kind == "authority_notification":  # the one that lists the systems
        flat = " ".join(notice.text.split())
        assert all(name in flat for name in own), (own, flat)
