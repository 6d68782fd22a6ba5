"""The clock agent's due-index: what is due pops once, in order; rescheduling moves it."""

from __future__ import annotations

from streams.agents.due_index import DueIndex


def test_due_incidents_pop_once_in_time_order() -> None:
    index = DueIndex()
    for incident_id, due in (("a", 30.0), ("b", 10.0), ("c", 20.0)):
        index.set(incident_id, due)
    assert index.pop_due(5.0) == []
    assert index.pop_due(20.0) == [("b", 10.0), ("c", 20.0)]
    assert index.pop_due(20.0) == [] and len(index) == 1


def test_rescheduling_and_clearing() -> None:
    index = DueIndex()
    index.set("a", 10.0)
    index.set("a", 50.0)  # moved later: the old entry is skipped
    index.set("b", 10.0)
    index.set("b", None)  # nothing more to remind
    assert index.pop_due(20.0) == []
    assert index.pop_due(50.0) == [("a", 50.0)]


def test_rebuild_from_the_table_replaces_everything() -> None:
    index = DueIndex()
    index.set("stale", 1.0)
    index.rebuild([("x", 5.0), ("y", None)])
    assert index.pop_due(100.0) == [("x", 5.0)]


def test_stale_entries_are_compacted() -> None:
    index = DueIndex()
    for n in range(5000):
        index.set("a", float(n + 1000))  # 5000 pushes, one live entry
    index.pop_due(0.0)
    assert len(index._heap) <= 2 * len(index) + 1024
