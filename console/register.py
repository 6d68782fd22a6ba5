"""The breach register (Art. 33(5)): the page, its CSV export and JSON, of the granted controllers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from console import domain_text
from console.site import Site
from incident.register import CSV_COLUMNS, csv_row
from streams.mail.render import NoticeRenderer

# The page's column headings in French (the CSV and JSON keep the register's keys: a program reads
# both languages' CSV by the same names). Every cell is worded in the reader's language by
# incident/register.py csv_row; what people and tools wrote stays as written.
HEADINGS_FR = {
    "reference": "Référence", "incident_id": "Identifiant", "controller": "Responsable de traitement",
    "status": "État", "opened_at": "Ouvert le", "aware_at": "Connu le", "awareness_by": "Connu par",
    "level": "Risque", "authority_notified": "Autorité notifiée", "not_notified_because": "Non notifiée car",
    "breach_types": "Types de violation", "data_categories": "Catégories de données",
    "subjects_estimate": "Personnes (estimation)", "effects": "Conséquences",
    "assessment_reasoning": "Raisonnement de l'évaluation", "override": "Modification du risque",
    "obligations": "Obligations", "audit_chain": "Chaîne d'audit", "what_happened": "Ce qui s'est passé",
    "records_estimate": "Enregistrements (estimation)", "subjects_estimate_from": "Estimation tirée de",
    "subject_categories": "Catégories de personnes", "effects_described": "Conséquences décrites",
    "remedial_action": "Mesures prises", "remedial_action_proposed": "Mesures envisagées",
    "data_subjects_communicated": "Personnes informées", "not_communicated_because": "Non informées car",
}
TIMES = ("opened_at", "aware_at")

# A cell starting so is run as a formula by spreadsheets (CSV injection): OWASP's rule prefixes a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


LANGUAGES = ("en", "fr")


def register_csv(entries: list[dict[str, Any]], lang: str = "en", renderer: NoticeRenderer | None = None) -> str:
    """The register as CSV (the console's export and `breach register export --format csv`), worded in
    ``lang``; SIEM fields and people's words reach its cells, so none is left for a spreadsheet to
    run. ``renderer``: the notices' (the French assessment reasoning is written with their labels)."""
    def reasoning(decision: Mapping[str, Any]) -> str:
        return domain_text.factor_rows(renderer, [decision], lang)[0]["reason"] if renderer else str(decision["reason"])

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(v) for k, v in csv_row(e, lang, reasoning).items()} for e in entries)
    return out.getvalue()


def routes(site: Site) -> list[BaseRoute]:
    def entries_of(request: Request) -> list[dict[str, Any]]:
        """The register's entries of the controllers the reader is granted."""
        me = site.user_of(request)
        return [e for e in site.model.register(site.directory) if me.sees(e["controller"])]

    def reasoning(lang: str) -> Callable[[Mapping[str, Any]], str]:
        return lambda decision: domain_text.factor_rows(site.renderer, [decision], lang)[0]["reason"]

    async def page_register(request: Request) -> Response:
        # Each row twice: worded for the reader, and in the register's codes for the cells the page
        # writes itself (times in the reader's zone, who acted with their id in the tooltip).
        lang = site.lang_of(request)
        entries = [(csv_row(e), csv_row(e, lang, reasoning(lang))) for e in entries_of(request)]
        return site.page(request, "register.html", entries=entries, columns=CSV_COLUMNS, headings_fr=HEADINGS_FR,
                         times=TIMES, csv_languages=LANGUAGES)

    async def api_register(request: Request) -> Response:
        entries = entries_of(request)
        if request.query_params.get("format") == "csv":
            # The reader's language unless asked (lang=en: the English CSV, for an English controller).
            asked = request.query_params.get("lang")
            lang = asked if asked in LANGUAGES else site.lang_of(request)
            return PlainTextResponse(register_csv(entries, lang, site.renderer), media_type="text/csv; charset=utf-8",
                                     headers={"content-disposition":
                                              f'attachment; filename="breach-register-{lang}.csv"'})
        return JSONResponse({"register": entries})

    return [Route("/register", page_register), Route("/api/register", api_register)]
