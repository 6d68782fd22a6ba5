"""One bad record is one dead letter, never a lost batch (issue 14's reproductions, on a real
embedded broker and an in-process worker).

Each test puts a poisoned record beside a real breach, in the same batch where it matters, and
checks both: the breach becomes an incident, the poison is one dead letter with its reason on
its stage's dead-letter topic. Before, each of these made an agent raise: faust restarted it,
nothing was dead-lettered and the valid breach never became an incident.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from incident.commands import AttachSignal
from incident.correlation import correlation_key
from incident.profiles import Directory
from incident.signals import Evidence
from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker
from streams.kafka import codec
from streams.kafka.dlq import KEEP_BYTES
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.pipeline.signal_batches import encode_signals
from streams.settings import ROOT
from streams.worker import running
from tests.support import Watcher, eventually, read_topic, settings_for
from tests.unit.builders import directory, event

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
BIG = 10 * 1024 * 1024  # a record the broker takes, far past a producer's default request limit


def breach(event_id: str, host: str = "acme-crm-db", **fields: Any) -> dict[str, Any]:
    return {"id": event_id, "time": "2026-11-22T10:00:00+01:00", "title": "Table exported", "host": host,
            "confirms_breach": True, **fields}


class System:
    def __init__(self, broker: Broker, watcher: Watcher, mailer: RecordingMailer) -> None:
        self.broker, self.watcher, self.mailer = broker, watcher, mailer

    async def incident_with(self, event_id: str) -> Any:
        return await eventually(lambda: next((i for i in self.watcher.model.incidents.values()
                                              if event_id in {e.event_id for e in i.evidence}), None),
                                what=f"an incident holding {event_id}")

    async def letters(self, topic: str, count: int) -> list[dict[str, Any]]:
        return [json.loads(r.value) for r in await read_topic(self.broker.bootstrap, topic, count)]

    async def produce(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.broker.bootstrap, acks="all",
                                    max_request_size=BIG + 1024 * 1024)
        await producer.start()
        try:
            await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()


@pytest_asyncio.fixture
async def system(broker: Broker, tmp_path: Path) -> AsyncIterator[System]:
    mailer = RecordingMailer()
    deps = Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"), mailer=mailer,
                clock=lambda: NOW, retry_delay=0.01)
    async with running(settings_for(broker.bootstrap, tmp_path), deps), Watcher(broker.bootstrap) as watcher:
        yield System(broker, watcher, mailer)


@pytest.mark.asyncio
async def test_a_lone_surrogate_beside_a_confirmed_breach_in_one_record(system: System) -> None:
    # json.dumps escapes it as \ud800, as a SIEM would: valid JSON, but not text.
    batch = json.dumps([breach("poison", title="x\ud800"), breach("valid-1")]).encode()
    await publish(system.broker.bootstrap, [batch, json.dumps(breach("valid-2", host="acme-auth")).encode()])

    incident = await system.incident_with("valid-1")
    assert incident.awareness is not None  # the confirmed breach started its clock
    await system.incident_with("valid-2")
    (letter,) = await system.letters("security-events.dlq", 1)
    assert letter["reason"] == "field 'title' is not valid Unicode text (it holds a lone UTF-16 surrogate)"
    assert letter["source"].endswith("#0") and letter["stage"] == "ingest"
    assert json.loads(letter["record"])["id"] == "poison"


@pytest.mark.asyncio
async def test_events_dated_year_1_or_9999_are_refused_and_their_batch_goes_on(system: System) -> None:
    batch = [breach("year-1", time="0001-01-01T00:00:00+00:00"), breach("year-9999", time="9999-12-31T23:59:59+00:00"),
             breach("valid-3", host="acme-auth")]
    await publish(system.broker.bootstrap, [json.dumps(batch).encode()])

    await system.incident_with("valid-3")
    letters = await system.letters("security-events.dlq", 2)
    assert sorted(json.loads(letter["record"])["id"] for letter in letters) == ["year-1", "year-9999"]
    assert all("outside 1970-01-01 – 2100-01-01" in letter["reason"] for letter in letters)
    assert all(e.occurred_at.year == 2026 for i in system.watcher.model.incidents.values() for e in i.evidence)


@pytest.mark.asyncio
async def test_an_oversized_record_is_one_bounded_dead_letter_and_its_neighbour_goes_on(system: System) -> None:
    big = json.dumps(breach("huge", title="x" * BIG)).encode()
    await system.produce("security-events", big)
    await publish(system.broker.bootstrap, [json.dumps(breach("valid-4")).encode()])

    await system.incident_with("valid-4")
    (letter,) = await system.letters("security-events.dlq", 1)
    assert letter["reason"].startswith("field 'title' is longer than")
    assert letter["truncated"] is True and letter["length"] == len(big)
    assert letter["sha256"] == hashlib.sha256(big).hexdigest()  # which record it was, provably
    assert letter["record"].encode() == big[:KEEP_BYTES]


@pytest.mark.asyncio
async def test_a_signal_the_correlator_cannot_take_is_dead_lettered_alone(system: System) -> None:
    # Written straight to `signals` (an older worker, or a bug, let it through): a key's first
    # signal dated year 1 overflowed the window arithmetic and took the batch with it.
    year_1 = replace(event("old", at=datetime(1, 1, 1, tzinfo=UTC)), raw_ref="security-events:0:7")
    valid = event("valid-5", confirms=True)
    assert correlation_key(year_1) == correlation_key(valid)
    (record,) = encode_signals([year_1, valid], limit=1_000_000)
    await system.produce("signals", record, key=correlation_key(valid).encode())

    await system.incident_with("valid-5")
    (letter,) = await system.letters("signals.dlq", 1)
    assert letter["reason"] == "correlation failed: OverflowError"
    assert letter["source"] == "security-events:0:7" and letter["stage"] == "correlate"
    assert codec.decode(letter["record"]).event_id == "old"


@pytest.mark.asyncio
async def test_a_command_deciding_cannot_take_is_dead_lettered_and_the_batch_is_decided(system: System) -> None:
    # Awareness at the end of year 9999: the 72-hour deadline overflows while deciding.
    doomed = Evidence.of(replace(event("doom", confirms=True), ingested_at=datetime(9999, 12, 31, 23, tzinfo=UTC)),
                         reason="test")
    command = AttachSignal(incident_id="doomed-incident", controller="acme", correlation_key="acme", evidence=doomed)
    await system.produce("incident-commands", codec.encode(command), key=b"doomed-incident")
    await publish(system.broker.bootstrap, [json.dumps(breach("valid-6")).encode()])

    await system.incident_with("valid-6")
    (letter,) = await system.letters("incident-commands.dlq", 1)
    assert letter["reason"] == "could not be decided: OverflowError in AttachSignal"
    assert letter["stage"] == "incident" and codec.decode(letter["record"]) == command
    assert "doomed-incident" not in system.watcher.model.incidents


@pytest.mark.asyncio
async def test_an_unreadable_incident_event_is_dead_lettered_and_notices_still_go(system: System) -> None:
    await system.produce("incident-events", b'{"type": "NoSuchEvent", "data": {}}', key=b"nowhere")
    await publish(system.broker.bootstrap, [json.dumps(breach("valid-7")).encode()])

    incident = await system.incident_with("valid-7")
    drafted = await eventually(lambda: system.watcher.model.incidents[incident.id].notices,
                               what="the breach's notices drafted")
    await eventually(lambda: {n.notice_id for n in drafted} <= {m.notice_id for m in system.mailer.sent},
                     what="the breach's notices sent after the unreadable event")
    (letter,) = await system.letters("incident-events.dlq", 1)
    assert letter["reason"].startswith("could not be acted on: ") and letter["stage"] == "notify"
    assert letter["record"] == '{"type": "NoSuchEvent", "data": {}}'



@pytest.mark.asyncio
async def test_a_command_whose_key_is_not_text_is_dead_lettered_and_the_batch_is_decided(system: System) -> None:
    doomed = Evidence.of(event("bad-key"), reason="test")
    command = AttachSignal(incident_id="some-incident", controller="acme", correlation_key="acme", evidence=doomed)
    await system.produce("incident-commands", codec.encode(command), key=b"\xff\xfe")
    await publish(system.broker.bootstrap, [json.dumps(breach("valid-8")).encode()])

    await system.incident_with("valid-8")
    (letter,) = await system.letters("incident-commands.dlq", 1)
    assert letter["reason"] == "the record's key is not UTF-8 text" and letter["stage"] == "incident"


@pytest.mark.asyncio
async def test_a_command_whose_events_would_pass_the_record_limit_is_dead_lettered(system: System) -> None:
    # Written straight to the topic (the broker takes 10 MB): its signal's 5 MB title would make an
    # event past the producer's request limit. Sending it raised MessageSizeTooLargeError in the
    # incident agent, which crashed on the same command again at every restart.
    huge = Evidence.of(replace(event("huge", confirms=True), title="x" * (5 * 1024 * 1024)), reason="test")
    incident_id = "0b8e2a3c-54f1-5d0e-9a57-2f1f3c1e7d42"
    command = AttachSignal(incident_id=incident_id, controller="acme", correlation_key="acme", evidence=huge)
    await system.produce("incident-commands", codec.encode(command), key=incident_id.encode())
    await publish(system.broker.bootstrap, [json.dumps(breach("valid-9")).encode()])

    await system.incident_with("valid-9")
    (letter,) = await system.letters("incident-commands.dlq", 1)
    assert letter["stage"] == "incident" and letter["truncated"] is True
    assert letter["reason"].startswith("could not be decided: its SignalAttached event would be ")
    assert "over the 4,000,000-byte limit of a record" in letter["reason"]
    assert incident_id not in system.watcher.model.incidents


@pytest.mark.asyncio
async def test_a_command_whose_state_would_pass_the_record_limit_is_dead_lettered(system: System) -> None:
    # Each event is under the limit, but the incident's state quotes the 3 MB title three times.
    big = Evidence.of(replace(event("big", confirms=True), title="x" * (3 * 1024 * 1024)), reason="test")
    incident_id = "5a0c6f0e-3b2d-5c8e-8f7a-1d2e3f4a5b6c"
    command = AttachSignal(incident_id=incident_id, controller="acme", correlation_key="acme", evidence=big)
    await system.produce("incident-commands", codec.encode(command), key=incident_id.encode())
    await publish(system.broker.bootstrap, [json.dumps(breach("valid-10")).encode()])

    await system.incident_with("valid-10")
    (letter,) = await system.letters("incident-commands.dlq", 1)
    assert letter["reason"].startswith("could not be decided: the incident's state would be ")
    assert incident_id not in system.watcher.model.incidents


class _FaultyDirectory(Directory):
    """The real directory, but its lookup of one host raises what nobody foresaw (a bug of the
    stage's own code, not an adapter's refusal)."""

    def attribute(self, asset: str, controller: str | None = None, *, addresses: Any = ()) -> Any:
        if asset == "cursed-host":
            raise RuntimeError("a fault in the stage's code")
        return super().attribute(asset, controller, addresses=addresses)


@pytest.mark.asyncio
async def test_a_record_that_crashes_the_ingest_code_is_a_dead_letter_and_its_batch_goes_on(
        broker: Broker, tmp_path: Path) -> None:
    real = directory()
    faulty = _FaultyDirectory(**{f.name: getattr(real, f.name) for f in fields(real)})
    deps = Deps(directory=faulty, renderer=NoticeRenderer(ROOT / "templates" / "notices"), mailer=RecordingMailer(),
                clock=lambda: NOW, retry_delay=0.01)
    async with running(settings_for(broker.bootstrap, tmp_path), deps), Watcher(broker.bootstrap) as watcher:
        system = System(broker, watcher, RecordingMailer())
        await publish(broker.bootstrap, [json.dumps(breach("cursed", host="cursed-host")).encode(),
                                         json.dumps(breach("valid-9")).encode()])
        await system.incident_with("valid-9")
        (letter,) = await system.letters("security-events.dlq", 1)
    assert letter["reason"] == "could not be read: RuntimeError" and letter["stage"] == "ingest"
    assert json.loads(letter["record"])["id"] == "cursed"
