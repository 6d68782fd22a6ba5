"""Server-side sessions (console/sessions.py), API tokens' expiry and revocation, the login audit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from console.audit import KEPT, LoginAudit
from console.sessions import SessionStore
from console.users import TokenStore, UserError, parse_lifetime


class Clock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def test_a_session_ends_after_its_idle_timeout_and_its_absolute_lifetime() -> None:
    clock = Clock()
    store = SessionStore(None, clock=clock)  # defaults: 12 h absolute, 30 min idle
    sid = store.start("dora", "dpo", "local", "stamp", {"csrf": "c"})
    for _ in range(23):  # used every 29 minutes: alive through 11 h 07 min
        clock.now += 29 * 60
        assert store.get(sid) is not None
    clock.now += 29 * 60  # 11 h 36 min: still used within its idle time
    assert store.get(sid) is not None
    clock.now += 25 * 60  # 12 h 01 min after login: over, however recently used
    assert store.get(sid) is None
    idle = store.start("dora", "dpo", "local", "stamp", {})
    clock.now += 30 * 60
    assert store.get(idle) is None  # 30 minutes without a request
    assert store.of_user() == {}


def test_oidc_sessions_have_the_shorter_lifetime() -> None:
    clock = Clock()
    store = SessionStore(None, clock=clock)
    sid = store.start("claire", "dpo", "oidc", "", {})
    for _ in range(2):
        clock.now += 29 * 60
        assert store.get(sid) is not None
    clock.now += 2 * 60 + 1  # an hour after the login
    assert store.get(sid) is None


def test_the_file_is_private_shared_between_processes_and_not_rewritten_per_request(tmp_path: Path) -> None:
    path = tmp_path / "console-sessions.json"
    clock = Clock()
    console = SessionStore(path, clock=clock)
    dora = [console.start("dora", "dpo", "local", "s", {}) for _ in range(2)]
    rita = console.start("rita", "responder", "local", "s", {})
    assert path.stat().st_mode & 0o777 == 0o600
    assert dora[0] not in json.dumps(console.of_user()) and console.of_user() == {"dora": 2, "rita": 1}
    written = path.stat().st_mtime_ns, path.read_text()
    clock.now += 30
    assert console.get(rita) is not None
    assert (path.stat().st_mtime_ns, path.read_text()) == written  # "last seen" waits for the minute
    clock.now += 31
    assert console.get(rita) is not None
    assert json.loads(path.read_text())["sessions"][rita]["seen"] == clock.now
    # `breach users logout dora`, another process: the console sees it at the next request.
    assert SessionStore(path, clock=clock).end_user("dora") == 2
    assert [console.get(s) for s in dora] == [None, None] and console.get(rita) is not None
    assert SessionStore(path, clock=clock).end_user("dora") == 0


def test_a_token_expires_is_revoked_is_listed_without_its_secret(tmp_path: Path) -> None:
    now = [datetime(2026, 12, 1, 9, 0, tzinfo=UTC)]
    path = tmp_path / "tokens.json"
    store = TokenStore(path, clock=lambda: now[0])
    month = store.issue("siem", "responder", ("read",), expires=parse_lifetime("30d"))
    forever = store.issue("backup", "viewer", ("read",))
    assert store.verify(month) is not None and store.verify(forever) is not None
    listed = store.list()
    assert [(t["label"], t["expires"], t["last_used"]) for t in listed] == [
        ("backup", None, now[0].isoformat()), ("siem", "2026-12-31T09:00:00+00:00", now[0].isoformat())]
    assert month not in json.dumps(listed) and "sha256" not in json.dumps(listed)
    now[0] += timedelta(days=30)
    assert store.check(month)[1] == "expired token" and store.verify(month) is None
    assert store.verify(forever) is not None
    TokenStore(path).revoke("backup")  # the CLI, another process
    assert store.check(forever) == (None, "unknown or revoked token")
    with pytest.raises(UserError, match="no token"):
        store.revoke("backup")
    for bad in ("30", "0d", "-1d", "3w", "d"):
        with pytest.raises(UserError, match="invalid lifetime"):
            parse_lifetime(bad)
    assert parse_lifetime("12h") == timedelta(hours=12) and parse_lifetime("90m") == timedelta(minutes=90)


def test_the_audit_keeps_the_latest_attempts_and_logs_each() -> None:
    audit = LoginAudit()
    with capture_logs() as logs:
        for n in range(KEPT + 5):
            audit.record(who=f"user:u{n}", client="198.51.100.7", method="password", ok=n % 2 == 0,
                         reason="" if n % 2 == 0 else "wrong password")
    latest = audit.latest()
    assert len(latest) == KEPT and latest[0]["who"] == f"user:u{KEPT + 4}" and latest[-1]["who"] == "user:u5"
    assert len(logs) == KEPT + 5 and logs[1]["event"] == "console.login_attempt"
    assert {k: logs[1][k] for k in ("who", "client", "method", "ok", "reason")} == {
        "who": "user:u1", "client": "198.51.100.7", "method": "password", "ok": False, "reason": "wrong password"}
