"""signals (keyed by partition key) → correlate → incident-commands (keyed by incident id).

The ingest agent keys every signals record by its partition key (the controller), and the
window table's changelog is written to the partition of the signals that changed it, so a
key's state always lives on the worker that consumes its signals: several workers split the
keys without a second hop and without breaking a window. (faust picks the changelog partition,
and on RocksDB the store, from "the current event", which a batch does not have: the agent
names each key's partition explicitly, see streams/pipeline/table_partition.py.)

Records are taken in batches and grouped by key: one state read, one correlation step and one
table write per key per batch. Each key's ``Correlator`` (the window with its indexes built) stays
alive between batches while the table still holds the state it last wrote: decoding a large
window and rebuilding its indexes per batch was the cost. What a batch changed is written after
every batch, before faust acknowledges it, as a delta over the last snapshot
(streams/pipeline/window_store.py).
"""

from __future__ import annotations

import json
from typing import Any

import faust
import structlog

from incident.commands import AttachSignal, MergeIncident
from incident.correlation import Correlator
from incident.signals import SecurityEvent
from streams import metrics
from streams.deps import Deps
from streams.kafka import codec
from streams.kafka.batch_out import BatchOut, bootstrap_of
from streams.kafka.dlq import dead_letter, letter_key
from streams.kafka.topics import INCIDENT_COMMANDS, SIGNALS_DLQ, Tables, Topics
from streams.pipeline.signal_batches import decode_signals
from streams.pipeline.window_store import Saved, WindowStore

log = structlog.get_logger("breach.correlate")


def _bytes_of(signal: SecurityEvent) -> bytes:
    """What a dead letter keeps of a refused signal: its envelope, or its fields as best we can."""
    try:
        return codec.encode(signal)
    except (TypeError, ValueError, UnicodeError, OverflowError):
        return json.dumps(signal.to_dict(), ensure_ascii=False, default=str).encode("utf-8", "surrogatepass")


def register(app: faust.App, topics: Topics, tables: Tables, deps: Deps) -> None:
    store = WindowStore(tables.windows, pack=deps.rule_pack, config=deps.correlation, max_bytes=deps.max_state_bytes)

    def correlated(key: str, partition: int, signals: list[SecurityEvent],
                   ) -> tuple[Correlator, Saved | None, list[AttachSignal | MergeIncident],
                              list[tuple[SecurityEvent, str]]]:
        """The key's correlator after the signals, its commands, and the signals it could not take.

        A signal the correlator raises on (admission keeps impossible times and text out, but a
        signal written by an older worker, or a bug, may still get here) must not take the key's
        other signals with it: the batch is then replayed one signal at a time from the saved
        state, each failure rolled back and dead-lettered. Only that rare path pays for it."""
        correlator, saved = store.take(key, partition)
        try:
            return correlator, saved, correlator.add(signals), []
        except Exception as exc:  # the isolation boundary of one key's batch
            log.error("signals.correlation_failed", key=key, partition=partition, signals=len(signals),
                      error=type(exc).__name__)
        correlator, saved = store.take(key, partition)  # no longer live: from the table
        commands: list[AttachSignal | MergeIncident] = []
        refused: list[tuple[SecurityEvent, str]] = []
        for signal in signals:
            before = correlator.snapshot()
            try:
                commands.extend(correlator.add([signal]))
            except Exception as exc:  # this signal's failure alone
                refused.append((signal, f"correlation failed: {type(exc).__name__}"))
                correlator = Correlator(before, pack=deps.rule_pack, config=deps.correlation)
        return correlator, saved, commands, refused

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
                key = record.key.decode() if record.key else ""
            except (codec.DecodeError, UnicodeDecodeError) as exc:  # only ingest writes here; never stop on one
                ref = f"{msg.topic}:{msg.partition}:{msg.offset}"
                reason = str(exc) if isinstance(exc, codec.DecodeError) else "the record's key is not UTF-8 text"
                await topics.signals_dlq.send(key=letter_key(record.key), value=dead_letter(
                    record.value, reason, ref, deps.clock(), stage="correlate"))
                metrics.dead_letter(SIGNALS_DLQ, reason)
                log.error("signals.undecodable", source=ref, reason=reason)
                continue
            by_key.setdefault(key, []).extend(signals)
            partition_of[key] = msg.partition
        # store.take takes each key's live correlator out; only a saved state puts it back. If
        # anything below fails, the next batch starts again from the table, never from a
        # correlator that already holds signals whose state was not written.
        results = {}
        for key, signals in by_key.items():
            correlator, saved, commands, refused = correlated(key, partition_of[key], signals)
            results[key] = (correlator, saved, commands)
            for signal, reason in refused:
                await topics.signals_dlq.send(key=letter_key(key.encode()), value=dead_letter(
                    _bytes_of(signal), reason, signal.raw_ref or key, deps.clock(), stage="correlate"))
                metrics.dead_letter(SIGNALS_DLQ, reason)
                log.error("signal.refused", key=key, event_id=signal.event_id, source=signal.raw_ref, reason=reason)
        for _, _, commands in results.values():
            for command in commands:
                await out.send(INCIDENT_COMMANDS, codec.encode(command), command.incident_id.encode())
        # The commands reach the broker before the state that says they were sent is saved: a
        # crash in between replays the signals against the old state and sends them again (the
        # incident agent ignores an event id it has), never the other way round.
        await out.flush()
        for key, (correlator, saved, commands) in results.items():
            store.save(key, partition_of[key], correlator, saved)
            log.info("signals.correlated", key=key, partition=partition_of[key], key_size=correlator.size,
                     signals=len(by_key[key]), attached=len(commands),
                     incidents=sorted({c.incident_id for c in commands}))

