"""The people affected: importing their list (a page's upload, or the API's CSV / JSON lines), and
the notice to them, previewed before the DPO approves it and read as sent after."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import jinja2
import structlog
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from console import actions, i18n, refusals, views
from console.site import Site, json_object
from incident.notices import subject_notice_id
from incident.profiles import Profile
from incident.recipients import RecipientList
from streams.mail import mass
from streams.mail.render import TemplateMissing

log = structlog.get_logger("breach.console")
SHOWN_INVALID = 200  # invalid lines listed on the page (the count is always complete)
LIST_TYPES = {"text/csv": "csv", "application/x-ndjson": "jsonl", "application/jsonl": "jsonl"}


def renderer_locales(profile: Profile) -> list[str]:
    return list(dict.fromkeys([*profile.languages, *i18n.LANGUAGES]))


async def import_list(site: Site, request: Request, data: bytes, fmt: str) -> tuple[int, dict[str, Any]]:
    """The CLI's import (streams.mail.mass) for one incident: counts and line numbers back, never an address."""
    if site.import_subjects is None:
        return 405, {"error": refusals.READ_ONLY}
    found = site.find(request)
    if found is None:
        return 404, {"error": refusals.NO_INCIDENT}
    user = site.user_of(request)
    if user.role not in actions.RESPONDERS:
        log.warning("console.refused", action="subjects", role=user.role)
        return 403, {"error": refusals.read_only_role(user.role)}
    limit = site.config.max_import_bytes
    if len(data) > limit:  # the Guard cut the body off there already; a last check
        return 413, {"error": refusals.invalid(f"the list is larger than {limit} bytes")}
    profile = site.directory.profiles.get(found[0].controller or "")
    default_locale = profile.languages[0] if profile else "en"
    try:
        await asyncio.to_thread(data.decode, "utf-8-sig")  # up to the import limit: off the event loop
    except UnicodeDecodeError:
        return 400, {"error": refusals.invalid("the list is not UTF-8 text")}
    imported = await site.import_subjects(found[0].id, data, fmt=fmt, default_locale=default_locale, by=user.actor)
    parsed: RecipientList = imported.parsed
    log.info("console.subjects_imported", incident_id=found[0].id, list_id=imported.list_id,
             recipients=len(parsed.recipients), invalid=len(parsed.invalid))
    answer = {"list_id": imported.list_id, "recipients": len(parsed.recipients),
              "invalid_count": len(parsed.invalid),
              "invalid": [{"line": x.line, "reason": x.reason} for x in parsed.invalid[:SHOWN_INVALID]]}
    if not parsed.recipients:  # read and reported, but nothing to import (and no list recorded)
        return 200, {**answer, "list_id": None}
    return 202, answer


def subject_preview(site: Site, request: Request, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    """The notice to the people of one list as they will receive it: the approved notice from
    its fixed context, or, before approval, from the function the approval runs (streams.mail.mass.preview,
    which the CLI's preview and the senders' renderer share)."""
    found = site.find(request)
    if found is None:
        return 404, {"error": refusals.NO_INCIDENT}
    incident = found[0]
    try:
        list_id = actions.text_field(body, "list_id", required=True)
        locale = actions.text_field(body, "locale") or None
        taken, proposed = actions.measures(body, "measures_taken"), actions.measures(body, "measures_proposed")
    except actions.ActionError as exc:
        return 400, {"error": refusals.invalid(exc)}
    if incident.subject_list(list_id) is None:
        return 404, {"error": refusals.no_list(list_id)}
    profile = site.directory.profiles.get(incident.controller or "")
    if profile is None or incident.assessment is None or incident.awareness is None or not incident.clocks:
        return 409, {"error": refusals.NO_PROFILE_TO_WRITE}
    if locale is not None and locale not in renderer_locales(profile):
        return 400, {"error": refusals.invalid(f"locale must be one of {', '.join(renderer_locales(profile))}")}
    try:
        shown = mass.preview(site.renderer, incident, profile, now=site.clock(), list_id=list_id, locale=locale,
                             measures_taken=taken, measures_proposed=proposed)
    except (jinja2.TemplateError, TemplateMissing, ValueError) as exc:
        return 409, {"error": str(exc)}
    approved = incident.subject_notice(subject_notice_id(incident.id, list_id))
    return 200, {"list_id": list_id, "locale": locale or (approved.default_locale if approved else
                                                          profile.languages[0]),
                 "approved": approved is not None, "measures_taken": list(taken),
                 "measures_proposed": list(proposed), "subject": shown.subject, "text": shown.text,
                 "html": shown.html, "locales": renderer_locales(profile),
                 "progress": views.subject_progress(approved) if approved else None}


def routes(site: Site) -> list[BaseRoute]:
    async def page_import(request: Request) -> Response:
        form = await request.form(max_part_size=site.config.max_import_bytes)
        try:
            upload = form.get("file")
            data, name = (await upload.read(), upload.filename or "") if isinstance(upload, UploadFile) else (b"", "")
            chosen = str(form.get("format", ""))
        finally:
            await form.close()
        fmt = chosen if chosen in ("csv", "jsonl") else mass.format_of(name)
        incident_id = request.path_params["incident_id"]
        status, answer = await import_list(site, request, data, fmt)
        if status == 404:
            return site.missing(request)
        if status == 403:
            return site.refused(request, answer["error"], incident_id=incident_id)
        return site.page(request, "subjects_imported.html", 200 if status == 202 else status, result=answer,
                         incident_id=incident_id)

    async def api_import(request: Request) -> Response:
        fmt = LIST_TYPES.get(request.headers.get("content-type", "").split(";")[0].strip())
        if fmt is None:
            return JSONResponse({"error": "send text/csv or application/x-ndjson"}, status_code=415)
        status, answer = await import_list(site, request, await request.body(), fmt)
        return JSONResponse(answer, status_code=status)

    async def page_subject_preview(request: Request) -> Response:
        form = await request.form()
        body = {k: str(v) for k, v in form.items() if k != "csrf_token"}
        incident_id = request.path_params["incident_id"]
        status, shown = subject_preview(site, request, body)
        if status == 404:
            return site.missing(request)
        if status != 200:
            return site.refused(request, shown["error"], status, incident_id=incident_id)
        return site.page(request, "subject_notice.html", notice=shown, incident_id=incident_id,
                         measures_taken="\n".join(shown["measures_taken"]),
                         measures_proposed="\n".join(shown["measures_proposed"]))

    async def page_subject_notice(request: Request) -> Response:
        """An approved notice to the people affected, as sent (a locale chosen in the query)."""
        found = site.find(request)
        notice = found[0].subject_notice(request.path_params["notice_id"]) if found else None
        if notice is None:
            return site.missing(request)
        incident_id = request.path_params["incident_id"]
        status, shown = subject_preview(site, request, {"list_id": notice.list_id,
                                                        "locale": request.query_params.get("locale", "")})
        if status != 200:
            return site.refused(request, shown["error"], status, incident_id=incident_id)
        return site.page(request, "subject_notice.html", notice=shown, incident_id=incident_id,
                         measures_taken="", measures_proposed="")

    async def api_subject_preview(request: Request) -> Response:
        body = await json_object(request)
        if isinstance(body, Response):
            return body
        status, shown = subject_preview(site, request, body)
        return JSONResponse(shown, status_code=status)

    return [Route("/incidents/{incident_id}/subjects", page_import, methods=["POST"]),
            Route("/incidents/{incident_id}/subject_notice/preview", page_subject_preview, methods=["POST"]),
            Route("/incidents/{incident_id}/subject-notices/{notice_id}", page_subject_notice),
            Route("/api/incidents/{incident_id}/subjects", api_import, methods=["POST"]),
            Route("/api/incidents/{incident_id}/subject_notice/preview", api_subject_preview, methods=["POST"])]
