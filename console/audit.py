"""The login audit: every attempt to log in, as a structured log event and in a bounded list the
users page shows (the latest ``KEPT``; the log keeps them all).

An attempt records who (the account, or nothing when the name is unknown: a name typed wrong
is sometimes a password), when, from which client address, how (password, basic, token, oidc),
and whether it succeeded or why not. Never a password or a token.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

log = structlog.get_logger("breach.console.audit")
KEPT = 200
METHODS = ("password", "basic", "token", "oidc")


@dataclass(frozen=True, slots=True)
class Attempt:
    at: str  # ISO 8601, UTC
    who: str  # user:NAME, token:LABEL, or "" (unknown)
    client: str
    method: str
    ok: bool
    reason: str  # "" when ok; else why not


class LoginAudit:
    def __init__(self, kept: int = KEPT, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._attempts: deque[Attempt] = deque(maxlen=kept)
        self._lock = threading.Lock()
        self.clock = clock

    def record(self, *, who: str, client: str, method: str, ok: bool, reason: str = "") -> Attempt:
        attempt = Attempt(self.clock().isoformat(), who, client, method, ok, reason)
        with self._lock:
            self._attempts.append(attempt)
        (log.info if ok else log.warning)("console.login_attempt", **asdict(attempt))
        return attempt

    def latest(self) -> list[dict[str, Any]]:
        """Newest first."""
        with self._lock:
            return [asdict(a) for a in reversed(self._attempts)]
