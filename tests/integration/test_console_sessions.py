"""Server-side sessions, tokens with an expiry and the login audit through the console (issue 18).

The console runs on an empty read model (no broker: what is under test is who gets in), in-process
through httpx; its users, sessions and tokens are files in a temporary data directory, and
``breach users logout`` / ``breach tokens`` run as the separate processes they are."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from itsdangerous import URLSafeTimedSerializer
from structlog.testing import capture_logs

from console.app import create_console
from console.auth import COOKIE, AuthConfig
from console.read_model import ReadModel
from console.sessions import Lifetimes, SessionStore
from console.users import TokenStore, UserStore
from incident.profiles import Directory
from streams.settings import ROOT

pytestmark = pytest.mark.asyncio
SECRET = "s" * 48
PEOPLE = {"dora": ("dora-password", "dpo"), "rita": ("rita-password", "responder"), "adam": ("adam-password", "admin")}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Console:
    app: httpx.ASGITransport
    auth: AuthConfig
    data: Path
    clock: Clock

    def client(self, address: str = "198.51.100.7") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app.app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")


@pytest_asyncio.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    users = UserStore(tmp_path / "console-users.json")
    for name, (password, role) in PEOPLE.items():
        users.add(name, password, role)
    clock = Clock()
    auth = AuthConfig(users=users, secret=SECRET, tokens=TokenStore(tmp_path / "console-tokens.json"),
                      sessions=SessionStore(tmp_path / "console-sessions.json", Lifetimes(), clock=clock))
    app = create_console(model=ReadModel(), directory=Directory.of([]), templates_dir=ROOT / "templates",
                         users=users, clock=lambda: datetime.now(UTC), auth=auth)
    yield Console(httpx.ASGITransport(app=app), auth, tmp_path, clock)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page carries a CSRF token"
    return match.group(1)


async def log_in(client: httpx.AsyncClient, name: str) -> str:
    """Log ``client`` in as ``name``; the CSRF token of its session."""
    token = csrf_of((await client.get("/login")).text)
    answer = await client.post("/login", data={"username": name, "password": PEOPLE[name][0], "csrf_token": token,
                                               "next": "/"})
    assert answer.status_code == 303, answer.text
    return csrf_of((await client.get("/")).text)


def breach(data: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BREACH_DATA_DIR": str(data)}
    return subprocess.run([sys.executable, "-m", "streams.cli", *args], input=stdin, text=True, env=env, cwd=ROOT,
                          capture_output=True, timeout=60, check=False)


def payload(cookie: str) -> object:
    body = cookie.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


async def test_a_cookie_replayed_after_logout_is_refused(console: Console) -> None:
    async with console.client() as browser:
        token = await log_in(browser, "dora")
        copied = browser.cookies[COOKIE]
        assert (await browser.post("/logout", data={"csrf_token": token})).status_code == 303
    async with console.client() as thief:
        thief.cookies.set(COOKIE, copied)
        assert (await thief.get("/api/me")).status_code == 401
        assert (await thief.get("/")).status_code == 303


async def test_the_cookie_carries_only_the_session_id_and_is_not_resent(console: Console) -> None:
    async with console.client() as browser:
        await log_in(browser, "rita")
        assert list(payload(browser.cookies[COOKIE])) == ["sid"]  # type: ignore[arg-type]
        for _ in range(3):
            answer = await browser.get("/api/me")
            assert answer.status_code == 200 and "set-cookie" not in answer.headers
    stored = json.loads((console.data / "console-sessions.json").read_text())["sessions"]
    (session,) = stored.values()
    assert {session["name"], session["role"], session["via"]} == {"rita", "responder", "local"}
    assert {"created", "seen"} <= set(session)
    assert (console.data / "console-sessions.json").stat().st_mode & 0o777 == 0o600


async def test_a_cookie_signed_the_old_way_no_longer_logs_anyone_in(console: Console) -> None:
    """Before issue 18 the signed cookie itself said who was logged in: one copied then, or forged
    by a holder of the secret, vouches for no one now."""
    old = URLSafeTimedSerializer(SECRET, salt="breach-console-session").dumps(
        {"user": {"name": "dora", "role": "dpo", "via": "local"}, "csrf": "x"})
    async with console.client() as replay:
        replay.cookies.set(COOKIE, old)
        assert (await replay.get("/api/me")).status_code == 401


async def test_a_session_ends_when_idle_and_at_its_absolute_lifetime(console: Console) -> None:
    async with console.client() as browser:
        await log_in(browser, "rita")
        for _ in range(24):  # used every 29 minutes: alive for 11 h 36 min
            console.clock.now += 29 * 60
            assert (await browser.get("/api/me")).status_code == 200
        console.clock.now += 25 * 60  # 12 h 01 min after the login, 25 minutes after its last use
        assert (await browser.get("/api/me")).status_code == 401
        await log_in(browser, "rita")
        console.clock.now += 30 * 60 + 1
        assert (await browser.get("/api/me")).status_code == 401


async def test_a_password_or_role_change_ends_that_users_sessions(console: Console) -> None:
    async with console.client() as rita, console.client() as dora, console.client() as admin:
        script = {"auth": ("rita", "rita-password")}
        assert (await admin.get("/api/me", **script)).status_code == 200  # a script's Basic check, cached
        await log_in(rita, "rita")
        await log_in(dora, "dora")
        await log_in(admin, "adam")
        changed = await admin.post("/api/users", json={"name": "rita", "password": "a-new-password",
                                                       "role": "responder"},
                                   headers={"x-csrf-token": csrf_of((await admin.get("/admin/users")).text)})
        assert changed.status_code == 201
        assert (await rita.get("/api/me")).status_code == 401
        assert (await admin.get("/api/me", **script)).status_code == 401  # the old password, at once
        assert (await dora.get("/api/me")).status_code == 200  # the others stay
        # A role change by `breach users add --replace`, another process, too.
        replaced = breach(console.data, "users", "add", "dora", "--role", "viewer", "--replace",
                          stdin="dora-password\n")
        assert replaced.returncode == 0, replaced.stderr
        assert (await dora.get("/api/me")).status_code == 401
        assert (await admin.get("/api/me")).status_code == 200


async def test_a_password_role_or_grant_change_ends_that_users_cli_tokens(console: Console) -> None:
    """`breach login`'s token lived on for its 8 hours after a password or role change; now such a
    change (in the console or by `breach users add --replace`) ends it, as it ends the sessions."""
    async def cli_token(client: httpx.AsyncClient, name: str, password: str = "") -> dict[str, str]:
        answer = await client.post("/api/me/token", auth=(name, password or PEOPLE[name][0]))
        assert answer.status_code == 201, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    adam = {"auth": ("adam", "adam-password")}
    async with console.client() as cli, console.client() as admin:
        rita = await cli_token(cli, "rita")
        dora = await cli_token(cli, "dora")
        assert (await cli.get("/api/me", headers=rita)).status_code == 200
        changed = await admin.post("/api/users", json={"name": "rita", "password": "a-new-password",
                                                       "role": "responder"}, **adam)
        assert changed.status_code == 201
        assert (await cli.get("/api/me", headers=rita)).status_code == 401  # the password changed
        assert (await cli.get("/api/me", headers=dora)).status_code == 200  # the others' stay
        rita = await cli_token(cli, "rita", "a-new-password")
        assert (await cli.get("/api/me", headers=rita)).json()["controllers"] is None  # every controller
        granted = await admin.post("/api/users", json={"name": "rita", "password": "a-new-password",
                                                       "role": "responder", "controllers": ["ama"]}, **adam)
        assert granted.status_code == 201 and granted.json()["controllers"] == ["ama"]
        assert (await cli.get("/api/me", headers=rita)).status_code == 401  # the grant changed
        reset = await admin.post("/api/users", json={"name": "rita", "password": "a-third-password",
                                                     "role": "responder"}, **adam)
        assert reset.json()["controllers"] == ["ama"]  # a password reset keeps the grant, never widens it
        replaced = breach(console.data, "users", "add", "dora", "--role", "viewer", "--replace",
                          stdin="dora-password\n")
        assert replaced.returncode == 0, replaced.stderr
        assert (await cli.get("/api/me", headers=dora)).status_code == 401  # the role changed, from the CLI


async def test_an_admin_logs_a_user_out_everywhere_from_the_page_and_the_cli(console: Console) -> None:
    async with console.client() as laptop, console.client("203.0.113.5") as phone, console.client() as admin:
        await log_in(laptop, "dora")
        await log_in(phone, "dora")
        rita_token = await log_in(admin, "rita")
        refused = await admin.post("/api/users/dora/logout", data={"csrf_token": rita_token})
        assert refused.status_code == 403
        token = await log_in(admin, "adam")
        assert "<td>dora</td><td>dpo</td><td>2</td>" in (await admin.get("/admin/users")).text
        done = await admin.post("/api/users/dora/logout", data={"csrf_token": token})
        assert done.status_code == 303 and done.headers["location"] == "/admin/users"
        assert [(await c.get("/api/me")).status_code for c in (laptop, phone, admin)] == [401, 401, 200]
        await log_in(laptop, "dora")
        ended = breach(console.data, "users", "logout", "dora")
        assert ended.returncode == 0 and "1 session(s) of dora ended" in ended.stdout
        assert (await laptop.get("/api/me")).status_code == 401
        assert (await admin.get("/api/me")).status_code == 200


async def test_an_expired_or_revoked_token_is_refused(console: Console) -> None:
    issued = breach(console.data, "tokens", "add", "siem", "--role", "responder", "--expires", "30d")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    bearer = {"Authorization": f"Bearer {token}"}
    async with console.client() as machine:
        assert (await machine.get("/api/me", headers=bearer)).status_code == 200
        listed = breach(console.data, "tokens", "list")
        assert listed.returncode == 0 and token not in listed.stdout
        (row,) = [line.split("\t") for line in listed.stdout.splitlines()[1:]]
        assert row[:3] == ["siem", "responder", "read"] and row[4] != "never" and row[5] != "never"
        # Its expiry: the stored time moved to the past, as 30 days later would see it.
        path = console.data / "console-tokens.json"
        data = json.loads(path.read_text())
        data["tokens"]["siem"]["expires"] = "2020-01-01T00:00:00+00:00"
        path.write_text(json.dumps(data))
        assert (await machine.get("/api/me", headers=bearer)).status_code == 401
        again = breach(console.data, "tokens", "add", "siem", "--role", "responder")
        bearer = {"Authorization": f"Bearer {again.stdout.strip()}"}
        assert (await machine.get("/api/me", headers=bearer)).status_code == 200
        assert breach(console.data, "tokens", "revoke", "siem").returncode == 0
        assert (await machine.get("/api/me", headers=bearer)).status_code == 401
    bad = breach(console.data, "tokens", "add", "x", "--role", "viewer", "--expires", "soon")
    assert bad.returncode == 2 and "invalid lifetime" in bad.stderr


async def test_every_login_attempt_is_audited_without_the_password(console: Console) -> None:
    token = breach(console.data, "tokens", "add", "siem", "--role", "viewer").stdout.strip()
    with capture_logs() as logs:
        async with console.client("203.0.113.9") as guesser:
            login_token = csrf_of((await guesser.get("/login")).text)
            await guesser.post("/login", data={"username": "dora", "password": "guess-1", "csrf_token": login_token})
            await guesser.post("/login", data={"username": "a-typed-secret", "password": "guess-2",
                                               "csrf_token": login_token})
            await guesser.get("/api/me", auth=("rita", "guess-3"))
            await guesser.get("/api/me", headers={"Authorization": "Bearer brt_forged"})
            await guesser.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        async with console.client() as admin:
            await log_in(admin, "adam")
            page = (await admin.get("/admin/users")).text
    attempts = [(e["who"], e["client"], e["method"], e["ok"], e["reason"]) for e in logs
                if e["event"] == "console.login_attempt"]
    assert attempts == [
        ("user:dora", "203.0.113.9", "password", False, "wrong password"),
        ("", "203.0.113.9", "password", False, "unknown name"),  # a name mistyped may be a password
        ("user:rita", "203.0.113.9", "basic", False, "wrong password"),
        ("", "203.0.113.9", "token", False, "unknown or revoked token"),
        ("token:siem", "203.0.113.9", "token", True, ""),
        ("user:adam", "198.51.100.7", "password", True, ""),
    ]
    everything = json.dumps(logs, default=str)
    assert not any(secret in everything for secret in ("guess-", "a-typed-secret", token, "adam-password"))
    rows = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>\s*<td>([^<]*)</td></tr>",
                      page[page.index('id="logins"'):])
    assert rows[0] == ("user:adam", "198.51.100.7", "password", "succeeded")
    assert rows[-1] == ("user:dora", "203.0.113.9", "password", "wrong password")


async def test_an_admin_lists_and_revokes_tokens_in_the_console(console: Console) -> None:
    token = breach(console.data, "tokens", "add", "backup", "--role", "viewer", "--expires", "12h").stdout.strip()
    bearer = {"Authorization": f"Bearer {token}"}
    async with console.client() as machine, console.client() as admin:
        assert (await machine.get("/api/me", headers=bearer)).status_code == 200
        assert (await machine.get("/api/tokens", headers=bearer)).status_code == 403  # tokens are never admins
        csrf = await log_in(admin, "adam")
        (listed,) = (await admin.get("/api/tokens")).json()["tokens"]
        assert listed["label"] == "backup" and listed["expires"] and listed["last_used"]
        assert token not in json.dumps(listed) and "sha256" not in listed
        page = (await admin.get("/admin/users")).text
        assert "<td>backup</td><td>viewer</td><td>read</td>" in page and 'action="/api/tokens/backup/revoke"' in page
        done = await admin.post("/api/tokens/backup/revoke", data={"csrf_token": csrf})
        assert done.status_code == 303 and "backup: revoked" in (await admin.get("/admin/users")).text
        assert (await machine.get("/api/me", headers=bearer)).status_code == 401
        again = await admin.post("/api/tokens/backup/revoke", headers={"x-csrf-token": csrf})
        assert again.status_code == 404
