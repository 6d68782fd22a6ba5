"""The console under an anonymous attacker's load (issue 18): bodies bounded before they are read,
password checks off the event loop with back-off per address and per account, the Host header
checked, and the security headers with ``no-store`` on every answer.

The console runs on an empty read model (no broker: what is under test is the HTTP boundary),
in-process through httpx, and served by uvicorn on loopback in its own thread where a real socket
and a real event loop matter (the flood, the unread body)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp

from console.app import create_console
from console.auth import AuthConfig
from console.read_model import ReadModel
from console.throttle import Policy
from console.users import UserStore
from console.wiring import auth_from
from incident.commands import Command, RecordAwareness
from incident.correlation import correlate
from incident.decide import Rules, decide
from incident.model import fold
from incident.profiles import Directory
from streams.cli.stack import console_config
from streams.embedded.services import CaughtMail, MailCatcher, free_port
from streams.mail import mass
from streams.settings import ROOT, Settings
from tests.support import KEYS, eventually
from tests.unit.builders import T0, FakeCalendar, directory, event

PEOPLE = "dora:dpo-password:dpo,rita:responder-password:responder"
MiB = 1024 * 1024


def console(users: UserStore, model: ReadModel | None = None, **auth: object) -> ASGIApp:
    config = AuthConfig(users=users, secret="s" * 48, **auth)  # type: ignore[arg-type]
    return create_console(model=model or ReadModel(), directory=Directory.of([]), templates_dir=ROOT / "templates",
                          users=users, clock=lambda: datetime.now(UTC), auth=config)


def one_incident() -> tuple[ReadModel, str]:
    """A read model holding one incident (a route under an incident that does not exist answers 404
    before it reads the body: console/tenants.py), and its id."""
    model = ReadModel()
    _, (opened,) = correlate(None, event("a"))
    for e in decide(opened, None, now=T0, rules=Rules(directory(), FakeCalendar())):
        model.apply(e)
    return model, opened.incident_id


@pytest.fixture(scope="module")
def users() -> UserStore:
    return UserStore(None, fixed=PEOPLE)


def client(app: ASGIApp, address: str = "198.51.100.7", **options: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", **options)  # type: ignore[arg-type]


@contextlib.contextmanager
def served(app: ASGIApp, config: uvicorn.Config | None = None) -> Iterator[tuple[str, int, uvicorn.Server]]:
    """``app`` served by uvicorn on loopback, in a thread with its own event loop (as in production:
    the test's requests do not share the console's loop)."""
    config = config or uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning", lifespan="off",
                                      timeout_graceful_shutdown=1)
    port = config.port
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="console", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the console did not start listening"
        time.sleep(0.02)
    try:
        yield "127.0.0.1", port, server
    finally:
        server.should_exit = True
        thread.join(10)


class Counted:
    """A request body that counts what the server pulled from it."""

    def __init__(self, chunks: int, size: int = MiB) -> None:
        self.chunks, self.size, self.read = chunks, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.read += 1
            yield b"a" * self.size


# --- bounded requests ------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_an_oversized_anonymous_login_is_refused_before_its_body_is_read(users: UserStore) -> None:
    model, incident_id = one_incident()
    app = console(users, model)
    async with client(app) as anonymous:
        announced = Counted(300)  # 300 MiB announced in Content-Length
        answer = await anonymous.post("/login", content=announced, headers={
            "content-type": "application/x-www-form-urlencoded", "content-length": str(300 * MiB)})
        assert answer.status_code == 413 and "larger than 65536 bytes" in answer.text
        assert announced.read == 0  # refused on the header alone
        chunked = Counted(300)  # the same without a length: cut off where it passes the limit
        answer = await anonymous.post("/login", content=chunked,
                                      headers={"content-type": "application/x-www-form-urlencoded"})
        assert answer.status_code == 413 and chunked.read == 1
        # The API answers in JSON; a small form still reaches the login page.
        api = await anonymous.post(f"/api/incidents/{incident_id}/triage", content=Counted(2, 40 * 1024),
                                   auth=("rita", "responder-password"), headers={"content-type": "application/json"})
        assert api.status_code == 413 and api.json() == {"error": "the request body is larger than 65536 bytes"}
        assert (await anonymous.post("/login", data={"username": "x"})).status_code == 403  # CSRF, not size


@pytest.mark.asyncio
async def test_a_list_of_affected_people_has_its_own_larger_limit(users: UserStore) -> None:
    model, incident_id = one_incident()
    app = console(users, model, max_import_bytes=256 * 1024)
    async with client(app, auth=("rita", "responder-password")) as responder:
        csv = {"content-type": "text/csv"}
        fits = await responder.post(f"/api/incidents/{incident_id}/subjects",
                                    content=b"email\n" + b"a@b.example\n" * 10_000, headers=csv)
        assert fits.status_code == 405  # past the limits: this console has no broker to import with
        streamed = Counted(10, 64 * 1024)
        too_big = await responder.post(f"/api/incidents/{incident_id}/subjects", content=streamed, headers=csv)
        assert too_big.status_code == 413 and streamed.read == 5  # 320 KiB read: the first byte past the limit
        assert "262144 bytes" in too_big.json()["error"]


@pytest.mark.asyncio
async def test_an_unread_body_over_a_socket_gets_413_at_once(users: UserStore) -> None:
    """Over a real connection the client announces 300 MB and sends 1 KiB: the answer comes without
    the console waiting for (or reading) the rest."""
    with served(console(users)) as (host, port, _):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded"
                     b"\r\nContent-Length: 314572800\r\n\r\n" + b"a" * 1024)
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 10)
        writer.close()
    assert status.startswith(b"HTTP/1.1 413")


@pytest.mark.asyncio
async def test_a_long_list_is_read_off_the_event_loop() -> None:
    """streams.mail.mass.import_subjects (the console's and the CLI's import) parses in a thread: the event
    loop turns while a list is read (on the loop, as before, it turned not once). The lines are all
    invalid, so nothing is published and no broker is needed."""
    data = ("email\n" + "".join(f"person{n}-at-example\n" for n in range(20_000))).encode()
    turns = 0
    importing = True

    async def turn() -> None:
        nonlocal turns
        while importing:
            turns += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(turn())
    await asyncio.sleep(0)
    start = turns
    imported = await mass.import_subjects("127.0.0.1:1", str(uuid.uuid4()), data, fmt="csv", default_locale="en",
                                          by="user:rita", keys=KEYS)
    during = turns - start
    importing = False
    await ticker
    assert len(imported.parsed.invalid) == 20_000 and not imported.parsed.recipients
    assert during > 10, during


# --- password checks off the event loop, back-off instead of lockout ---------------------------------

@pytest.mark.asyncio
async def test_a_flood_of_wrong_basic_logins_does_not_stall_the_console(users: UserStore) -> None:
    """40 concurrent wrong Basic logins (the back-off set high so that every one is checked by argon2):
    /healthz answers while they are still being checked, not after them."""
    app = console(users, throttle=Policy(client_free=1000, account_free=1000))
    with served(app) as (host, port, server):
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=120,
                                     limits=httpx.Limits(max_connections=100)) as http:
            finished: list[str] = []

            async def wrong(n: int) -> None:
                answer = await http.get("/api/me", auth=("dora", f"guess-{n}"))
                assert answer.status_code == 401
                finished.append("login")

            async def health() -> None:
                assert (await http.get("/healthz")).status_code == 200
                finished.append("healthz")

            flood = [asyncio.create_task(wrong(n)) for n in range(40)]
            state = server.server_state  # every request of the flood started (running or answered)
            await eventually(lambda: len(state.tasks) + state.total_requests >= 40, what="the flood at the console")
            await asyncio.gather(health(), *flood)
    assert finished.count("login") == 40
    # Health answered while the flood was still being checked (checked on the event loop, as before,
    # it came after every one of them).
    assert finished.index("healthz") < 40, finished


@pytest.mark.asyncio
async def test_a_flood_for_the_dpo_from_one_address_does_not_lock_the_dpo_out(users: UserStore) -> None:
    app = console(users)
    async with client(app, "203.0.113.9") as attacker:
        answers = await asyncio.gather(*(attacker.get("/api/me", auth=("dora", f"guess-{n}")) for n in range(40)))
        codes = sorted(a.status_code for a in answers)
        assert codes == [401] * 5 + [429] * 35  # counted as they start: concurrency cannot overtake the count
        assert all(int(a.headers["retry-after"]) >= 1 for a in answers if a.status_code == 429)
        # Even the right password waits out the pause from that address ...
        assert (await attacker.get("/api/me", auth=("dora", "dpo-password"))).status_code == 429
    async with client(app, "192.0.2.44") as dpo:  # ... but the DPO, elsewhere, is in at once.
        me = await dpo.get("/api/me", auth=("dora", "dpo-password"))
        assert me.status_code == 200 and me.json()["role"] == "dpo"


@pytest.mark.asyncio
async def test_a_spray_of_names_from_one_address_and_one_name_from_many_addresses_back_off(
        users: UserStore) -> None:
    app = console(users)
    async with client(app, "203.0.113.10") as sprayer:
        page = await sprayer.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        answers = [(await sprayer.post("/login", data={"username": f"user{n}", "password": "Winter2026!",
                                                       "csrf_token": token})).status_code for n in range(7)]
        assert answers == [401] * 5 + [429] * 2
    spread = []
    for n in range(21):  # one guess each from 21 addresses: the account itself backs off
        async with client(app, f"198.18.0.{n + 1}") as one:
            spread.append((await one.get("/api/me", auth=("rita", f"guess-{n}"))).status_code)
    assert spread == [401] * 20 + [429]


@pytest.mark.asyncio
@pytest.mark.parametrize(("trusted", "second"), [("127.0.0.1", 401), ("10.9.9.9", 429)])
async def test_behind_a_trusted_proxy_the_back_off_counts_the_forwarded_address(
        users: UserStore, tmp_path: Path, trusted: str, second: int) -> None:
    """With the proxy in BREACH_CONSOLE_TRUSTED_PROXIES, each client behind it has its own count;
    with another one there, X-Forwarded-For is not believed and they share the proxy's."""
    settings = Settings(data_dir=tmp_path, console_port=free_port(), console_trusted_proxies=trusted)
    app = console(users)
    with served(app, console_config(app, settings)) as (host, port, _):
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=60) as http:
            def guess(client: str, n: int) -> Any:
                return http.get("/api/me", auth=(f"name{n}", "wrong-password"), headers={"x-forwarded-for": client})

            first = [(await guess("203.0.113.1", n)).status_code for n in range(6)]
            assert first == [401] * 5 + [429]
            assert (await guess("203.0.113.2", 6)).status_code == second


# --- headers and host ------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_every_answer_carries_the_security_headers_and_no_store(users: UserStore) -> None:
    app = console(users)
    async with client(app) as http:
        answers = {
            "401": await http.get("/api/incidents"),
            "303": await http.get("/register"),
            "404": await http.get("/api/incidents/nope", auth=("rita", "responder-password")),
            "404 page": await http.get("/incidents/nope", auth=("rita", "responder-password")),
            "413": await http.post("/login", content=b"a" * (65 * 1024)),
            "api": await http.get("/api/incidents", auth=("rita", "responder-password")),
            "login": await http.get("/login"),
        }
    assert [a.status_code for a in answers.values()] == [401, 303, 404, 404, 413, 200, 200]
    for what, answer in answers.items():
        assert answer.headers.get("cache-control") == "no-store", what
        assert "frame-ancestors 'none'" in answer.headers.get("content-security-policy", ""), what
        assert answer.headers.get("x-content-type-options") == "nosniff", what
        assert answer.headers.get_list("cache-control") == ["no-store"], what  # one, not two


@pytest.mark.asyncio
async def test_the_host_header_must_name_this_console(users: UserStore, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, console_url="https://breach.example.org",
                        console_allowed_hosts="console.internal")
    config, _ = auth_from(settings, embedded=False)
    app = create_console(model=ReadModel(), directory=Directory.of([]), templates_dir=ROOT / "templates",
                         users=users, clock=lambda: datetime.now(UTC), auth=config)
    async with client(app) as http:
        def at(host: str, path: str = "/login") -> object:
            return http.get(path, headers={"host": host})

        for host in ("breach.example.org", "console.internal", "localhost:8000", "127.0.0.1", "[::1]:8000"):
            assert (await at(host)).status_code == 200, host
        rebound = await at("attacker.example")  # a rebinding page's name, resolving to the console's address
        assert rebound.status_code == 400 and rebound.headers["cache-control"] == "no-store"
        assert (await at("breach.example.org.attacker.example:443")).status_code == 400
        assert (await at("attacker.example", "/healthz")).status_code == 200  # probes send the pod's address


# --- the mail catcher ------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_a_caught_mail_in_an_unknown_charset_is_shown_not_a_500(users: UserStore) -> None:
    catcher = MailCatcher()  # not listening: the message is put where handle_DATA puts it
    raw = (b"From: breach@example.org\r\nTo: someone@example.org\r\nSubject: Notice\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=x-no-such-charset\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           b"Your data was exposed \xff\xfe on 3 May.\r\n")
    catcher.messages.append(CaughtMail(id="1", received_at=datetime.now(UTC), mail_from="breach@example.org",
                                       recipients=["someone@example.org"], raw=raw))
    app = create_console(model=ReadModel(), directory=Directory.of([]), templates_dir=ROOT / "templates",
                         users=users, clock=lambda: datetime.now(UTC), mailbox=catcher,
                         auth=AuthConfig(users=users, secret="s" * 48))
    async with client(app, auth=("rita", "responder-password")) as http:
        page = await http.get("/mail/1", headers={"Accept-Language": "en"})
        api = await http.get("/api/mail/1")
    assert page.status_code == 200 and "Your data was exposed" in page.text
    assert "does not know" in page.text and "x-no-such-charset" in page.text
    assert api.status_code == 200 and api.json()["unknown_charsets"] == ["x-no-such-charset"]
    assert "\ufffd" in api.json()["text"]  # what could not be read is replaced, not guessed


# --- decisions by role ------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_a_responder_cannot_withdraw_an_obligation_or_lower_the_risk_through_the_api(users: UserStore) -> None:
    """The findings of issue 18: a responder's withdrawal of the Art. 33 obligation and facts that
    drop the risk were accepted (202). Now 403, and nothing reaches the incident; the DPO may."""
    model, rules = ReadModel(), Rules(directory(), FakeCalendar())
    _, (opened,) = correlate(None, event("a"))
    events = decide(opened, None, now=T0, rules=rules)
    state = fold(None, events)
    events += decide(RecordAwareness(incident_id=opened.incident_id, aware_at=T0, by="alice", evidence=()), state,
                     now=T0, rules=rules)
    for e in events:
        model.apply(e)
    incident = model.incidents[opened.incident_id]
    assert incident.level == "risk"
    sent: list[Command] = []

    async def send(command: Command) -> None:
        sent.append(command)

    app = create_console(model=model, directory=directory(), templates_dir=ROOT / "templates", users=users,
                         clock=lambda: T0 + timedelta(hours=1), send_command=send,
                         auth=AuthConfig(users=users, secret="s" * 48))
    base = f"/api/incidents/{incident.id}"
    withdrawal = {"obligation": "GDPR:art33_authority@1", "action": "withdraw", "text": "not a breach after all"}
    lowering = {"changes": {"encrypted": True, "key_compromised": False}, "reason": "salted hashes only"}
    async with client(app, auth=("rita", "responder-password")) as responder:
        refused = await responder.post(f"{base}/obligations", json=withdrawal)
        assert refused.status_code == 403
        assert refused.json() == {"error": "only the DPO may withdraw a legal obligation"}
        closing = await responder.post(f"{base}/obligations", json={**withdrawal, "action": "close"})
        assert closing.status_code == 403 and "only the DPO" in closing.json()["error"]
        assert sent == []  # nothing reached the incident
        proposed = await responder.post(f"{base}/facts", json=lowering)  # the incident keeps it for the DPO
        assert proposed.status_code == 202 and "proposal the DPO confirms" in proposed.json()["proposed"]
        settling = await responder.post(f"{base}/settle", json={"proposal": 1, "confirm": True})
        assert settling.status_code == 403 and "only the DPO" in settling.json()["error"]
        more = await responder.post(f"{base}/facts", json={"changes": {"data_categories": ["health"]},
                                                            "reason": "health data found"})
        assert more.status_code == 202  # facts that raise the risk are anyone's
    async with client(app, auth=("dora", "dpo-password")) as dpo:
        assert (await dpo.post(f"{base}/obligations", json=withdrawal)).status_code == 202
        assert (await dpo.post(f"{base}/facts", json=lowering)).status_code == 202
    assert [type(c).__name__ for c in sent] == ["CorrectFacts", "CorrectFacts", "ActOnObligation", "CorrectFacts"]
    assert [getattr(c, "role", None) for c in sent] == ["responder", "responder", "dpo", "dpo"]  # checked again
