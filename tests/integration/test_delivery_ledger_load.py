"""A worker whose delivery ledger cannot be read when it gets its partitions must not send from
them with an empty ledger: it waits for the ledger, then skips the people already notified.

Real parts: the embedded broker, an aiosmtpd server on loopback, the worker in-process. The
fault is injected in the ledger read only (a broker that times out during an assignment)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from incident.model import SubjectNotice
from streams.agents.deliver import DeliveryService, delivery_key
from streams.deps import Deps
from streams.embedded.services import Broker, free_port
from streams.kafka.topics import NOTICE_DELIVERIES
from streams.mail.mailer import RecordingMailer
from streams.worker import running
from tests.integration.smtp_sink import SmtpSink
from tests.integration.test_mass_delivery import NOW, RENDERER, Stack, aware_incident, csv_list, import_and_approve
from tests.support import Watcher, eventually, settings_for
from tests.unit.builders import directory

PEOPLE = 6


async def eventually_async(check: Callable[[], Awaitable[bool]], *, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)  # poll interval


async def delivered_to_the_end(bootstrap: str, group: str) -> bool:
    """Has the delivery group committed every record of notice-deliveries?"""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        tps = [TopicPartition(NOTICE_DELIVERIES, p) for p in reader.partitions_for_topic(NOTICE_DELIVERIES) or ()]
        ends = await reader.end_offsets(tps)
        for tp in tps:
            committed = await reader.committed(tp)
            if ends[tp] and (committed or 0) < ends[tp]:
                return False
        return bool(tps)
    finally:
        await reader.stop()


@pytest.mark.asyncio
async def test_a_ledger_that_fails_to_load_holds_the_partition_instead_of_sending_again(
        broker: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sink = SmtpSink(free_port())
    await sink.start()
    settings = settings_for(broker.bootstrap, tmp_path, smtp_port=sink.port, progress_seconds=0.3)

    def deps() -> Deps:
        return Deps(directory=directory(), renderer=RENDERER, mailer=RecordingMailer(), clock=lambda: NOW)

    # First life: everyone gets the notice once.
    async with running(settings, deps()), Watcher(broker.bootstrap) as watcher:
        stack = Stack(broker, sink, watcher)
        incident = await aware_incident(stack)
        await import_and_approve(stack, incident, csv_list(PEOPLE))
        notice: SubjectNotice = await eventually(lambda: (n := stack.notice()) and n.accepted == PEOPLE and n,
                                                 what="every notice accepted")
    assert sum(sink.received.values()) == PEOPLE

    # Second life: the ledger read fails twice, as a broker would during a bad rebalance...
    real_read = DeliveryService._read_ledger
    calls: list[list[int]] = []

    async def failing_read(self: DeliveryService, partitions: list[int]) -> None:
        calls.append(list(partitions))
        if len(calls) <= 2:
            raise TimeoutError("ledger partitions not read to the end")
        await real_read(self, partitions)

    monkeypatch.setattr(DeliveryService, "_read_ledger", failing_read)
    async with running(settings, deps()):
        # ...and the deliveries come round again (a fan-out replayed after a crash).
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
        await producer.start()
        try:
            for i in range(PEOPLE):
                record: dict[str, Any] = {"type": "delivery", "incident_id": incident.id,
                                          "notice_id": notice.notice_id, "locale": "en" if i % 3 == 0 else "fr",
                                          "address": f"person{i}@example.org", "name": f"Person {i}"}
                await producer.send_and_wait(NOTICE_DELIVERIES, json.dumps(record).encode(),
                                             key=delivery_key(record["address"]))
        finally:
            await producer.stop()
        group = f"{settings.app_id}-deliver"
        await eventually_async(lambda: delivered_to_the_end(broker.bootstrap, group),
                               what="the replayed deliveries consumed and committed")
    await sink.stop()

    assert sink.duplicates == {}, "a notice was sent again from a partition whose ledger was not loaded"
    assert sum(sink.received.values()) == PEOPLE
    assert len(calls) >= 3, "the ledger was not read again after its failures"

