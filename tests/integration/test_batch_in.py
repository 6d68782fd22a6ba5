"""The batch stage shell (streams/kafka/batch_in.py) on a real embedded broker and the worker's real app:
one commit per batch after its output is flushed, a failure before the commit re-reads the batch
(never loses it), /readyz says so meanwhile, and two workers split one group's partitions."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import ConsumerRecord
from structlog.testing import capture_logs

from streams import web
from streams.app import build
from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker
from streams.kafka import batch_in
from streams.kafka.batch_out import BatchOut
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.settings import ROOT
from streams.worker import started
from tests.support import eventually, read_topic, settings_for
from tests.unit.builders import directory

IN, OUT = "stage-in", "stage-out"
PARTITIONS = 4


def _deps() -> Deps:
    return Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                mailer=RecordingMailer(), clock=lambda: datetime.now(UTC), retry_delay=0.01)


class Copier:
    """A stage handler copying each record to OUT; it raises once, after sending (before the
    flush), on the first batch holding ``fail_on``."""

    def __init__(self, fail_on: bytes | None = None) -> None:
        self.fail_on, self.failed, self.seen = fail_on, False, []  # type: list[bytes]

    async def __call__(self, records: list[ConsumerRecord[bytes, bytes]], out: BatchOut) -> None:
        for record in records:
            await out.send(OUT, record.value, record.key)
            self.seen.append(record.value)
        if not self.failed and self.fail_on in {r.value for r in records}:
            self.failed = True
            raise RuntimeError("the handler failed after sending, before the commit")


@contextlib.asynccontextmanager
async def worker(broker: Broker, tmp_path: Path, handler: Copier, *, name: str,
                 carry_from: str | None = None) -> AsyncIterator[Any]:
    """The worker's app (its ingest stage included) with a copying stage added, started."""
    settings = settings_for(broker.bootstrap, tmp_path / name, partitions=PARTITIONS)
    app, _, _ = build(settings, _deps(), app_id="stage-test")
    topics = [app.topic(name, partitions=PARTITIONS) for name in (IN, OUT)]
    stage = batch_in.add(app, batch_in.BatchStage(app, "copier", [IN], handler, batch_size=50, batch_seconds=0.05,
                                                  declare=topics, carry_from=carry_from))
    async with started(app, stop_timeout=15):
        for topic in topics:  # the stage declares them as it starts; the test writes only once they are
            await topic.maybe_declare()
        yield app, stage


async def _committed(bootstrap: str, group: str, topic: str) -> dict[int, int | None]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return {p: await consumer.committed(TopicPartition(topic, p)) for p in range(PARTITIONS)}
    finally:
        await consumer.stop()


@pytest.mark.asyncio
async def test_a_batch_that_fails_before_its_commit_is_read_again_and_readyz_says_so_meanwhile(
        broker: Broker, tmp_path: Path) -> None:
    values = [f"record-{i}".encode() for i in range(40)]
    handler = Copier(fail_on=b"record-7")
    with capture_logs() as logs:
        async with worker(broker, tmp_path, handler, name="one") as (app, stage):
            await publish(broker.bootstrap, values, topic=IN)
            await eventually(lambda: handler.failed, what="the failing batch")
            await eventually(lambda: web.ready(app) == (False, "agent copier crashed (RuntimeError)"),
                             what="/readyz naming the failed stage")
            await eventually(lambda: set(values) <= set(handler.seen), timeout=60, what="every record handled")
            await eventually(lambda: web.ready(app) == (True, "ok"), timeout=60, what="/readyz 200 again")
            assert stage.problem() is None
    out = await read_topic(broker.bootstrap, OUT, len(values))
    assert {r.value for r in out} >= set(values)  # the failed batch was sent again, not lost
    assert handler.seen.count(b"record-7") == 2  # read again: its offset had not been committed
    committed = await _committed(broker.bootstrap, "stage-test-copier", IN)
    assert sum(c or 0 for c in committed.values()) == len(values)  # every batch committed, once flushed
    events = [e["event"] for e in logs]
    assert "agent.crashed" in events and "agent.running_again" in events
    assert "stage.stop_forced" not in events  # stopped with the app, in time


@pytest.mark.asyncio
async def test_two_workers_split_the_partitions_of_one_stage_group(broker: Broker, tmp_path: Path) -> None:
    first, second = Copier(), Copier()
    async with worker(broker, tmp_path, first, name="a") as (_, stage_a), \
            worker(broker, tmp_path, second, name="b") as (_, stage_b):

        def split() -> bool:
            mine = {tp for tp, _ in _assigned(stage_a)}
            theirs = {tp for tp, _ in _assigned(stage_b)}
            return bool(mine) and bool(theirs) and not mine & theirs and len(mine | theirs) == PARTITIONS

        await eventually(split, timeout=60, what="the stage's partitions split between the two workers")
        values = [f"record-{i}".encode() for i in range(80)]
        await publish(broker.bootstrap, values, topic=IN)
        await eventually(lambda: set(values) <= set(first.seen) | set(second.seen), timeout=60,
                         what="every record handled by one worker or the other")
        assert first.seen and second.seen


def _assigned(stage: batch_in.BatchStage) -> list[tuple[int, int]]:
    return [(p, lag) for topic, p, lag in stage.lag() if topic == IN]


@pytest.mark.asyncio
async def test_a_new_stage_group_starts_where_the_group_before_it_committed(broker: Broker, tmp_path: Path) -> None:
    # An upgraded worker: faust's group (the app id) had read IN up to offset 6 of partition 0.
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(IN, PARTITIONS, 1), NewTopic(OUT, PARTITIONS, 1)])
    finally:
        await admin.close()
    values = [f"record-{i}".encode() for i in range(10)]
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(IN, value, partition=0)
    finally:
        await producer.stop()
    before = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, group_id="stage-test", enable_auto_commit=False)
    await before.start()
    try:
        before.assign([TopicPartition(IN, 0)])
        await before.commit({TopicPartition(IN, 0): 6})
    finally:
        await before.stop()

    handler = Copier()
    async with worker(broker, tmp_path, handler, name="upgraded", carry_from="stage-test"):
        await eventually(lambda: set(values[6:]) <= set(handler.seen), timeout=60, what="the records after 6")
    assert handler.seen == values[6:]  # read in order from 6: the first six were not read again
