"""security-events → normalise → signals (keyed by correlation key, several per record) | security-events.dlq.

One Kafka record may carry several security records (a batch, a Splunk HEC body); each
becomes its own signal or dead letter, referenced as ``topic:partition:offset#index``.

Ingest holds no state, so it does not go through faust's stream: faust's per-record machinery
(~250 µs a record, research/runtime.md §4) capped it near 4,000 records/s whatever it did. A
plain aiokafka consumer in its own group (``<app id>-ingest``, several workers split the
partitions) takes records with ``getmany``; per batch the signals and dead letters go out
through one batching producer, are awaited together, and only then are the offsets committed:
at-least-once, as before (the correlator ignores an event id it has seen).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import faust
import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from incident.correlation import correlation_key
from incident.errors import InvalidEvent
from incident.normalize import normalize_all
from incident.signals import SecurityEvent
from streams import metrics
from streams.batch_out import BatchOut, bootstrap_of, security_of
from streams.deps import Deps
from streams.dlq import dead_letter
from streams.signal_batches import encode_signals
from streams.topics import SECURITY_EVENTS_DLQ, SIGNALS, Tables, Topics

log = structlog.get_logger("breach.ingest")
SIGNALS_BYTES = 512 * 1024  # a signals record stays well below the producer's request limit
FETCH_WAIT_MS = 20  # an idle fetch returns after this long: it bounds what ingest adds to latency
MAX_RECORDS = 2_000  # per getmany: large enough that per-batch costs vanish, small enough to stay responsive


def register(app: faust.App, topics: Topics, tables: Tables, deps: Deps) -> asyncio.Event:
    """Start ingest with the app; the event is set once its consumer holds partitions (benchmarks
    start their clock there: joining the group is start-up, not throughput)."""
    assigned = asyncio.Event()

    @app.task  # type: ignore[untyped-decorator]
    async def ingest() -> None:
        await topics.security_events.maybe_declare()
        await topics.signals.maybe_declare()
        await topics.dlq.maybe_declare()
        conf = app.conf
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_of(app), **security_of(app), group_id=f"{conf.id}-ingest",
            enable_auto_commit=False,
            auto_offset_reset="earliest", session_timeout_ms=int(conf.broker_session_timeout * 1000),
            heartbeat_interval_ms=int(conf.broker_heartbeat_interval * 1000),
            rebalance_timeout_ms=int(conf.broker_rebalance_timeout * 1000),
            fetch_max_wait_ms=FETCH_WAIT_MS,
            # A backlog is read a few hundred records per partition at a time: partitions stay
            # close in event time, so a correlation's signals do not arrive minutes apart.
            max_partition_fetch_bytes=256 * 1024)
        await consumer.start()
        consumer.subscribe(list(topics.security_events.topics))  # with BREACH_INGEST_TOPICS
        try:
            async with BatchOut(bootstrap_of(app), max_request_size=deps.max_state_bytes + 100_000,
                                **security_of(app)) as out:
                while True:
                    batches = await consumer.getmany(timeout_ms=FETCH_WAIT_MS, max_records=MAX_RECORDS)
                    if not assigned.is_set() and consumer.assignment():
                        assigned.set()
                        await asyncio.sleep(0)  # let whoever waits for it run before this batch
                    if not batches:
                        continue
                    # getmany groups records by partition; correlation sees them in the order they
                    # arrived (the broker timestamp), as a per-record consumer would, not one
                    # partition's minutes of events before another's.
                    batch = sorted((m for records in batches.values() for m in records),
                                   key=lambda m: (m.timestamp, m.partition, m.offset))
                    await _normalise_batch(batch, out, deps)
                    try:
                        await consumer.commit({tp: records[-1].offset + 1 for tp, records in batches.items()})
                    except (CommitFailedError, IllegalStateError) as exc:
                        # A rebalance took partitions away: their new owner reads them again.
                        log.warning("ingest.commit_failed", error=type(exc).__name__)
        except asyncio.CancelledError:
            raise
        except KafkaError as exc:
            log.error("ingest.stopped", error=type(exc).__name__)
            raise
        finally:
            # Bounded: a stop that hangs here (leaving the group while the broker holds a join)
            # would hang the app's whole shutdown, which waits for this task.
            with contextlib.suppress(Exception, asyncio.TimeoutError):
                await asyncio.wait_for(consumer.stop(), 5)

    return assigned


async def _normalise_batch(batch: list[Any], out: BatchOut, deps: Deps) -> None:
    by_key: dict[bytes, list[SecurityEvent]] = {}
    metrics.SECURITY_EVENTS_IN.inc(len(batch))
    rejected = 0
    for msg in batch:
        ref = f"{msg.topic}:{msg.partition}:{msg.offset}"
        # The record's broker timestamp is when it reached us: replays give the same answer.
        received = datetime.fromtimestamp(msg.timestamp / 1000, UTC) if msg.timestamp else deps.clock()
        raw = msg.value if isinstance(msg.value, bytes) else bytes(msg.value or b"")
        for source, result in normalise(raw, received, ref, deps):
            if isinstance(result, InvalidEvent):
                exc = result
                # A lone record is kept as it came (its bytes); an element of a batch as that element.
                record = exc.record if exc.record is not None and "#" in source else raw
                await out.send(SECURITY_EVENTS_DLQ, dead_letter(record, exc.reason, source, deps.clock()), msg.key)
                metrics.dead_letter(msg.topic + ".dlq", exc.reason)
                log.warning("event.rejected", source=source, reason=exc.reason)
                rejected += 1
                continue
            by_key.setdefault(correlation_key(result).encode(), []).append(result)
    for key, signals in by_key.items():
        for value in encode_signals(signals, limit=SIGNALS_BYTES):
            await out.send(SIGNALS, value, key)
    await out.flush()  # before the offsets are committed
    count = sum(len(v) for v in by_key.values())
    metrics.SIGNALS_OUT.inc(count)
    if by_key:
        log.info("events.normalised", count=count, keys=len(by_key), rejected=rejected,
                 unmapped=sum(s.unmapped for v in by_key.values() for s in v))


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
    profile, system = deps.directory.locate(result.asset, result.controller)
    if result.controller and profile is None:
        raise InvalidEvent(f"unknown controller {result.controller!r}")
    # One copy, not two (located() then replace()): this runs for every record.
    return replace(result, controller=profile.id if profile else None, system=system.id if system else None,
                   unmapped=system is None, raw_ref=ref)
