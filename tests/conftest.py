"""Fixtures every broker-backed test shares: a fresh, empty embedded broker per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streams.embedded import Broker, free_port


@pytest.fixture
def broker() -> Iterator[Broker]:
    """An empty Tansu broker for one test (starts in a few ms; cheaper than cleaning topics)."""
    b = Broker(port=free_port())
    b.start()
    try:
        yield b
    finally:
        b.stop()
