"""security-events → normalise → signals (keyed by correlation key, several per record) | security-events.dlq.

One Kafka record may carry several security records (a batch, a Splunk HEC body); each
becomes its own signal or dead letter, referenced as ``topic:partition:offset#index``.

The stage is not a faust agent: it is a batch consumer of its own (streams/kafka/batch_in.py), off
faust's per-record path, reading every input topic (BREACH_INGEST_TOPICS) in the consumer group
``<app id>-ingest``; signals and dead letters go out through one batched producer, flushed
before the batch's offsets are committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import faust
import structlog
from aiokafka.structs import ConsumerRecord

from incident.correlation import LINK_ONLY, correlation_key
from incident.errors import InvalidEvent
from incident.normalize import normalize_all
from incident.signals import SecurityEvent
from streams import metrics
from streams.deps import Deps
from streams.kafka import batch_in, codec
from streams.kafka.batch_out import BatchOut
from streams.kafka.dlq import dead_letter, letter_key
from streams.kafka.topics import SECURITY_EVENTS_DLQ, SIGNALS, Tables, Topics
from streams.pipeline.signal_batches import pack_signals

log = structlog.get_logger("breach.ingest")
SIGNALS_BYTES = 512 * 1024  # a signals record stays well below the producer's request limit
NAME = "ingest"


def register(app: faust.App, topics: Topics, tables: Tables, deps: Deps) -> batch_in.BatchStage:
    async def handle(records: list[ConsumerRecord[bytes, bytes]], out: BatchOut) -> None:
        await normalise_batch(records, out, deps)

    return batch_in.add(app, batch_in.BatchStage(
        app, NAME, topics.security_events.topics, handle, batch_size=deps.batch_size,
        batch_seconds=deps.batch_seconds, max_request_size=deps.max_state_bytes + 100_000,
        declare=(topics.security_events, topics.dlq, topics.signals),
        carry_from=app.conf.id))  # the faust group's offsets on security-events, for an upgraded worker


async def normalise_batch(records: list[ConsumerRecord[bytes, bytes]], out: BatchOut, deps: Deps) -> None:
    """Signals and dead letters of a batch of records, sent on ``out``, then flushed."""
    by_key: dict[bytes, list[tuple[tuple[float, str], bytes]]] = {}
    event_ids: list[str] = []
    unmapped = 0
    for msg in records:
        metrics.SECURITY_EVENTS_IN.inc()
        ref = f"{msg.topic}:{msg.partition}:{msg.offset}"
        raw = msg.value if isinstance(msg.value, bytes) else bytes(msg.value or b"")
        try:
            done = _record(msg.timestamp, raw, ref, deps)
        except Exception as exc:  # a fault of this stage's own code: this record's, never the stage's
            done = _Record(letters=[(ref, InvalidEvent(f"could not be read: {type(exc).__name__}"))])
        for key, order, value in done.signals:
            by_key.setdefault(key, []).append((order, value))
        event_ids += done.event_ids
        unmapped += done.unmapped
        for source, result in done.letters:
            # A lone record is kept as it came (its bytes); an element of a batch as that element.
            record = result.record if result.record is not None and "#" in source else raw
            await out.send(SECURITY_EVENTS_DLQ, dead_letter(record, result.reason, source, deps.clock()),
                           letter_key(msg.key))
            metrics.dead_letter(msg.topic + ".dlq", result.reason)
            log.warning("event.rejected", source=source, reason=result.reason)
    for key, signals in by_key.items():
        # In event-time order: the batch gathers records from several partitions in whatever order
        # the fetch returned them, and the correlator's grouping of one batch followed that order (a
        # step could open an incident of its own, merged a moment later, and a re-sent alert
        # escape the dedup: tests/e2e/test_real_attack.py, 1 run in 2). Ties: by event id.
        signals.sort(key=lambda item: item[0])
        for value in pack_signals([value for _, value in signals], limit=SIGNALS_BYTES):
            await out.send(SIGNALS, value, key)
    await out.flush()
    metrics.SIGNALS_OUT.inc(len(event_ids))
    if by_key:
        log.info("events.normalised", count=len(event_ids), keys=len(by_key),
                 partitions=sorted({msg.partition for msg in records}), event_ids=event_ids,
                 unmapped=unmapped)


@dataclass(slots=True)
class _Record:
    """What one Kafka record gave: (key, encoded signal) pairs, or dead letters, or both."""

    signals: list[tuple[bytes, tuple[float, str], bytes]] = field(default_factory=list)  # key, order, value
    event_ids: list[str] = field(default_factory=list)
    unmapped: int = 0
    letters: list[tuple[str, InvalidEvent]] = field(default_factory=list)


def _record(timestamp_ms: int | None, raw: bytes, ref: str, deps: Deps) -> _Record:
    # Each element is normalised and encoded on its own: whatever one raises is that element's
    # dead letter, and the rest of the batch goes on (one poisoned element used to drop its
    # batch, valid breaches included).
    # The record's broker timestamp is when it reached us: replays give the same answer.
    received = datetime.fromtimestamp(timestamp_ms / 1000, UTC) if timestamp_ms else deps.clock()
    done = _Record()
    for source, result in _normalised(raw, received, ref, deps):
        if not isinstance(result, InvalidEvent):
            try:
                # A number, made here: whatever a time could raise is this element's dead letter,
                # and the batch's sort below compares floats and strings only (never a naive
                # datetime against an aware one, which would fail the whole batch).
                order = (result.occurred_at.timestamp(), str(result.event_id))
                signals = [(correlation_key(result).encode(), order, codec.encode(result))]
                if linked := linkable_keys(result, deps):
                    copy = codec.encode(link_only(result))
                    signals += [(key, order, copy) for key in linked]
            except (TypeError, ValueError, UnicodeError, OverflowError) as exc:
                result = InvalidEvent(f"could not be encoded: {type(exc).__name__}", record=None)
            else:
                done.signals += signals
                done.event_ids.append(result.event_id)
                done.unmapped += result.unmapped
                continue
        done.letters.append((source, result))
    return done


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
    return result.located(profile.id if profile else None, system.id if system else None,
                          raw_ref=ref, asset=asset)
