"""Publishing JSONL records to security-events (`breach send`, and the samples of `make up`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from streams.kafka.topics import SECURITY_EVENTS

_TIME_FIELDS = ("time", "timestamp")


def shift_to(lines: list[bytes], now: datetime) -> list[bytes]:
    """Move every record's time so the newest is ``now``: samples look fresh, gaps are kept.

    Lines that are not JSON objects with a time are passed through untouched (a sample may
    hold a malformed line on purpose, to show the dead-letter topic)."""
    def time_of(record: object) -> tuple[str, datetime] | None:
        if isinstance(record, dict):
            for name in _TIME_FIELDS:
                try:
                    return name, datetime.fromisoformat(record[name])
                except (KeyError, TypeError, ValueError):
                    continue
        return None

    parsed: list[tuple[object, tuple[str, datetime] | None]] = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        parsed.append((record, time_of(record)))
    times = [t[1] for _, t in parsed if t is not None and t[1].tzinfo is not None]
    if not times:
        return lines
    delta: timedelta = now - max(times)
    out = []
    for line, (record, found) in zip(lines, parsed, strict=True):
        if found is None or found[1].tzinfo is None or not isinstance(record, dict):
            out.append(line)
            continue
        record[found[0]] = (found[1] + delta).astimezone(UTC).isoformat()
        out.append(json.dumps(record, ensure_ascii=False).encode())
    return out


def jsonl_lines(data: bytes) -> list[bytes]:
    return [line for line in (raw.strip() for raw in data.splitlines()) if line]


async def publish(bootstrap_servers: str, lines: Iterable[bytes], topic: str = SECURITY_EVENTS,
                  **security: Any) -> int:
    """Send each line as one record, as is; the worker decides what is valid. Returns the count.
    ``security``: Kafka TLS/SASL options (streams.kafka.kafka_security.client_options)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", **security)
    await producer.start()
    count = 0
    try:
        for line in lines:
            await producer.send_and_wait(topic, line)
            count += 1
    finally:
        await producer.stop()
    return count
