"""Table reads and writes for one partition named explicitly, for agents that work on batches.

faust routes a table access by "the current event" (``faust.current_event()``, a context
variable holding a weak reference to the record being processed): the changelog partition of a
write, and on ``rocksdb://`` (production) also the per-partition database a key is read from and
written to. A batch taken with ``stream.take_events`` has no current event in the agent's task
(faust fills the batch from another task): the RocksDB store then refuses every write (``assert
event is not None``), and a per-key loop over a batch would anyway need a different partition per
key. ``memory://`` keeps one dict for all partitions, which is why the tests never saw it.

``get`` and ``put`` make a stand-in event carrying only the partition current for the duration
of one synchronous table access, and restore faust's own afterwards. Nothing is awaited while
the stand-in is current, so no send can be attached to it and no other code sees it.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from faust import streams as faust_streams


class _Message:
    __slots__ = ("partition",)

    def __init__(self, partition: int) -> None:
        self.partition = partition


class _PartitionEvent:
    """All the RocksDB store reads of an event: ``event.message.partition``."""

    __slots__ = ("__weakref__", "message")  # faust keeps a weak reference to the current event

    def __init__(self, partition: int) -> None:
        self.message = _Message(partition)


@contextmanager
def _current_partition(partition: int) -> Iterator[None]:
    stand_in = _PartitionEvent(partition)  # held here: the context variable only holds a weak reference
    token = faust_streams._current_event.set(weakref.ref(stand_in))  # type: ignore[arg-type]
    try:
        yield
    finally:
        faust_streams._current_event.reset(token)


def get(table: Any, key: str, partition: int) -> Any:
    """``table.get(key)``, read from ``partition``'s store (the partition the key's records come from)."""
    with _current_partition(partition):
        return table.get(key)


def put(table: Any, key: str, value: Any, partition: int) -> None:
    """``table[key] = value``, stored in and changelogged to ``partition`` (what faust's
    ``__setitem__`` does with the partition of the current event)."""
    with _current_partition(partition):
        table.data[key] = value
    table.send_changelog(partition, key, value)


def delete(table: Any, key: str, partition: int) -> None:
    """``del table[key]`` for ``partition``: the key gone from its store and a tombstone on its
    changelog (what faust's ``__delitem__`` does with the current event's partition)."""
    with _current_partition(partition):
        if key in table.data:
            del table.data[key]
    table.send_changelog(partition, key, value=None, value_serializer="raw")
