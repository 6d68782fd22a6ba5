"""signals (keyed by partition key) → correlate → incident-commands (keyed by incident id).

The ingest agent keys every signals record by its partition key (the controller), and the
window table's changelog is written to the partition of the signals that changed it, so a
key's state always lives on the worker that consumes its signals: several workers split the
keys without a second hop and without breaking a window. (faust picks the changelog partition
from "the current event", which a batch does not have: the agent names it explicitly.)

Records are taken in batches and grouped by key. Each key's state stays alive in memory as an
``incident.correlation.Correlator`` between batches: decoding, re-indexing and re-encoding a
controller's whole window per batch was what the correlator spent its time on. The state is
written to the table at most every ``SAVE_EVERY`` seconds, and the input records are
acknowledged only after the save that covers them, so the order stays: commands on the broker,
then the state that says they were sent, then the offsets. A crash in between replays the
signals against the last saved state and sends their commands again (the incident agent
ignores an event id it has), never the other way round.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

import faust
import structlog

from incident.correlation import Correlator, Window
from incident.signals import SecurityEvent
from streams import codec
from streams.batch_out import BatchOut, bootstrap_of, security_of
from streams.deps import Deps
from streams.dlq import dead_letter
from streams.signal_batches import decode_signals
from streams.topics import INCIDENT_COMMANDS, SIGNALS, Tables, Topics
from streams.window_codec import WindowCodec

log = structlog.get_logger("breach.correlate")
SAVE_EVERY = 1.0  # seconds between table writes of a busy key (and the acks that wait for them)
FETCH_WAIT_MS = 50  # see _short_fetch_wait


def _short_fetch_wait(app: faust.App) -> None:
    """faust builds its consumer with ``fetch_max_wait_ms=1500`` (not a setting), and the
    embedded broker holds a fetch that long before answering with what arrived meanwhile: a
    signal then waited up to 1.5 s before the correlator saw it. 50 ms keeps the
    produce → incident command p99 within its 250 ms budget, at ~20 idle fetches/s."""
    consumer = getattr(getattr(app.consumer, "_thread", None), "_consumer", None)
    fetcher = getattr(consumer, "_fetcher", None)
    if fetcher is not None and getattr(fetcher, "_fetch_max_wait_ms", 0) > FETCH_WAIT_MS:
        fetcher._fetch_max_wait_ms = FETCH_WAIT_MS


class _Live:
    """A key's correlator, the bytes last saved for it (the table still holds that very object
    while no one else wrote the key), its partition, and whether it changed since."""

    __slots__ = ("correlator", "dirty", "partition", "saved")

    def __init__(self, correlator: Correlator, saved: Any, partition: int) -> None:
        self.correlator, self.saved, self.partition, self.dirty = correlator, saved, partition, False


def _fewer_full_collections() -> None:
    """The live windows are hundreds of thousands of long-lived objects, and each full garbage
    collection walks them all: with CPython's defaults that was a 100-200 ms pause every few
    seconds under load (measured in the bench), the p99 of the whole pipeline. Young
    collections less often, and what exists at start-up (modules, faust) kept out of them."""
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0, 50_000), max(gen1, 20), max(gen2, 20))
    gc.freeze()


def register(app: faust.App, topics: Topics, tables: Tables, deps: Deps) -> None:
    _fewer_full_collections()
    live: dict[str, _Live] = {}
    waiting: list[Any] = []  # messages processed whose state is not saved yet (held un-acked)
    window_codec = WindowCodec()
    lock = asyncio.Lock()  # a save never runs in the middle of a batch
    last_save = time.monotonic()

    def correlator_of(key: str, partition: int) -> Correlator:
        stored = tables.windows.get(key)
        current = live.get(key)
        if current is not None and current.saved is stored:  # (None before the first save)
            current.partition = partition
            return current.correlator
        window = window_codec.decode(stored) if stored is not None else None  # None: older format, start afresh
        correlator = Correlator(window or Window(key=key), pack=deps.rule_pack, config=deps.correlation)
        live[key] = _Live(correlator, stored, partition)
        return correlator

    def encoded(key: str, window: Window) -> bytes:
        raw = window_codec.encode(window)
        while len(raw) > deps.max_state_bytes:
            smaller = window.trimmed()
            if smaller.size == window.size:
                break  # nothing left to trim: the producer will refuse it and the worker stop, loudly
            log.warning("window.trimmed", key_size=window.size, bytes=len(raw), limit=deps.max_state_bytes)
            window, raw = smaller, window_codec.encode(smaller)
            live[key].correlator = Correlator(window, pack=deps.rule_pack, config=deps.correlation)
        return raw

    def save() -> None:
        """Write every changed key still assigned here, then acknowledge what the writes cover."""
        nonlocal last_save
        last_save = time.monotonic()
        assigned = {tp.partition for tp in app.consumer.assignment() if tp.topic == SIGNALS}
        for key, state in list(live.items()):
            if state.partition not in assigned:
                del live[key]  # another worker has the key now: what we hold is stale
                continue
            if state.dirty:
                raw = encoded(key, state.correlator.snapshot())
                _save(tables.windows, key, raw, state.partition)
                state.saved, state.dirty = raw, False
        for message in waiting:
            if message.partition in assigned:  # a revoked partition's records go to its new owner
                message.ack(app.consumer)
        waiting.clear()

    @app.timer(SAVE_EVERY / 2)  # type: ignore[untyped-decorator]
    async def save_idle() -> None:
        # A key that stopped receiving signals is still saved (and its records acknowledged).
        if waiting and time.monotonic() - last_save >= SAVE_EVERY:
            async with lock:
                save()

    @app.agent(topics.signals, name="correlate", concurrency=1)
    async def correlate_signals(stream: Any) -> None:
        try:
            async with BatchOut(bootstrap_of(app), **security_of(app)) as out:
                async for batch in stream.take_events(deps.batch_size, within=deps.batch_seconds):
                    _short_fetch_wait(app)  # here: the consumer exists once records flow (cheap to repeat)
                    async with lock:
                        await correlate_batch_of(batch, out)
                        if time.monotonic() - last_save >= SAVE_EVERY:
                            save()
        finally:
            # Stopping: what was processed is saved and acknowledged now, or faust's consumer
            # would wait for those acknowledgements (and the next start replay them).
            if waiting:
                save()

    async def correlate_batch_of(batch: Any, out: BatchOut) -> None:
        by_key: dict[str, list[SecurityEvent]] = {}
        partition_of: dict[str, int] = {}
        for record in batch:
            msg = record.message
            msg.incref()  # take_events acknowledges on return: this keeps the record until its save
            waiting.append(msg)
            try:
                signals = decode_signals(record.value)
            except codec.DecodeError as exc:  # only our ingest writes here; still, never stop on one
                ref = f"{msg.topic}:{msg.partition}:{msg.offset}"
                await topics.dlq.send(key=record.key, value=dead_letter(record.value, str(exc), ref, deps.clock()))
                log.error("signals.undecodable", source=ref, reason=str(exc))
                continue
            key = record.key.decode() if record.key else ""
            by_key.setdefault(key, []).extend(signals)
            partition_of[key] = msg.partition
        results = {}
        for key, signals in by_key.items():
            correlator = correlator_of(key, partition_of[key])
            results[key] = (correlator, correlator.add(signals))
            live[key].dirty = True
        for _, commands in results.values():
            for command in commands:
                await out.send(INCIDENT_COMMANDS, codec.encode(command), command.incident_id.encode())
        await out.flush()  # the commands are on the broker before any save covers their signals
        for key, (correlator, commands) in results.items():
            log.info("signals.correlated", key_size=correlator.size, signals=len(by_key[key]),
                     attached=len(commands), incidents=sorted({c.incident_id for c in commands}))


def _save(table: Any, key: str, value: Any, partition: int) -> None:
    """``table[key] = value`` with the changelog written to ``partition`` (what faust's
    ``__setitem__`` does, taking the partition from the current event)."""
    table.data[key] = value
    table.send_changelog(partition, key, value)
