"""When `breach up` restarts a process of its stack that died, and when it stops trying.

The first restart comes after FIRST seconds, each next one twice as late (at most CAP); after
LIMIT deaths in a row there is none: a process that dies again and again has a cause that a
restart will not fix (a bad setting, a record that kills it, a full disk), and a stack that
restarts it for ever only hides it. A process that stayed up STABLE seconds after it was ready
starts a new row. Times are given by the caller (time.monotonic()), so the rule is tested
without waiting.
"""

from __future__ import annotations

from dataclasses import dataclass

FIRST = 1.0
CAP = 16.0
LIMIT = 5
STABLE = 60.0


@dataclass
class Restarts:
    first: float = FIRST
    cap: float = CAP
    limit: int = LIMIT
    stable: float = STABLE
    in_a_row: int = 0  # deaths since the process last stayed up ``stable`` seconds
    _up_since: float | None = None

    def ready(self, now: float) -> None:
        """The process is (again) ready."""
        self._up_since = now

    def died(self, now: float) -> float | None:
        """It died at ``now``: seconds to wait before starting it again, or None to give up."""
        if self._up_since is not None and now - self._up_since >= self.stable:
            self.in_a_row = 0
        self._up_since = None
        self.in_a_row += 1
        if self.in_a_row > self.limit:
            return None
        delay: float = min(self.first * 2.0 ** (self.in_a_row - 1), self.cap)
        return delay
