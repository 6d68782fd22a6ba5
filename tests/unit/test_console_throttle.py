"""The login back-off (console.throttle): free tries, then a pause that doubles, capped, forgotten
after a quiet hour; an address keeps its count after a success, an account starts afresh."""

from __future__ import annotations

from console.throttle import Backoff, Policy

POLICY = Policy(client_free=3, first_pause=1.0, longest_pause=8.0, forget_after=3600.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(backoff: Backoff, key: str) -> None:
    assert backoff.wait(key) == 0
    backoff.begin(key)
    backoff.end(key, ok=False)


def test_the_pause_doubles_after_the_free_tries_and_is_capped() -> None:
    clock = Clock()
    backoff = Backoff(3, POLICY, reset_on_success=False, clock=clock)
    for _ in range(2):
        fail(backoff, "203.0.113.9")
    pauses = []
    for _ in range(6):
        fail(backoff, "203.0.113.9")
        pauses.append(backoff.wait("203.0.113.9"))
        clock.now += pauses[-1]
    assert pauses == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert backoff.wait("198.51.100.1") == 0  # another key is not concerned


def test_tries_running_at_once_count_before_they_end() -> None:
    backoff = Backoff(3, POLICY, reset_on_success=False, clock=Clock())
    for _ in range(3):
        assert backoff.wait("a") == 0
        backoff.begin("a")
    assert backoff.wait("a") > 0  # three checks running: a fourth waits for them


def test_a_success_resets_an_account_not_an_address_and_a_quiet_hour_forgets() -> None:
    clock = Clock()
    account = Backoff(3, POLICY, reset_on_success=True, clock=clock)
    address = Backoff(3, POLICY, reset_on_success=False, clock=clock)
    for backoff in (account, address):
        for _ in range(2):
            fail(backoff, "k")
        backoff.begin("k")
        backoff.end("k", ok=True)
        backoff.begin("k")
        backoff.end("k", ok=False)
    assert account.wait("k") == 0 and address.wait("k") == 1.0
    clock.now += 3601
    assert address.wait("k") == 0 and "k" not in address.counts
