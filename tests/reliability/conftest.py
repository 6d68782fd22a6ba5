"""Fixtures the reliability tests share (pytest finds them here without an import)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from streams.embedded.services import free_port
from tests.integration.smtp_sink import SmtpSink


@pytest_asyncio.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    """A real aiosmtpd relay on a free port: what the workers send to."""
    relay = SmtpSink(free_port())
    await relay.start()
    try:
        yield relay
    finally:
        await relay.stop()
