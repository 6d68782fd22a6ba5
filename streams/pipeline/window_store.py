"""A key's correlation window in the windows table: a snapshot, then one delta per batch.

Rewriting the whole window after every batch wrote ~8 KB per input signal (a controller's window
holds tens of thousands of entries) and was, with its encoding, the correlator's largest cost.
Now a batch writes what it changed (streams/pipeline/window_codec.py, ``encode_delta``) under the key
``<key>\\x1f<seq>``; a snapshot under ``<key>`` is written again when the deltas since the last one
outweigh it twice over, or after MAX_DELTAS of them, and then the deltas it covers are deleted.

Reading back (a worker taking a partition over, or a batch that failed) is the snapshot, then
the deltas ``seq + 1``, ``seq + 2``… until one is missing. Every write goes to the changelog of
the key's partition in order, so a delta never lands without the snapshot before it, and a
deleted delta always had its snapshot land first. Identifiers hold no control characters
(incident.normalize.admission), so ``\\x1f`` cannot occur in a key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from incident.correlation import Config, Correlator, Window
from incident.rules import RulePack
from streams import metrics
from streams.pipeline import table_partition
from streams.pipeline.window_codec import DeltaError, WindowCodec

log = structlog.get_logger("breach.correlate")
SEPARATOR = "\x1f"
MAX_DELTAS = 100  # between snapshots: what a worker taking over reads before its first batch
SNAPSHOT_AFTER = 2.0  # a snapshot once the deltas since the last one weigh this many times it


def delta_key(key: str, seq: int) -> str:
    return f"{key}{SEPARATOR}{seq}"


@dataclass
class Saved:
    """A key's state as this worker last wrote it: the base of its next delta."""

    correlator: Correlator
    window: Window  # the state as saved: its entries are the objects the correlator goes on with
    seq: int
    snapshot_seq: int
    snapshot_bytes: int
    since_bytes: int  # deltas written since the snapshot
    last_key: str  # the table key written last, and its value: if either changed, another worker wrote
    last_value: bytes | None


@dataclass(frozen=True)
class Found:
    """A key's window as read from the table."""

    window: Window
    seq: int  # of the last delta read (the snapshot's, if none)
    snapshot_seq: int
    snapshot_bytes: int
    since_bytes: int  # of the deltas read


def read(get: Callable[[str], Any], key: str) -> Found | None:
    """The key's window from the table (its snapshot, then its deltas), or None when there is
    none (or one of an older form: the correlator starts afresh)."""
    stored = get(key)
    window = WindowCodec.decode(stored) if stored is not None else None
    if window is None:
        return None
    seq = snapshot_seq = WindowCodec.sequence_of(stored)
    since = 0
    while (raw := get(delta_key(key, seq + 1))) is not None:
        try:
            window, found = WindowCodec.apply_delta(window, raw)
        except DeltaError as exc:
            # Only a bug writes such a delta: the state stops before it, loudly.
            log.error("window.delta_unreadable", key_size=window.size, seq=seq + 1, error=str(exc))
            break
        if found != seq + 1:
            log.error("window.delta_out_of_sequence", seq=seq + 1, found=found)
            break
        seq, since = found, since + len(raw)
    return Found(window, seq, snapshot_seq, len(stored), since)


class WindowStore:
    """Loads and saves each key's correlator for the correlate agent (one per worker)."""

    def __init__(self, table: Any, *, pack: RulePack, config: Config, max_bytes: int) -> None:
        self.table, self.pack, self.config, self.max_bytes = table, pack, config, max_bytes
        self.codec = WindowCodec()
        self.live: dict[str, Saved] = {}

    def take(self, key: str, partition: int) -> tuple[Correlator, Saved | None]:
        """The key's correlator, taken out of the live ones: only ``save`` puts it back, so a batch
        that fails half-way leaves the next one to start again from the table."""
        saved = self.live.pop(key, None)
        if saved is not None and self._still_ours(key, partition, saved):
            return saved.correlator, saved
        found = read(lambda k: table_partition.get(self.table, k, partition), key)
        if found is None:
            return Correlator(Window(key=key), pack=self.pack, config=self.config), None
        correlator = Correlator(found.window, pack=self.pack, config=self.config)
        last = delta_key(key, found.seq) if found.seq != found.snapshot_seq else key
        return correlator, Saved(correlator, found.window, found.seq, found.snapshot_seq, found.snapshot_bytes,
                                 found.since_bytes, last, table_partition.get(self.table, last, partition))

    def save(self, key: str, partition: int, correlator: Correlator, saved: Saved | None) -> None:
        window = correlator.snapshot()
        if saved is not None and saved.seq - saved.snapshot_seq < MAX_DELTAS:
            seq = saved.seq + 1
            delta = self.codec.encode_delta(saved.window, window, seq)
            since = saved.since_bytes + len(delta)
            if since <= SNAPSHOT_AFTER * saved.snapshot_bytes and saved.snapshot_bytes + since <= self.max_bytes:
                name = delta_key(key, seq)
                table_partition.put(self.table, name, delta, partition)
                metrics.WINDOW_BYTES.labels(kind="delta").inc(len(delta) + len(name))
                self.live[key] = Saved(correlator, window, seq, saved.snapshot_seq, saved.snapshot_bytes, since,
                                       name, delta)
                return
        self._snapshot(key, partition, correlator, window, saved)

    def _snapshot(self, key: str, partition: int, correlator: Correlator, window: Window,
                  saved: Saved | None) -> None:
        seq = saved.seq + 1 if saved is not None else 0
        raw = self.codec.encode_snapshot(window, seq)
        while len(raw) > self.max_bytes:
            smaller = window.trimmed()
            if smaller.size == window.size:
                break  # nothing left to trim: the producer will refuse it and the worker stop, loudly
            log.warning("window.trimmed", key_size=window.size, bytes=len(raw), limit=self.max_bytes)
            window, raw = smaller, self.codec.encode_snapshot(smaller, seq)
            correlator = Correlator(window, pack=self.pack, config=self.config)
        table_partition.put(self.table, key, raw, partition)
        metrics.WINDOW_BYTES.labels(kind="snapshot").inc(len(raw) + len(key))
        if saved is not None:
            # After the snapshot, on the same changelog partition: a delete never lands without it.
            for old in range(saved.snapshot_seq + 1, saved.seq + 1):
                name = delta_key(key, old)
                table_partition.delete(self.table, name, partition)
                metrics.WINDOW_BYTES.labels(kind="tombstone").inc(len(name))
        self.live[key] = Saved(correlator, window, seq, seq, len(raw), 0, key, raw)

    def _still_ours(self, key: str, partition: int, saved: Saved) -> bool:
        """Whether the table still holds what this worker wrote last, and nothing after it (the
        partition may have been another worker's meanwhile)."""
        stored = table_partition.get(self.table, saved.last_key, partition)
        if stored is not saved.last_value and stored != saved.last_value:
            return False
        return table_partition.get(self.table, delta_key(key, saved.seq + 1), partition) is None

