"""security-events → normalise → signals (keyed by correlation key) | security-events.dlq."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import faust
import structlog

from incident.correlation import correlation_key
from incident.errors import InvalidEvent
from incident.normalize import normalize
from incident.signals import SecurityEvent
from streams import codec, metrics
from streams.deps import Deps
from streams.dlq import dead_letter
from streams.topics import Tables, Topics

log = structlog.get_logger("breach.ingest")


def register(app: faust.App, topics: Topics, tables: Tables, deps: Deps) -> None:
    @app.agent(topics.security_events, name="ingest")
    async def ingest(stream: Any) -> None:
        async for event in stream.events():
            msg = event.message
            metrics.SECURITY_EVENTS_IN.inc()
            ref = f"{msg.topic}:{msg.partition}:{msg.offset}"
            # The record's broker timestamp is when it reached us: replays give the same answer.
            received = datetime.fromtimestamp(msg.timestamp, UTC) if msg.timestamp else deps.clock()
            raw = event.value if isinstance(event.value, bytes) else bytes(event.value or b"")
            try:
                signal = _signal(raw, received, ref, deps)
            except InvalidEvent as exc:
                await topics.dlq.send(key=msg.key, value=dead_letter(raw, exc.reason, ref, deps.clock()))
                metrics.dead_letter(msg.topic + ".dlq", exc.reason)
                log.warning("event.rejected", source=ref, reason=exc.reason)
                continue
            await topics.signals.send(key=correlation_key(signal).encode(), value=codec.encode(signal))
            metrics.SIGNALS_OUT.inc()
            log.info("event.normalised", source=ref, event_id=signal.event_id, format=signal.source_format,
                     controller=signal.controller, unmapped=signal.unmapped)


def _signal(raw: bytes, received: datetime, ref: str, deps: Deps) -> SecurityEvent:
    try:
        record = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:  # RecursionError: nesting too deep
        raise InvalidEvent(f"not JSON: {exc}") from None
    event = normalize(record, received)
    profile, system = deps.directory.locate(event.asset, event.controller)
    if event.controller and profile is None:
        raise InvalidEvent(f"unknown controller {event.controller!r}")
    located = event.located(profile.id if profile else None, system.id if system else None)
    return replace(located, raw_ref=ref)
