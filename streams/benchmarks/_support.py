"""Shared by the measurements: records, reading incident-events, worker processes."""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from console.projection import current_partitions
from streams import codec


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


async def watch_events(bootstrap: str, kind: type, count: int, within: float = 600) -> list[Any]:
    """The first ``count`` incident-events of type ``kind``, read from the start (or what came
    within ``within`` seconds). Counted as they come: this loop shares the CPU with the worker.

    The partitions are looked up again before each fetch, as the console does: the round trip
    also paces this reader (a reader that only fetched slowed an in-process worker ~7x)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    found: list[Any] = []
    deadline = time.monotonic() + within
    try:
        while len(found) < count and time.monotonic() < deadline:
            consumer.assign(sorted(await current_partitions(consumer, ("incident-events",))))
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                found.extend(e for e in (codec.decode(m.value) for m in batch) if isinstance(e, kind))
    finally:
        await consumer.stop()
    return found


def percentiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return (values[0], values[0]) if values else (0.0, 0.0)
    q = statistics.quantiles(values, n=100)
    return q[49], q[98]


def epoch() -> datetime:
    return datetime.now(UTC)
