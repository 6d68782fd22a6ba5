"""create_console(...) -> an ASGI app: HTML pages, forms, live updates (SSE) and the JSON API,
every route behind console.auth.Guard (authentication, roles, CSRF).

The routes live in one module per resource, each a ``routes(site)`` over the shared
console.site.Site: incidents (the list, one incident), acting (the commands), notices, subjects
(the people affected), report, register, rejected, mail, live (SSE), login, admin (users and
tokens). This module composes them; console/tenants.py wraps every route that names an incident.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from console import (
    acting,
    admin,
    incidents,
    live,
    mail,
    notices,
    openapi,
    register,
    rejected,
    report,
    resend,
    subjects,
    tenants,
)
from console import login as login_routes
from console.auth import AuthConfig, Guard, wants_json
from console.limits import BodyTooLarge
from console.oidc import Oidc, OidcConfig
from console.read_model import ReadModel
from console.site import LEVELS, STATES, ImportSubjects, Mailbox, SendCommand, Site, console_pages
from console.throttle import PasswordCheck
from console.users import ROLES, SCOPES, UserStore
from incident.profiles import Directory
from streams.mail.render import NoticeRenderer

# Re-exported: what the CLI, the embedded stack and the tests import from here.
__all__ = ["BUILDERS", "LEVELS", "STATES", "ImportSubjects", "Mailbox", "SendCommand", "create_console",
           "register_csv"]
BUILDERS = acting.BUILDERS
register_csv = register.register_csv
STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_console(*, model: ReadModel, directory: Directory, templates_dir: Path, users: UserStore,
                   clock: Callable[[], datetime], send_command: SendCommand | None = None,
                   mailbox: Mailbox | None = None, auth: AuthConfig | None = None,
                   oidc: OidcConfig | None = None, clock_speed: float = 1.0,
                   import_subjects: ImportSubjects | None = None,
                   entity_hash: Callable[[str], str] | None = None,
                   resend_in_doubt: resend.ResendInDoubt | None = None) -> ASGIApp:
    """``entity_hash``: the correlator's keyed hash of an entity's value (its salt), so the list's
    search finds the incidents a user name or an IP address linked; None: search by words only."""
    config = auth or AuthConfig(users=users, secret=secrets.token_urlsafe(48))
    site = Site(model=model, directory=directory, config=config,
                passwords=PasswordCheck(config.users, config.throttle),  # the login page's and the Guard's
                clock=clock, pages=console_pages(templates_dir),
                renderer=NoticeRenderer(templates_dir / "notices"),  # the notifier's own templates
                identity=Oidc(oidc, config.audit) if oidc is not None else None, mailbox=mailbox,
                send_command=send_command, import_subjects=import_subjects, entity_hash=entity_hash,
                clock_speed=clock_speed)

    async def api_openapi(request: Request) -> Response:
        return JSONResponse(openapi.document(states=STATES, levels=LEVELS, roles=ROLES, scopes=SCOPES))

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def too_large(request: Request, exc: Exception) -> Response:
        """A body cut off by the Guard's limit while a route read it (console.limits.bounded)."""
        message = f"the request body is larger than {getattr(exc, 'limit', '?')} bytes"
        close = {"connection": "close"}  # what is left of the body is not read
        if wants_json(request.scope):
            return JSONResponse({"error": message}, status_code=413, headers=close)
        return PlainTextResponse(f"Refused: {message}.", status_code=413, headers=close)

    routes: list[BaseRoute] = [
        *incidents.routes(site), *notices.routes(site), *report.routes(site), *acting.routes(site),
        *subjects.routes(site),
        Route("/api/incidents/{incident_id}/resend_in_doubt", resend.endpoint(model, resend_in_doubt),
              methods=["POST"]),
        *register.routes(site), *rejected.routes(site), *mail.routes(site), *admin.routes(site),
        *login_routes.routes(site), *live.routes(site),
        Route("/api/openapi.json", api_openapi),
        Route("/healthz", healthz),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(exception_handlers={BodyTooLarge: too_large},
                    routes=tenants.guard_incident_routes(routes, model, site.missing))
    return Guard(app, config, site.passwords, refresh=site.identity.refresh if site.identity is not None else None)
