"""Fixtures every broker-backed test shares: a fresh, empty embedded broker per test."""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
from collections.abc import Iterator

import pytest
from hypothesis import settings

from streams.embedded.services import Broker, free_port

# Property tests: the same examples on every run (CI must not flake), and plenty of them;
# `pytest --hypothesis-profile=deep` searches much further.
settings.register_profile("ci", derandomize=True, max_examples=300, deadline=None)
settings.register_profile("deep", max_examples=20_000, deadline=None)
settings.load_profile("ci")

# The whole run's bound, beside pytest-timeout's per test (pyproject.toml): a hang that escapes
# it (in a loop's close, between two tests) still ends the run with every thread's stack, well
# inside CI's 90 minutes, instead of eating them in silence.
SUITE_LIMIT_SECONDS = 60 * 60


def _suite_overran() -> None:
    print(f"\nthe test run passed {SUITE_LIMIT_SECONDS} s: every thread's stack follows", file=sys.stderr)
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    os._exit(3)


def pytest_sessionstart(session: pytest.Session) -> None:
    watchdog = threading.Timer(SUITE_LIMIT_SECONDS, _suite_overran)
    watchdog.daemon = True  # a run that ends in time ends with it
    watchdog.name = "suite-watchdog"
    watchdog.start()


@pytest.fixture
def broker() -> Iterator[Broker]:
    """An empty Tansu broker for one test (starts in a few ms; cheaper than cleaning topics)."""
    b = Broker(port=free_port())
    b.start()
    try:
        yield b
    finally:
        b.stop()
