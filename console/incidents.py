"""The incidents: the list (with its filters and search) and one incident, as pages and as JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from console import acting, paging, proposals, refusals, tasks, views, work
from console.site import LEVELS, STATES, Site
from console.users import User
from incident.model import Incident
from incident.work import OUTCOMES

FILTERS = ("controller", "state", "risk", "overdue", "q", "mine", "tag")


def rows(site: Site, now: datetime, filters: Mapping[str, str], me: User) -> list[dict[str, Any]]:
    """The incidents ``me`` is granted (console/tenants.py), filtered and the most urgent first."""
    found = [views.summary(i, site.directory, now) for i in site.model.incidents.values() if me.sees(i.controller)]
    found = _work_filtered(site, found, filters, me)
    if filters.get("controller"):
        found = [r for r in found if r["controller"] == filters["controller"]]
    if filters.get("state"):
        found = [r for r in found if r["status"] == filters["state"]]
    if filters.get("risk"):
        found = [r for r in found if r["risk"] == filters["risk"]]
    if filters.get("overdue") in ("1", "true", "on"):
        found = [r for r in found if r["overdue"]]
    # The most urgent first: the nearest open deadline; then incidents without a clock, newest first.
    found.sort(key=lambda r: r["opened_at"] or "", reverse=True)
    found.sort(key=lambda r: (r["seconds_left"] is None, r["seconds_left"] or 0))
    return found


def _work_filtered(site: Site, found: list[dict[str, Any]], filters: Mapping[str, str],
                   me: User) -> list[dict[str, Any]]:
    """The list's search (``q``) and "mine" (the reader owns it): console/work.py."""
    if filters.get("mine") in ("1", "true", "on"):
        found = [r for r in found if r["owner"] == me.actor]
    if filters.get("q", "").strip():
        def reasons(incident_id: str) -> list[str]:
            return [e.reason for e in site.model.evidence(incident_id)]
        found = [r for r in found if work.matches(filters["q"], r, reasons, site.entity_hash)]
    if filters.get("tag", "").strip():
        found = [r for r in found if tasks.tag_matches(filters["tag"], r)]
    return found


def detail(site: Site, incident: Incident, timeline: list[Any], now: datetime, lang: str = "en") -> dict[str, Any]:
    """One incident as the page and the API show it (console/views.detail and what the console adds)."""
    shown = views.detail(incident, timeline, site.directory, now, lang=lang, chain=site.model.chain(incident.id),
                         evidence=site.model.evidence(incident.id))
    shown["refused_commands"] = [asdict(d) for d in site.model.refused_commands(incident.id)]
    shown["paging"] = paging.state(incident)
    shown["proposals"] = proposals.state(incident)
    return shown


def routes(site: Site) -> list[BaseRoute]:
    def filters_of(request: Request) -> dict[str, str]:
        return {k: request.query_params.get(k, "") for k in FILTERS}

    async def page_list(request: Request) -> Response:
        me = site.user_of(request)
        filters = filters_of(request)
        letters = me.every_controller  # dead letters carry no controller: for users of every one only
        values: dict[str, Any] = {
            "incidents": rows(site, site.clock(), filters, me),
            "dead_letters": dict(site.model.dead_letters) if letters else {},
            "letters_by_topic": dict(site.model.letters_by_topic) if letters else {}, "filters": filters,
            "controllers": sorted((p.id, p.name) for p in site.directory.profiles.values() if me.sees(p.id)),
            "states": STATES, "levels": LEVELS}
        return site.page(request, "_rows.html" if request.query_params.get("partial") else "list.html", **values)

    async def page_detail(request: Request) -> Response:
        found = site.find(request)
        if found is None:
            return site.missing(request)
        incident, timeline = found
        shown = detail(site, incident, timeline, site.clock(), site.lang_of(request))
        template = "_detail.html" if request.query_params.get("partial") else "detail.html"
        me = site.user_of(request)
        return site.page(request, template, incident=shown, levels=LEVELS, people=site.people(incident.controller),
                         outcomes=OUTCOMES, may_dismiss=work.may_dismiss(incident, me) is None,
                         offers=acting.offers(site, incident, me))

    async def api_incidents(request: Request) -> Response:
        me = site.user_of(request)
        return JSONResponse({"incidents": rows(site, site.clock(), filters_of(request), me),
                             "dead_letters": dict(site.model.dead_letters) if me.every_controller else {}})

    async def api_incident(request: Request) -> Response:
        found = site.find(request)
        if found is None:
            return JSONResponse({"error": refusals.NO_INCIDENT}, status_code=404)
        return JSONResponse(detail(site, found[0], found[1], site.clock()))

    return [Route("/", page_list), Route("/incidents/{incident_id}", page_detail),
            Route("/api/incidents", api_incidents), Route("/api/incidents/{incident_id}", api_incident)]
