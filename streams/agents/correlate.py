"""signals (keyed by partition key) → correlate → incident-commands (keyed by incident id).

The ingest agent keys every signals record by its partition key (the controller), and the
window table's changelog is written to the partition of the signals that changed it, so a
key's state always lives on the worker that consumes its signals: several workers split the
keys without a second hop and without breaking a window. (faust picks the changelog partition,
and on RocksDB the store, from "the current event", which a batch does not have: the agent
names each key's partition explicitly, see streams/table_partition.py.)

Records are taken in batches and grouped by key: one state read, one ``correlate_batch`` call
and one table write per key per batch. The decoded state is cached per key and reused while
the table still holds the same version (decoding a large window per batch is the cost).
"""

from __future__ import annotations

from typing import Any

import faust
import structlog

from incident.correlation import Window, correlate_batch
from incident.signals import SecurityEvent
from streams import codec, table_partition
from streams.batch_out import BatchOut, bootstrap_of
from streams.deps import Deps
from streams.dlq import dead_letter
from streams.signal_batches import decode_signals
from streams.topics import INCIDENT_COMMANDS, Tables, Topics
from streams.window_codec import WindowCodec

log = structlog.get_logger("breach.correlate")


def register(app: faust.App, topics: Topics, tables: Tables, deps: Deps) -> None:
    decoded: dict[str, tuple[bytes, Window]] = {}  # key -> the last state this worker wrote, both forms
    window_codec = WindowCodec()

    def state_of(key: str, partition: int) -> Window | None:
        stored = table_partition.get(tables.windows, key, partition)
        if stored is None:
            decoded.pop(key, None)
            return None
        cached = decoded.get(key)
        # Still the bytes we wrote (the same object in memory://, an equal copy from RocksDB).
        if cached is not None and cached[0] == stored:
            return cached[1]
        return window_codec.decode(stored)  # None for an older format: start afresh

    def encoded(key: str, window: Window) -> bytes:
        raw = window_codec.encode(window)
        while len(raw) > deps.max_state_bytes:
            smaller = window.trimmed()
            if smaller.size == window.size:
                break  # nothing left to trim: the producer will refuse it and the worker stop, loudly
            log.warning("window.trimmed", key_size=window.size, bytes=len(raw), limit=deps.max_state_bytes)
            window, raw = smaller, window_codec.encode(smaller)
        decoded[key] = (raw, window)
        return raw

    @app.agent(topics.signals, name="correlate", concurrency=1)
    async def correlate_signals(stream: Any) -> None:
        async with BatchOut(bootstrap_of(app)) as out:
            async for batch in stream.take_events(deps.batch_size, within=deps.batch_seconds):
                await correlate_batch_of(batch, out)

    async def correlate_batch_of(batch: Any, out: BatchOut) -> None:
        by_key: dict[str, list[SecurityEvent]] = {}
        partition_of: dict[str, int] = {}
        for record in batch:
            msg = record.message
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
        results = {key: correlate_batch(state_of(key, partition_of[key]), signals, pack=deps.rule_pack,
                                        config=deps.correlation)
                   for key, signals in by_key.items()}
        for _, commands in results.values():
            for command in commands:
                await out.send(INCIDENT_COMMANDS, codec.encode(command), command.incident_id.encode())
        # The commands reach the broker before the state that says they were sent is saved: a
        # crash in between replays the signals against the old state and sends them again (the
        # incident agent ignores an event id it has), never the other way round.
        await out.flush()
        for key, (window, commands) in results.items():
            table_partition.put(tables.windows, key, encoded(key, window), partition_of[key])
            log.info("signals.correlated", key=key, partition=partition_of[key], key_size=window.size,
                     signals=len(by_key[key]), attached=len(commands),
                     incidents=sorted({c.incident_id for c in commands}))

