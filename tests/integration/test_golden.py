"""Golden files: every notice template × locale rendered from a fixed context, compared byte for byte
with the file committed under tests/golden/<regime>/<locale>/<kind>.<part>.

A template change shows up here as a diff a reviewer reads. To accept it, regenerate on purpose:
``BREACH_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/integration/test_golden.py`` and commit the
changed files (the run that writes them still fails, so a regeneration is never silent).
"""

from __future__ import annotations

import copy
import json
import os
import pathlib
from typing import Any

import jinja2
import pytest

from incident.regime_notices import REGIME_NOTICES
from streams.mail.render import NoticeRenderer

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates" / "notices"
GOLDEN = ROOT / "tests" / "golden"
FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "notice_context.json"
UPDATE = os.environ.get("BREACH_UPDATE_GOLDEN") == "1"

GDPR_KINDS = ("authority_notification", "authority_complement", "data_subject_notice", "public_communication",
              "register_entry")
LOCALES = ("en", "fr")
CASES = [("gdpr", kind, locale) for kind in GDPR_KINDS for locale in LOCALES] + [
    ("internal", kind, locale) for kind in ("reminder", "page") for locale in LOCALES] + sorted(
    {(n.template, n.kind, locale) for n in REGIME_NOTICES.values() for locale in n.locales})  # other regimes
PARTS = {"subject": "subject", "txt": "text", "html": "html"}


# What the DPO writes, in each language the notices are read in: a French notice never carries
# English sentences of theirs (the workflow picks the notice's language; incident/notices.py).
DPO_WORDS = {
    "en": {"new_information": ["The export held 11,842 customer records, not 12,000.",
                               "No payment data was in the exported table."],
           "measures": {"taken": ["Export account disabled and its sessions revoked"],
                        "proposed": ["Password reset for every customer"]},
           "safeguards": ["Customer database encrypted at rest", "Administrators log in with two factors"]},
    "fr": {"new_information": ["L'export contenait 11 842 fiches clients, et non 12 000.",
                               "La table exportée ne contenait aucune donnée de paiement."],
           "measures": {"taken": ["Compte d'export désactivé et ses sessions révoquées"],
                        "proposed": ["Réinitialisation du mot de passe de chaque client"]},
           "safeguards": ["Base clients chiffrée au repos", "Connexion des administrateurs à deux facteurs"]},
    "pt-BR": {"new_information": ["A exportação continha 11.842 registros de clientes, e não 12.000."],
              "measures": {"taken": ["Conta de exportação desativada e suas sessões revogadas"],
                           "proposed": ["Redefinição da senha de cada cliente"]},
              "safeguards": ["Base de clientes criptografada em repouso"]},
}


def gdpr_context(locale: str = "en") -> dict[str, Any]:
    context: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    words = DPO_WORDS[locale]
    context["complement"] = {"sequence": 2, "initial_submitted_at": "2026-11-23T16:05:00+00:00",
                             "initial_reference": "CNIL-2026-004217",
                             "new_information": list(words["new_information"])}
    context["delay_reasons"] = None
    context["register"] = {"notified": True, "submitted_at": "2026-11-23T16:05:00+00:00",
                           "not_notified_reason": None}
    context["measures"] = copy.deepcopy(words["measures"])
    context["measures_by_locale"] = {code: copy.deepcopy(w["measures"]) for code, w in DPO_WORDS.items()}
    # The measures in place before the breach (the form's free text), in the notice's language.
    context["form"]["safeguards"] = list(words["safeguards"])
    context["form"]["safeguards_by_locale"] = {code: list(w["safeguards"]) for code, w in DPO_WORDS.items()}
    return context


def reminder_context() -> dict[str, Any]:
    return {"notice": {"reader_tz": "Europe/Paris"},
            "reminder": {"step": "T-6h", "skipped": ["T-24h"], "legal_ref": "GDPR Art. 33(1)",
                         "deadline": "2026-11-24T09:30:00+00:00", "overdue": False},
            "incident": {"id": "3f2a9c1d-8b4e-4c6a-9d2f-7e1b5a0c3d48", "reference": "BR-3F2A9C1D",
                         "url": "http://127.0.0.1:8000/incidents/3f2a9c1d-8b4e-4c6a-9d2f-7e1b5a0c3d48"},
            "controller": {"name": "AMPERE SAS"},
            # An on-call page (streams/oncall/pager.py): ids, times and levels only.
            "page": {"id": "3f2a9c1d-8b4e-4c6a-9d2f-7e1b5a0c3d48/page-2", "reason": "aware",
                     "why": "a breach the controller is aware of", "trigger": "awareness", "repeat": 1,
                     "severity": 4, "level": "high", "opened_at": "2026-11-21T08:55:00+00:00",
                     "aware_at": "2026-11-21T09:30:00+00:00", "deadline": "2026-11-24T09:30:00+00:00"}}


def context_for(regime: str, locale: str = "en") -> dict[str, Any]:
    return reminder_context() if regime == "internal" else gdpr_context(locale)


@pytest.fixture(scope="module")
def renderer() -> NoticeRenderer:
    return NoticeRenderer(TEMPLATES)


@pytest.mark.parametrize(("regime", "kind", "locale"), CASES)
def test_matches_its_golden_file(renderer: NoticeRenderer, regime: str, kind: str, locale: str) -> None:
    notice = renderer.render(regime=regime, locale=locale, kind=kind, context=context_for(regime, locale))
    stale = []
    for part, attribute in PARTS.items():
        path = GOLDEN / regime / locale / f"{kind}.{part}"
        actual = getattr(notice, attribute)
        if UPDATE:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.is_file() or path.read_text(encoding="utf-8") != actual:
                path.write_text(actual, encoding="utf-8")
                stale.append(str(path.relative_to(ROOT)))
            continue
        assert path.is_file(), f"no golden file {path.relative_to(ROOT)}: run with BREACH_UPDATE_GOLDEN=1"
        assert actual == path.read_text(encoding="utf-8"), f"{path.relative_to(ROOT)} differs from the rendering"
    assert not stale, f"golden files rewritten (review and commit them): {stale}"


def test_the_golden_context_is_the_current_methods() -> None:
    """The golden files pin what the current risk method writes (issue 16: they once pinned an
    older one, so a change of method went unnoticed): its version, and the factors it gives."""
    from incident.risk import METHOD
    from tests.sample_incidents import sample_incidents

    risk = json.loads(FIXTURE.read_text(encoding="utf-8"))["risk"]
    assert risk["method"] == METHOD
    current = next(s.state.assessment for s in sample_incidents() if s.state.assessment is not None)
    assert [f["name"] for f in risk["factors"]] == [f.name for f in current.factors]


def test_every_template_has_golden_files() -> None:
    """A template added without its golden files (or a golden file left behind) is caught."""
    templates = {p.relative_to(TEMPLATES).as_posix().removesuffix(".j2") for p in TEMPLATES.glob("*/*/*.j2")
                 if not p.name.startswith("_")}
    golden = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.glob("*/*/*") if p.is_file()}
    assert templates == golden


def _delete(context: dict[str, Any], dotted: str) -> dict[str, Any]:
    """The context without these keys ("a.b", several joined by "+")."""
    ctx = copy.deepcopy(context)
    for one in dotted.split("+"):
        *parents, last = one.split(".")
        node = ctx
        for key in parents:
            node = node[key]
        del node[last]
    return ctx


OWN_KEYS = {"authority_complement": ["complement.sequence", "complement.new_information",
                                     "complement.initial_submitted_at", "complement.initial_reference"],
            "register_entry": ["register.notified", "register.submitted_at"],
            # the measures in the reader's language, else the notice's own (both gone: an error)
            "public_communication": ["data.subjects_estimate", "advice", "measures.taken+measures_by_locale"],
            "reminder": ["reminder.deadline", "reminder.step", "incident.url"],
            "page": ["page.why", "page.trigger", "page.opened_at", "incident.url"]}


@pytest.mark.parametrize(("regime", "kind", "locale"), CASES)
@pytest.mark.parametrize("part", PARTS)
def test_a_missing_variable_is_an_error_never_a_blank(renderer: NoticeRenderer, regime: str, kind: str,
                                                       locale: str, part: str) -> None:
    ctx = _delete(context_for(regime, locale), "controller.name")
    with pytest.raises(jinja2.UndefinedError):
        renderer.render_part(regime=regime, locale=locale, kind=kind, part=part, context=ctx)


@pytest.mark.parametrize(("kind", "dotted"), [(k, d) for k, keys in OWN_KEYS.items() for d in keys])
@pytest.mark.parametrize("locale", LOCALES)
def test_each_kind_needs_its_own_facts(renderer: NoticeRenderer, kind: str, dotted: str, locale: str) -> None:
    regime = "internal" if kind in ("reminder", "page") else "gdpr"
    with pytest.raises(jinja2.UndefinedError):
        renderer.render(regime=regime, locale=locale, kind=kind, context=_delete(context_for(regime, locale), dotted))


@pytest.mark.parametrize("locale", LOCALES)
def test_late_complement_gives_the_reasons_or_asks_for_them(renderer: NoticeRenderer, locale: str) -> None:
    context = gdpr_context(locale)
    context["clock"]["late"] = True
    asked = renderer.render(regime="gdpr", locale=locale, kind="authority_complement", context=context)
    assert {"en": "To be completed by the DPO", "fr": "À compléter par le DPO"}[locale] in asked.text
    context["delay_reasons"] = "Forensic imaging of the CRM took 80 hours."
    given = renderer.render(regime="gdpr", locale=locale, kind="authority_complement", context=context)
    assert "Forensic imaging of the CRM took 80 hours." in given.text
    assert "Forensic imaging of the CRM took 80 hours." in given.html
    del context["delay_reasons"]
    with pytest.raises(jinja2.UndefinedError):
        renderer.render(regime="gdpr", locale=locale, kind="authority_complement", context=context)


def test_a_style_block_is_inlined(tmp_path: pathlib.Path) -> None:
    folder = tmp_path / "gdpr" / "en"
    folder.mkdir(parents=True)
    (folder / "probe.subject.j2").write_text("s", encoding="utf-8")
    (folder / "probe.txt.j2").write_text("t", encoding="utf-8")
    (folder / "probe.html.j2").write_text(
        "<html><head><style>p { color: #c62828 } @media (max-width: 600px) { p { font-size: 18px } }</style>"
        "</head><body><p>{{ x }}</p></body></html>", encoding="utf-8")
    html = NoticeRenderer(tmp_path).render(regime="gdpr", locale="en", kind="probe", context={"x": "<b>"}).html
    assert '<p style="color: #c62828;">&lt;b&gt;</p>' in html
    assert "@media (max-width: 600px)" in html  # kept for clients that honour it
