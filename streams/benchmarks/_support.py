"""Shared by the measurements: records, reading incident-events, worker processes."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from console.projection import current_partitions
from streams import codec


def canonical(i: int, host: str, t0: datetime, *, confirms: bool = False) -> bytes:
    return json.dumps({"id": f"bench-{i}", "time": (t0 + timedelta(seconds=i)).isoformat(), "title": "Bench signal",
                       "host": host, "severity": "low", "confirms_breach": confirms}).encode()


async def produce(bootstrap: str, values: list[bytes], topic: str = "security-events") -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for value in values:
            await producer.send(topic, value)
        await producer.flush()
    finally:
        await producer.stop()


async def watch_events(bootstrap: str, done: Callable[[list[Any]], bool], within: float = 600) -> list[Any]:
    """Decoded incident-events from the start until ``done(events)`` (or ``within`` seconds)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    events: list[Any] = []
    assigned: set[Any] = set()
    deadline = time.monotonic() + within
    try:
        while not done(events) and time.monotonic() < deadline:
            wanted = await current_partitions(consumer, ("incident-events",))
            if wanted - assigned:
                assigned = wanted
                consumer.assign(sorted(assigned))
                await consumer.seek_to_beginning()
                events.clear()
            for batch in (await consumer.getmany(timeout_ms=300)).values():
                events.extend(codec.decode(m.value) for m in batch)
    finally:
        await consumer.stop()
    return events


def percentiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return (values[0], values[0]) if values else (0.0, 0.0)
    q = statistics.quantiles(values, n=100)
    return q[49], q[98]


def epoch() -> datetime:
    return datetime.now(UTC)
