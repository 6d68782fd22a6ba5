"""Mass delivery end to end on the real embedded broker and a real aiosmtpd server on loopback:
import a list, approve the notice, fan out, send through a pool of SMTP connections.

Exactly once (10,000 recipients), the relay stopped mid-run (nothing lost, nothing twice), the
preview byte-for-byte equal to what the relay received, header injection through a name refused.
"""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
import pytest_asyncio

from incident.model import Incident, SubjectNotice
from streams import mass
from streams.deps import Deps
from streams.embedded import Broker, free_port
from streams.mailer import RecordingMailer, message_id_for
from streams.render import NoticeRenderer
from streams.samples import publish
from streams.settings import ROOT
from streams.worker import running
from tests.integration.smtp_sink import Refuser, SmtpSink
from tests.support import Watcher, eventually, settings_for
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
                                          by="test")
    await eventually(lambda: (i := stack.incident()) and i.subject_lists, what="the list recorded")
    await mass.approve(stack.broker.bootstrap, incident.id, imported.list_id, by="dpo", role="dpo",
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
                                          default_locale="fr", by="test")
    state: Incident = await eventually(lambda: (i := stack.incident()) and i.subject_lists and i,
                                       what="the list recorded")
    profile = directory().profiles["acme"]
    before = {locale: mass.preview(RENDERER, state, profile, now=NOW, list_id=imported.list_id, locale=locale,
                                   measures_taken=MEASURES) for locale in ("fr", "en")}
    await mass.approve(stack.broker.bootstrap, incident.id, imported.list_id, by="dpo", role="dpo",
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
    total = 3_000
    await import_and_approve(stack, incident, csv_list(total))
    await eventually(lambda: sum(stack.sink.received.values()) >= 500, timeout=120, what="500 messages received")
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
