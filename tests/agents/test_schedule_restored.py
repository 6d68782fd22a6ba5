"""A worker SIGKILLed between writing an incident and writing its schedule: the incident's
record is on its changelog, its schedule's is not, and the command is read again by the next
owner (its offset was not committed). The incident still ticks: its reminders arrive.

Seen in tests/reliability/test_worker_crash.py (one incident's T-48h reminder never came: the
killed worker's last line was that incident's AttachSignal). Here the kill's outcome is laid
on the broker by hand: the schedule entry deleted on its changelog, the incident's first
command (its AttachSignal) on incident-commands once more."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from streams.agents.due_index import DueIndex
from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker
from streams.kafka.topics import INCIDENT_COMMANDS
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.settings import ROOT
from streams.worker import running
from tests.support import Watcher, eventually, settings_for
from tests.unit.builders import directory

ONCALL = "oncall@acme.example"
APP_ID = "schedule-test"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.asyncio
async def test_an_incident_whose_schedule_was_lost_ticks_again_once_its_command_is_read_again(
        broker: Broker, tmp_path: Path) -> None:
    clock, mailer = FakeClock(), RecordingMailer()
    deps = Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"), mailer=mailer,
                clock=clock, oncall=(ONCALL,), retry_delay=0.01)
    settings = settings_for(broker.bootstrap, tmp_path, tick_seconds=0.2)
    record = {"id": "r1", "time": clock.now.isoformat(), "title": "Export", "host": "acme-crm-db",
              "confirms_breach": True}
    async with Watcher(broker.bootstrap) as watcher:
        async with running(settings, deps, app_id=APP_ID):
            await publish(broker.bootstrap, [json.dumps(record).encode()])
            (incident,) = await eventually(lambda: [i for i in watcher.model.incidents.values() if i.clocks],
                                           what="the clock started")
        deadline = incident.clocks[0].deadline
        await _delete_schedule(broker.bootstrap, incident.id)
        await _command_again(broker.bootstrap, incident.id)

        async with running(settings, replace(deps, due_index=DueIndex()), app_id=APP_ID):
            clock.now = deadline - timedelta(hours=47)
            await eventually(lambda: [m.subject.split(" · ")[0] for m in mailer.sent if m.recipient == ONCALL]
                             == ["T-48h"], what="the T-48h reminder")


async def _delete_schedule(bootstrap: str, incident_id: str) -> None:
    """The incident's schedule entry deleted on its changelog (a tombstone)."""
    changelog = f"{APP_ID}-schedule-changelog"
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                              auto_offset_reset="earliest")
    await reader.start()
    try:
        partitions = [TopicPartition(changelog, p) for p in sorted(reader.partitions_for_topic(changelog) or ())]
        reader.assign(partitions)
        entries = []
        while batches := await reader.getmany(timeout_ms=1000):
            entries += [(r.partition, r.key) for records in batches.values() for r in records
                        if r.key and incident_id.encode() in r.key]
    finally:
        await reader.stop()
    assert entries, "the schedule entry was written"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for partition, key in set(entries):
            await producer.send_and_wait(changelog, None, key=key, partition=partition)  # a tombstone
    finally:
        await producer.stop()


async def _command_again(bootstrap: str, incident_id: str) -> None:
    """The incident's first command once more on its partition: what the next owner of the
    partition reads again when the dead worker had not committed its offset."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                              auto_offset_reset="earliest")
    await reader.start()
    try:
        reader.assign([TopicPartition(INCIDENT_COMMANDS, p) for p in reader.partitions_for_topic(INCIDENT_COMMANDS)])
        batches = await reader.getmany(timeout_ms=2000)
        first = min((r for records in batches.values() for r in records if r.key == incident_id.encode()),
                    key=lambda r: r.offset)
    finally:
        await reader.stop()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(INCIDENT_COMMANDS, first.value, key=first.key, partition=first.partition,
                                     headers=list(first.headers))
    finally:
        await producer.stop()
