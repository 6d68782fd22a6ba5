"""When `breach up` restarts a process that died, and when it gives up (streams/embedded/restarts.py)."""

from __future__ import annotations

from streams.embedded.restarts import Restarts


def test_each_restart_waits_twice_as_long_and_the_sixth_death_in_a_row_gives_up() -> None:
    rule = Restarts(first=1.0, cap=8.0, limit=5, stable=60.0)
    rule.ready(0.0)
    delays = []
    for now in (10.0, 20.0, 30.0, 40.0, 50.0):
        delays.append(rule.died(now))
        rule.ready(now + 1)
    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert rule.died(55.0) is None and rule.in_a_row == 6


def test_a_process_that_stayed_up_starts_a_new_row() -> None:
    rule = Restarts(first=1.0, cap=16.0, limit=2, stable=60.0)
    rule.ready(0.0)
    assert rule.died(5.0) == 1.0
    rule.ready(6.0)
    assert rule.died(7.0) == 2.0
    rule.ready(8.0)
    assert rule.died(68.0) == 1.0  # up 60 s: the earlier deaths are forgotten
    assert rule.in_a_row == 1


def test_a_process_that_dies_before_it_is_ready_stays_in_the_row() -> None:
    rule = Restarts(first=1.0, cap=16.0, limit=5, stable=60.0)
    rule.ready(0.0)
    assert rule.died(100.0) == 1.0
    assert rule.died(500.0) == 2.0  # never ready in between: not a stable run, however long ago
