"""What the notices need and the incident cannot know comes from the DPO's form answers (issue 16):
the security measures in place before the breach — the CNIL form's question, LGPD Art. 48 §1 III
("as medidas técnicas e de segurança utilizadas para a proteção dos dados") and the HHS breach
report's safeguards — rendered in the notice's language, "not known yet" until the DPO says; and
every notice that a change of the answers redrafts (incident/tape.py redraft_unsent) shows them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from incident.notices import draft, read_in
from incident.notification_form import FormAnswers, LocalText
from incident.regime_notices import REGIME_NOTICES
from streams.mail.render import NoticeRenderer
from tests.integration.test_regime_notices import TEMPLATES, clock_for, context_of, visible
from tests.sample_incidents import SampleIncident, sample_incidents

WORDS = {"fr": ("Base clients chiffrée au repos", "Connexion des administrateurs à deux facteurs"),
         "en": ("Customer database encrypted at rest", "Administrators log in with two factors")}
HEADINGS = {("gdpr", "fr"): "Mesures de sécurité en place avant la violation",
            ("gdpr", "en"): "Security measures in place before the breach",
            ("lgpd", "fr"): "Mesures de sécurité en place avant l'incident",
            ("lgpd", "en"): "Security measures in place before the incident",
            ("lgpd", "pt-BR"): "Medidas técnicas e de segurança utilizadas para a proteção dos dados",
            ("hipaa", "en"): "Safeguards in place prior to the breach",
            ("hipaa", "fr"): "Mesures de protection en place avant la violation"}
NOT_KNOWN = {"fr": "pas encore connu", "en": "not known yet", "pt-BR": "ainda não conhecido"}
NOT_KNOWN_GDPR = {"fr": "non connu à ce jour", "en": "not known yet"}  # the CNIL notification's own words
# (template, kind, locale): the GDPR's authority notification, the ANPD's, the HHS report.
CASES = [("gdpr", "authority_notification", "fr"), ("gdpr", "authority_notification", "en"),
         ("lgpd", "art6_anpd", "fr"), ("lgpd", "art6_anpd", "en"), ("lgpd", "art6_anpd", "pt-BR"),
         ("hipaa", "hhs", "en"), ("hipaa", "hhs", "fr")]
KEYS = {"lgpd": "lgpd:art6_anpd", "hipaa": "hipaa:hhs"}


@pytest.fixture(scope="module")
def renderer() -> NoticeRenderer:
    return NoticeRenderer(TEMPLATES)


@pytest.fixture(scope="module")
def sample() -> SampleIncident:
    return next(s for s in sample_incidents() if s.state.level == "high")


def answered(sample: SampleIncident, answers: FormAnswers | None) -> SampleIncident:
    return replace(sample, state=replace(sample.state, form=answers))


def rendered(renderer: NoticeRenderer, sample: SampleIncident, template: str, kind: str, locale: str) -> list[str]:
    """The notice's text and its HTML's visible words, read in ``locale``."""
    if template == "gdpr":
        context = draft(kind, sample.state, sample.profile, sample.now).context
    else:
        context = context_of(KEYS[template], REGIME_NOTICES[KEYS[template]], sample)
    notice = renderer.render(regime=template, locale=locale, kind=kind, context=read_in(context, locale))
    return [notice.text, " ".join(visible(notice.html).split())]


@pytest.mark.parametrize(("template", "kind", "locale"), CASES)
def test_the_measures_in_place_before_come_from_the_form(renderer: NoticeRenderer, sample: SampleIncident,
                                                         template: str, kind: str, locale: str) -> None:
    safeguards = tuple(LocalText(locale=loc, items=items) for loc, items in WORDS.items())
    for text in rendered(renderer, answered(sample, FormAnswers(safeguards=safeguards)), template, kind, locale):
        assert HEADINGS[(template, locale)].upper() in text.upper()
        if locale in WORDS:
            assert all(line in text for line in WORDS[locale])
            other = next(loc for loc in WORDS if loc != locale)  # another language's words never stand in
            assert not any(line in text for line in WORDS[other])
        else:  # the DPO wrote none in Brazilian Portuguese: not known yet, in Portuguese
            assert after(text, template, locale).startswith(NOT_KNOWN[locale])


@pytest.mark.parametrize(("template", "kind", "locale"), CASES)
def test_until_the_dpo_says_they_are_not_known_yet(renderer: NoticeRenderer, sample: SampleIncident,
                                                  template: str, kind: str, locale: str) -> None:
    for text in rendered(renderer, answered(sample, None), template, kind, locale):
        assert HEADINGS[(template, locale)].upper() in text.upper()
        # The very next words: never an empty list, never another language's.
        assert after(text, template, locale).startswith((NOT_KNOWN_GDPR if template == "gdpr" else NOT_KNOWN)[locale])


def after(text: str, template: str, locale: str) -> str:
    """What follows the heading of the measures in place before (upper-case in the plain text)."""
    heading = HEADINGS[(template, locale)]
    return text.split(heading.upper() if heading.upper() in text else heading, 1)[1].lstrip(" :\n-")


@pytest.mark.parametrize("key", sorted(REGIME_NOTICES))
def test_every_regime_notice_a_form_change_redrafts_shows_the_answers(renderer: NoticeRenderer,
                                                                     sample: SampleIncident, key: str) -> None:
    """The claim behind redrafting every regime's draft when the form changes: each one renders
    the answers (here the contact the DPO names, Art. 33(3)(b) and its equivalents)."""
    notice = REGIME_NOTICES[key]
    named = answered(sample, FormAnswers(contact_name="Claire Martin-Dubois"))
    context = context_of(key, notice, named)
    assert context["form"]["contact"]["name"] == "Claire Martin-Dubois"
    for locale in notice.locales:
        out = renderer.render(regime=notice.template, locale=locale, kind=notice.kind,
                              context=read_in(context, locale))
        assert "Claire Martin-Dubois" in out.text and "Claire Martin-Dubois" in visible(out.html), (key, locale)
    assert clock_for(key, sample).obligation == key.split(":", 1)[1]
