"""The outgoing webhook against a real HTTP server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from streams.embedded.services import free_port
from streams.oncall.webhook import HttpWebhook
from tests.support import loopback_http


class Receiver:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_first = 0
        self.status = 500

    async def handle(self, request: web.Request) -> web.Response:
        if self.fail_first:
            self.fail_first -= 1
            return web.Response(status=self.status)
        self.received.append(await request.json())
        return web.Response(status=204)


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    r = Receiver()
    async with loopback_http("/hook", r.handle) as url:
        yield r, url + "/hook"


@pytest.mark.asyncio
async def test_a_payload_arrives_after_transient_failures(receiver: tuple[Receiver, str]) -> None:
    r, url = receiver
    r.fail_first = 2
    assert await HttpWebhook(url, attempts=3, delay=0.01).post({"step": "T-6h"}) is None
    assert r.received == [{"step": "T-6h"}]


@pytest.mark.asyncio
async def test_a_refusal_is_not_retried_and_is_reported(receiver: tuple[Receiver, str]) -> None:
    r, url = receiver
    r.fail_first, r.status = 5, 403
    assert await HttpWebhook(url, attempts=3, delay=0.01).post({"step": "T-1h"}) == "HTTP 403"
    assert r.fail_first == 4  # one attempt only


@pytest.mark.asyncio
async def test_an_unreachable_receiver_is_reported_after_the_attempts() -> None:
    error = await HttpWebhook(f"http://127.0.0.1:{free_port()}/hook", attempts=2, delay=0.01).post({})
    assert error is not None and "after 2 attempts" in error
