"""The `breach` CLI acts as a person (issue 17): `breach login` trades a name and password for a
personal token kept 0600 in the config dir; every command that changes an incident goes through
the console's API in that person's name and role; without a login, or with a role that may not,
it stops with one line and exit code 2. And the CLI finds the console `breach up` started.

The console is served by uvicorn on loopback and the CLI's main() runs in a thread beside it (its
HTTP is blocking); the console's commands are decided by the domain's decide() into its read model,
as the incident agent would (tests/e2e/test_up.py runs the same through a real broker and worker)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
import stat
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn

from console.app import create_console
from console.auth import AuthConfig
from console.read_model import ReadModel
from console.users import TokenStore, UserStore
from incident.commands import (
    ActOnObligation,
    ClassifyIncident,
    Command,
    CorrectFacts,
    OverrideRisk,
    RecordAwareness,
)
from incident.correlation import Config, correlate
from incident.decide import Rules, decide
from incident.errors import CommandRejected
from incident.model import Incident, PartitionProgress, SubjectNotice
from incident.notices import reference
from streams import cli
from streams.cli.console_client import served_at, write_endpoints
from streams.embedded.services import free_port
from streams.settings import ROOT
from tests.support import eventually
from tests.unit.builders import T0, FakeCalendar, directory, event

NOW = T0 + timedelta(minutes=30)
RULES = Rules(directory(), FakeCalendar())
PEOPLE = {"vera": "viewer", "rita": "responder", "dora": "dpo"}


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield  # pytest owns the signals


@dataclass
class World:
    url: str
    suspected: str
    aware: str
    sent: list[Command]
    model: ReadModel
    users: UserStore
    app: Any
    tokens: TokenStore
    resent: list[tuple[str, str]]  # (incident, notice) sent again to those in doubt
    config: Path  # XDG_CONFIG_HOME
    data: Path  # BREACH_DATA_DIR


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest_asyncio.fixture
async def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    model = ReadModel()
    config = Config(salt="test-salt")
    _, first = correlate(None, event("s-1", asset="acme-crm-db", severity=3), config=config)
    _, second = correlate(None, event("a-1", asset="acme-auth", at=T0 + timedelta(minutes=10), severity=2),
                          config=config)
    sent: list[Command] = []

    def decided(command: Command) -> None:
        try:
            for e in decide(command, model.incidents.get(command.incident_id), now=NOW, rules=RULES):
                model.apply(e)
        except CommandRejected:
            pass

    for command in (*first, *second):
        decided(command)
    suspected, aware = first[0].incident_id, second[0].incident_id
    decided(RecordAwareness(incident_id=aware, aware_at=T0 + timedelta(minutes=10), by="user:dora", evidence=()))
    users = UserStore(tmp_path / "users.json")
    for name, role in PEOPLE.items():
        users.add(name, f"{name}-password", role)
    tokens = TokenStore(tmp_path / "tokens.json")
    resent: list[tuple[str, str]] = []

    async def resend(incident: Incident, notice: SubjectNotice) -> int:
        resent.append((incident.id, notice.notice_id))
        return notice.total

    async def send(command: Command) -> None:
        sent.append(command)
        decided(command)

    app = create_console(model=model, directory=directory(), templates_dir=ROOT / "templates", users=users,
                         clock=lambda: NOW, send_command=send,
                         auth=AuthConfig(users=users, secret="s" * 48, tokens=tokens), resend_in_doubt=resend)
    port = free_port()
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                    timeout_graceful_shutdown=1))
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started or task.done(), what="the console listening")
    for variable in ("BREACH_CONSOLE_URL", "BREACH_CONSOLE_PORT", "BREACH_CONSOLE_HOST", "BREACH_CONSOLE_USERS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("BREACH_DATA_DIR", str(tmp_path / "data"))
    try:
        yield World(f"http://127.0.0.1:{port}", suspected, aware, sent, model, users, app, tokens, resent,
                    tmp_path / "config", tmp_path / "data")
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(task, 10)


async def breach(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str,
                 stdin: str = "") -> Run:
    """`breach ARGS` in-process (main() in a thread: the console answers on this loop meanwhile)."""
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))  # not a terminal: the password is read from it
    code = await asyncio.to_thread(cli.main, list(args))
    out, err = capsys.readouterr()
    return Run(code, out, err)


def one_line(run: Run) -> str:
    assert run.code == 2, (run.out, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("breach: "), run.err  # no traceback, no usage dump
    return lines[0]


async def login(w: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, name: str) -> Run:
    run = await breach(capsys, monkeypatch, "login", "--url", w.url, "--name", name, stdin=f"{name}-password\n")
    assert run.code == 0, run.err
    return run


@pytest.mark.asyncio
async def test_without_login_a_command_is_refused_in_one_line(world: World, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    for args in (("aware", reference(w.suspected)), ("notices", "send", w.aware, "--list", "l-1"),
                 ("override", w.aware, "high", "--justification", "the CEO said so"), ("triage", w.suspected)):
        assert "not logged in: run `breach login`" in one_line(await breach(capsys, monkeypatch, *args))
    # `--by` let anyone be anyone: it is gone, and the refusal says how to act instead.
    for args in (("notices", "send", w.aware, "--by", "mallory"),
                 ("aware", w.suspected, "--by", "ceo", "--at", "2026-11-19T00:00:00+00:00")):
        assert "--by is gone: run `breach login`" in one_line(await breach(capsys, monkeypatch, *args))
    assert w.sent == []


@pytest.mark.asyncio
async def test_login_keeps_a_private_token_and_logout_removes_it(world: World, capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    wrong = await breach(capsys, monkeypatch, "login", "--url", w.url, "--name", "dora", stdin="not-her-password\n")
    assert "refused the name or password" in one_line(wrong)
    path = w.config / "breach" / "credentials.json"
    assert not path.exists()

    run = await login(w, capsys, monkeypatch, "dora")
    assert "as dora (dpo)" in run.out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    kept = json.loads(path.read_text(encoding="utf-8"))
    assert kept["url"] == w.url and kept["token"].startswith("brp_") and kept["role"] == "dpo"
    assert "dora-password" not in path.read_text(encoding="utf-8")
    async with httpx.AsyncClient(base_url=w.url, headers={"Authorization": f"Bearer {kept['token']}"}) as api:
        assert (await api.get("/api/me")).json()["actor"] == "user:dora"
    assert (await breach(capsys, monkeypatch, "whoami")).out.startswith(f"dora (dpo) at {w.url}, until ")

    run = await breach(capsys, monkeypatch, "logout")
    assert run.code == 0 and not path.exists()
    assert "not logged in" in one_line(await breach(capsys, monkeypatch, "triage", w.suspected))
    assert "not logged in" in one_line(await breach(capsys, monkeypatch, "whoami"))


@pytest.mark.asyncio
async def test_a_responders_login_is_refused_a_dpo_action_and_may_take_a_responders(
        world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    await login(w, capsys, monkeypatch, "rita")
    line = one_line(await breach(capsys, monkeypatch, "override", reference(w.aware), "high",
                                 "--justification", "looks bad"))
    assert line == "breach: refused by the console (HTTP 403): only the DPO may override the risk level"
    line = one_line(await breach(capsys, monkeypatch, "notices", "send", w.aware, "--list", "l-1",
                                 "--measure", "We reset the passwords."))
    assert line == ("breach: refused by the console (HTTP 403): only the DPO may approve the notice to the people "
                    "affected")
    assert w.sent == []

    run = await breach(capsys, monkeypatch, "aware", reference(w.suspected))
    assert run.code == 0, run.err
    (command,) = w.sent
    assert isinstance(command, RecordAwareness) and command.by == "user:rita" and command.aware_at == NOW
    assert w.model.incidents[w.suspected].awareness is not None


@pytest.mark.asyncio
async def test_a_dpo_login_acts_in_the_dpos_name_until_the_user_is_removed(
        world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    w = world
    await login(w, capsys, monkeypatch, "dora")
    run = await breach(capsys, monkeypatch, "override", reference(w.aware), "high", "--justification",
                       "health data of minors")
    assert run.code == 0, run.err
    (command,) = w.sent
    assert isinstance(command, OverrideRisk) and (command.by, command.role, command.level) == ("user:dora", "dpo",
                                                                                                "high")
    assert w.model.incidents[w.aware].assessment.level == "high"  # type: ignore[union-attr]

    # The other commands on an incident, each the console's, in her name.
    rule = w.model.incidents[w.aware].obligations[0].rule_ref
    changes = tmp_path / "facts.json"
    changes.write_text('{"subjects_count": 1200}', encoding="utf-8")
    for args in (("obligation", w.aware, rule, "approve"), ("facts", w.aware, str(changes), "--reason", "counted"),
                 ("classify", w.aware, "confidentiality")):
        run = await breach(capsys, monkeypatch, *args)
        assert run.code == 0, run.err
    approve, facts, classify = w.sent[1:]
    assert isinstance(approve, ActOnObligation) and (approve.obligation, approve.action) == (rule, "approve")
    assert isinstance(facts, CorrectFacts) and facts.changes == {"subjects_count": 1200}
    assert isinstance(classify, ClassifyIncident) and classify.classification == "confidentiality"
    assert {(c.by, getattr(c, "role", "dpo")) for c in w.sent} == {("user:dora", "dpo")}
    assert w.model.incidents[w.aware].obligations[0].approved_by == "user:dora"

    # A naive --at is refused before anything is sent; the console refuses what it cannot parse.
    assert "needs a UTC offset" in one_line(await breach(capsys, monkeypatch, "aware", w.suspected, "--at",
                                                         "2026-11-20T09:00"))
    assert "no incident with reference BR-00000000" in one_line(await breach(capsys, monkeypatch, "triage",
                                                                             "BR-00000000"))
    w.users.remove("dora")  # her token dies with her account, at once
    line = one_line(await breach(capsys, monkeypatch, "triage", w.suspected))
    assert "no longer accepts your login" in line and "breach login" in line
    assert len(w.sent) == 4


@pytest.mark.asyncio
async def test_only_a_name_and_password_get_a_personal_token(world: World) -> None:
    """Not a browser session (a cross-site page could make the cookie ride along), not a machine token."""
    w = world
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=w.app), base_url="http://console") as browser:
        csrf = (await browser.get("/login")).text.split('name="csrf_token" value="')[1].split('"')[0]
        page = await browser.post("/login", data={"username": "dora", "password": "dora-password", "next": "/",
                                                  "csrf_token": csrf})
        assert page.status_code == 303 and "breach_session" in browser.cookies
        csrf = (await browser.get("/")).text.split('name="csrf_token" value="')[1].split('"')[0]
        refused = await browser.post("/api/me/token", json={}, headers={"X-CSRF-Token": csrf})  # even with it
        assert refused.status_code == 403 and "HTTP Basic" in refused.json()["error"]
        machine = w.tokens.issue("robot", "dpo", ("read", "act"))
        refused = await browser.post("/api/me/token", headers={"Authorization": f"Bearer {machine}"})
        assert refused.status_code == 403
        too_long = await browser.post("/api/me/token", auth=("dora", "dora-password"), json={"hours": 1000})
        assert too_long.status_code == 400
        issued = await browser.post("/api/me/token", auth=("dora", "dora-password"), json={"hours": 1})
        assert issued.status_code == 201 and issued.json()["role"] == "dpo"
        forged = issued.json()["token"][:-2] + ("AA" if not issued.json()["token"].endswith("AA") else "BB")
        assert (await browser.get("/api/me", headers={"Authorization": f"Bearer {forged}"})).status_code == 401


@pytest.mark.asyncio
async def test_the_cli_finds_the_console_up_started_and_user_errors_are_one_line(
        world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    w = world
    monkeypatch.setenv("BREACH_CONSOLE_USERS", "vera:vera-password:viewer")  # reading without a login
    write_endpoints(w.data, console_url=w.url, broker_url="kafka://127.0.0.1:1")
    run = await breach(capsys, monkeypatch, "incidents")
    assert run.code == 0, run.err
    assert reference(w.aware) in run.out and reference(w.suspected) in run.out

    monkeypatch.setenv("BREACH_CONSOLE_USERS", "vera:not-her-password:viewer")
    line = one_line(await breach(capsys, monkeypatch, "incidents"))
    assert line.startswith(f"breach: the console at {w.url} wants to know who you are: run `breach login`")
    write_endpoints(w.data, console_url=f"http://127.0.0.1:{free_port()}", broker_url="kafka://127.0.0.1:1")
    assert "cannot reach the console at http://127.0.0.1:" in one_line(await breach(capsys, monkeypatch, "incidents"))
    await login(w, capsys, monkeypatch, "rita")  # a login names its console: endpoints.json no longer matters
    assert (await breach(capsys, monkeypatch, "incidents")).code == 0
    # The broker `breach up` used, unless BREACH_BROKER_URL says otherwise; unreachable: one line.
    monkeypatch.delenv("BREACH_BROKER_URL", raising=False)
    closed = free_port()
    write_endpoints(w.data, console_url=w.url, broker_url=f"kafka://127.0.0.1:{closed}")
    records = tmp_path / "records.jsonl"
    records.write_text('{"event_id": "e-1"}\n', encoding="utf-8")
    line = one_line(await breach(capsys, monkeypatch, "send", str(records)))
    assert line.startswith(f"breach: cannot reach the broker at 127.0.0.1:{closed} (KafkaConnectionError)")
    missing = tmp_path / "nobody.csv"
    line = one_line(await breach(capsys, monkeypatch, "subjects", "import", w.aware, str(missing)))
    assert line == f"breach: No such file or directory: {missing}"


def test_a_console_listening_on_every_address_is_reached_on_loopback() -> None:
    assert served_at("0.0.0.0", 8100) == "http://127.0.0.1:8100"
    assert served_at("::1", 8000) == "http://[::1]:8000"
    assert served_at("console.internal", 8000) == "http://console.internal:8000"


@pytest.mark.asyncio
async def test_sending_again_to_recipients_in_doubt_is_the_dpos_call(
        world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    await login(w, capsys, monkeypatch, "dora")
    run = await breach(capsys, monkeypatch, "notices", "resend", w.aware, "--in-doubt")
    assert run.code == 0 and "no recipient is in doubt" in run.out and w.resent == []
    # A worker died mid-send: 2 of 5 handed to the relay, answer never recorded.
    notice = SubjectNotice(notice_id="n-1", list_id="l-1", total=5, default_locale="fr", context={},
                           requested_at=NOW, by="user:dora",
                           partitions=(PartitionProgress(partition=0, accepted=3, in_doubt=2),))
    w.model.incidents[w.aware] = dataclasses.replace(w.model.incidents[w.aware], subject_notices=(notice,))
    await login(w, capsys, monkeypatch, "rita")
    line = one_line(await breach(capsys, monkeypatch, "notices", "resend", reference(w.aware), "--in-doubt"))
    assert line == ("breach: refused by the console (HTTP 403): only the DPO may send the notice again to "
                    "recipients in doubt")
    assert w.resent == []
    await login(w, capsys, monkeypatch, "dora")
    run = await breach(capsys, monkeypatch, "notices", "resend", reference(w.aware), "--in-doubt")
    assert run.code == 0, run.err
    assert "notice n-1: 2 recipient(s) in doubt sent to the workers again" in run.out
    assert w.resent == [(w.aware, "n-1")]
