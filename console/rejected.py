"""Rejected records (the dead-letter topics): they name no controller, so only a user of every
controller reads them, as a page and as JSON."""

from __future__ import annotations

from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from console import refusals
from console.site import Site


def routes(site: Site) -> list[BaseRoute]:
    def refused(request: Request) -> str | None:
        return None if site.user_of(request).every_controller else refusals.LETTERS_FOR_EVERY_CONTROLLER

    async def page_rejected(request: Request) -> Response:
        if (reason := refused(request)) is not None:
            return site.refused(request, reason)
        return site.page(request, "rejected.html", letters=list(reversed(site.model.letters)),
                         by_topic=dict(site.model.letters_by_topic))

    async def api_rejected(request: Request) -> Response:
        if (reason := refused(request)) is not None:
            return JSONResponse({"error": reason}, status_code=403)
        return JSONResponse({"by_topic": dict(site.model.letters_by_topic), "by_reason": dict(site.model.dead_letters),
                             "latest": [asdict(d) for d in reversed(site.model.letters)]})

    # /dlq: the same page under the name `breach dlq` and the topics give it (issue 17 asks for it so).
    return [Route("/rejected", page_rejected), Route("/dlq", page_rejected), Route("/api/rejected", api_rejected)]
