"""Tenants: each person or token is granted the controllers whose incidents it reads and acts on
(``User.controllers``; None: every controller, the default of users and tokens made before grants).

What a grant does not cover does not exist for that principal: an incident of another controller
answers 404 exactly as a missing one (never 403, which would say it exists), and the lists leave
it out. Every route whose path names an ``{incident_id}`` is wrapped here, in one place, so a
new route cannot forget the check; the lists (incidents and their search, the register, the live
updates, the mail catcher) filter with ``sees_incident`` and ``mail_incident``. What carries no
controller — an incident not attributed to one yet, a dead letter, a caught mail no incident
sent — is for principals of every controller only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from console import refusals
from console.auth import wants_json
from console.read_model import ReadModel
from console.users import User

REMINDER_PREFIX = "reminder-"  # streams/agents/notify.py: reminder-<incident id>-<rule>-<step>
_UUID_LENGTH = 36


def sees_incident(model: ReadModel, user: User, incident_id: str) -> bool:
    """Whether ``incident_id`` exists for ``user``: it is known and its controller is granted."""
    incident = model.incidents.get(incident_id)
    return incident is not None and user.sees(incident.controller)


def guard_incident_routes(routes: Iterable[BaseRoute], model: ReadModel,
                          missing_page: Callable[[Request], Response]) -> list[BaseRoute]:
    """Every route with ``{incident_id}`` answers 404 before its endpoint runs when the incident is
    missing or of a controller the principal is not granted: the same answer for both."""
    guarded: list[BaseRoute] = []
    for route in routes:
        if isinstance(route, Route) and "{incident_id}" in route.path:
            route = Route(route.path, _guarded(route.endpoint, model, missing_page), methods=route.methods,
                          name=route.name)
        guarded.append(route)
    return guarded


def _guarded(endpoint: Callable[..., Any], model: ReadModel,
             missing_page: Callable[[Request], Response]) -> Callable[[Request], Any]:
    async def checked(request: Request) -> Response:
        user: User = request.scope["state"]["user"]
        if not sees_incident(model, user, request.path_params["incident_id"]):
            if wants_json(request.scope):
                return JSONResponse({"error": refusals.NO_INCIDENT}, status_code=404)
            return missing_page(request)
        answer: Response = await endpoint(request)
        return answer
    checked.__name__ = getattr(endpoint, "__name__", "endpoint")
    return checked


def mail_incident(model: ReadModel, notice_id: str) -> str | None:
    """The incident a caught mail was sent for, by its ``X-Breach-Notice-Id``: a notice to the
    authority or the DPO, one to the people affected, or a reminder; None if none is known."""
    if notice_id.startswith(REMINDER_PREFIX):
        candidate = notice_id[len(REMINDER_PREFIX):][:_UUID_LENGTH]
        return candidate if candidate in model.incidents else None
    for incident in model.incidents.values():
        ids = {n.notice_id for n in incident.notices} | {n.notice_id for n in incident.subject_notices}
        if notice_id in ids:
            return incident.id
    return None


def sees_mail(model: ReadModel, user: User, mail: Mapping[str, Any]) -> bool:
    """Whether ``user`` may read a caught mail: that of an incident it sees; one of no known
    incident only with every controller."""
    if user.every_controller:
        return True
    incident_id = mail_incident(model, str(mail.get("notice_id") or ""))
    return incident_id is not None and sees_incident(model, user, incident_id)


def sees_change(model: ReadModel, user: User, what: str) -> bool:
    """Whether a live update (ReadModel.listeners: an incident id, "*" or "dlq") is for ``user``."""
    if user.every_controller or what == "*":
        return True
    return what != "dlq" and sees_incident(model, user, what)
