"""The admin's routes: console users (the users page, ``/api/users``), their sessions, and API
tokens. Every one checks the admin role here, in ``_refused``, before anything is read."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from console import refusals
from console.site import Site, is_form
from console.users import ROLES, UNCHANGED, Unchanged, User, UserError, check_controllers, parse_controllers

log = structlog.get_logger("breach.console")
USERS_PAGE = "/admin/users"


def grant_json(user: User) -> list[str] | None:
    return None if user.controllers is None else sorted(user.controllers)


def grant_of_body(value: Any) -> frozenset[str] | Unchanged | None:
    """A user's grant as the API (a list of ids; null: all; absent: unchanged) or the form ("a, b";
    "*": all; empty: unchanged) sends it. Unchanged is all for a new user."""
    if isinstance(value, Unchanged) or value == "":
        return UNCHANGED
    if value is None or isinstance(value, str):
        return parse_controllers(value or "*")
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return check_controllers(value)
    raise UserError("controllers must be a list of controller ids, or null for all of them")


def routes(site: Site) -> list[BaseRoute]:
    def refused(request: Request, reason: str) -> Response | None:
        """None for an admin; else the users page's 403 (a form) or the API's."""
        if site.user_of(request).role == "admin":
            return None
        return site.missing(request, 403) if is_form(request) else JSONResponse({"error": reason}, status_code=403)

    def answered(request: Request, flash: str, answer: dict[str, Any], status: int) -> Response:
        """A form goes back to the users page with a flash; the API answers JSON."""
        if is_form(request):
            request.session["flash"] = flash
            return RedirectResponse(USERS_PAGE, status_code=303)
        return JSONResponse(answer, status_code=status)

    async def page_users(request: Request) -> Response:
        if site.user_of(request).role != "admin":
            return site.missing(request, 403)
        config = site.config
        return site.page(request, "users.html", users=config.users.list(), roles=ROLES,
                         sessions=config.session_store.of_user(), tokens=config.tokens.list(),
                         logins=config.audit.latest())

    async def users_endpoint(request: Request) -> Response:
        """Admins list users (GET) or add/replace one (POST, JSON or the users page's form)."""
        if (refusal := refused(request, refusals.ADMIN_USERS)) is not None:
            return refusal
        users = site.config.users
        if request.method == "GET":
            return JSONResponse({"users": [{"name": u.name, "role": u.role, "controllers": grant_json(u)}
                                           for u in users.list()]})
        try:
            body: Any = dict(await request.form()) if is_form(request) else await request.json()
            if not isinstance(body, dict):
                raise UserError("the body must be a JSON object")
            values = [body.get(k) for k in ("name", "password", "role")]
            if not all(isinstance(v, str) for v in values):
                raise UserError("name, password and role are required strings")
            grant = grant_of_body(body.get("controllers", UNCHANGED))
            added = await asyncio.to_thread(users.add, str(values[0]), str(values[1]), str(values[2]),
                                            replace=True, controllers=grant)
        except (UserError, ValueError) as exc:
            return answered(request, str(exc), {"error": str(exc)}, 400)
        log.info("console.user_saved", role=added.role)
        return answered(request, f"{added.name}: {added.role}",
                        {"name": added.name, "role": added.role, "controllers": grant_json(added)}, 201)

    async def tokens_endpoint(request: Request) -> Response:
        """Admins list the API tokens (never their secret: console.users.TokenStore.list)."""
        if site.user_of(request).role != "admin":
            return JSONResponse({"error": refusals.ADMIN_TOKENS}, status_code=403)
        return JSONResponse({"tokens": await asyncio.to_thread(site.config.tokens.list)})

    async def revoke_token(request: Request) -> Response:
        """An admin revokes a token (the users page's button, or JSON): refused from its next request."""
        if (refusal := refused(request, refusals.ADMIN_TOKENS)) is not None:
            return refusal
        label = request.path_params["label"]
        try:
            await asyncio.to_thread(site.config.tokens.revoke, label)
        except UserError as exc:
            return answered(request, str(exc), {"error": str(exc)}, 404)
        log.info("console.token_revoked")
        return answered(request, f"{label}: revoked", {"label": label, "revoked": True}, 200)

    async def logout_everywhere(request: Request) -> Response:
        """An admin ends every session of one user (the users page's button, or JSON)."""
        if (refusal := refused(request, refusals.ADMIN_USERS)) is not None:
            return refusal
        name = request.path_params["name"]
        ended = await asyncio.to_thread(site.config.session_store.end_user, name)
        log.info("console.sessions_ended", ended=ended)
        return answered(request, f"{name}: {ended}", {"name": name, "ended": ended}, 200)

    table: list[tuple[str, Callable[[Request], Awaitable[Response]], list[str]]] = [
        ("/admin/users", page_users, ["GET"]),
        ("/api/users", users_endpoint, ["GET", "POST"]),
        ("/api/users/{name}/logout", logout_everywhere, ["POST"]),
        ("/api/tokens", tokens_endpoint, ["GET"]),
        ("/api/tokens/{label}/revoke", revoke_token, ["POST"]),
    ]
    return [Route(path, endpoint, methods=methods) for path, endpoint, methods in table]
