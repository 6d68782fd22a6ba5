"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from streams.embedded.services import MailCatcher, free_port


@pytest_asyncio.fixture
async def catcher() -> AsyncIterator[MailCatcher]:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""
    mail = MailCatcher(port=free_port())
    await mail.start()
    try:
        yield mail
    finally:
        await mail.stop()
