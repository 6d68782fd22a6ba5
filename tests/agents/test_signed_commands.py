"""Forged commands on a real broker: whoever can write to incident-commands cannot act as a person
without the signing key. Each refusal is on incident-commands.dlq with its reason, counted, and
leaves the incident's history untouched; signed commands (with either key of a rotation) work."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from incident.commands import RecordAwareness, StartTriage, Tick
from streams import metrics
from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker
from streams.kafka import codec
from streams.kafka.command_signing import HEADER, Keyring, new_key
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.settings import ROOT
from streams.worker import running
from tests.support import COMMAND_KEYS, KEYS, Watcher, eventually, read_topic, settings_for
from tests.unit.builders import directory

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
NEW_KEY = new_key("k2")
ROTATED = Keyring.parse(f"{NEW_KEY},{COMMAND_KEYS}")  # k2 signs now; test-1, the old key, still verifies
ROGUE = Keyring.parse(new_key("test-1"))  # the right key id, the wrong secret
REFUSED = ("incident-commands.dlq", "signature refused")


@pytest_asyncio.fixture
async def watcher(broker: Broker, tmp_path: Path) -> AsyncIterator[Watcher]:
    """A worker given the rotated key list, and the console's projection of what it publishes."""
    deps = Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                mailer=RecordingMailer(), clock=lambda: NOW, retry_delay=0.01)
    settings = settings_for(broker.bootstrap, tmp_path, command_keys=f"{NEW_KEY},{COMMAND_KEYS}")
    async with running(settings, deps), Watcher(broker.bootstrap) as w:
        yield w


async def write(bootstrap: str, incident_id: str, value: bytes, headers: list[tuple[str, bytes]]) -> None:
    """Straight to the topic, as anyone with produce rights could."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait("incident-commands", value, key=incident_id.encode(), headers=headers)
    finally:
        await producer.stop()


async def suspected_incident(broker: Broker, watcher: Watcher) -> str:
    record = {"id": "s1", "time": NOW.isoformat(), "title": "Export", "host": "acme-crm-db"}
    await publish(broker.bootstrap, [json.dumps(record).encode()])
    incident = await eventually(lambda: next(iter(watcher.model.incidents.values()), None), what="the incident")
    assert incident.awareness is None and incident.triage is None
    return str(incident.id)


def refused_count() -> float:
    value: Any = metrics.DEAD_LETTERS.labels(topic=REFUSED[0], reason=REFUSED[1])._value.get()
    return float(value)


@pytest.mark.asyncio
async def test_forged_commands_change_nothing_and_are_dead_lettered_with_their_reason(
        broker: Broker, watcher: Watcher) -> None:
    incident_id = await suspected_incident(broker, watcher)
    before = refused_count()
    forged = RecordAwareness(incident_id=incident_id, aware_at=NOW, by="user:mallory", evidence=("forged",))
    value = codec.encode(forged)
    alice = RecordAwareness(incident_id=incident_id, aware_at=NOW, by="user:alice", evidence=("call",))
    alices_signature = ROTATED.headers(codec.encode(alice))
    await write(broker.bootstrap, incident_id, value, [])  # unsigned
    await write(broker.bootstrap, incident_id, value, ROGUE.headers(value))  # a key the worker does not hold
    await write(broker.bootstrap, incident_id, value, alices_signature)  # signed for alice, actor changed after
    await write(broker.bootstrap, incident_id, value, [(HEADER, b"unknown:" + b"0" * 64)])  # a made-up key id

    # Then the real one, on the same partition: once it is decided, so were the forgeries before it.
    await write(broker.bootstrap, incident_id, codec.encode(alice), alices_signature)
    incident = await eventually(lambda: (i := watcher.model.incidents[incident_id]).awareness and i,
                                what="alice's signed awareness recorded")
    assert incident.awareness.by == "user:alice"
    history = watcher.model.timeline[incident_id]
    assert not any("mallory" in json.dumps(codec.to_jsonable(e)) for e in history)
    assert not watcher.model.rejected  # refused before deciding: not even a CommandRejected event

    letters = [json.loads(r.value) for r in await read_topic(broker.bootstrap, "incident-commands.dlq", 4)]
    assert [letter["reason"] for letter in letters] == [
        "signature refused: unsigned: no breach-signature header",
        "signature refused: bad signature for key 'test-1'",
        "signature refused: bad signature for key 'k2'",
        "signature refused: signed with an unknown key id 'unknown'",
    ]
    assert all(letter["record"] == value.decode() for letter in letters)  # kept intact for the investigation
    assert all(letter["source"].startswith("incident-commands:") for letter in letters)
    assert refused_count() - before == 4
    # Visible as refused where the responder looks: the console lists them on the incident.
    refused = await eventually(lambda: len(found := watcher.model.refused_commands(incident_id)) == 4 and found,
                               what="the forgeries listed as refused on the incident")
    assert {d.command for d in refused} == {"RecordAwareness"}
    assert [d.reason for d in refused] == [letter["reason"] for letter in reversed(letters)]
    assert all(d.topic == "incident-commands.dlq" and d.stage == "incident" for d in refused)


@pytest.mark.asyncio
async def test_a_command_signed_with_the_older_key_of_a_rotation_is_decided(broker: Broker,
                                                                            watcher: Watcher) -> None:
    incident_id = await suspected_incident(broker, watcher)
    triage = codec.encode(StartTriage(incident_id=incident_id, by="user:bob", at=NOW))
    await write(broker.bootstrap, incident_id, triage, KEYS.headers(triage))  # test-1: second in the list
    incident = await eventually(lambda: (i := watcher.model.incidents[incident_id]).triage and i,
                                what="the triage started")
    assert incident.triage.by == "user:bob"


@pytest.mark.asyncio
async def test_machine_commands_may_come_unsigned_but_not_badly_signed(broker: Broker, watcher: Watcher) -> None:
    """The workers' own commands (a Tick here) need no signature; one that carries a bad one is
    refused all the same (a signature is checked whenever there is one)."""
    incident_id = await suspected_incident(broker, watcher)
    tick = codec.encode(Tick(incident_id=incident_id, at=NOW))
    await write(broker.bootstrap, incident_id, tick, ROGUE.headers(tick))
    await write(broker.bootstrap, incident_id, tick, [])
    await write(broker.bootstrap, incident_id, tick, [("traceparent", b"00-4bf92f3577b34da6-00f067aa0ba902b7-01")])
    triage = StartTriage(incident_id=incident_id, by="user:bob", at=NOW)
    await write(broker.bootstrap, incident_id, codec.encode(triage), ROTATED.headers(codec.encode(triage)))
    await eventually(lambda: watcher.model.incidents[incident_id].triage, what="the triage after the ticks")
    (letter,) = [json.loads(r.value) for r in await read_topic(broker.bootstrap, "incident-commands.dlq", 1)]
    assert letter["reason"] == "signature refused: bad signature for key 'test-1'"
    assert json.loads(letter["record"])["type"] == "Tick"
