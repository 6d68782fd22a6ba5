"""Shared by the measurements: records, reading incident-events, worker processes."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams.embedded.cluster import WorkerProcess
from streams.kafka import codec
from streams.kafka.partitions import current_partitions
from streams.metrics import REGISTRY


def canonical(i: int, host: str, t0: datetime, *, confirms: bool = False) -> bytes:
    record: dict[str, Any] = {"id": f"bench-{i}", "time": (t0 + timedelta(seconds=i)).isoformat(),
                              "title": "Bench signal", "host": host, "severity": "low"}
    if confirms:
        record["confirms_breach"] = True
    return json.dumps(record).encode()


async def produce(bootstrap: str, values: list[bytes], topic: str = "security-events") -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for value in values:
            await producer.send(topic, value)
        await producer.flush()
    finally:
        await producer.stop()


async def read_events(bootstrap: str, kind: type[Any], count: int, within: float = 600) -> list[Any]:
    """The first ``count`` distinct incident-events of type ``kind`` (by incident and version:
    at-least-once may repeat one), read from the start. Not for timing: a reader in the
    worker's event loop slows it; time with ``until_counted``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    found: dict[tuple[str, int], Any] = {}
    deadline = time.monotonic() + within
    try:
        while not (partitions := await current_partitions(consumer, ("incident-events",))):
            if time.monotonic() > deadline:
                return []
            await asyncio.sleep(0.2)  # the topic appears with the worker's first event
        consumer.assign(sorted(partitions))
        await consumer.seek_to_beginning()
        while len(found) < count and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for event in (codec.decode(m.value) for m in batch):
                    if isinstance(event, kind):
                        found.setdefault((event.incident_id, event.version), event)
    finally:
        await consumer.stop()
    return list(found.values())


async def until_counted(count: Callable[[], Awaitable[float]], target: float, within: float = 600) -> float:
    """Seconds until ``count()`` (a worker metric) reaches ``target``, looking every 50 ms."""
    started = time.perf_counter()
    while await count() < target:
        if time.perf_counter() - started > within:
            raise RuntimeError(f"the bench did not reach {target:,.0f} within {within:g} s")
        await asyncio.sleep(0.05)  # polling a counter, not waiting for a result
    return time.perf_counter() - started


def attached_in_process() -> float:
    """SignalAttached events this process's workers published (streams/metrics.py)."""
    return REGISTRY.get_sample_value("breach_incident_events_out_total", {"type": "SignalAttached"}) or 0.0


def attached_by(workers: list[WorkerProcess]) -> float:
    """The same, summed over worker processes' /metrics."""
    return sum(w.metric("breach_incident_events_out_total", type="SignalAttached") for w in workers)


def percentiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return (values[0], values[0]) if values else (0.0, 0.0)
    q = statistics.quantiles(values, n=100)
    return q[49], q[98]


def epoch() -> datetime:
    return datetime.now(UTC)
