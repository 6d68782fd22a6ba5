"""Acting on an incident: one builder per action (console/actions.py, work.py, paging.py, tasks.py,
proposals.py), reached by a form at /incidents/{id}/act/<name> and by the API at
/api/incidents/{id}/<name>. Both go through ``act``: the console's checks (``refusal``, the one
place that asks each module), then one signed command to the incident agent, which decides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from console import actions, i18n, paging, proposals, refusals, tasks, work
from console.site import Site, json_object
from console.users import User
from incident.commands import CorrectFacts
from incident.decide import facts_lower_risk
from incident.model import Incident

log = structlog.get_logger("breach.console")
BUILDERS = {**actions.BUILDERS, **work.BUILDERS, **paging.BUILDERS, **tasks.BUILDERS, **proposals.BUILDERS}
PROPOSED = "these facts lower the risk: recorded as a proposal the DPO confirms or declines"


def refusal(site: Site, name: str, body: Mapping[str, Any], user: User, incident: Incident) -> str | None:
    """Why ``user`` may not ask ``name`` of ``incident`` with ``body`` (None: they may). The pages ask
    it too, so an action that can only be refused is not offered."""
    return (actions.allowed(name, body, user) or _unsendable(site, name, body, incident)
            or work.refused(name, body, user, incident, lambda: site.people(incident.controller))
            or paging.refused(name, user, incident) or proposals.refused(name, user, incident)
            or tasks.refused(name, body, user, incident, site.model.incidents))


def _unsendable(site: Site, name: str, body: Mapping[str, Any], incident: Incident) -> str | None:
    """A submission by e-mail goes to the authority's address in the controller's profile: without
    one the incident would refuse it later (incident/notices.submission); said now instead."""
    if name != "obligations" or body.get("action") != "submit" or body.get("channel") != "email":
        return None
    profile = site.directory.profiles.get(incident.controller or "")
    return None if profile is not None and profile.authority.email else refusals.NO_SUBMISSION_ADDRESS


# The obligation steps a page offers, each as the request its form sends (channel: how it was submitted).
OFFERED_STEPS: dict[str, dict[str, str]] = {
    "approve": {"action": "approve"}, "submit_portal": {"action": "submit", "channel": "portal"},
    "submit_email": {"action": "submit", "channel": "email"}, "submit_other": {"action": "submit", "channel": "other"},
    "correct": {"action": "correct"}, "complement": {"action": "complement"}, "close": {"action": "close"},
    "delay_reasons": {"action": "delay_reasons"}, "withdraw": {"action": "withdraw"},
}


def offers(site: Site, incident: Incident, user: User) -> dict[str, str | None]:
    """For the detail page: each obligation step and why ``user`` may not take it (None: they may),
    from the same checks the request will meet, so a page never offers what can only be refused."""
    return {step: refusal(site, "obligations", body, user, incident) for step, body in OFFERED_STEPS.items()}


async def act(site: Site, request: Request, name: str, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    if site.send_command is None:
        return 405, {"error": refusals.READ_ONLY}
    found = site.find(request)
    if found is None:
        return 404, {"error": refusals.NO_INCIDENT}
    user = site.user_of(request)
    body = tasks.resolved(name, body, site.model.incidents)  # a merge target named by its reference
    reason = refusal(site, name, body, user, found[0])
    if reason is not None:
        log.warning("console.refused", action=name, role=user.role)
        return 403, {"error": reason}
    try:
        command = BUILDERS[name](body, request.path_params["incident_id"], user, site.clock)
    except actions.ActionError as exc:
        return 400, {"error": refusals.invalid(exc)}
    await site.send_command(command)
    log.info("console.command", command=type(command).__name__, incident_id=command.incident_id)
    accepted = {"accepted": type(command).__name__, "incident_id": command.incident_id}
    if isinstance(command, CorrectFacts) and user.role not in actions.DPO and \
            facts_lower_risk(site.model.incidents[command.incident_id], command.changes, site.directory):
        accepted["proposed"] = PROPOSED  # what the incident will do with it: keep it for the DPO
    return 202, accepted


def routes(site: Site) -> list[BaseRoute]:
    def api_command(name: str) -> Callable[[Request], Any]:
        """A POST that turns a JSON body into one command and answers 202: the incident agent decides
        (a refusal shows up as a CommandRejected event on the incident's timeline)."""
        async def endpoint(request: Request) -> Response:
            body = await json_object(request)
            if isinstance(body, Response):
                return body
            status, answer = await act(site, request, name, body)
            return JSONResponse(answer, status_code=status)
        return endpoint

    async def form_command(request: Request) -> Response:
        name = request.path_params["action"]
        incident_id = request.path_params["incident_id"]
        if name not in BUILDERS:
            return site.missing(request)
        form = await request.form()
        body = {k: str(v) for k, v in form.items() if k != "csrf_token"}
        status, answer = await act(site, request, name, body)
        if status == 404:
            return site.missing(request)
        if status == 403:
            return site.refused(request, answer["error"], incident_id=incident_id)
        lang = site.lang_of(request)
        request.session["flash"] = i18n.translator(lang)["sent"] if status == 202 else \
            i18n.refusal(answer["error"], lang)
        return RedirectResponse(f"/incidents/{incident_id}", status_code=303)

    return [Route("/incidents/{incident_id}/act/{action}", form_command, methods=["POST"]),
            *(Route(f"/api/incidents/{{incident_id}}/{name}", api_command(name), methods=["POST"],
                    name=f"api_{name}") for name in BUILDERS)]
