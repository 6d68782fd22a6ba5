"""Password checks off the event loop, with back-off per client address and per account.

Argon2 is slow and memory-hungry on purpose (~64 MiB a check): the checks run in a small pool of
threads (``workers``), and at most ``max_waiting`` wait for it, so a flood of logins neither stalls
the console's event loop nor exhausts its memory.

Guessing is slowed twice, with an exponential back-off rather than a lockout:
- per client address, after a few failures whatever the names tried (a spray of many names);
- per account, after many more failures whatever the addresses (a guess spread over many).
An attempt is counted when it starts, so concurrent tries cannot overtake the count; a try refused
during a back-off is not checked and not counted. A flood for ``dpo`` from one address backs off
that address long before the account, so the real DPO, elsewhere, still logs in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from console.users import User, UserStore

MAX_KEYS = 100_000  # addresses and names remembered; the stalest are forgotten beyond


@dataclass(frozen=True)
class Policy:
    client_free: int = 5  # failures from one address before it backs off
    account_free: int = 20  # failures for one name, from anywhere, before the name backs off
    first_pause: float = 1.0  # seconds; doubled by each further failure
    longest_pause: float = 900.0
    forget_after: float = 3600.0  # a key with no failure for this long starts afresh
    workers: int = 2  # argon2 checks at once
    max_waiting: int = 64  # checks queued for a worker; more are answered "busy"


@dataclass
class _Count:
    failures: int = 0
    running: int = 0
    until: float = 0.0  # no try before this (monotonic)
    last: float = 0.0


class Busy(Exception):
    """Too many password checks are waiting: try again shortly."""


class Throttled(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.0f} s")
        self.retry_after = retry_after


@dataclass
class Backoff:
    """Failures per key (an address or a name): free tries, then a pause that doubles."""

    free: int
    policy: Policy
    reset_on_success: bool  # accounts: the right password ends a back-off; addresses: their count stays
    clock: Callable[[], float] = time.monotonic
    counts: dict[str, _Count] = field(default_factory=dict)

    def wait(self, key: str) -> float:
        """Seconds before ``key`` may try (0: now)."""
        now = self.clock()
        count = self.counts.get(key)
        if count is None:
            return 0.0
        if not count.running and now - count.last > self.policy.forget_after:
            del self.counts[key]
            return 0.0
        if now < count.until:
            return count.until - now
        if count.failures + count.running < self.free or not count.running:
            return 0.0
        return self.policy.first_pause  # a try after the pause is running: one at a time

    def begin(self, key: str) -> None:
        if len(self.counts) >= MAX_KEYS:
            self._forget_stalest()
        count = self.counts.setdefault(key, _Count())
        count.running += 1
        count.last = self.clock()

    def end(self, key: str, *, ok: bool) -> None:
        count = self.counts.get(key)
        if count is None:
            return
        count.running -= 1
        if ok:
            if self.reset_on_success:
                count.failures, count.until = 0, 0.0
            if not count.running and not count.failures:
                del self.counts[key]
            return
        count.failures += 1
        count.last = now = self.clock()
        if count.failures >= self.free:
            pause = self.policy.first_pause * 2 ** (count.failures - self.free)
            count.until = now + min(self.policy.longest_pause, pause)

    def _forget_stalest(self) -> None:
        for key in sorted(self.counts, key=lambda k: self.counts[k].last)[: len(self.counts) // 10 + 1]:
            if not self.counts[key].running:
                del self.counts[key]


class PasswordCheck:
    """``await check.verify(name, password, client)``: the user, None (wrong), or Throttled / Busy."""

    def __init__(self, users: UserStore, policy: Policy | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.users = users
        self.policy = policy or Policy()
        self.clients = Backoff(self.policy.client_free, self.policy, reset_on_success=False, clock=clock)
        self.accounts = Backoff(self.policy.account_free, self.policy, reset_on_success=True, clock=clock)
        self._pool = ThreadPoolExecutor(max_workers=self.policy.workers, thread_name_prefix="argon2")
        self._waiting = 0

    async def verify(self, name: str, password: str, client: str) -> User | None:
        wait = max(self.clients.wait(client), self.accounts.wait(name))
        if wait > 0:
            raise Throttled(wait)
        if self._waiting >= self.policy.max_waiting:
            raise Busy()
        self.clients.begin(client)
        self.accounts.begin(name)
        self._waiting += 1
        user = None
        try:
            user = await asyncio.get_running_loop().run_in_executor(self._pool, self.users.verify, name, password)
        finally:
            self._waiting -= 1
            self.clients.end(client, ok=user is not None)
            self.accounts.end(name, ok=user is not None)
        return user

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
