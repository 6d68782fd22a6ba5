"""Fixtures every broker-backed test shares: a fresh, empty embedded broker per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings

from streams.embedded import Broker, free_port

# Property tests: the same examples on every run (CI must not flake), and plenty of them;
# `pytest --hypothesis-profile=deep` searches much further.
settings.register_profile("ci", derandomize=True, max_examples=300, deadline=None)
settings.register_profile("deep", max_examples=20_000, deadline=None)
settings.load_profile("ci")


@pytest.fixture
def broker() -> Iterator[Broker]:
    """An empty Tansu broker for one test (starts in a few ms; cheaper than cleaning topics)."""
    b = Broker(port=free_port())
    b.start()
    try:
        yield b
    finally:
        b.stop()
