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
                         columns=CSV_COLUMNS)

    async def api_register(request: Request) -> Response:
        entries = entries_of(request)
        if request.query_params.get("format") == "csv":
            return PlainTextResponse(register_csv(entries), media_type="text/csv; charset=utf-8",
                                     headers={"content-disposition": 'attachment; filename="breach-register.csv"'})
        return JSONResponse({"register": entries})

    return [Route("/register", page_register), Route("/api/register", api_register)]
