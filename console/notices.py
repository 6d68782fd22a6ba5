"""The drafted notices (to the authority, to the DPO): each as the notifier's renderer writes it,
in its own language or in another one its templates exist in, as a page and as JSON."""

from __future__ import annotations

from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from console import refusals
from console.site import Site
from incident.events import NoticeRequested
from incident.notices import read_in
from streams.mail.render import TemplateMissing


def drafts(site: Site, incident_id: str) -> dict[str, Any]:
    return {e.draft.notice_id: e.draft for e in site.model.timeline.get(incident_id, [])
            if isinstance(e, NoticeRequested)}


def preview(site: Site, incident_id: str, notice_id: str, locale: str | None = None) -> dict[str, Any] | None:
    """The notice rendered by the notifier's own renderer: what the mail carries, byte for byte.
    ``locale``: the same draft read in another language its templates exist in (the mail is
    still sent in the draft's)."""
    draft = drafts(site, incident_id).get(notice_id)
    if draft is None:
        return None
    offered = _locales(site, draft.regime, draft.kind, draft.locale)
    shown = locale if locale in offered else draft.locale
    context = draft.context if shown == draft.locale else read_in(draft.context, shown)
    common = {"notice_id": notice_id, "kind": draft.kind, "locale": draft.locale, "shown_locale": shown,
              "locales": offered, "recipients": list(draft.recipients)}
    try:
        rendered = site.renderer.render(regime=draft.regime, locale=shown, kind=draft.kind, context=context)
    except (jinja2.TemplateError, TemplateMissing, ValueError) as exc:
        return {**common, "error": str(exc), "subject": None, "text": None, "html": None}
    return {**common, "audience": draft.audience, "subject": rendered.subject, "text": rendered.text,
            "html": rendered.html, "error": None}


def _locales(site: Site, regime: str, kind: str, locale: str) -> list[str]:
    """The languages a draft can be read in: its own first, then those its templates exist in."""
    found = sorted(d.name for d in (site.renderer.templates_dir / regime).glob("*")
                   if (d / f"{kind}.txt.j2").is_file())
    return list(dict.fromkeys([locale, *found]))


def routes(site: Site) -> list[BaseRoute]:
    def shown(request: Request) -> dict[str, Any] | None:
        return preview(site, request.path_params["incident_id"], request.path_params["notice_id"],
                       request.query_params.get("locale"))

    async def page_notice(request: Request) -> Response:
        notice = shown(request)
        if notice is None:
            return site.missing(request)
        return site.page(request, "notice.html", notice=notice, incident_id=request.path_params["incident_id"])

    async def api_notice(request: Request) -> Response:
        notice = shown(request)
        if notice is None:
            return JSONResponse({"error": refusals.NO_NOTICE}, status_code=404)
        return JSONResponse(notice)

    return [Route("/incidents/{incident_id}/notices/{notice_id}", page_notice),
            Route("/api/incidents/{incident_id}/notices/{notice_id}", api_notice)]
