"""A person's own API token, for the `breach` CLI: `breach login` trades a name and password for
one (POST /api/me/token), so every command the CLI sends is the console's, in that person's name
and checked against their role.

Unlike the machines' tokens (console.users.TokenStore, issued by an operator, kept as digests),
these are stateless: the user's name, an expiry and a fingerprint of the user's password hash,
role and grant (console.users.UserStore.stamp, keyed with the secret), signed with the console's
secret. So nothing is written per login and a console restart keeps them valid; but a password,
role or controller-grant change makes the fingerprint differ, which ends every token issued before
it (as it ends the user's sessions), and a removed user's token stops at once. They expire within
hours (at most the session length); the CLI logs in again.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from console.users import SCOPES, User, UserStore

PREFIX = "brp_"  # "personal"; machine tokens start with brt_
_SALT = "breach-personal-token"
log = structlog.get_logger("breach.console.auth")


@dataclass(frozen=True, slots=True)
class Issued:
    token: str
    expires_at: float  # seconds since the epoch (real time: a fast demo clock does not age logins)


def issue(secret: str, user: User, stamp: str, hours: float, now: float | None = None) -> Issued:
    """A token for ``user`` (a local person, never a machine token) valid ``hours`` from ``now``;
    ``stamp``: the user's as it is now (UserStore.stamp)."""
    if user.kind != "user":
        raise ValueError("only a person gets a personal token")
    expires = (time.time() if now is None else now) + hours * 3600
    body = URLSafeSerializer(secret, salt=_SALT).dumps({"name": user.name, "exp": int(expires),
                                                        "stamp": _keyed(secret, stamp)})
    return Issued(PREFIX + str(body), float(int(expires)))


def _keyed(secret: str, stamp: str) -> str:
    # The token is signed, not encrypted: it shows a keyed digest of the stamp, never the stamp itself.
    return hmac.new(secret.encode(), stamp.encode(), hashlib.sha256).hexdigest()[:32]


def verify(secret: str, token: str, users: UserStore, now: float | None = None) -> User | None:
    """The person a token names, with their current role and grant; None if forged, expired, the
    user is gone, or their password, role or grant changed since it was issued."""
    if not token.startswith(PREFIX):
        return None
    try:
        data = URLSafeSerializer(secret, salt=_SALT).loads(token[len(PREFIX):])
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not isinstance(data.get("exp"), int):
        return None
    if data["exp"] <= (time.time() if now is None else now):
        return None
    found, stamp = users.get(data["name"]), users.stamp(data["name"])
    if found is None or stamp is None or not isinstance(data.get("stamp"), str) or \
            not hmac.compare_digest(data["stamp"], _keyed(secret, stamp)):
        return None  # a token of before a password, role or grant change (or of before stamps)
    return User(found.name, found.role, kind="user", scopes=SCOPES, controllers=found.controllers)


DEFAULT_HOURS = 8.0


def endpoint(secret: str, max_hours: float, users: UserStore) -> Callable[[Request], Awaitable[Response]]:
    """POST /api/me/token: the caller's own token. Only for a person who proves who they are in this
    very request (HTTP Basic, or a personal token being renewed): never for a browser session (the
    cookie rides along with any page's request: no CSRF way to mint a token) nor a machine token."""
    async def issue_token(request: Request) -> Response:
        user: User = request.scope["state"]["user"]
        via = request.scope["state"]["via"]
        if via not in ("basic", "personal") or user.kind != "user":
            return JSONResponse({"error": "a personal token is given for a name and password (HTTP Basic) only"},
                                status_code=403)
        hours = min(DEFAULT_HOURS, max_hours)
        if await request.body():
            try:
                body = await request.json()
            except ValueError:
                return JSONResponse({"error": "invalid request: the body is not JSON"}, status_code=400)
            asked = body.get("hours") if isinstance(body, dict) else None
            if asked is not None:
                if isinstance(asked, bool) or not isinstance(asked, int | float) or not 0 < asked <= max_hours:
                    return JSONResponse({"error": f"invalid request: hours must be a number in (0, {max_hours:g}]"},
                                        status_code=400)
                hours = float(asked)
        stamp = users.stamp(user.name)
        if stamp is None:  # removed since this request was authenticated
            return JSONResponse({"error": "authentication required"}, status_code=401)
        issued = issue(secret, user, stamp, hours)
        log.info("console.personal_token", role=user.role, hours=hours)
        return JSONResponse({"token": issued.token, "name": user.name, "role": user.role, "actor": user.actor,
                             "controllers": None if user.controllers is None else sorted(user.controllers),
                             "expires_at": datetime.fromtimestamp(issued.expires_at, UTC).isoformat()},
                            status_code=201, headers={"cache-control": "no-store"})
    return issue_token
