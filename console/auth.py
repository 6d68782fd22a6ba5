"""Authentication, sessions and CSRF for every route of the console, as one ASGI middleware.

Before anyone is asked who they are, the HTTP boundary (console/limits.py): the Host header,
the body's size, and the security headers on whatever the answer turns out to be.

Who is asking, in this order:
1. ``Authorization: Bearer brt_…`` — a scoped API token (machines); ``read`` for GET, ``act`` for commands.
   ``Bearer brp_…`` — a person's own short-lived token, from `breach login` (console/personal_tokens.py).
2. ``Authorization: Basic`` — a local user's name and password (scripts, ``curl -u``, the ``breach`` CLI).
   The console never sends a Basic challenge, so browsers never cache these credentials. The
   password is checked as the login page's is (console/throttle.py: off the event loop, backing off).
3. The session cookie — a person who logged in on /login (local user) or through OIDC.

A request nobody vouches for gets 401 (the API, /events) or a redirect to /login (pages), on
every route but the few in ``OPEN_PATHS``. An unsafe request (POST…) authenticated by the
cookie must carry the session's CSRF token, in the ``csrf_token`` form field or the
``X-CSRF-Token`` header; Bearer and Basic are not sent by browsers on their own, so they need none.

A logged-in session lives in the console (console/sessions.py: revocable, with an absolute
lifetime and an idle timeout); its cookie carries only the session's random id, signed, set at
login and not again. Before login, the little a page needs (the language, the login form's CSRF
token, the OIDC round trip's state) rides in the signed cookie itself: nothing there vouches for
anyone. Both are ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` when served over https.

Every login attempt (the login page, HTTP Basic, a token, OIDC) goes to the audit (console/audit.py).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, quote

import structlog
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console import personal_tokens
from console.audit import LoginAudit
from console.limits import (
    IMPORT_LIMIT,
    BodyTooLarge,
    body_limit,
    bounded,
    declared_length,
    host_ok,
    with_headers,
)
from console.sessions import IdpUnreachable, Lifetimes, SessionStore
from console.throttle import Busy, PasswordCheck, Policy, Throttled
from console.users import TokenStore, User, UserError, UserStore

log = structlog.get_logger("breach.console.auth")

# Reachable without logging in: the login page itself (and its language switch), the OIDC round trip,
# the pages' assets, health.
OPEN_PATHS = ("/login", "/settings/language", "/login/oidc", "/auth/callback", "/healthz")
OPEN_PREFIXES = ("/static/",)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
COOKIE = "breach_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = b"x-csrf-token"
BASIC_CACHE_SECONDS = 60.0  # argon2 is slow on purpose: a script's repeated calls reuse one check
AUDIT_REPEAT_SECONDS = 60.0  # a token's successful uses are audited once a minute, not per API call
LOGIN = "_login"  # set in the session by login(): the Guard starts a new server-side session
OIDC_RECHECK_SECONDS = 300.0  # a refreshable OIDC session's role is read again from the provider this often
# A refresh token → (the role the provider gives now, or None: over; the controllers it grants, None:
# all; the refresh token to keep): console.oidc.
Refresh = Callable[[str], Awaitable[tuple[str | None, frozenset[str] | None, str]]]


def parse_users(spec: str) -> UserStore:
    """'name:password:role,...' → an in-memory user store (kept for callers of the first console)."""
    try:
        return UserStore.from_spec(spec)
    except UserError as exc:
        raise ValueError(str(exc)) from None


@dataclass
class AuthConfig:
    users: UserStore
    secret: str
    tokens: TokenStore = field(default_factory=TokenStore)
    session_hours: float = 12.0  # absolute lifetime of a login
    idle_minutes: float = 30.0  # a session unused this long is over
    oidc_session_hours: float = 1.0  # an OIDC login's lifetime: its role is read again at the next login
    # None: sessions in memory only (a console built without settings); see console.wiring.
    sessions: SessionStore | None = None
    audit: LoginAudit = field(default_factory=LoginAudit)
    secure_cookies: str = "auto"  # auto (Secure over https) | always
    # Host names answered (console.limits.allowed_hosts); None: any (a console built without settings).
    allowed_hosts: tuple[str, ...] | None = None
    max_import_bytes: int = IMPORT_LIMIT
    throttle: Policy = field(default_factory=Policy)

    def __post_init__(self) -> None:
        if self.sessions is None:
            self.sessions = SessionStore(None, self.lifetimes)

    @property
    def lifetimes(self) -> Lifetimes:
        return Lifetimes(absolute=self.session_hours * 3600, idle=self.idle_minutes * 60,
                         oidc_absolute=min(self.session_hours, self.oidc_session_hours) * 3600)

    @property
    def session_store(self) -> SessionStore:
        assert self.sessions is not None  # made in __post_init__
        return self.sessions


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


def wants_json(scope: Scope) -> bool:
    path: str = scope["path"]
    accept = dict(scope.get("headers") or []).get(b"accept", b"")
    return path.startswith("/api/") or path == "/events" or (b"application/json" in accept and b"html" not in accept)


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


class Guard:
    """The middleware: session in, principal found, route protected, CSRF checked, session out."""

    def __init__(self, app: ASGIApp, config: AuthConfig, passwords: PasswordCheck | None = None,
                 refresh: Refresh | None = None) -> None:
        self.app, self.config, self.refresh = app, config, refresh
        self.passwords = passwords or PasswordCheck(config.users, config.throttle)
        self.signer = URLSafeTimedSerializer(config.secret, salt="breach-console-session")
        self._basic_cache: dict[str, tuple[str, str, float]] = {}
        self._audited: dict[str, float] = {}  # token label → when its last success was audited
        # session id → its refresh
        self._refreshing: dict[str, asyncio.Future[tuple[str | None, frozenset[str] | None, str]]] = {}

    # --- who -------------------------------------------------------------------------------------
    async def _load_session(self, scope: Scope) -> tuple[dict[str, Any], str | None, bool]:
        """(the session's data, the server-side session's id or None, whether a cookie came)."""
        raw = dict(scope.get("headers") or []).get(b"cookie", b"").decode("latin-1")
        morsel = SimpleCookie(raw).get(COOKIE) if raw else None
        if morsel is None:
            return {}, None, False
        try:
            data = self.signer.loads(morsel.value, max_age=int(self.config.session_hours * 3600))
        except BadSignature:
            return {}, None, True
        if not isinstance(data, dict):
            return {}, None, True
        sid = data.get("sid")
        if not isinstance(sid, str):
            data.pop("user", None)  # an anonymous cookie vouches for no one (nor do the signed cookies of old)
            return data, None, True
        sessions = self.config.session_store
        found = sessions.get(sid)
        if found is None:  # logged out, logged out everywhere, expired, or never was
            return {}, None, True
        if found["via"] != "oidc" and self.config.users.stamp(found["name"]) != found["stamp"]:
            sessions.end(sid)  # the password or the role changed, or the user was removed
            log.info("console.session_ended", reason="user changed")
            return {}, None, True
        if found["via"] == "oidc":
            found = await self._recheck_oidc(sid, found, client_of(scope))
            if found is None:
                return {}, None, True
        return {**found["data"], "user": {"name": found["name"], "role": found["role"], "via": found["via"],
                                          "controllers": found.get("controllers")}}, sid, True

    async def _recheck_oidc(self, sid: str, found: dict[str, Any], client: str) -> dict[str, Any] | None:
        """An OIDC session's role, read again from the provider when due (console.oidc.Oidc.refresh);
        None: the session is over (refused, or no console role any more). An unreachable provider
        leaves the last role trusted for the OIDC session lifetime from when it was last read."""
        sessions = self.config.session_store
        oidc = found["data"].get("oidc") or {}
        token, checked = oidc.get("refresh_token"), float(oidc.get("checked", found["created"]))
        now = sessions.clock()
        if self.refresh is None or not token or now - checked < OIDC_RECHECK_SECONDS:
            return found
        # A page's parallel requests share one refresh: a provider that rotates refresh tokens
        # would refuse the second use of the same one.
        task = self._refreshing.get(sid)
        if task is None:
            task = self._refreshing[sid] = asyncio.ensure_future(self.refresh(str(token)))
            task.add_done_callback(lambda _: self._refreshing.pop(sid, None))
        try:
            role, grant, token = await asyncio.shield(task)
        except IdpUnreachable:
            if now - checked < sessions.lifetimes.oidc_absolute:
                return found
            role, grant = None, None
        if role is None or grant == frozenset():
            sessions.end(sid)
            self.config.audit.record(who=f"user:{found['name']}", client=client, method="oidc", ok=False,
                                     reason="refresh: refused or no console role")
            return None
        data = {**found["data"], "oidc": {"refresh_token": token, "checked": now}}
        controllers = None if grant is None else sorted(grant)
        sessions.update(sid, data, role=role, controllers=controllers)
        if role != found["role"] or controllers != found.get("controllers"):
            log.info("console.session_role_changed", role=role)
        return {**found, "role": role, "data": data, "controllers": controllers}

    async def _basic(self, value: bytes, client: str) -> User | None:
        try:
            name, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            self.config.audit.record(who="", client=client, method="basic", ok=False, reason="malformed")
            return None
        key = hashlib.sha256(f"{self.config.secret}\0{name}\0{password}".encode()).hexdigest()
        cached = self._basic_cache.get(key)
        # A cached check holds while the user's password and role are as they were (their stamp).
        if cached is not None and cached[2] > time.monotonic() and self.config.users.stamp(name) == cached[1]:
            return self.config.users.get(name)
        user = await check_password(self.passwords, self.config.users, self.config.audit, name, password, client,
                                    "basic")
        if user is not None:
            if len(self._basic_cache) > 10_000:  # bounded: a script's entries come back within the minute
                self._basic_cache.clear()
            stamp = self.config.users.stamp(name) or ""
            self._basic_cache[key] = (name, stamp, time.monotonic() + BASIC_CACHE_SECONDS)
        return user

    def _token(self, value: str, client: str) -> User | None:
        user, why = self.config.tokens.check(value)
        who = user.actor if user is not None else ""
        if why:
            self.config.audit.record(who=who, client=client, method="token", ok=False, reason=why)
            return None
        now = time.monotonic()
        if now - self._audited.get(who, -AUDIT_REPEAT_SECONDS) >= AUDIT_REPEAT_SECONDS:
            if len(self._audited) > 10_000:
                self._audited.clear()
            self._audited[who] = now
            self.config.audit.record(who=who, client=client, method="token", ok=True)
        return user

    async def _principal(self, scope: Scope, session: dict[str, Any]) -> tuple[User | None, str]:
        header = dict(scope.get("headers") or []).get(b"authorization", b"")
        scheme, _, value = header.partition(b" ")
        if scheme.lower() == b"bearer":
            token = value.decode("latin-1").strip()
            if token.startswith(personal_tokens.PREFIX):  # a person's, from `breach login`
                return personal_tokens.verify(self.config.secret, token, self.config.users), "personal"
            return self._token(token, client_of(scope)), "token"
        if scheme.lower() == b"basic":
            return await self._basic(value, client_of(scope)), "basic"
        who = session.get("user")
        if not isinstance(who, dict):
            return None, "session"
        if who.get("via") == "oidc":  # the identity provider vouched for the role and grant (login, refresh)
            named = who.get("controllers")
            return User(str(who["name"]), str(who["role"]),
                        controllers=None if named is None else frozenset(named)), "session"
        return self.config.users.get(str(who.get("name"))), "session"  # removed users are out at once

    # --- the middleware --------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = [False]
        send = with_headers(send, started)
        if not host_ok(scope, self.config.allowed_hosts):
            log.warning("console.host_refused", path=scope["path"])
            await _text(send, 400, "Refused: this console does not answer to that host name (its operator adds "
                                   "it with BREACH_CONSOLE_URL or BREACH_CONSOLE_ALLOWED_HOSTS).")
            return
        # Bounded before anything reads: an announced length over the limit is refused unread, and
        # a body without one (chunked) is cut off where it passes the limit.
        limit = body_limit(scope["path"], self.config.max_import_bytes)
        length = declared_length(scope)
        if length == -1:
            await _text(send, 400, "Refused: the Content-Length is not a number.")
            return
        if length is not None and length > limit:
            await _too_large(scope, send, limit)
            return
        try:
            await self._guard(scope, bounded(receive, limit), send)
        except BodyTooLarge as exc:
            if started[0]:
                raise
            await _too_large(scope, send, exc.limit)

    async def _guard(self, scope: Scope, receive: Receive, send: Send) -> None:
        session, sid, had_cookie = await self._load_session(scope)
        before = json.dumps(session, sort_keys=True)
        scope["session"] = session
        try:
            user, via = await self._principal(scope, session)
        except Throttled as exc:
            log.warning("console.login_throttled", method="basic")
            await _json(send, 429, {"error": "too many failed logins: try again later"},
                        [(b"retry-after", str(max(1, round(exc.retry_after))).encode())])
            return
        except Busy:
            await _json(send, 503, {"error": "too many logins at once: try again shortly"}, [(b"retry-after", b"1")])
            return
        if user is None and via == "session" and "user" in session:
            session.pop("user")  # a stale login (user removed): forget it
        state = scope.setdefault("state", {})
        state["user"], state["via"] = user, via
        method = scope["method"]

        if user is None and not is_open(scope["path"]):
            await self._refuse_anonymous(scope, send)
            return
        if user is not None and via == "token" and ("read" if method in SAFE_METHODS else "act") not in user.scopes:
            await _json(send, 403, {"error": "this token's scopes do not allow this request"})
            return
        if method not in SAFE_METHODS and via == "session":
            receive, ok = await self._check_csrf(scope, receive, session)
            if not ok:
                log.warning("console.csrf_refused", path=scope["path"])
                await _json(send, 403, {"error": "missing or invalid CSRF token"}) if wants_json(scope) else \
                    await _text(send, 403, "Refused: the form's CSRF token is missing or invalid. Reload the page.")
                return
        if via == "session":
            session.setdefault("csrf", new_csrf())

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                cookie = self._save_session(scope, session, before, sid, had_cookie)
                if cookie is not None:
                    headers.append((b"set-cookie", cookie))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _refuse_anonymous(self, scope: Scope, send: Send) -> None:
        if wants_json(scope) or scope["method"] not in SAFE_METHODS:
            await _json(send, 401, {"error": "authentication required"},
                        [(b"www-authenticate", b'Bearer realm="breach-response"')])
            return
        target = "/login?next=" + quote(scope["path"], safe="/")  # the path only: no query, no personal data
        await send({"type": "http.response.start", "status": 303,
                    "headers": [(b"location", target.encode()), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    async def _check_csrf(self, scope: Scope, receive: Receive, session: dict[str, Any]) -> tuple[Receive, bool]:
        """Compare the session's token with the header, or else the form field; the body read here
        is handed on unchanged to the route."""
        expected = session.get("csrf")
        headers = dict(scope.get("headers") or [])
        given = headers.get(CSRF_HEADER, b"").decode("latin-1")
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        kind = headers.get(b"content-type", b"")
        if not given and kind.startswith(b"application/x-www-form-urlencoded"):
            given = (parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD) or [""])[0]
        elif not given and kind.startswith(b"multipart/form-data"):  # a file upload's form
            given = await _multipart_field(scope, body, CSRF_FIELD)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        ok = bool(expected) and bool(given) and hmac.compare_digest(str(expected), given)
        return replay, ok

    def _save_session(self, scope: Scope, session: dict[str, Any], before: str, sid: str | None,
                      had_cookie: bool) -> bytes | None:
        """Keep what the request changed; the cookie to set, if it must change (a login, a logout,
        an anonymous page's data), else None: a live session's cookie is not sent again."""
        secure = self.config.secure_cookies == "always" or scope.get("scheme") == "https"
        flags = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
        sessions = self.config.session_store
        if session.pop(LOGIN, False):
            if sid is not None:
                sessions.end(sid)  # a new id at each login: no session fixation
            who = session.pop("user")
            stamp = "" if who["via"] == "oidc" else self.config.users.stamp(who["name"]) or ""
            sid = sessions.start(who["name"], who["role"], who["via"], stamp, session,
                                 controllers=who.get("controllers"))
            short = who["via"] == "oidc" and not session.get("oidc", {}).get("refresh_token")
            lifetime = sessions.lifetimes.oidc_absolute if short else sessions.lifetimes.absolute
            return f"{COOKIE}={self.signer.dumps({'sid': sid})}; Max-Age={int(lifetime)}{flags}".encode()
        if sid is not None:
            if "user" not in session:  # logged out
                sessions.end(sid)
                return f"{COOKIE}=; Max-Age=0{flags}".encode()
            if json.dumps(session, sort_keys=True) != before:  # the page data changed (a flash, the language)
                sessions.update(sid, {k: v for k, v in session.items() if k != "user"})
            return None
        session.pop("user", None)
        if not session:
            return f"{COOKIE}=; Max-Age=0{flags}".encode() if had_cookie else None
        if json.dumps(session, sort_keys=True) == before and had_cookie:
            return None
        value = self.signer.dumps(session)
        max_age = int(self.config.session_hours * 3600)
        return f"{COOKIE}={value}; Max-Age={max_age}{flags}".encode()


def client_of(scope: Scope) -> str:
    """The client's address (behind a proxy: as the trusted proxy says, see BREACH_CONSOLE_TRUSTED_PROXIES)."""
    client = scope.get("client")
    return str(client[0]) if client else ""


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    log.warning("console.body_too_large", path=scope["path"], limit=limit)
    message = f"the request body is larger than {limit} bytes"
    close = [(b"connection", b"close")]  # what is left of the body is not read
    await _json(send, 413, {"error": message}, close) if wants_json(scope) else \
        await _text(send, 413, f"Refused: {message}.", close)


async def _multipart_field(scope: Scope, body: bytes, name: str) -> str:
    """One text field of a multipart body already read (the route parses the same bytes again)."""
    async def once() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(scope, once).form()
    except (MultiPartException, ValueError):
        return ""
    try:
        value = form.get(name)
        return value if isinstance(value, str) else ""
    finally:
        await form.close()


async def _json(send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None,
                ) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": payload})


async def _text(send: Send, status: int, text: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    payload = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(payload)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": payload})


def login(session: dict[str, Any], user: User, via: str = "local") -> None:
    """Start a fresh session for ``user`` (the Guard keeps it server-side under a new id): nothing of
    the anonymous one survives but the language."""
    lang = session.get("lang")
    session.clear()
    grant = None if user.controllers is None else sorted(user.controllers)
    session.update({"user": {"name": user.name, "role": user.role, "via": via, "controllers": grant},
                    "csrf": new_csrf(), LOGIN: True})
    if lang:
        session["lang"] = lang


async def check_password(passwords: PasswordCheck, users: UserStore, audit: LoginAudit, name: str, password: str,
                         client: str, method: str) -> User | None:
    """The password check (off the event loop, backing off), audited whatever its outcome."""
    known = users.get(name) is not None
    who = f"user:{name}" if known else ""
    try:
        user = await passwords.verify(name, password, client)
    except Throttled:
        audit.record(who=who, client=client, method=method, ok=False, reason="throttled")
        raise
    except Busy:
        audit.record(who=who, client=client, method=method, ok=False, reason="busy")
        raise
    reason = "" if user is not None else "wrong password" if known else "unknown name"
    audit.record(who=who, client=client, method=method, ok=user is not None, reason=reason)
    return user
