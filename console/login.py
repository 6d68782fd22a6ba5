"""Logging in and out (the login page, OIDC, a personal token for the CLI), the reader's language,
and who the reader is (``/api/me``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from console import i18n, personal_tokens, refusals
from console.admin import grant_json
from console.auth import check_password, client_of, login
from console.site import Site, local_path
from console.throttle import Busy, Throttled


def routes(site: Site) -> list[BaseRoute]:
    config = site.config

    async def login_page(request: Request) -> Response:
        if request.method == "GET":
            return site.page(request, "login.html", next=local_path(request.query_params.get("next")), failed=False)
        form = await request.form()
        name, password = str(form.get("username", "")), str(form.get("password", ""))
        again = local_path(str(form.get("next", "")))
        try:  # argon2 in the checker's pool, off the event loop; guessing backs off (console.throttle)
            user = await check_password(site.passwords, config.users, config.audit, name, password,
                                        client_of(request.scope), "password")
        except Throttled as exc:
            return site.page(request, "login.html", 429, next=again, failed=True,
                             headers={"retry-after": str(max(1, round(exc.retry_after)))})
        except Busy:
            return site.page(request, "login.html", 503, next=again, failed=True, headers={"retry-after": "1"})
        if user is None:
            return site.page(request, "login.html", 401, next=again, failed=True)
        login(request.scope["session"], user)
        return RedirectResponse(again, status_code=303)

    async def logout(request: Request) -> Response:
        request.scope["session"].clear()  # the Guard ends the server-side session: its cookie is worth nothing
        return RedirectResponse("/login", status_code=303)

    async def set_language(request: Request) -> Response:
        form = await request.form()
        if form.get("lang") in i18n.LANGUAGES:
            request.scope["session"]["lang"] = str(form["lang"])
        return RedirectResponse(local_path(str(form.get("next", ""))), status_code=303)

    async def oidc_login(request: Request) -> Response:
        if site.identity is None:
            return PlainTextResponse(refusals.NO_SSO, 404)
        return await site.identity.start(request)

    async def oidc_callback(request: Request) -> Response:
        if site.identity is None:
            return PlainTextResponse(refusals.NO_SSO, 404)
        return await site.identity.callback(request)

    async def api_me(request: Request) -> Response:
        user = site.user_of(request)
        return JSONResponse({"name": user.name, "role": user.role, "kind": user.kind, "actor": user.actor,
                             "scopes": list(user.scopes), "controllers": grant_json(user)})

    return [Route("/login", login_page, methods=["GET", "POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/settings/language", set_language, methods=["POST"]),
            Route("/login/oidc", oidc_login),
            Route("/auth/callback", oidc_callback, name="oidc_callback"),
            Route("/api/me", api_me),
            Route("/api/me/token", personal_tokens.endpoint(config.secret, config.session_hours, config.users),
                  methods=["POST"])]
