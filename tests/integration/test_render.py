"""The notice templates through the renderer: every kind × locale from a realistic context.

Strictness (a missing fact raises, a naive date raises), escaping (HTML only), header safety
(one-line subjects) and the DPO-review wording are each checked on the real template files.
"""

from __future__ import annotations

import copy
import json
import pathlib
import re
from datetime import UTC, datetime
from typing import Any

import jinja2
import pytest

from streams.mail.render import NoticeRenderer, RenderedNotice, TemplateMissing, one_line

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates" / "notices"
FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "notice_context.json"

KINDS = ("authority_notification", "data_subject_notice")
LOCALES = ("en", "fr")
PARTS = ("subject", "txt", "html")
EVERY = [(kind, locale) for kind in KINDS for locale in LOCALES]

TO_COMPLETE = {"en": "To be completed by the DPO before submission", "fr": "À compléter par le DPO avant transmission"}
NONE_TAKEN = {"en": "No measure has been recorded yet.", "fr": "Aucune mesure n'a encore été enregistrée."}
UNKNOWN = {"en": "unknown, under investigation", "fr": "inconnu, en cours d'évaluation"}
DRAFT_SUBJECT = {"en": "[DRAFT for DPO review] ", "fr": "[PROJET à valider par le DPO] "}
DRAFT_BANNER = {"en": "DRAFT FOR DPO REVIEW", "fr": "PROJET À VALIDER PAR LE DPO"}
# Babel's zone for Paris in November: "CET"/"UTC+1" with older CLDR data, "+0100" with newer.
PARIS_WINTER = r"(CET|UTC\+1|GMT\+1|GMT\+01:00|\+0100|\+01:00)"


@pytest.fixture(scope="module")
def renderer() -> NoticeRenderer:
    return NoticeRenderer(TEMPLATES)


@pytest.fixture
def context() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def render(renderer: NoticeRenderer, context: dict[str, Any], kind: str, locale: str) -> RenderedNotice:
    return renderer.render(regime="gdpr", locale=locale, kind=kind, context=context)


def norm(text: str) -> str:
    """Babel's French grouping and time separators are (narrow) no-break spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def words(text: str) -> str:
    """One space between words: wrapped text lines joined back."""
    return " ".join(norm(text).split())


def visible(html: str) -> str:
    """The HTML's text, roughly: tags dropped, entities for quotes undone."""
    return norm(re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'").replace("&amp;", "&"))


def without(context: dict[str, Any], dotted: str) -> dict[str, Any]:
    ctx = copy.deepcopy(context)
    *parents, last = dotted.split(".")
    node = ctx
    for key in parents:
        node = node[key]
    del node[last]
    return ctx


# --- every kind × locale renders, with the key facts, in the right language -------------------------------


@pytest.mark.parametrize(("kind", "locale"), EVERY)
def test_renders_with_key_facts(renderer: NoticeRenderer, context: dict[str, Any], kind: str, locale: str) -> None:
    notice = render(renderer, context, kind, locale)
    assert "AMPERE SAS" in notice.subject
    for body in (words(notice.text), words(visible(notice.html))):
        assert "AMPERE SAS" in body
        assert "dpo@ampere.example" in body
        assert "Claire Martin" in body
        assert "BR-3F2A9C1D" in body
        assert "Commission nationale de l'informatique et des libertés (CNIL)" in body
    assert f'<html lang="{locale}">' in notice.html
    assert re.search(r"<title>[^<]*AMPERE SAS[^<]*</title>", notice.html)


@pytest.mark.parametrize("locale", LOCALES)
def test_authority_notification_facts(renderer: NoticeRenderer, context: dict[str, Any], locale: str) -> None:
    notice = render(renderer, context, "authority_notification", locale)
    for body in (norm(notice.text), visible(notice.html)):
        # deadline 09:30 UTC shown in the reader's zone (Paris, UTC+1 in November)
        if locale == "en":
            assert re.search(r"November 24, 2026.{0,6}10:30:00 AM " + PARIS_WINTER, body)
            assert "12,000" in body
            assert "72 hours" in body
        else:
            assert re.search(r"24 novembre 2026.{0,6}10:30:00 " + PARIS_WINTER, body)
            assert "12 000" in body
            assert "72 heures" in body
        # Art. 33(3) a–d: nature, data and people, contact, consequences, measures
        if locale == "en":
            assert "Multiple failed logins" in body
            assert "Bulk export from CRM database" in body
        else:  # the tools' English titles never stand in a French notice: the signals are described
            assert "Multiple failed logins" not in body and "Bulk export from CRM database" not in body
            assert "connexions ou tentatives de connexion suspectes à des comptes" in body
            assert "accès ou export inhabituel d'une base de données" in body
        assert "ampere-crm-db" in body
        # The system as the profile names it in the notice's language (issue 16).
        named = {"en": "Customer relationship management", "fr": "Gestion de la relation client"}
        assert named[locale] in body and named["fr" if locale == "en" else "en"] not in body
        assert "edpb-enisa-2" in body
        # codes are translated, not shown raw
        assert "account_takeover" not in body
        assert "rule:confirmed-breach" not in body
        assert "nature_sensitivity_volume" not in body
        assert "type_of_breach" not in body


@pytest.mark.parametrize(("kind", "locale"), EVERY)
def test_language_matches_locale(renderer: NoticeRenderer, context: dict[str, Any], kind: str, locale: str) -> None:
    notice = render(renderer, context, kind, locale)
    for body in (notice.subject.lower(), words(notice.text).lower(), words(visible(notice.html)).lower()):
        if locale == "fr":
            assert "données" in body
            assert "personal data" not in body
        else:
            assert "personal data" in body
            assert "données" not in body
    for body in (notice.text, visible(notice.html)):
        if locale == "fr":
            assert "délégué à la protection des données" in body.lower()
            assert " the " not in body
        else:
            assert "data protection officer" in body.lower()
            assert " les " not in body


@pytest.mark.parametrize("locale", LOCALES)
def test_data_subject_notice_hides_internals(renderer: NoticeRenderer, context: dict[str, Any], locale: str) -> None:
    notice = render(renderer, context, "data_subject_notice", locale)
    for body in (notice.text, visible(notice.html)):
        assert "ampere-crm-db" not in body
        assert "skeleton-1" not in body
        assert "Customer relationship management" not in body
        assert "Bulk export from CRM database" not in body
        for factor in context["risk"]["factors"]:
            assert factor["reason"] not in body
        # every advice code became a sentence
        for code in context["advice"]:
            assert code not in body
    password = {"en": "Change your password", "fr": "Changez dès maintenant votre mot de passe"}[locale]
    assert password in notice.text
    assert password in visible(notice.html)


@pytest.mark.parametrize(("kind", "locale"), EVERY)
def test_unknown_code_shows_the_code(renderer: NoticeRenderer, context: dict[str, Any], kind: str,
                                     locale: str) -> None:
    context["data"]["categories"].append("quantum_state")
    context["advice"].append("pray")
    notice = render(renderer, context, kind, locale)
    assert "quantum_state" in notice.text
    assert "quantum_state" in notice.html
    if kind == "data_subject_notice":
        assert "- pray\n" in notice.text
        assert ">pray</li>" in notice.html


@pytest.mark.parametrize(("kind", "locale"), EVERY)
def test_text_lines_stay_short(renderer: NoticeRenderer, context: dict[str, Any], kind: str, locale: str) -> None:
    notice = render(renderer, context, kind, locale)
    long_lines = [line for line in notice.text.splitlines() if len(line) > 100]
    assert not long_lines


@pytest.mark.parametrize(("kind", "locale"), EVERY)
def test_html_is_self_contained(renderer: NoticeRenderer, context: dict[str, Any], kind: str, locale: str) -> None:
    html = render(renderer, context, kind, locale).html
    assert html.startswith("<!DOCTYPE html>")
    for forbidden in ("<style", "<link", "<img", "<script", "src=", "http://", "https://", "class="):
        assert forbidden not in html
    assert 'style="' in html


# --- strictness: a missing fact is an error, never a blank ---------------------------------------------------


@pytest.mark.parametrize("dotted", ["controller.name", "notice.draft"])
@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize(("kind", "locale"), EVERY)
def test_missing_variable_raises_in_each_template(renderer: NoticeRenderer, context: dict[str, Any], kind: str,
                                                  locale: str, part: str, dotted: str) -> None:
    ctx = without(context, dotted)
    with pytest.raises(jinja2.UndefinedError):
        renderer.render_part(regime="gdpr", locale=locale, kind=kind, part=part, context=ctx)


COMMON_KEYS = ["controller.dpo.email", "controller.dpo.phone", "incident.reference", "incident.breach_types",
               "data.categories", "risk.consequences", "measures.taken",
               "measures.proposed", "authority.name", "notice.reader_tz", "controller"]
AUTHORITY_KEYS = ["clock.deadline", "clock.late", "clock.legal_ref", "data.subjects_estimate",
                  "data.records_estimate", "incident.summary", "risk.factors",
                  "risk.level", "incident.assets", "incident.signal_count",
                  # the CNIL form's fields (incident/notification_form.py)
                  "form.notification_type", "form.started_at", "form.end", "form.discovered_at", "form.aware_at",
                  "form.origin", "form.intent", "form.member_states", "form.established_in", "form.people_informed",
                  "form.police_complaint", "form.anssi_report"]
SUBJECT_KEYS = ["advice", "incident.awareness_at"]


@pytest.mark.parametrize(("kind", "dotted"), [(k, d) for k in KINDS for d in COMMON_KEYS]
                         + [("authority_notification", d) for d in AUTHORITY_KEYS]
                         + [("data_subject_notice", d) for d in SUBJECT_KEYS])
@pytest.mark.parametrize("locale", LOCALES)
def test_missing_fact_raises(renderer: NoticeRenderer, context: dict[str, Any], kind: str, locale: str,
                             dotted: str) -> None:
    with pytest.raises(jinja2.UndefinedError):
        render(renderer, without(context, dotted), kind, locale)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("deadline", ["2026-11-24T09:30:00", datetime(2026, 11, 24, 9, 30)])
def test_naive_deadline_is_refused(renderer: NoticeRenderer, context: dict[str, Any], locale: str,
                                   deadline: object) -> None:
    context["clock"]["deadline"] = deadline
    with pytest.raises(ValueError, match="offset"):
        render(renderer, context, "authority_notification", locale)


@pytest.mark.parametrize("deadline", ["next tuesday", 1700000000])
def test_deadline_that_is_no_date_is_refused(renderer: NoticeRenderer, context: dict[str, Any],
                                             deadline: object) -> None:
    context["clock"]["deadline"] = deadline
    with pytest.raises(ValueError):
        render(renderer, context, "authority_notification", "en")


def test_aware_datetime_renders_like_its_iso_string(renderer: NoticeRenderer, context: dict[str, Any]) -> None:
    as_string = render(renderer, context, "authority_notification", "fr")
    context["clock"]["deadline"] = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert render(renderer, context, "authority_notification", "fr") == as_string


def test_unknown_reader_zone_is_refused(renderer: NoticeRenderer, context: dict[str, Any]) -> None:
    context["notice"]["reader_tz"] = "Mars/Olympus_Mons"
    with pytest.raises(ValueError, match="time zone"):
        render(renderer, context, "data_subject_notice", "en")


# --- template lookup ----------------------------------------------------------------------------------------


def test_unknown_locale_is_template_missing(renderer: NoticeRenderer, context: dict[str, Any]) -> None:
    with pytest.raises(TemplateMissing) as caught:
        render(renderer, context, "authority_notification", "de")
    assert "gdpr/de/authority_notification.subject.j2" in str(caught.value)
    assert caught.value.path == TEMPLATES / "gdpr" / "de" / "authority_notification.subject.j2"


def test_unknown_kind_is_template_missing(renderer: NoticeRenderer, context: dict[str, Any]) -> None:
    with pytest.raises(TemplateMissing, match=r"gdpr/en/breach_diary\."):
        render(renderer, context, "breach_diary", "en")


@pytest.mark.parametrize("locale", ["../en", "en/../fr", "", "fr\n"])
def test_path_like_names_are_refused(renderer: NoticeRenderer, context: dict[str, Any], locale: str) -> None:
    with pytest.raises(ValueError, match="locale"):
        render(renderer, context, "authority_notification", locale)


# --- escaping and header safety -----------------------------------------------------------------------------

SCRIPT = "<script>alert('x')</script>"


@pytest.mark.parametrize("locale", ["en"])  # only the English notices quote the tools' titles
def test_html_escapes_summary_text_keeps_it(renderer: NoticeRenderer, context: dict[str, Any], locale: str) -> None:
    context["incident"]["summary"].append(SCRIPT)
    notice = render(renderer, context, "authority_notification", locale)
    assert "<script" not in notice.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in notice.html
    assert SCRIPT in notice.text


@pytest.mark.parametrize(("kind", "locale"), EVERY)
def test_html_escapes_every_context_value(renderer: NoticeRenderer, context: dict[str, Any], kind: str,
                                          locale: str) -> None:
    context["controller"]["name"] = 'ACME <b onmouseover="x">"'
    context["controller"]["dpo"]["email"] = 'dpo@x.example"><script>alert(1)</script>'
    context["authority"]["name"] = SCRIPT
    context["data"]["categories"].append("<i>raw</i>")
    notice = render(renderer, context, kind, locale)
    assert "<script" not in notice.html
    assert "<b " not in notice.html
    assert "<i>" not in notice.html
    assert 'href="mailto:dpo@x.example&#34;&gt;&lt;script' in notice.html
    assert "ACME &lt;b onmouseover=&#34;x&#34;&gt;&#34;" in notice.html
    assert 'ACME <b onmouseover="x">"' in notice.text
    assert SCRIPT in notice.text


@pytest.mark.parametrize(("kind", "locale"), EVERY)
def test_subject_is_one_line(renderer: NoticeRenderer, context: dict[str, Any], kind: str, locale: str) -> None:
    context["controller"]["name"] = "AMPERE SAS\r\nBcc: x@y"
    subject = render(renderer, context, kind, locale).subject
    assert "\r" not in subject
    assert "\n" not in subject
    assert "AMPERE SAS Bcc: x@y" in subject
    assert subject == subject.strip()


def test_one_line_collapses_every_separator() -> None:
    assert one_line(" a\r\n b\tc\u2028d\u2029e\x85f\x00g\x0bh  ") == "a b c d e f g h"


# --- DPO review wording -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "locale"), EVERY)
def test_draft_banner(renderer: NoticeRenderer, context: dict[str, Any], kind: str, locale: str) -> None:
    notice = render(renderer, context, kind, locale)
    assert notice.subject.startswith(DRAFT_SUBJECT[locale])
    assert notice.text.lstrip("=\n").startswith(DRAFT_BANNER[locale])
    assert DRAFT_BANNER[locale] in notice.html
    assert notice.html.index(DRAFT_BANNER[locale]) < notice.html.index("<h1")

    context["notice"]["draft"] = False
    final = render(renderer, context, kind, locale)
    assert not final.subject.startswith("[")
    for body in (final.subject, final.text, final.html):
        assert DRAFT_BANNER[locale] not in body
        assert DRAFT_SUBJECT[locale].strip() not in body


@pytest.mark.parametrize(("kind", "locale"), EVERY)
def test_empty_measures_are_said_not_recorded_yet(renderer: NoticeRenderer, context: dict[str, Any], kind: str,
                                                  locale: str) -> None:
    """A draft never carries a placeholder: no measure entered yet is said as a fact."""
    notice = render(renderer, context, kind, locale)
    assert NONE_TAKEN[locale] in notice.text
    assert NONE_TAKEN[locale] in visible(notice.html)
    assert TO_COMPLETE[locale] not in notice.text

    context["measures"] = {"taken": ["Export account disabled & sessions revoked"],
                           "proposed": ["Force a password reset for every customer"]}
    done = render(renderer, context, kind, locale)
    for body in (done.text, visible(done.html)):
        assert "Export account disabled & sessions revoked" in body
        assert "Force a password reset for every customer" in body
        assert TO_COMPLETE[locale] not in body
        assert NONE_TAKEN[locale] not in body
    assert "disabled &amp; sessions" in done.html


@pytest.mark.parametrize("locale", LOCALES)
def test_unknown_number_of_people(renderer: NoticeRenderer, context: dict[str, Any], locale: str) -> None:
    known = render(renderer, context, "authority_notification", locale)
    context["data"]["subjects_estimate"] = None
    for factor in context["risk"]["factors"]:  # the assessment counted the same estimate
        if factor["name"] == "number_of_individuals":
            factor["params"]["count"] = None
    unknown = render(renderer, context, "authority_notification", locale)
    count = {"en": "12,000", "fr": "12 000"}[locale]
    people = {"en": r"number of people concerned:\s+", "fr": r"nombre approximatif de personnes concernées :\s+"}
    assert count in norm(known.text)
    assert count not in norm(unknown.text)
    assert count not in visible(unknown.html)
    assert re.search(people[locale] + re.escape(UNKNOWN[locale]), unknown.text, re.IGNORECASE)
    assert unknown.html.count(UNKNOWN[locale].replace("'", "&#39;")) \
        == known.html.count(UNKNOWN[locale].replace("'", "&#39;")) + 2  # the estimate and its factor


@pytest.mark.parametrize("locale", LOCALES)
def test_late_notification_asks_for_reasons(renderer: NoticeRenderer, context: dict[str, Any], locale: str) -> None:
    heading = {"en": "reasons for the delay (art. 33(1))", "fr": "motifs du retard (art. 33(1))"}[locale]
    on_time = render(renderer, context, "authority_notification", locale)
    assert heading not in on_time.text.lower()
    assert heading not in on_time.html.lower()

    context["clock"]["late"] = True
    context["measures"] = {"taken": ["Export account disabled"], "proposed": ["Password reset"]}
    late = render(renderer, context, "authority_notification", locale)
    for body in (late.text, late.html):
        assert heading in body.lower()
        assert TO_COMPLETE[locale] in body  # the reasons, for the DPO to fill


def test_optional_contact_details_and_unknown_dates(renderer: NoticeRenderer, context: dict[str, Any]) -> None:
    context["controller"]["dpo"]["phone"] = "+33 1 23 45 67 89"
    context["controller"]["dpo"]["postal"] = "DPO, AMPERE SAS, 12 rue de la Paix, 75002 Paris"
    context["form"]["started_at"] = None
    notice = render(renderer, context, "authority_notification", "en")
    for body in (notice.text, visible(notice.html)):
        assert "+33 1 23 45 67 89" in body
        assert "DPO, AMPERE SAS, 12 rue de la Paix" in body
    assert re.search(r"Start of the breach:\s+not known yet\n", notice.text)


# --- the filters, on templates written for the test ------------------------------------------------------------


def _probe(root: pathlib.Path, locale: str, source: str) -> None:
    folder = root / "gdpr" / locale
    folder.mkdir(parents=True, exist_ok=True)
    for part in PARTS:
        (folder / f"probe.{part}.j2").write_text(source, encoding="utf-8")


@pytest.mark.parametrize(("locale", "expected"), [
    ("fr", r"1 juillet 2026.{0,6}08:00:00 \S+\|1 234 567\|1 heure\|72 heures\|1,5 heure\|"),
    ("en", r"July 1, 2026.{0,6}8:00:00 AM \S+\|1,234,567\|1 hour\|72 hours\|1\.5 hours\|"),
])
def test_filters_and_autoescape_by_extension(tmp_path: pathlib.Path, locale: str, expected: str) -> None:
    _probe(tmp_path, locale, "{{ at|when }}|{{ n|number }}|{{ 1|duration_hours }}|{{ 72|duration_hours }}"
                             "|{{ 1.5|duration_hours }}|{{ raw }}\n")
    ctx = {"notice": {"reader_tz": "America/New_York"}, "at": "2026-07-01T12:00:00Z", "n": 1234567, "raw": "<a>"}
    notice = NoticeRenderer(tmp_path).render(regime="gdpr", locale=locale, kind="probe", context=ctx)
    assert re.fullmatch(expected + r"<a>\n", norm(notice.text))  # 12:00 UTC is 08:00 in New York (EDT)
    assert notice.html.endswith("|&lt;a&gt;\n")
    assert notice.subject.endswith("|<a>")
    assert "\n" not in notice.subject


@pytest.mark.parametrize("value", ["12000", None, True])
def test_number_refuses_non_numbers(tmp_path: pathlib.Path, value: object) -> None:
    _probe(tmp_path, "en", "{{ n|number }}")
    with pytest.raises(ValueError, match="not a number"):
        NoticeRenderer(tmp_path).render(regime="gdpr", locale="en", kind="probe", context={"notice": {}, "n": value})


def test_locale_unknown_to_babel_is_refused(tmp_path: pathlib.Path) -> None:
    _probe(tmp_path, "qq", "{{ n|number }}")
    with pytest.raises(ValueError, match="Babel"):
        NoticeRenderer(tmp_path).render(regime="gdpr", locale="qq", kind="probe", context={"notice": {}, "n": 1})


@pytest.mark.parametrize("locale", LOCALES)
def test_a_late_notification_carries_the_recorded_reasons(renderer: NoticeRenderer, context: dict[str, Any],
                                                          locale: str) -> None:
    context["clock"]["late"] = True
    blank = render(renderer, context, "authority_notification", locale)
    context["clock"]["delay_reasons"] = "The processor <Hostco> reported the breach 70 hours late."
    late = render(renderer, context, "authority_notification", locale)
    assert "The processor <Hostco> reported the breach 70 hours late." in late.text
    assert "The processor &lt;Hostco&gt; reported the breach 70 hours late." in late.html  # escaped
    # The reasons take the place of the "to complete" placeholder the DPO would otherwise fill.
    assert late.text.count(TO_COMPLETE[locale]) == blank.text.count(TO_COMPLETE[locale]) - 1
