"""security-events → normalise → signals (keyed by correlation key, several per record) | security-events.dlq.

One Kafka record may carry several security records (a batch, a Splunk HEC body); each
becomes its own signal or dead letter, referenced as ``topic:partition:offset#index``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import faust
import structlog

from incident.correlation import LINK_ONLY, correlation_key
from incident.errors import InvalidEvent
from incident.normalize import normalize_all
from incident.signals import SecurityEvent
from streams import metrics
from streams.deps import Deps
from streams.kafka import codec
from streams.kafka.batch_out import BatchOut, bootstrap_of
from streams.kafka.dlq import dead_letter, letter_key
from streams.kafka.topics import SIGNALS, Tables, Topics
from streams.pipeline.signal_batches import pack_signals

log = structlog.get_logger("breach.ingest")
SIGNALS_BYTES = 512 * 1024  # a signals record stays well below the producer's request limit


def register(app: faust.App, topics: Topics, tables: Tables, deps: Deps) -> None:
    @app.agent(topics.security_events, name="ingest")
    async def ingest(stream: Any) -> None:
        # Batches: faust's per-message machinery and a broker round trip per record sent, not
        # JSON, are what cost (research/runtime.md §4); here both are paid once per batch.
        async with BatchOut(bootstrap_of(app), max_request_size=deps.max_state_bytes + 100_000) as out:
            async for batch in stream.take_events(deps.batch_size, within=deps.batch_seconds):
                await _normalise_batch(batch, out, topics, deps)


async def _normalise_batch(batch: Any, out: BatchOut, topics: Topics, deps: Deps) -> None:
    # Each element is normalised and encoded on its own: whatever one raises is that element's
    # dead letter, and the rest of the batch goes on (one poisoned element used to drop its
    # batch, valid breaches included).
    by_key: dict[bytes, list[bytes]] = {}
    event_ids: list[str] = []
    unmapped = 0
    for event in batch:
        msg = event.message
        metrics.SECURITY_EVENTS_IN.inc()
        ref = f"{msg.topic}:{msg.partition}:{msg.offset}"
        # The record's broker timestamp is when it reached us: replays give the same answer.
        received = datetime.fromtimestamp(msg.timestamp, UTC) if msg.timestamp else deps.clock()
        raw = event.value if isinstance(event.value, bytes) else bytes(event.value or b"")
        for source, result in _normalised(raw, received, ref, deps):
            if not isinstance(result, InvalidEvent):
                try:
                    by_key.setdefault(correlation_key(result).encode(), []).append(codec.encode(result))
                    if linked := linkable_keys(result, deps):
                        copy = codec.encode(link_only(result))
                        for key in linked:
                            by_key.setdefault(key, []).append(copy)
                    event_ids.append(result.event_id)
                    unmapped += result.unmapped
                    continue
                except (TypeError, ValueError, UnicodeError, OverflowError) as exc:
                    result = InvalidEvent(f"could not be encoded: {type(exc).__name__}", record=None)
            # A lone record is kept as it came (its bytes); an element of a batch as that element.
            record = result.record if result.record is not None and "#" in source else raw
            await topics.dlq.send(key=letter_key(msg.key),
                                  value=dead_letter(record, result.reason, source, deps.clock()))
            metrics.dead_letter(msg.topic + ".dlq", result.reason)
            log.warning("event.rejected", source=source, reason=result.reason)
    for key, signals in by_key.items():
        for value in pack_signals(signals, limit=SIGNALS_BYTES):
            await out.send(SIGNALS, value, key)
    await out.flush()  # before faust acknowledges the batch
    metrics.SIGNALS_OUT.inc(len(event_ids))
    if by_key:
        log.info("events.normalised", count=len(event_ids), keys=len(by_key),
                 partitions=sorted({event.message.partition for event in batch}), event_ids=event_ids,
                 unmapped=unmapped)


def linkable_keys(event: SecurityEvent, deps: Deps) -> list[bytes]:
    """Where an unmapped signal is also sent: each controller's key, where it joins an open
    incident it shares an account, an address or a data store with (an IDS alert naming only
    the attacker's address, say). One copy per profile: a deployment runs a few."""
    if event.controller is not None or not (event.user or event.source_ip or event.data_store):
        return []
    return [profile_id.encode() for profile_id in deps.directory.profiles]


def link_only(event: SecurityEvent) -> SecurityEvent:
    return replace(event, tags=(*event.tags, LINK_ONLY))


def _normalised(raw: bytes, received: datetime, ref: str, deps: Deps,
                ) -> list[tuple[str, SecurityEvent | InvalidEvent]]:
    try:
        return normalise(raw, received, ref, deps)
    except (ArithmeticError, LookupError, TypeError, ValueError, RecursionError) as exc:
        # A fault outside the adapters (the envelope reader, the directory): this record's alone.
        return [(ref, InvalidEvent(f"could not be read: {type(exc).__name__}"))]


def normalise(raw: bytes, received: datetime, ref: str, deps: Deps,
              ) -> list[tuple[str, SecurityEvent | InvalidEvent]]:
    """What the agent makes of one Kafka record (replays and tests call it too): each security
    record in it with its source reference, located on a controller's system, or refused."""
    results = normalize_all(raw, received, deps.format_of(ref))
    out: list[tuple[str, SecurityEvent | InvalidEvent]] = []
    for index, result in enumerate(results):
        source = f"{ref}#{index}" if len(results) > 1 else ref
        try:
            out.append((source, _located(result, source, deps)))
        except InvalidEvent as exc:
            out.append((source, exc))
    return out


def _located(result: SecurityEvent | InvalidEvent, ref: str, deps: Deps) -> SecurityEvent:
    if isinstance(result, InvalidEvent):
        raise result
    # An IDS or firewall record may name the Internet side as its asset: our side, when it is
    # a controller's, is what the record is about.
    profile, system, asset = deps.directory.attribute(result.asset, result.controller,
                                                      addresses=(result.destination_ip, result.source_ip))
    if result.controller and profile is None:
        raise InvalidEvent(f"unknown controller {result.controller!r}")
    located = result.located(profile.id if profile else None, system.id if system else None)
    return replace(located, raw_ref=ref, asset=asset)
