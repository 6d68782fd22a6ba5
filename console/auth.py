"""HTTP Basic authentication on every route but /healthz (OIDC comes with the console issue)."""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

OPEN_PATHS = ("/healthz",)


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str


def parse_users(spec: str) -> dict[str, tuple[str, User]]:
    """'name:password:role,...' → {name: (password, User)}; a malformed entry is an error."""
    users: dict[str, tuple[str, User]] = {}
    for entry in filter(None, (e.strip() for e in spec.split(","))):
        parts = entry.split(":")
        if len(parts) != 3 or not all(parts):
            raise ValueError("BREACH_CONSOLE_USERS entries must be name:password:role")
        users[parts[0]] = (parts[1], User(parts[0], parts[2]))
    if not users:
        raise ValueError("BREACH_CONSOLE_USERS is empty: the console refuses to run without users")
    return users


class BasicAuth:
    def __init__(self, app: ASGIApp, users: dict[str, tuple[str, User]]) -> None:
        self.app, self.users = app, users

    def _user(self, scope: Scope) -> User | None:
        header = dict(scope.get("headers") or []).get(b"authorization", b"")
        scheme, _, value = header.partition(b" ")
        if scheme.lower() != b"basic":
            return None
        try:
            name, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        known = self.users.get(name)
        if known is None or not hmac.compare_digest(known[0].encode(), password.encode()):
            return None
        return known[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        user = self._user(scope)
        if user is None:
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"www-authenticate", b'Basic realm="breach-response"'),
                                    (b"content-type", b"text/plain; charset=utf-8")]})
            await send({"type": "http.response.body", "body": b"authentication required\n"})
            return
        scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)
