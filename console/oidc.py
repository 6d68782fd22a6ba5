"""Log in through the organisation's identity provider (OpenID Connect, Authlib's Starlette client).

Authorization-code flow with PKCE (S256); Authlib checks the id_token's signature, issuer,
audience and nonce. The console role comes from a claim (``roles`` by default, a list or a
string): the most trusted of its values that is a console role wins; a person with none is
refused. The controllers whose incidents the person sees come from another claim
(``breach_controllers`` by default, ``BREACH_OIDC_CONTROLLER_CLAIM``: a list, or a string of ids
separated by spaces or commas; ``*`` for all): a provider that does not send it grants every
controller, as before tenants existed; one that sends it empty grants none, and the login is
refused. The local users stay available as the break-glass path when the IdP is down.

When the provider gives a refresh token, the console keeps it in the server-side session and
reads the role again every ``RECHECK_SECONDS`` (``refresh``, called by the Guard): a role
withdrawn or changed at the provider takes effect within minutes, and a refused refresh ends the
session. Without a refresh token, an OIDC session lasts ``BREACH_CONSOLE_OIDC_SESSION_HOURS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from console.audit import LoginAudit
from console.auth import client_of, login
from console.sessions import IdpUnreachable
from console.users import ROLES, User

log = structlog.get_logger("breach.console.oidc")
RECHECK_SECONDS = 300.0  # how often a refreshable OIDC session's role is read again from the provider


@dataclass(frozen=True, slots=True)
class OidcConfig:
    issuer: str  # https://idp.example.org/realms/x — its /.well-known/openid-configuration is read
    client_id: str
    client_secret: str
    redirect_url: str = ""  # empty: <this console>/auth/callback
    role_claim: str = "roles"
    scopes: str = "openid profile email"
    # ``roles`` claim value → console role, for IdPs whose group names differ ("breach-dpo=dpo,…").
    role_map: str = ""
    controller_claim: str = "breach_controllers"

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    def role_of(self, claims: dict[str, Any]) -> str | None:
        raw = claims.get(self.role_claim) or []
        values = [raw] if isinstance(raw, str) else [str(v) for v in raw]
        mapping = dict(item.split("=", 1) for item in filter(None, self.role_map.split(",")))
        roles = {mapping.get(v, v) for v in values} & set(ROLES)
        return max(roles, key=ROLES.index) if roles else None

    def controllers_of(self, claims: dict[str, Any]) -> frozenset[str] | None:
        """The controllers the claims grant: None (every one) when the claim is absent or says ``*``;
        an empty set when it names none."""
        if self.controller_claim not in claims:
            return None
        raw = claims[self.controller_claim]
        values = re.split(r"[\s,]+", raw) if isinstance(raw, str) else [str(v) for v in raw or ()]
        named = {v.strip() for v in values if v.strip()}
        return None if "*" in named else frozenset(named)


class Oidc:
    def __init__(self, config: OidcConfig, audit: LoginAudit | None = None) -> None:
        # Imported here: only a console with OIDC configured loads Authlib (and its httpx warnings).
        from authlib.integrations.starlette_client import OAuth

        self.config = config
        self.audit = audit or LoginAudit()
        self.oauth = OAuth()
        self.oauth.register("idp", client_id=config.client_id, client_secret=config.client_secret,
                            server_metadata_url=config.discovery_url,
                            client_kwargs={"scope": config.scopes, "code_challenge_method": "S256"})

    async def start(self, request: Request) -> Response:
        redirect = self.config.redirect_url or str(request.url_for("oidc_callback"))
        try:
            response: Response = await self.oauth.idp.authorize_redirect(request, redirect)
        except Exception as exc:  # the IdP unreachable or its discovery document broken
            log.error("oidc.discovery_failed", error=type(exc).__name__)
            return PlainTextResponse("The identity provider cannot be reached; use a local account.", 503)
        return response

    async def callback(self, request: Request) -> Response:
        from authlib.integrations.starlette_client import OAuthError
        from joserfc.errors import JoseError

        client = client_of(request.scope)
        try:
            token = await self.oauth.idp.authorize_access_token(request)
        except OAuthError as exc:  # a forged or stale state, or the provider said no
            self.audit.record(who="", client=client, method="oidc", ok=False, reason=f"refused: {exc.error}")
            return PlainTextResponse(f"Login refused: {exc.error}", 401)
        except JoseError as exc:  # the id_token: bad signature, issuer, audience, nonce or expiry
            self.audit.record(who="", client=client, method="oidc", ok=False, reason=f"bad id_token: {exc.error}")
            reason = exc.description or exc.error
            return PlainTextResponse(f"Login refused: the identity token is not valid ({reason})", 401)
        claims = dict(token.get("userinfo") or {})
        role = self.config.role_of(claims)
        name = str(claims.get("preferred_username") or claims["sub"])
        if role is None:
            self.audit.record(who=f"user:{name}", client=client, method="oidc", ok=False, reason="no console role")
            return PlainTextResponse("Your account has no console role; ask an administrator.", 403)
        grant = self.config.controllers_of(claims)
        if grant == frozenset():
            self.audit.record(who=f"user:{name}", client=client, method="oidc", ok=False, reason="no controller")
            return PlainTextResponse("Your account is granted no controller; ask an administrator.", 403)
        login(request.session, User(name, role, controllers=grant), via="oidc")
        if token.get("refresh_token"):  # kept server-side only (console/sessions.py), for ``refresh``
            request.session["oidc"] = {"refresh_token": str(token["refresh_token"])}
        self.audit.record(who=f"user:{name}", client=client, method="oidc", ok=True)
        return RedirectResponse("/", status_code=303)

    async def refresh(self, refresh_token: str) -> tuple[str | None, frozenset[str] | None, str]:
        """The person's role as the provider says now (None: refused, or no console role any more),
        the controllers it grants now (None: all), and the refresh token to keep (rotated or the
        same). Raises IdpUnreachable when it cannot ask."""
        from authlib.integrations.base_client import OAuthError
        from joserfc.errors import JoseError

        try:
            token = await self.oauth.idp.fetch_access_token(grant_type="refresh_token", refresh_token=refresh_token)
        except OAuthError as exc:  # invalid_grant: the session or the account ended at the provider
            log.info("oidc.refresh_refused", error=exc.error)
            return None, None, refresh_token
        except Exception as exc:  # the provider down or unreachable: the caller decides how long to trust
            raise IdpUnreachable(type(exc).__name__) from exc
        try:
            if "id_token" in token:
                claims = dict(await self.oauth.idp.parse_id_token(token, nonce=None) or {})
            else:
                claims = dict(await self.oauth.idp.userinfo(token=token))
        except JoseError as exc:
            log.warning("oidc.refresh_bad_id_token", error=exc.error)
            return None, None, refresh_token
        except Exception as exc:
            raise IdpUnreachable(type(exc).__name__) from exc
        return self.config.role_of(claims), self.config.controllers_of(claims), \
            str(token.get("refresh_token") or refresh_token)
