"""table_partition: the partition a batch agent names is the one faust's store sees, and only
for the one access."""

from __future__ import annotations

from typing import Any

import faust

from streams.pipeline import table_partition


class SpyTable:
    """Records the partition faust's store would pick (the current event's) on each access."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int | None]] = []
        self.changelog: list[tuple[int, str, Any]] = []
        self.data = self

    def _current(self) -> int | None:
        event = faust.current_event()
        return event.message.partition if event is not None else None

    def get(self, key: str) -> Any:
        self.seen.append(("get", self._current()))
        return f"value of {key}"

    def __setitem__(self, key: str, value: Any) -> None:
        self.seen.append(("set", self._current()))

    def __contains__(self, key: str) -> bool:
        self.seen.append(("has", self._current()))
        return True

    def __delitem__(self, key: str) -> None:
        self.seen.append(("del", self._current()))

    def send_changelog(self, partition: int, key: str, value: Any, **options: Any) -> None:
        self.changelog.append((partition, key, value))


def test_each_access_sees_its_own_partition_and_none_after() -> None:
    table = SpyTable()
    assert table_partition.get(table, "ampere", 3) == "value of ampere"
    table_partition.put(table, "atometrics", b"w", 0)
    table_partition.delete(table, "ama", 2)
    assert table.seen == [("get", 3), ("set", 0), ("has", 2), ("del", 2)]
    assert table.changelog == [(0, "atometrics", b"w"), (2, "ama", None)]  # a tombstone for the delete
    assert faust.current_event() is None  # faust's own (here: none) is back
