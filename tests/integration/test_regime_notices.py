"""Every non-GDPR regime's notices (incident/regime_notices.py), in each language their templates
are written in, rendered for the shipped sample incidents: each cites its own legal basis and
deadline, and never another regime's words, a raw key or a placeholder (issue 16)."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import replace
from typing import Any

import pytest

from incident.deadlines import Clock
from incident.notices import draft_regime_notice
from incident.regime_notices import REGIME_NOTICES, RegimeNotice, drafted_for, notice_for
from incident.regimes import REGIMES
from streams.mail.render import PARTS, NoticeRenderer
from streams.settings import ROOT
from tests.sample_incidents import SampleIncident, sample_incidents

TEMPLATES = ROOT / "templates" / "notices"
SAMPLES = sample_incidents()
# What names a regime: none of it may appear in another regime's notice (matched as words).
MARKS = {
    "gdpr": ("GDPR", "RGPD", "Art. 33", "article 33", "art. 33", "Art. 34", "article 34", "72 hours", "72 heures",
             "CNIL", "Regulation (EU) 2016/679", "2016/679"),
    "uk-gdpr": ("UK GDPR", "ICO"),
    "eprivacy": ("611/2013", "2002/58"),
    "nis2": ("NIS2", "NIS 2", "2022/2555", "CSIRT"),
    "dora": ("DORA", "2022/2554", "2025/301", "ICT", "TIC"),
    "ch-fadp": ("FADP", "LPD", "FDPIC", "PFPDT"),
    "lgpd": ("LGPD", "ANPD", "13,709", "13.709"),
    "hipaa": ("HIPAA", "164.40", "164.41", "HHS"),
    "california": ("1798.82", "California", "Californie"),
}
# What a regime's own text says that another's marks also match: the UK GDPR (its Art. 33, 72 hours);
# NIS2's incident notification and DORA's intermediate report run 72 hours.
OWN = {"uk-gdpr": ("UK GDPR", "Art. 33", "article 33", "72 hours", "72 heures", "Art. 34", "article 34"),
       "nis2": ("72 hours", "72 heures"), "dora": ("72 hours", "72 heures")}
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
PLACEHOLDERS = ("à compléter", "to be completed", "todo", "tbd", "xxx", "{{", "}}", "{%", "none", "null", "nan",
                "undefined", "lorem")


def visible(page: str) -> str:
    page = re.sub(r"<(style|head)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", page))


def clock_for(key: str, sample: SampleIncident) -> Clock:
    """A clock of the obligation ``key`` on the sample's incident (its regime's, when the regime
    holds it; else the GDPR's clock renamed: the templates read only these fields)."""
    regime, obligation_id = key.split(":", 1)
    base = sample.state.clocks[0]
    found = next((o for o in REGIMES.get(regime, ()) if o.id == obligation_id), None)
    if found is None:
        return replace(base, obligation=obligation_id)
    return replace(base, regime=found.regime, obligation=found.id, legal_ref=found.legal_ref, rule_ref=found.rule_ref,
                   recipient=found.recipient, unit=found.unit, amount=found.amount, trigger=found.trigger)


def context_of(key: str, notice: RegimeNotice, sample: SampleIncident) -> dict[str, Any]:
    return draft_regime_notice(notice, sample.state, sample.profile, clock_for(key, sample), sample.now).context


@pytest.fixture(scope="module")
def renderer() -> NoticeRenderer:
    return NoticeRenderer(TEMPLATES)


def test_every_obligation_of_every_regime_has_a_notice_template() -> None:
    missing = []
    for regime, obligations in REGIMES.items():
        if regime == "gdpr":
            continue  # drafted by the level in force (incident/tape.py)
        for o in obligations:
            try:
                notice_for(f"{regime}:{o.id}")
            except LookupError as exc:
                missing.append(str(exc))
    assert not missing, "\n".join(missing)


def test_an_obligation_without_a_template_is_an_error_not_a_skip() -> None:
    base = SAMPLES[0].state.clocks[0]
    nis2 = REGIMES["nis2"][0]
    with pytest.raises(LookupError, match="no notice template for the obligation 'nis2:unheard_of'"):
        notice_for("nis2:unheard_of")
    assert drafted_for(replace(base, regime=nis2.regime, obligation=nis2.id)) == REGIME_NOTICES["nis2:early_warning"]
    assert drafted_for(base) is None  # the GDPR's: drafted by level
    assert drafted_for(replace(base, regime="Policy", obligation="email-customers-72h")) is None  # a promise


@pytest.mark.parametrize("notice", sorted(set(REGIME_NOTICES.values()), key=lambda n: (n.template, n.kind)),
                         ids=lambda n: f"{n.template}-{n.kind}")
def test_each_notice_has_its_templates_in_each_language(notice: RegimeNotice) -> None:
    for locale in notice.locales:
        for part in PARTS:
            assert (TEMPLATES / notice.template / locale / f"{notice.kind}.{part}.j2").is_file()


CASES = [pytest.param(key, notice, locale, sample, id=f"{key}-{locale}-{sample.sample}")
         for key, notice in REGIME_NOTICES.items() for locale in notice.locales for sample in SAMPLES]


@pytest.mark.parametrize(("key", "notice", "locale", "sample"), CASES)
def test_a_regime_notice_speaks_only_of_its_own_regime(renderer: NoticeRenderer, key: str, notice: RegimeNotice,
                                                       locale: str, sample: SampleIncident) -> None:
    context = context_of(key, notice, sample)
    rendered = renderer.render(regime=notice.template, locale=locale, kind=notice.kind, context=context)
    regime = notice.template
    quoted = [sample.profile.name, sample.profile.address, sample.profile.dpo.name, sample.profile.dpo.postal or "",
              *context["incident"]["assets"], *context["incident"]["systems"]]
    problems = []
    for part, body in (("subject", rendered.subject), ("text", rendered.text), ("html", visible(rendered.html))):
        flat = " ".join(body.split())
        for q in sorted((q for q in quoted if q), key=len, reverse=True):
            flat = flat.replace(" ".join(q.split()), " ")
        own = flat
        for allowed in OWN.get(regime, ()):  # "UK GDPR" first: a bare "GDPR" is still the EU's
            own = own.replace(allowed, " ")
        for other, marks in MARKS.items():
            if other == regime:
                continue
            problems += [f"{part}: {other}'s {m!r}" for m in marks if re.search(r"(?<!\w)" + re.escape(m) + r"(?!\w)",
                                                                               own)]
        problems += [f"{part}: raw key {m!r}" for m in SNAKE.findall(re.sub(r"[\w.+-]+@[\w.-]+", " ", flat))]
        problems += [f"{part}: placeholder {p!r}" for p in PLACEHOLDERS
                     if re.search(r"(?<!\w)" + re.escape(p) + r"(?!\w)", flat.lower())]
    assert not problems, "\n".join(dict.fromkeys(problems))
    # its own legal basis, and its deadline, in the text and the HTML
    for body in (rendered.text, visible(rendered.html)):
        flat = " ".join(body.split())
        assert any(re.search(r"(?<!\w)" + re.escape(m) + r"(?!\w)", flat) for m in MARKS[regime]), flat[:400]


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_an_obligation_due_as_soon_as_possible_names_no_deadline_hour(renderer: NoticeRenderer, locale: str) -> None:
    """revFADP Art. 24(1): "as soon as possible" — no date is invented for it; a timed one shows its deadline."""
    sample = SAMPLES[0]
    fdpic = REGIME_NOTICES["ch-fadp:art24_fdpic"]
    clock = replace(clock_for("ch-fadp:art24_fdpic", sample), unit="asap", amount=0)
    context = draft_regime_notice(fdpic, sample.state, sample.profile, clock, sample.now).context
    text = renderer.render(regime="ch-fadp", locale=locale, kind=fdpic.kind, context=context).text
    due = next(line for line in text.splitlines() if line.startswith(("Due:", "Délai :")))
    assert due in ("Due: as soon as possible", "Délai : dans les meilleurs délais")
    timed = REGIME_NOTICES["nis2:early_warning"]
    context = context_of("nis2:early_warning", timed, sample)
    text = " ".join(renderer.render(regime="nis2", locale=locale, kind=timed.kind, context=context).text.split())
    assert ("at the latest" if locale == "en" else "au plus tard le") in text


@pytest.mark.parametrize("key", ["nis2:early_warning", "california:attorney_general", "hipaa:individuals"])
def test_quoted_text_is_escaped_in_html(renderer: NoticeRenderer, key: str) -> None:
    notice = REGIME_NOTICES[key]
    context = context_of(key, notice, SAMPLES[0])
    context["controller"]["name"] = "<script>alert('x')</script>"
    context["controller"]["name_by_locale"] = {"en": "<script>alert('x')</script>"}
    context["form"]["contact"] = {"name": "Claire <b>", "details": None}
    rendered = renderer.render(regime=notice.template, locale="en", kind=notice.kind, context=context)
    assert "<script" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "Claire &lt;b&gt;" in rendered.html and "Claire <b>" in rendered.text


@pytest.mark.parametrize("key", sorted(k for k, n in REGIME_NOTICES.items() if n.locales != ("en",)))
def test_the_categories_of_people_are_in_the_readers_words(renderer: NoticeRenderer, key: str) -> None:
    """The profile's kinds of people (``customers``, ``prospects``…) are codes: a French or Brazilian
    notice names them in its language, never in the profile's English (issue 16)."""
    notice = REGIME_NOTICES[key]
    sample = next(s for s in SAMPLES
                  if "customers" in context_of(key, notice, s)["data"]["subject_kinds_by_locale"]["en"])
    words = {"fr": "clients", "pt-BR": "clientes", "en": "customers"}
    for locale in notice.locales:
        text = renderer.render(regime=notice.template, locale=locale, kind=notice.kind,
                               context=context_of(key, notice, sample)).text
        if "customers" in text or words[locale] in text:  # a notice that lists the categories of people
            assert re.search(r"(?<!\w)" + words[locale] + r"(?!\w)", text), (key, locale)
            assert locale == "en" or "customers" not in text, (key, locale)


@pytest.mark.parametrize("key", sorted(k for k, n in REGIME_NOTICES.items() if "fr" in n.locales))
def test_a_french_notice_quotes_none_of_the_profiles_english_names(renderer: NoticeRenderer, key: str) -> None:
    """Issue 16: the systems and kinds of people the profile also names in French are never quoted
    in English in a French notice, for every sample incident."""
    notice = REGIME_NOTICES[key]
    for sample in SAMPLES:
        profile = sample.profile
        english = [t["en"] for t in (profile.names, profile.addresses, profile.dpo.names,
                                     *(t for s in profile.systems for t in (s.names, *s.subject_names)))
                   if "en" in t and t["en"] != t.get("fr")]
        assert english, sample.sample
        rendered = renderer.render(regime=notice.template, locale="fr", kind=notice.kind,
                                   context=context_of(key, notice, sample))
        for body in (rendered.subject, rendered.text, rendered.html):
            flat = " ".join(body.split())
            assert not [t for t in english if re.search(r"(?<!\w)" + re.escape(t) + r"(?!\w)", flat)], (key, sample)
