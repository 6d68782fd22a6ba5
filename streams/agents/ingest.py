"""security-events → normalise → signals (keyed by correlation key) | security-events.dlq.

One Kafka record may carry several security records (a batch, a Splunk HEC body); each
becomes its own signal or dead letter, referenced as ``topic:partition:offset#index``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import faust
import structlog

from incident.correlation import correlation_key
from incident.errors import InvalidEvent
from incident.normalize import normalize_all
from incident.signals import SecurityEvent
from streams import codec
from streams.deps import Deps
from streams.dlq import dead_letter
from streams.topics import Tables, Topics

log = structlog.get_logger("breach.ingest")


def register(app: faust.App, topics: Topics, tables: Tables, deps: Deps) -> None:
    @app.agent(topics.security_events, name="ingest")
    async def ingest(stream: Any) -> None:
        async for event in stream.events():
            msg = event.message
            ref = f"{msg.topic}:{msg.partition}:{msg.offset}"
            # The record's broker timestamp is when it reached us: replays give the same answer.
            received = datetime.fromtimestamp(msg.timestamp, UTC) if msg.timestamp else deps.clock()
            raw = event.value if isinstance(event.value, bytes) else bytes(event.value or b"")
            results = normalize_all(raw, received, deps.ingest_format)
            for index, result in enumerate(results):
                source = f"{ref}#{index}" if len(results) > 1 else ref
                try:
                    signal = _located(result, source, deps)
                except InvalidEvent as exc:
                    record = exc.record if exc.record is not None else raw
                    await topics.dlq.send(key=msg.key, value=dead_letter(record, exc.reason, source, deps.clock()))
                    log.warning("event.rejected", source=source, reason=exc.reason)
                    continue
                await topics.signals.send(key=correlation_key(signal).encode(), value=codec.encode(signal))
                log.info("event.normalised", source=source, event_id=signal.event_id, format=signal.source_format,
                         controller=signal.controller, unmapped=signal.unmapped)


def _located(result: SecurityEvent | InvalidEvent, ref: str, deps: Deps) -> SecurityEvent:
    if isinstance(result, InvalidEvent):
        raise result
    profile, system = deps.directory.locate(result.asset, result.controller)
    if result.controller and profile is None:
        raise InvalidEvent(f"unknown controller {result.controller!r}")
    located = result.located(profile.id if profile else None, system.id if system else None)
    return replace(located, raw_ref=ref)
