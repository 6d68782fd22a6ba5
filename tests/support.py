"""Helpers for tests that wait on a real system: poll a condition until a deadline."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiokafka import AIOKafkaConsumer

from console.projection import Projection
from console.read_model import ReadModel
from streams.embedded.services import free_port
from streams.kafka.command_signing import Keyring
from streams.kafka.partitions import current_partitions
from streams.settings import Settings, load_settings

POLL_INTERVAL = 0.05  # seconds between two looks at the condition, not a wait for a result
# BREACH_COMMAND_KEYS of the tests' workers, and the keys their senders sign with (KEYS).
COMMAND_KEYS = "test-1:" + base64.b64encode(b"tests sign with this key; 32 b!!").decode()
KEYS = Keyring.parse(COMMAND_KEYS)


async def eventually(condition: Callable[[], Any], *, timeout: float = 30.0, what: str = "condition") -> Any:
    """Return the condition's first truthy value; fail with ``what`` if the deadline passes. The
    condition may be a coroutine function (a look that has to await, an HTTP request say)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(POLL_INTERVAL)


def settings_for(bootstrap: str, tmp_path: Path, **overrides: Any) -> Settings:
    # Pages are not e-mailed unless a test asks (page_email=True): tests that count the notices in a
    # mailbox stay about the notices; tests/integration/test_paging.py pages through its own Deps.
    return load_settings({}, broker_url=f"kafka://{bootstrap}", data_dir=tmp_path, session_timeout=2.0,
                         heartbeat_interval=0.5, **{"command_keys": COMMAND_KEYS, "page_email": False, **overrides})


async def read_signals(bootstrap: str, count: int, timeout: float = 30.0) -> list[Any]:
    """The first ``count`` signals on the ``signals`` topic (a record may hold several), one per
    security record: the copies of an unmapped signal sent to the controllers' keys are left out."""
    from incident.correlation import LINK_ONLY
    from streams.pipeline.signal_batches import decode_signals

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    signals: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        while not (partitions := await current_partitions(consumer, ("signals",))):
            assert time.monotonic() < deadline, "topic signals never appeared"
            await asyncio.sleep(POLL_INTERVAL)
        consumer.assign(sorted(partitions))
        await consumer.seek_to_beginning()
        while len(signals) < count and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                signals.extend(s for r in batch for s in decode_signals(r.value) if LINK_ONLY not in s.tags)
    finally:
        await consumer.stop()
    assert len(signals) >= count, f"signals: {len(signals)}, expected {count}"
    return signals


class Watcher:
    """The console's own projection, used by tests to see what the worker published."""

    def __init__(self, bootstrap: str) -> None:
        self.model = ReadModel()
        self.projection = Projection(bootstrap, self.model)

    async def __aenter__(self) -> Watcher:
        await self.projection.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.projection.stop()


async def read_topic(bootstrap: str, topic: str, count: int, timeout: float = 30.0) -> list[Any]:
    """The first ``count`` records of a topic, across its partitions."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        while not (partitions := await current_partitions(consumer, (topic,))):
            assert time.monotonic() < deadline, f"topic {topic} never appeared"
            await asyncio.sleep(POLL_INTERVAL)
        consumer.assign(sorted(partitions))
        await consumer.seek_to_beginning()
        deadline = time.monotonic() + timeout
        while len(records) < count and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    assert len(records) >= count, f"{topic}: {len(records)} record(s), expected {count}"
    return records


@contextlib.asynccontextmanager
async def loopback_http(route: str, handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
                        ) -> AsyncIterator[str]:
    """A real HTTP server on loopback taking POSTs on ``route`` (an aiohttp pattern): the webhook
    receivers (on-call tool, Slack, Teams) the tests send to. Yields ``http://127.0.0.1:PORT``."""
    app = web.Application()
    app.router.add_post(route, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
