"""The worker's in-memory index of when each incident next needs a Tick.

A min-heap of (due, incident_id) with lazy deletion: setting a new time for an incident leaves
its old heap entry behind, skipped when it surfaces. Popping what is due costs O(k log n)
instead of a scan of the whole schedule table every tick (1M clocks on one worker).

The schedule table stays the source of truth (it survives restarts and moves with its
partitions); the index is rebuilt from it now and then, so partitions this worker gained are
picked up and lost ones fade out (a Tick for an incident owned elsewhere is harmless).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable


class DueIndex:
    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []
        self._due: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._due)

    def set(self, incident_id: str, due: float | None) -> None:
        if due is None:
            self._due.pop(incident_id, None)
            return
        if self._due.get(incident_id) != due:
            self._due[incident_id] = due
            heapq.heappush(self._heap, (due, incident_id))

    def pop_due(self, now: float) -> list[tuple[str, float]]:
        """The incidents due at ``now`` with their due times, removed: the incident agent sets
        their next time when it has handled the Tick."""
        out = []
        while self._heap and self._heap[0][0] <= now:
            due, incident_id = heapq.heappop(self._heap)
            if self._due.get(incident_id) == due:
                del self._due[incident_id]
                out.append((incident_id, due))
        # Lazy deletion leaves stale entries; compact when they outnumber live ones.
        if len(self._heap) > 2 * len(self._due) + 1024:
            self._heap = [(d, i) for i, d in self._due.items()]
            heapq.heapify(self._heap)
        return out

    def rebuild(self, entries: Iterable[tuple[str, float | None]]) -> None:
        self._due = {i: d for i, d in entries if d is not None}
        self._heap = [(d, i) for i, d in self._due.items()]
        heapq.heapify(self._heap)
