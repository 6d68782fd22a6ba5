"""What every route module of the console shares: the read model and the parts create_console was
given, and the few helpers each route needs (who asks, in which language, the page to answer
with, the incident the path names). One object, so a route module is a function of it
(``routes(site)``) instead of a closure inside the factory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import jinja2
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from console import actions, domain_text, i18n, notes, refusals
from console.auth import AuthConfig
from console.oidc import Oidc
from console.read_model import ReadModel
from console.throttle import PasswordCheck
from console.users import User
from console.views import human_time
from incident.commands import Command
from incident.model import Incident
from incident.profiles import Directory
from incident.standing import duration
from streams.mail import mass
from streams.mail.render import NoticeRenderer

STATES = ("open", "triage", "aware", "assessed", "drafts_requested", "drafts_delivered", "draft_failed", "submitted",
          "closed", "merged", "dismissed")
LEVELS = ("unlikely", "risk", "high")


class SendCommand(Protocol):
    async def __call__(self, command: Command) -> None: ...


class ImportSubjects(Protocol):
    """streams.mail.mass.import_subjects bound to the broker: the CLI's own code path (the valid recipients
    to ``affected-subjects``, then a RecordSubjects command with the counts)."""

    async def __call__(self, incident_id: str, data: bytes, *, fmt: str, default_locale: str,
                       by: str) -> mass.Imported: ...


class Mailbox(Protocol):
    def summaries(self) -> list[dict[str, Any]]: ...

    def message(self, message_id: str) -> dict[str, Any] | None: ...


def local_path(target: str | None, default: str = "/") -> str:
    """Where to go after a login or a form: a path on this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def console_pages(templates_dir: Path) -> Environment:
    """The console's templates, autoescaped; a missing value is an error, not an empty string."""
    pages = Environment(loader=FileSystemLoader(templates_dir / "console"), autoescape=select_autoescape(["html"]),
                        undefined=jinja2.StrictUndefined)
    # Server-side text is UTC (unambiguous without JavaScript), month names in the reader's
    # language; the page script adds the reader's zone.
    pages.filters["utc"] = jinja2.pass_context(
        lambda context, iso: human_time(datetime.fromisoformat(iso), context.get("lang", "en")))
    # A domain key (a level, a breach type, an anchor…) in the reader's language.
    pages.filters["words"] = jinja2.pass_context(lambda context, value: i18n.word(value, context.get("lang", "en")))
    pages.filters["left"] = jinja2.pass_context(_left)
    pages.filters["markdown"] = notes.render  # a note's Markdown, safely (console/notes.py)
    # Who acted and an obligation's reference as the reader says them (console/domain_text.py); the
    # raw actor id stays in the title.
    pages.filters["actor"] = jinja2.pass_context(_actor)
    pages.filters["legal_ref"] = jinja2.pass_context(
        lambda context, ref: domain_text.legal_ref(ref, context.get("lang", "en")))
    pages.filters["workflow_reference"] = jinja2.pass_context(
        lambda context, ref: domain_text.workflow_reference(ref, context.get("lang", "en")))
    pages.filters["signal_reason"] = jinja2.pass_context(
        lambda context, reason, why=(): domain_text.signal_reason(reason, context.get("lang", "en"), why or ()))
    return pages


def _actor(context: Any, by: str | None) -> Markup:
    said = domain_text.actor(by, context.get("lang", "en"))
    if said == (by or ""):
        return Markup("{}").format(said)
    return Markup('<span class="actor" title="{}">{}</span>').format(by, said)


def _left(context: Any, seconds: int | None) -> str:
    """A countdown's text before the page script ticks it ("71 h 42 min left"), in the reader's words."""
    if seconds is None:
        return ""
    t = context["t"]
    text = duration(seconds)
    return f"{text} {t['left']}" if seconds >= 0 else f"{t['overdue_by']} {text}"


@dataclass
class Site:
    model: ReadModel
    directory: Directory
    config: AuthConfig
    passwords: PasswordCheck
    clock: Callable[[], datetime]
    pages: Environment
    renderer: NoticeRenderer
    identity: Oidc | None = None
    mailbox: Mailbox | None = None
    send_command: SendCommand | None = None
    import_subjects: ImportSubjects | None = None
    entity_hash: Callable[[str], str] | None = None
    clock_speed: float = 1.0

    @staticmethod
    def user_of(request: Request) -> User:
        user: User = request.scope["state"]["user"]
        return user

    @staticmethod
    def lang_of(request: Request) -> str:
        return i18n.pick(request.headers.get("accept-language", ""), request.scope.get("session", {}).get("lang"))

    def page(self, request: Request, template: str, status: int = 200, headers: Mapping[str, str] | None = None,
             **values: Any) -> Response:
        session = request.scope.get("session", {})
        lang = self.lang_of(request)
        user = request.scope["state"].get("user")
        html = self.pages.get_template(template).render(
            t=i18n.translator(lang), lang=lang, user=user, csrf_token=session.get("csrf", ""),
            refusal=lambda reason: i18n.refusal(reason, lang),
            factor_rows=lambda factors: domain_text.factor_rows(self.renderer, factors, lang),
            exception_reason=lambda e: domain_text.exception_reason(e["article"], e["reason"], lang),
            flash=session.pop("flash", None), mail=self.mailbox is not None, oidc=self.identity is not None,
            server_now=self.clock().isoformat(), clock_speed=self.clock_speed, path=request.url.path, **values)
        return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store", **(headers or {})})

    def missing(self, request: Request, status: int = 404) -> Response:
        return self.page(request, "missing.html", status)

    def refused(self, request: Request, reason: str, status: int = 403, incident_id: str | None = None) -> Response:
        return self.page(request, "refused.html", status, reason=reason, incident_id=incident_id, code=status)

    def find(self, request: Request) -> tuple[Incident, list[Any]] | None:
        """The incident the path names, if it exists for the reader (console/tenants.py checks it
        before the route runs too: another controller's incident is missing, never forbidden)."""
        incident_id = request.path_params["incident_id"]
        incident = self.model.incidents.get(incident_id)
        if incident is None or not self.user_of(request).sees(incident.controller):
            return None
        return incident, self.model.timeline.get(incident_id, [])

    def people(self, controller: str | None) -> list[str]:
        """Who may own an incident of ``controller``: the console users who may act and are granted it."""
        return [u.name for u in self.config.users.list() if u.role in actions.RESPONDERS and u.sees(controller)]


def is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")


async def json_object(request: Request) -> dict[str, Any] | Response:
    """The JSON object a POST to the API sends, or the error response to answer it with."""
    if request.headers.get("content-type", "").split(";")[0] != "application/json":
        return JSONResponse({"error": "send application/json"}, status_code=415)
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"error": refusals.invalid("the body is not JSON")}, status_code=400)
    if not isinstance(body, dict):
        return JSONResponse({"error": refusals.invalid("the body must be a JSON object")}, status_code=400)
    return body
