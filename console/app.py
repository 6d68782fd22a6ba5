"""create_console(...) -> an ASGI app: HTML pages and the JSON API, behind authentication."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from console import views
from console.auth import BasicAuth, User
from console.read_model import ReadModel
from incident import register
from incident.commands import (
    ActOnObligation,
    ClassifyIncident,
    Command,
    CorrectFacts,
    OverrideRisk,
    RecordAwareness,
    StartTriage,
)
from incident.profiles import Directory


def register_csv(entries: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=register.CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(register.csv_row(e) for e in entries)
    return out.getvalue()


class SendCommand(Protocol):
    async def __call__(self, command: Command) -> None: ...


class Mailbox(Protocol):
    def summaries(self) -> list[dict[str, Any]]: ...

    def message(self, message_id: str) -> dict[str, Any] | None: ...


def create_console(*, model: ReadModel, directory: Directory, templates_dir: Path,
                   users: dict[str, tuple[str, User]], clock: Callable[[], datetime],
                   send_command: SendCommand | None = None, mailbox: Mailbox | None = None) -> ASGIApp:
    pages = Environment(loader=FileSystemLoader(templates_dir / "console"), autoescape=select_autoescape(["html"]))
    # Server-side text is UTC (unambiguous without JavaScript); the page script adds the reader's zone.
    pages.filters["utc"] = lambda iso: datetime.fromisoformat(iso).astimezone(UTC).strftime("%d %b %Y %H:%M UTC")

    def incidents_sorted(now: datetime) -> list[dict[str, Any]]:
        rows = [views.summary(i, directory, now) for i in model.incidents.values()]
        # Most urgent first: the nearest deadline, then the newest incident.
        return sorted(rows, key=lambda r: (min((d["seconds_left"] for d in r["deadlines"] if d["timed"]),
                                               default=10**12), r["opened_at"] or ""))

    def find(request: Request) -> tuple[Any, list[Any]] | None:
        incident_id = request.path_params["incident_id"]
        incident = model.incidents.get(incident_id)
        return None if incident is None else (incident, model.timeline.get(incident_id, []))

    async def api_incidents(request: Request) -> Response:
        return JSONResponse({"incidents": incidents_sorted(clock()), "dead_letters": dict(model.dead_letters)})

    async def api_incident(request: Request) -> Response:
        found = find(request)
        if found is None:
            return JSONResponse({"error": "no such incident"}, status_code=404)
        return JSONResponse(views.detail(found[0], found[1], directory, clock()))

    async def page_list(request: Request) -> Response:
        now = clock()
        html = pages.get_template("list.html").render(
            incidents=incidents_sorted(now), dead_letters=dict(model.dead_letters), now=now,
            user=request.scope["state"]["user"], mail=mailbox is not None)
        return HTMLResponse(html)

    async def page_detail(request: Request) -> Response:
        found = find(request)
        if found is None:
            return HTMLResponse("<p>No such incident.</p>", status_code=404)
        now = clock()
        html = pages.get_template("detail.html").render(
            incident=views.detail(found[0], found[1], directory, now), now=now,
            user=request.scope["state"]["user"], mail=mailbox is not None)
        return HTMLResponse(html)

    def command_endpoint(build: Callable[[dict[str, Any], str, User], Command]) -> Callable[..., Any]:
        """A POST that turns a JSON body into one command and answers 202: the incident agent decides
        (a refusal shows up as a CommandRejected event on the incident's timeline)."""
        async def endpoint(request: Request) -> Response:
            if send_command is None:
                return JSONResponse({"error": "this console is read-only"}, status_code=405)
            if request.headers.get("content-type", "").split(";")[0] != "application/json":
                # Also keeps cross-site HTML forms out: they cannot send JSON without a CORS pre-flight.
                return JSONResponse({"error": "send application/json"}, status_code=415)
            if find(request) is None:
                return JSONResponse({"error": "no such incident"}, status_code=404)
            try:
                body = await request.json()
                if not isinstance(body, dict):
                    raise TypeError("the body must be a JSON object")
                command = build(body, request.path_params["incident_id"], request.scope["state"]["user"])
            except (ValueError, KeyError, TypeError) as exc:
                return JSONResponse({"error": f"invalid request: {exc}"}, status_code=400)
            await send_command(command)
            return JSONResponse({"accepted": type(command).__name__, "incident_id": command.incident_id},
                                status_code=202)
        return endpoint

    def instant(body: dict[str, Any], key: str) -> datetime:
        """A time a person gives (ISO 8601 with its offset), or now; a naive time is refused."""
        value = datetime.fromisoformat(body[key]) if body.get(key) else clock()
        if value.tzinfo is None:
            raise ValueError(f"{key} needs a UTC offset")
        return value

    def awareness(body: dict[str, Any], incident_id: str, user: User) -> Command:
        return RecordAwareness(incident_id=incident_id, aware_at=instant(body, "aware_at"), by=f"user:{user.name}",
                               evidence=tuple(str(e) for e in body.get("evidence", [])))

    def correction(body: dict[str, Any], incident_id: str, user: User) -> Command:
        if not isinstance(body.get("changes"), dict):
            raise ValueError("changes must be an object of facts fields (docs/risk.md)")
        return CorrectFacts(incident_id=incident_id, changes=body["changes"], by=f"user:{user.name}",
                            reason=str(body.get("reason", "")))

    def obligation_step(body: dict[str, Any], incident_id: str, user: User) -> Command:
        return ActOnObligation(incident_id=incident_id, obligation=str(body["obligation"]),
                               action=str(body["action"]), by=f"user:{user.name}", role=user.role,
                               at=instant(body, "at"),
                               channel=str(body.get("channel", "")), reference=str(body.get("reference", "")),
                               text=str(body.get("text", "")))

    def classify(body: dict[str, Any], incident_id: str, user: User) -> Command:
        return ClassifyIncident(incident_id=incident_id, classification=str(body["classification"]),
                                by=f"user:{user.name}", at=instant(body, "at"))

    def triage(body: dict[str, Any], incident_id: str, user: User) -> Command:
        return StartTriage(incident_id=incident_id, by=f"user:{user.name}", at=clock())

    def override(body: dict[str, Any], incident_id: str, user: User) -> Command:
        return OverrideRisk(incident_id=incident_id, level=str(body["level"]),
                            justification=str(body.get("justification", "")), by=f"user:{user.name}",
                            role=user.role)

    async def api_register(request: Request) -> Response:
        entries = [register.entry(i) for i in sorted(model.incidents.values(), key=lambda i: i.opened_at)]
        if request.query_params.get("format") == "csv":
            return PlainTextResponse(register_csv(entries), media_type="text/csv; charset=utf-8",
                                     headers={"content-disposition": 'attachment; filename="breach-register.csv"'})
        return JSONResponse({"register": entries})

    async def api_mail(request: Request) -> Response:
        if mailbox is None:
            return JSONResponse({"error": "no mail catcher in this deployment"}, status_code=404)
        return JSONResponse({"messages": mailbox.summaries()})

    async def api_mail_message(request: Request) -> Response:
        message = mailbox.message(request.path_params["message_id"]) if mailbox else None
        if message is None:
            return JSONResponse({"error": "no such message"}, status_code=404)
        return JSONResponse(message)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    app = Starlette(routes=[
        Route("/", page_list),
        Route("/incidents/{incident_id}", page_detail),
        Route("/api/incidents", api_incidents),
        Route("/api/incidents/{incident_id}", api_incident),
        Route("/api/incidents/{incident_id}/triage", command_endpoint(triage), methods=["POST"]),
        Route("/api/incidents/{incident_id}/classification", command_endpoint(classify), methods=["POST"]),
        Route("/api/incidents/{incident_id}/awareness", command_endpoint(awareness), methods=["POST"]),
        Route("/api/incidents/{incident_id}/facts", command_endpoint(correction), methods=["POST"]),
        Route("/api/incidents/{incident_id}/override", command_endpoint(override), methods=["POST"]),
        Route("/api/incidents/{incident_id}/obligations", command_endpoint(obligation_step), methods=["POST"]),
        Route("/api/register", api_register),
        Route("/api/mail", api_mail),
        Route("/api/mail/{message_id}", api_mail_message),
        Route("/healthz", healthz),
    ])
    return BasicAuth(app, users)
