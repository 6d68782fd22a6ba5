"""The breach register (Art. 33(5)): the page, its CSV export and JSON, of the granted controllers."""

from __future__ import annotations

import csv
import io
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from console.site import Site
from incident.register import CSV_COLUMNS, csv_row

# The page's column headings in French (the CSV and JSON keep the register's keys). The cells of
# prose stay the register's English (incident/register_words.py: the record as exported), said so
# to the browser with lang="en"; times, states, levels and who acted read in the reader's language.
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
PLAIN = ("reference", "incident_id", "controller", "subjects_estimate", "records_estimate")

# A cell starting so is run as a formula by spreadsheets (CSV injection): OWASP's rule prefixes a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def register_csv(entries: list[dict[str, Any]]) -> str:
    """The register as CSV (the console's export and `breach register --format csv`); SIEM fields
    and people's words reach its cells, so none is left for a spreadsheet to run."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(v) for k, v in csv_row(e).items()} for e in entries)
    return out.getvalue()


def routes(site: Site) -> list[BaseRoute]:
    def entries_of(request: Request) -> list[dict[str, Any]]:
        """The register's entries of the controllers the reader is granted."""
        me = site.user_of(request)
        return [e for e in site.model.register(site.directory) if me.sees(e["controller"])]

    async def page_register(request: Request) -> Response:
        return site.page(request, "register.html", entries=[csv_row(e) for e in entries_of(request)],
                         columns=CSV_COLUMNS, headings_fr=HEADINGS_FR, times=TIMES, plain=PLAIN)

    async def api_register(request: Request) -> Response:
        entries = entries_of(request)
        if request.query_params.get("format") == "csv":
            return PlainTextResponse(register_csv(entries), media_type="text/csv; charset=utf-8",
                                     headers={"content-disposition": 'attachment; filename="breach-register.csv"'})
        return JSONResponse({"register": entries})

    return [Route("/register", page_register), Route("/api/register", api_register)]
