"""OIDC login against an identity provider served on loopback by the test: its discovery document,
JWKS and token endpoint are real HTTP, its id_tokens really signed (RS256). Authlib does the rest."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from console.app import create_console
from console.auth import AuthConfig
from console.oidc import OidcConfig
from console.read_model import ReadModel
from console.sessions import Lifetimes, SessionStore
from console.users import UserStore
from incident.profiles import Directory
from streams.embedded.services import free_port
from streams.settings import ROOT
from tests.support import eventually


@dataclass
class Provider:
    """A minimal OpenID provider: it grants the code it is given to whoever the test says."""

    port: int
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    claims: dict[str, Any] = field(default_factory=dict)  # of the next id_token
    nonce: str = ""
    token_requests: list[dict[str, str]] = field(default_factory=list)
    refresh_tokens: bool = False  # give refresh tokens (and accept them while ``refusing`` is False)
    refusing: bool = False
    down: bool = False

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> Starlette:
        async def discovery(request: Request) -> JSONResponse:
            return JSONResponse({"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                                 "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                                 "response_types_supported": ["code"], "subject_types_supported": ["public"],
                                 "id_token_signing_alg_values_supported": ["RS256"],
                                 "code_challenge_methods_supported": ["S256"]})

        async def jwks(request: Request) -> JSONResponse:
            return JSONResponse({"keys": [self.key.as_dict(private=False)]})

        async def token(request: Request) -> JSONResponse:
            form = {k: str(v) for k, v in (await request.form()).items()}
            self.token_requests.append(form)
            if form.get("grant_type") == "refresh_token":
                if self.down:
                    return JSONResponse({"error": "temporarily_unavailable"}, status_code=503)
                if self.refusing or not form["refresh_token"].startswith("rt-"):
                    return JSONResponse({"error": "invalid_grant"}, status_code=400)
            now = int(time.time())
            claims = {"iss": self.issuer, "aud": "console", "iat": now, "exp": now + 300, "nonce": self.nonce,
                      **self.claims}
            id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key)
            more = {"refresh_token": f"rt-{len(self.token_requests)}"} if self.refresh_tokens else {}
            return JSONResponse({"access_token": "at", "token_type": "Bearer", "expires_in": 300,
                                 "id_token": id_token, **more})

        return Starlette(routes=[Route("/.well-known/openid-configuration", discovery), Route("/jwks", jwks),
                                 Route("/token", token, methods=["POST"])])


@pytest_asyncio.fixture
async def provider() -> AsyncIterator[Provider]:
    idp = Provider(free_port())
    server = uvicorn.Server(uvicorn.Config(idp.app(), host="127.0.0.1", port=idp.port, log_level="warning",
                                           lifespan="off"))
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started, what="the identity provider listening")
    yield idp
    server.should_exit = True
    await task


def console(provider: Provider, tmp_path: Path, clock: Callable[[], float] = time.time) -> httpx.AsyncClient:
    users = UserStore(tmp_path / "users.json")
    auth = AuthConfig(users=users, secret="s" * 48, sessions=SessionStore(None, Lifetimes(), clock=clock))
    app = create_console(model=ReadModel(), directory=Directory.of([]), templates_dir=ROOT / "templates",
                         users=users, clock=lambda: datetime.now(UTC), auth=auth,
                         oidc=OidcConfig(issuer=provider.issuer, client_id="console", client_secret="s3cret",
                                         role_map="breach-dpo=dpo"))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://console.example")


async def start_login(client: httpx.AsyncClient, provider: Provider) -> dict[str, str]:
    """Follow the console to the provider's authorize URL; return its query (state, nonce…)."""
    response = await client.get("/login/oidc")
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(f"{provider.issuer}/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    provider.nonce = query["nonce"]
    return query


@pytest.mark.asyncio
async def test_login_redirects_to_the_providers_authorize_url_with_pkce(provider: Provider, tmp_path: Path) -> None:
    async with console(provider, tmp_path) as client:
        query = await start_login(client, provider)
    assert query["client_id"] == "console" and query["response_type"] == "code"
    assert query["redirect_uri"] == "https://console.example/auth/callback"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) >= 43
    assert {"openid", "profile", "email"} <= set(query["scope"].split())
    assert query["state"] and query["nonce"]


@pytest.mark.asyncio
async def test_a_person_with_a_console_role_is_logged_in(provider: Provider, tmp_path: Path) -> None:
    provider.claims = {"sub": "u-42", "preferred_username": "claire", "roles": ["staff", "breach-dpo"]}
    async with console(provider, tmp_path) as client:
        query = await start_login(client, provider)
        back = await client.get("/auth/callback", params={"code": "abc", "state": query["state"]})
        assert back.status_code == 303 and back.headers["location"] == "/"
        assert "Secure" in back.headers["set-cookie"]  # served over https
        # The role is the IdP's at login: such a session lasts an hour (BREACH_CONSOLE_OIDC_SESSION_HOURS).
        assert "Max-Age=3600;" in back.headers["set-cookie"]
        me = await client.get("/api/me")
        assert me.json() == {"name": "claire", "role": "dpo", "kind": "user", "actor": "user:claire",
                             "scopes": ["read", "act"], "controllers": None}  # no controllers claim: all
    (request,) = provider.token_requests
    assert request["code"] == "abc" and request["code_verifier"]  # PKCE


@pytest.mark.asyncio
async def test_a_forged_state_a_wrong_nonce_or_no_role_are_refused(provider: Provider, tmp_path: Path) -> None:
    provider.claims = {"sub": "u-1", "roles": ["staff"]}
    async with console(provider, tmp_path) as client:
        query = await start_login(client, provider)
        no_role = await client.get("/auth/callback", params={"code": "abc", "state": query["state"]})
        assert no_role.status_code == 403 and "no console role" in no_role.text
        assert (await client.get("/api/me")).status_code == 401

        provider.claims = {"sub": "u-1", "roles": ["breach-dpo"]}
        query = await start_login(client, provider)
        provider.nonce = "replayed-nonce"
        replayed = await client.get("/auth/callback", params={"code": "abc", "state": query["state"]})
        assert replayed.status_code == 401 and "nonce" in replayed.text
        assert (await client.get("/api/me")).status_code == 401

        forged = await client.get("/auth/callback", params={"code": "abc", "state": "forged"})
        assert forged.status_code == 401


@pytest.mark.asyncio
async def test_the_role_is_read_again_from_the_provider_and_a_refused_refresh_ends_the_session(
        provider: Provider, tmp_path: Path) -> None:
    provider.refresh_tokens = True
    provider.claims = {"sub": "u-42", "preferred_username": "claire", "roles": ["breach-dpo"]}
    now = [1_800_000_000.0]
    async with console(provider, tmp_path, clock=lambda: now[0]) as client:
        query = await start_login(client, provider)
        back = await client.get("/auth/callback", params={"code": "abc", "state": query["state"]})
        assert "Max-Age=43200;" in back.headers["set-cookie"]  # refreshable: the full lifetime
        assert (await client.get("/api/me")).json()["role"] == "dpo"
        provider.claims = {**provider.claims, "roles": ["responder"]}  # changed at the provider
        now[0] += 60
        assert (await client.get("/api/me")).json()["role"] == "dpo"  # read again every 5 minutes, not per request
        now[0] += 5 * 60
        asked = len(provider.token_requests)
        answers = await asyncio.gather(*(client.get("/api/me") for _ in range(3)))  # a page's parallel requests
        assert [a.json()["role"] for a in answers] == ["responder"] * 3
        (refresh,) = provider.token_requests[asked:]  # one refresh for them all
        assert refresh["grant_type"] == "refresh_token" and refresh["refresh_token"] == "rt-1"
        provider.claims = {**provider.claims, "roles": ["staff"]}  # no console role any more
        now[0] += 5 * 60
        assert (await client.get("/api/me")).status_code == 401
        # Logged in again; then the provider ends the person's session: the refresh is refused.
        provider.claims = {**provider.claims, "roles": ["breach-dpo"]}
        query = await start_login(client, provider)
        await client.get("/auth/callback", params={"code": "abc", "state": query["state"]})
        assert (await client.get("/api/me")).status_code == 200
        provider.down = True  # the provider unreachable: the role read last is trusted for an hour
        for _ in range(11):
            now[0] += 5 * 60
            assert (await client.get("/api/me")).status_code == 200
        now[0] += 5 * 60 + 1
        assert (await client.get("/api/me")).status_code == 401
        query = await start_login(client, provider)
        await client.get("/auth/callback", params={"code": "abc", "state": query["state"]})
        provider.down, provider.refusing = False, True  # the provider ended the person's session
        now[0] += 5 * 60
        assert (await client.get("/api/me")).status_code == 401


@pytest.mark.asyncio
async def test_the_controllers_claim_grants_controllers_and_is_read_again_at_refresh(
        provider: Provider, tmp_path: Path) -> None:
    """``breach_controllers`` (BREACH_OIDC_CONTROLLER_CLAIM): a list or a string of ids; ``*`` for all;
    empty: no login; changed at the provider: the session's grant follows at the next refresh."""
    provider.refresh_tokens = True
    provider.claims = {"sub": "u-7", "preferred_username": "amelie", "roles": ["breach-dpo"],
                       "breach_controllers": []}
    now = [1_800_000_000.0]
    async with console(provider, tmp_path, clock=lambda: now[0]) as client:
        query = await start_login(client, provider)
        refused = await client.get("/auth/callback", params={"code": "abc", "state": query["state"]})
        assert refused.status_code == 403 and "no controller" in refused.text
        assert (await client.get("/api/me")).status_code == 401
        provider.claims = {**provider.claims, "breach_controllers": ["ama"]}
        query = await start_login(client, provider)
        await client.get("/auth/callback", params={"code": "abc", "state": query["state"]})
        assert (await client.get("/api/me")).json()["controllers"] == ["ama"]
        provider.claims = {**provider.claims, "breach_controllers": "ama ampere"}  # changed at the provider
        now[0] += 5 * 60
        assert (await client.get("/api/me")).json()["controllers"] == ["ama", "ampere"]
        provider.claims = {**provider.claims, "breach_controllers": ["*"]}
        now[0] += 5 * 60
        assert (await client.get("/api/me")).json()["controllers"] is None
        provider.claims = {**provider.claims, "breach_controllers": []}  # every controller withdrawn
        now[0] += 5 * 60
        assert (await client.get("/api/me")).status_code == 401
