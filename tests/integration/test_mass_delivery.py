"""Mass delivery end to end on the real embedded broker and a real aiosmtpd server on loopback:
import a list, approve the notice, fan out, send through a pool of SMTP connections.

Exactly once (10,000 recipients), the relay stopped mid-run (nothing lost, nothing twice), the
preview byte-for-byte equal to what the relay received, header injection through a name refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import functools
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import uvicorn

from console.app import create_console
from console.auth import AuthConfig
from console.users import UserStore
from incident.model import Incident, SubjectNotice
from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker, free_port
from streams.kafka.commands_out import CommandSender
from streams.mail import mass
from streams.mail.mailer import RecordingMailer, message_id_for
from streams.mail.render import NoticeRenderer
from streams.settings import ROOT
from streams.worker import running
from tests.integration.smtp_sink import Refuser, SmtpSink
from tests.support import KEYS, Watcher, eventually, read_topic, settings_for
from tests.unit.builders import directory

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
RENDERER = NoticeRenderer(ROOT / "templates" / "notices")
MEASURES = ("We disabled the export account and revoked its sessions.",)


@dataclass
class Stack:
    broker: Broker
    sink: SmtpSink
    watcher: Watcher

    def incident(self) -> Incident | None:
        return next(iter(self.watcher.model.incidents.values()), None)

    def notice(self) -> SubjectNotice | None:
        incident = self.incident()
        return incident.subject_notices[0] if incident and incident.subject_notices else None


@pytest_asyncio.fixture
async def stack(broker: Broker, tmp_path: Path) -> AsyncIterator[Stack]:
    sink = SmtpSink(free_port())
    await sink.start()
    settings = settings_for(broker.bootstrap, tmp_path, smtp_port=sink.port, progress_seconds=0.3,
                            delivery_retry_seconds=300.0)
    deps = Deps(directory=directory(), renderer=RENDERER, mailer=RecordingMailer(), clock=lambda: NOW)
    async with running(settings, deps), Watcher(broker.bootstrap) as watcher:
        yield Stack(broker, sink, watcher)
    await sink.stop()


async def aware_incident(stack: Stack) -> Incident:
    record = {"id": "c1", "time": NOW.isoformat(), "title": "Export", "host": "acme-auth", "confirms_breach": True}
    await publish(stack.broker.bootstrap, [json.dumps(record).encode()])
    incident: Incident = await eventually(lambda: (i := stack.incident()) and i.assessment and i,
                                          what="an aware, assessed incident")
    return incident


def csv_list(count: int, extra: str = "") -> bytes:
    rows = ["address,name,language"]
    rows += [f"person{i}@example.org,Person {i},{'en' if i % 3 == 0 else 'fr'}" for i in range(count)]
    return ("\n".join(rows) + "\n" + extra).encode()


async def import_and_approve(stack: Stack, incident: Incident, data: bytes) -> mass.Imported:
    imported = await mass.import_subjects(stack.broker.bootstrap, incident.id, data, fmt="csv", default_locale="fr",
                                          by="test", keys=KEYS)
    await eventually(lambda: (i := stack.incident()) and i.subject_lists, what="the list recorded")
    await mass.approve(stack.broker.bootstrap, incident.id, imported.list_id, by="dpo", role="dpo", keys=KEYS,
                       measures_taken=MEASURES)
    return imported


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.mark.asyncio
async def test_ten_thousand_recipients_each_get_the_notice_exactly_once(stack: Stack) -> None:
    incident = await aware_incident(stack)
    invalid = 'not-an-address,X,fr\n"Mallory\r\nBcc: everyone@evil.example",mallory@example.org,en\n'
    data = csv_list(10_000, extra=invalid + "mallory@example.org,\"Mallory\r\nBcc: everyone@evil.example\",en\n")
    imported = await import_and_approve(stack, incident, data)
    assert [i.line for i in imported.parsed.invalid] == [10_002, 10_003]
    total = 10_001

    notice: SubjectNotice = await eventually(lambda: (n := stack.notice()) and n.accepted == total and n,
                                             timeout=240, what="10,001 messages accepted")
    assert (notice.sent, notice.pending, notice.failed, notice.in_doubt) == (total, 0, 0, 0)
    assert stack.sink.duplicates == {}
    assert sum(stack.sink.received.values()) == total
    expected = {message_id_for(notice.notice_id, f"person{i}@example.org") for i in range(10_000)}
    expected.add(message_id_for(notice.notice_id, "mallory@example.org"))
    assert set(stack.sink.received) == expected
    assert stack.sink.rcpt[message_id_for(notice.notice_id, "person7@example.org")] == ["person7@example.org"]

    # No header from a name: the CR/LF became a space inside the quoted display name.
    mallory = stack.sink.raw[message_id_for(notice.notice_id, "mallory@example.org")]
    head = mallory.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in head and b"\nBcc:" not in head
    assert parsed(mallory)["To"] == '"Mallory Bcc: everyone@evil.example" <mallory@example.org>'
    assert stack.sink.rcpt[message_id_for(notice.notice_id, "mallory@example.org")] == ["mallory@example.org"]

    # Progress came in batches: the incident's whole history is a few dozen events, not 10,000.
    final = stack.incident()
    assert final is not None and final.version < 500


@pytest.mark.asyncio
async def test_the_preview_is_what_the_relay_received(stack: Stack) -> None:
    incident = await aware_incident(stack)
    data = csv_list(6)
    imported = await mass.import_subjects(stack.broker.bootstrap, incident.id, data, fmt="csv",
                                          default_locale="fr", by="test", keys=KEYS)
    state: Incident = await eventually(lambda: (i := stack.incident()) and i.subject_lists and i,
                                       what="the list recorded")
    profile = directory().profiles["acme"]
    before = {locale: mass.preview(RENDERER, state, profile, now=NOW, list_id=imported.list_id, locale=locale,
                                   measures_taken=MEASURES) for locale in ("fr", "en")}
    await mass.approve(stack.broker.bootstrap, incident.id, imported.list_id, by="dpo", role="dpo", keys=KEYS,
                       measures_taken=MEASURES)
    notice = await eventually(lambda: (n := stack.notice()) and n.accepted == 6 and n, what="six accepted")
    state = stack.incident()  # type: ignore[assignment]
    for i, locale in ((0, "en"), (1, "fr")):
        after = mass.preview(RENDERER, state, profile, now=NOW, list_id=imported.list_id, locale=locale)
        assert after == before[locale]  # approval fixed the context the preview showed
        received = parsed(stack.sink.raw[message_id_for(notice.notice_id, f"person{i}@example.org")])
        text = received.get_body(preferencelist=("plain",))
        html = received.get_body(preferencelist=("html",))
        assert text is not None and html is not None
        assert received["Subject"] == after.subject
        # SMTP carries lines ending in CRLF: the only difference allowed.
        assert text.get_content().replace("\r\n", "\n") == after.text
        assert html.get_content().replace("\r\n", "\n") == after.html
        assert received["X-Breach-Notice-Id"] == notice.notice_id
    assert "Changez" in before["fr"].text and "Change your password" in before["en"].text


@pytest.mark.asyncio
async def test_the_relay_stopped_mid_run_and_restarted_loses_nothing_and_sends_nothing_twice(stack: Stack) -> None:
    incident = await aware_incident(stack)
    total = 2_000
    await import_and_approve(stack, incident, csv_list(total))
    await eventually(lambda: sum(stack.sink.received.values()) >= 400, timeout=120, what="400 messages received")
    await stack.sink.stop()
    down = Refuser(stack.sink.port)
    await down.start()
    await eventually(lambda: down.attempts >= 3, what="the worker retrying while the relay is down")
    await down.stop()
    await stack.sink.start()

    notice: SubjectNotice = await eventually(lambda: (n := stack.notice()) and n.accepted == total and n,
                                             timeout=240, what="every message accepted")
    assert (notice.failed, notice.in_doubt, notice.pending) == (0, 0, 0)
    assert stack.sink.duplicates == {}
    assert sum(stack.sink.received.values()) == total


# tests/unit/builders.PROFILE as a file, for the CLI (the in-process worker uses the same profile).
ACME_TOML = """\
id = "acme"
name = "ACME SAS"
timezone = "Europe/Paris"
languages = ["fr", "en"]
established_in = "FR"
[policy]
source = "tests"
[address]
street = "1 rue de la Paix"
postcode = "75002"
city = "Paris"
country = "FR"
[dpo]
name = "DPO"
email = "dpo@acme.example"
is_dpo = true
[authority]
id = "cnil"
name = "CNIL"
address = "3 place de Fontenoy, 75007 Paris"
language = "fr"
[[systems]]
id = "crm"
name = "CRM"
assets = ["acme-crm-db"]
data_categories = ["contact", "identity"]
data_subjects = ["customers"]
approx_subjects = 5000
[[systems]]
id = "accounts"
name = "Customer accounts"
assets = ["acme-auth"]
data_categories = ["contact", "credentials"]
data_subjects = ["customers"]
"""

DSN = """\
From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
To: breach-response@localhost
Subject: Undelivered Mail Returned to Sender
Date: Sun, 22 Nov 2026 11:02:03 +0100 (CET)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"
Message-Id: <20261122100203.4F2A1C0@mx.example.org>

--B1
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{address}>: host mx2.example.org[192.0.2.7] said: 550 5.1.1 <{address}>:
    Recipient address rejected: User unknown in virtual mailbox table

--B1
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
X-Postfix-Queue-ID: 4F2A1C0
Arrival-Date: Sun, 22 Nov 2026 11:02:01 +0100 (CET)

Final-Recipient: rfc822; {address}
Original-Recipient: rfc822;{address}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx2.example.org
Diagnostic-Code: smtp; 550 5.1.1 <{address}>: Recipient address rejected: User
    unknown in virtual mailbox table

--B1
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: breach-response <breach-response@localhost>
To: <{address}>
Subject: ACME SAS : information importante concernant vos donnees personnelles
Message-ID: {message_id}
X-Breach-Notice-Id: {notice_id}

--B1--
"""


def breach(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "streams.cli", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=60, check=False, input=stdin)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield  # pytest owns the signals


@contextlib.asynccontextmanager
async def console_of(stack: Stack, tmp_path: Path) -> AsyncIterator[str]:
    """The console on loopback, over the stack's broker: the CLI's way to change an incident."""
    users = UserStore(tmp_path / "console-users.json")
    users.add("claire", "claire-password", "dpo")
    commands = CommandSender(stack.broker.bootstrap, keys=KEYS)
    await commands.start()
    app = create_console(model=stack.watcher.model, directory=directory(), templates_dir=ROOT / "templates",
                         users=users, clock=lambda: NOW, send_command=commands.send,
                         auth=AuthConfig(users=users, secret="s" * 48),
                         import_subjects=functools.partial(mass.import_subjects, stack.broker.bootstrap, keys=KEYS))
    port = free_port()
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                    timeout_graceful_shutdown=1))
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started or task.done(), what="the console listening")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(task, 10)
        await commands.stop()


@pytest.mark.asyncio
async def test_the_cli_imports_previews_sends_reports_and_reads_bounces(stack: Stack, tmp_path: Path) -> None:
    async with console_of(stack, tmp_path) as url:
        await _cli_walk(stack, tmp_path, url)


async def _cli_walk(stack: Stack, tmp_path: Path, url: str) -> None:
    incident = await aware_incident(stack)
    env = {**os.environ, "BREACH_BROKER_URL": f"kafka://{stack.broker.bootstrap}",
           "BREACH_PROFILES_DIR": str(tmp_path / "profiles"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "BREACH_DATA_DIR": str(tmp_path / "data")}
    env.pop("BREACH_COMMAND_KEYS", None)  # the CLI signs nothing: the console does, in the DPO's name
    logged_in = await asyncio.to_thread(breach, env, "login", "--url", url, "--name", "claire",
                                        stdin="claire-password\n")
    assert logged_in.returncode == 0, logged_in.stderr
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "acme.toml").write_text(ACME_TOML, encoding="utf-8")
    people = tmp_path / "people.csv"
    people.write_bytes(csv_list(5, extra="secret-but-invalid@,Oops,fr\n"))

    imported = await asyncio.to_thread(breach, env, "subjects", "import", incident.id, str(people))
    assert imported.returncode == 0, imported.stderr
    assert "5 recipient(s) imported, 1 invalid line(s)" in imported.stdout
    assert f"{people}:7: invalid domain after @" in imported.stderr
    assert "secret-but-invalid" not in imported.stderr + imported.stdout
    await eventually(lambda: (i := stack.incident()) and i.subject_lists, what="the list recorded")

    reference = "BR-" + incident.id.replace("-", "")[:8].upper()
    shown = await asyncio.to_thread(breach, env, "notices", "preview", reference, "--locale", "en", "--part",
                                    "text", "--measure", MEASURES[0])
    assert shown.returncode == 0, shown.stderr
    assert MEASURES[0] in shown.stdout and "Change your password" in shown.stdout

    refused = await asyncio.to_thread(breach, env, "notices", "send", incident.id)
    assert refused.returncode == 0  # sent; the worker refuses it (no measure): nothing is delivered
    sent = await asyncio.to_thread(breach, env, "notices", "send", incident.id, "--measure", MEASURES[0])
    assert sent.returncode == 0, sent.stderr
    notice: SubjectNotice = await eventually(lambda: (n := stack.notice()) and n.accepted == 5 and n,
                                             what="five accepted")
    assert notice.by == "user:claire"  # the person logged in, not what a flag said
    status = await asyncio.to_thread(breach, env, "notices", "status", reference)
    assert "sent 5  pending 0  failed 0  bounced 0  in doubt 0  (total 5)" in status.stdout
    assert "[########################################] 5/5" in status.stdout
    watched = await asyncio.to_thread(breach, env, "notices", "status", reference, "--watch")
    assert watched.returncode == 0 and "5/5" in watched.stdout  # --watch ends once nothing is pending

    dsn = tmp_path / "bounce.eml"
    dsn.write_text(DSN.format(address="person1@example.org", notice_id=notice.notice_id,
                              message_id=message_id_for(notice.notice_id, "person1@example.org")), encoding="utf-8")
    stray = tmp_path / "stray.eml"
    stray.write_text("From: a@b.example\nSubject: hello\n\nnot a bounce\n", encoding="utf-8")
    bounced = await asyncio.to_thread(breach, env, "notices", "bounces", incident.id, str(dsn), str(stray))
    assert "1 bounced recipient(s) sent to the workers" in bounced.stdout
    assert "message 2: no permanently failed recipient found" in bounced.stderr
    await eventually(lambda: (n := stack.notice()) and n.bounced == 1, what="the bounce recorded")
    status = await asyncio.to_thread(breach, env, "notices", "status", incident.id)
    assert "sent 4  pending 0  failed 0  bounced 1  in doubt 0  (total 5)" in status.stdout


@pytest.mark.asyncio
async def test_an_unreadable_delivery_record_is_dead_lettered_and_the_others_are_sent(stack: Stack) -> None:
    incident = await aware_incident(stack)
    garbage = [b"{not json", b'["a list"]', b'{"type": "send", "notice_id": "n", "address": 7, "locale": "fr"}']
    await publish(stack.broker.bootstrap, garbage, topic="notice-deliveries")
    await import_and_approve(stack, incident, csv_list(6))

    notice = await eventually(lambda: (n := stack.notice()) and n.accepted == 6 and n, what="six accepted")
    assert (notice.sent, notice.failed) == (6, 0)
    letters = [json.loads(r.value) for r in await read_topic(stack.broker.bootstrap, "notice-deliveries.dlq", 3)]
    assert sorted(letter["record"] for letter in letters) == sorted(g.decode() for g in garbage)
    assert all(letter["reason"].startswith("not a delivery record: ") and letter["stage"] == "deliver"
               for letter in letters)
