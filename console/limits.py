"""The console's HTTP boundary, applied by console.auth.Guard before anything else runs: the Host
header checked (DNS rebinding), request bodies bounded before anyone reads them, and the security
headers with ``Cache-Control: no-store`` on every answer, refusals included."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope, Send

FORM_LIMIT = 64 * 1024  # login, forms and JSON commands: far above any real one
IMPORT_LIMIT = 64 * 1024 * 1024  # a list of affected people: ~1 million lines of CSV (BREACH_CONSOLE_MAX_IMPORT_BYTES)
# The two routes that take a list of affected people; every other body has the form limit.
IMPORT_PATH = re.compile(r"^(/api)?/incidents/[^/]+/subjects$")
# Loopback names are always served: a rebinding page cannot make a browser send them for its own site.
LOOPBACK = ("localhost", "127.0.0.1", "::1")
# Kubernetes probes send the pod's address as Host; health tells a rebinding page nothing.
HOST_FREE_PATHS = ("/healthz",)
# Scripts only from our own files; inline styles allowed, as the notices' HTML (shown in a
# sandboxed iframe) carries its own; no framing of the console by other sites.
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                 b"img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
# Incident pages, the register and the API carry personal data: no browser or proxy keeps a copy.
NO_STORE = (b"cache-control", b"no-store")


class BodyTooLarge(HTTPException):
    """Raised by the bounded receive when a body passes its limit; Starlette answers a route's 413,
    the Guard answers its own."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")
        self.limit = limit


def body_limit(path: str, import_limit: int) -> int:
    return import_limit if IMPORT_PATH.match(path) else FORM_LIMIT


def declared_length(scope: Scope) -> int | None:
    """The Content-Length the client announced (None: chunked or absent; -1: not a number)."""
    value = dict(scope.get("headers") or []).get(b"content-length")
    if value is None:
        return None
    return int(value) if value.strip().isdigit() else -1


def bounded(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises BodyTooLarge as soon as more than ``limit`` bytes have come, whoever
    reads (the CSRF check, a form parser, an import): a chunked body is cut off as it streams in."""
    seen = 0

    async def receive_bounded() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return receive_bounded


def allowed_hosts(urls: Iterable[str], extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The host names the console answers to: loopback, the hosts of its configured URLs, and more."""
    hosts = [*LOOPBACK, *(urlsplit(u).hostname or "" for u in urls if u), *(h.strip().lower() for h in extra)]
    return tuple(dict.fromkeys(h for h in hosts if h))


def host_of(scope: Scope) -> str:
    raw: str = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").strip().lower()
    if raw.startswith("["):  # [::1]:8000
        return raw[1:].partition("]")[0]
    return raw.rpartition(":")[0] if raw.count(":") == 1 else raw


def host_ok(scope: Scope, allowed: tuple[str, ...] | None) -> bool:
    if allowed is None or scope["path"] in HOST_FREE_PATHS:
        return True
    return host_of(scope) in allowed


def with_headers(send: Send, started: list[bool]) -> Send:
    """``send`` that adds the security headers and ``no-store`` (unless the route chose its own
    Cache-Control) to every response, and notes in ``started`` that one began."""
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            started[0] = True
            headers = list(message.get("headers", []))
            names = {name.lower() for name, _ in headers}
            headers.extend(h for h in [*SECURITY_HEADERS, NO_STORE] if h[0] not in names)
            message = {**message, "headers": headers}
        await send(message)

    return send_with_headers
