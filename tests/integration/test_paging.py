"""Paging with real parts: the embedded broker and a worker, aiosmtpd on loopback for the e-mail
and an aiohttp server on loopback for the generic JSON, Slack and Teams webhooks. Time moves
through the worker's clock (never a sleep): an aware incident pages at once, again after the
interval, and no more once a person acknowledges it; no payload carries personal data."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiokafka import AIOKafkaProducer
from structlog.testing import capture_logs

from incident.commands import AcknowledgePage, AddNote, Tick
from incident.events import Paged
from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker, free_port
from streams.kafka import codec
from streams.mail.mailer import SmtpMailer
from streams.mail.render import NoticeRenderer
from streams.oncall.page_hooks import PageHook, Pager
from streams.oncall.webhook import HttpWebhook
from streams.settings import ROOT, load_settings
from streams.worker import running
from tests.integration.smtp_sink import SmtpSink
from tests.support import KEYS, Watcher, eventually, loopback_http, read_topic, settings_for
from tests.unit.builders import directory

ONCALL = "oncall@acme.example"
SECRET = "T0000/B0000/XXXXsecretXXXX"  # what a Slack webhook URL hides: never in a log or a letter
# What the SIEM record says that no page may repeat: a person, an address, the asset, the evidence.
PERSONAL = ("j.dupont", "203.0.113.7", "acme-crm-db", "Bulk export of the CRM by j.dupont")


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class Receiver:
    """The chat tools and the on-call tool: every body POSTed, by path; /broken always fails."""

    def __init__(self) -> None:
        self.bodies: dict[str, list[str]] = {"json": [], "slack": [], "teams": []}

    async def handle(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        if kind == "broken":
            return web.Response(status=500)
        self.bodies[kind].append(await request.text())
        return web.Response(status=200, text="ok")

    def received(self, kind: str) -> list[dict[str, Any]]:
        return [json.loads(b) for b in self.bodies[kind]]


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    r = Receiver()
    async with loopback_http("/{kind}/{rest:.*}", r.handle) as url:
        yield r, url


@pytest_asyncio.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    s = SmtpSink(port=free_port())
    await s.start()
    yield s
    await s.stop()


def hook(fmt: str, url: str) -> PageHook:
    return PageHook(fmt, HttpWebhook(url, attempts=2, delay=0.01, timeout=5))


def deps_for(sink: SmtpSink, clock: FakeClock, hooks: tuple[PageHook, ...]) -> Deps:
    return Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                mailer=SmtpMailer(load_settings({}, smtp_port=sink.port), timeout=5), clock=clock, oncall=(ONCALL,),
                retry_delay=0.01, pager=Pager(hooks=hooks))


def pages_mailed(sink: SmtpSink) -> list[Message]:
    mails = [message_from_bytes(sink.raw[mid]) for mid in sink.received if ONCALL in sink.rcpt[mid]]
    return [m for m in mails if str(m["Subject"]).startswith(("PAGE", "ALERTE"))]  # English, French


async def send_signed(bootstrap: str, command: Any) -> None:
    value = codec.encode(command)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait("incident-commands", value, key=command.incident_id.encode(),
                                     headers=KEYS.headers(value))
    finally:
        await producer.stop()


@pytest.mark.asyncio
async def test_an_aware_incident_pages_at_once_repeats_and_stops_when_acknowledged(
        broker: Broker, sink: SmtpSink, receiver: tuple[Receiver, str], tmp_path: Path) -> None:
    r, base = receiver
    clock = FakeClock()
    deps = deps_for(sink, clock, (hook("json", f"{base}/json/page"), hook("slack", f"{base}/slack/{SECRET}"),
                                  hook("teams", f"{base}/teams/webhookb2/x")))
    settings = settings_for(broker.bootstrap, tmp_path, tick_seconds=0.2)
    record = {"id": "p1", "time": clock.now.isoformat(), "title": "Bulk export of the CRM by j.dupont",
              "host": "acme-crm-db", "user": "j.dupont", "source_ip": "203.0.113.7", "confirms_breach": True}
    async with Watcher(broker.bootstrap) as watcher, running(settings, deps, app_id="paging-test"):
        await publish(broker.bootstrap, [json.dumps(record).encode()])
        # The first page: as soon as the awareness is decided, on every channel (not at T-48 h).
        await eventually(lambda: len(pages_mailed(sink)) == 1 and all(len(r.bodies[k]) == 1 for k in r.bodies),
                         what="the first page on e-mail, JSON, Slack and Teams")
        (incident,) = watcher.model.incidents.values()
        first = r.received("json")[0]
        assert (first["type"], first["reason"], first["repeat"], first["incident_id"]) == (
            "breach.page", "aware", 0, incident.id)
        assert first["deadline"] == incident.clocks[0].deadline.isoformat()
        assert first["url"].endswith(f"/incidents/{incident.id}")
        assert pages_mailed(sink)[0]["To"] == ONCALL
        # In the controller's language (its profile's first, French here), not English for all.
        mailed = pages_mailed(sink)[0]
        plain = next(part for part in mailed.walk() if part.get_content_type() == "text/plain")
        body = plain.get_payload(decode=True).decode(plain.get_content_charset() or "utf-8")
        subject = str(make_header(decode_header(str(mailed["Subject"]))))
        assert subject.startswith("ALERTE · ") and "une violation dont le responsable" in body
        assert "prise de connaissance" in body and "needs someone" not in body

        # The interval passes (the worker's clock, not a sleep): the same page again, repeat 1.
        clock.now += timedelta(minutes=15)
        await eventually(lambda: len(pages_mailed(sink)) == 2 and all(len(r.bodies[k]) == 2 for k in r.bodies),
                         what="the repeat on every channel")
        assert r.received("json")[1]["repeat"] == 1 and r.received("json")[1]["page_id"] == first["page_id"]
        assert "rappel 1" in str(pages_mailed(sink)[1]["Subject"])

        # A named person acknowledges it (a signed command, as the console sends it).
        await send_signed(broker.bootstrap, AcknowledgePage(incident_id=incident.id, by="user:rita", role="responder"))
        await eventually(lambda: watcher.model.incidents[incident.id].pages[0].acknowledged_by == "user:rita",
                         what="the acknowledgement on the incident")
        # Past the next repeat: a Tick is decided, then a note after it on the same partition;
        # once the note is on the timeline the Tick was decided too, and it paged nobody.
        clock.now += timedelta(minutes=20)
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait("incident-commands", codec.encode(Tick(incident_id=incident.id, at=clock.now)),
                                         key=incident.id.encode())
        finally:
            await producer.stop()
        await send_signed(broker.bootstrap, AddNote(incident_id=incident.id, note_id="n1", text="on it",
                                                    by="user:rita", role="responder"))
        await eventually(lambda: incident.id in watcher.model.timeline and any(
            type(e).__name__ == "NoteAdded" for e in watcher.model.timeline[incident.id]), what="the note")
        paged = [e for e in watcher.model.timeline[incident.id] if isinstance(e, Paged)]
        assert [e.repeat for e in paged] == [0, 1]
        assert any(type(e).__name__ == "PageAcknowledged" for e in watcher.model.timeline[incident.id])

    assert len(pages_mailed(sink)) == 2 and all(len(r.bodies[k]) == 2 for k in r.bodies)
    # No personal data and no evidence in any payload, nor in the pages' e-mails.
    bodies = [b for kind in r.bodies.values() for b in kind]
    mails = [sink.raw[mid].decode("utf-8", "replace") for mid in sink.received if ONCALL in sink.rcpt[mid]]
    for text in (*bodies, *mails):
        for personal in PERSONAL:
            assert personal not in text
    assert sink.duplicates == {}


@pytest.mark.asyncio
async def test_a_channel_that_keeps_failing_is_dead_lettered_with_its_reason_and_no_secret(
        broker: Broker, sink: SmtpSink, receiver: tuple[Receiver, str], tmp_path: Path) -> None:
    r, base = receiver
    clock = FakeClock()
    deps = deps_for(sink, clock, (hook("slack", f"{base}/broken/{SECRET}"), hook("json", f"{base}/json/page")))
    settings = settings_for(broker.bootstrap, tmp_path)
    record = {"id": "p2", "time": clock.now.isoformat(), "title": "Export", "host": "acme-crm-db",
              "confirms_breach": True}
    with capture_logs() as logs:
        async with running(settings, deps, app_id="paging-dlq-test"):
            await publish(broker.bootstrap, [json.dumps(record).encode()])
            (letter,) = await read_topic(broker.bootstrap, "incident-events.dlq", 1)
    dead = json.loads(letter.value)
    assert dead["stage"] == "page"
    assert dead["reason"] == "page not delivered: slack: HTTP 500 after 2 attempts"
    assert json.loads(dead["record"])["type"] == "Paged"
    assert len(r.bodies["json"]) == 1 and len(pages_mailed(sink)) == 1  # the other channels were paged
    assert any(e["event"] == "page.dead_lettered" for e in logs)
    assert SECRET not in letter.value.decode() and all(SECRET not in repr(e) for e in logs)
