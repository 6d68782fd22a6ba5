"""A worker always stops, and leaves nothing running behind it (issue 20).

A stop that never ends hangs the test suite (pytest-asyncio then waits for ever on the loop's
close) and, in production, makes the orchestrator kill the worker after its grace period. The
real worker is started and stopped 50 times on the embedded broker, half of them with records
being published and handled at the moment of the stop; then a stop that faust alone would never
finish is forced within its bound.
"""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from streams.app import build
from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.settings import ROOT, SettingsError, load_settings
from streams.stopping import WorkerStopped
from streams.worker import running, started
from tests.support import read_topic, settings_for
from tests.unit.builders import directory

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
CYCLES = 50


def _deps() -> Deps:
    return Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                mailer=RecordingMailer(), clock=lambda: NOW, retry_delay=0.01)


def _events(cycle: int, count: int) -> list[bytes]:
    return [json.dumps({"id": f"stop-{cycle}-{i}", "time": "2026-11-22T10:00:00+01:00", "title": "Login failed",
                        "host": "ama-crm-db"}).encode() for i in range(count)]


def _stops(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"] in ("worker.stopped", "worker.stop_forced")]


@pytest.mark.asyncio
@pytest.mark.timeout(1200)  # 50 starts and stops, ~4 s each on a quiet machine
async def test_fifty_starts_and_stops_each_end_by_themselves_and_leave_nothing(broker: Broker,
                                                                               tmp_path: Path) -> None:
    threads_before = set(threading.enumerate())
    tasks_before = asyncio.all_tasks()
    for cycle in range(CYCLES):
        in_flight = cycle % 2 == 1
        publisher: asyncio.Task[int] | None = None
        with capture_logs() as logs:
            async with running(settings_for(broker.bootstrap, tmp_path / str(cycle)), _deps()):
                if in_flight:
                    # Published while the worker stops: some records are being handled at that moment.
                    publisher = asyncio.ensure_future(publish(broker.bootstrap, _events(cycle, 100)))
                    await read_topic(broker.bootstrap, "signals", 1)
        if publisher is not None:
            assert await publisher == 100
        (stop,) = _stops(logs)
        assert stop["event"] == "worker.stopped", f"cycle {cycle}: {stop}"
        left_threads = [t.name for t in threading.enumerate() if t not in threads_before and t.is_alive()]
        assert left_threads == [], f"cycle {cycle}: threads left running: {left_threads}"
        left_tasks = [t for t in asyncio.all_tasks() - tasks_before if not t.done()]
        assert left_tasks == [], f"cycle {cycle}: tasks left pending: {left_tasks}"


@pytest.mark.asyncio
async def test_a_stop_faust_would_never_finish_is_forced_and_says_what_it_forced(broker: Broker,
                                                                                 tmp_path: Path) -> None:
    """The hang of issue 20, made on purpose: a task of the app whose clean-up waits for the
    consumer thread, and a consumer thread whose loop holds a task that refuses to be cancelled."""
    settings = settings_for(broker.bootstrap, tmp_path)
    app, _, _ = build(settings, _deps())
    consumer_thread = app.consumer._thread
    owed: list[asyncio.Future[Any]] = []

    async def never_ending() -> None:
        await asyncio.Event().wait()

    async def refuses_cancellation() -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    @app.task
    async def waits_for_the_thread_when_cancelled() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            # A commit or a seek would do the same: a future only the consumer thread resolves.
            promise = asyncio.ensure_future(consumer_thread.call_thread(never_ending))
            owed.append(promise)
            await promise

    threads_before = set(threading.enumerate())
    with capture_logs() as logs:
        async with started(app, stop_timeout=1.0):
            loop = consumer_thread.thread_loop
            loop.call_soon_threadsafe(lambda: loop.create_task(refuses_cancellation()))

    (stop,) = _stops(logs)
    assert stop["event"] == "worker.stop_forced"
    assert any(f.startswith("app.stop() still running after 1 s") for f in stop["forced"]), stop
    assert any(f.startswith("thread ") and f.endswith(" halted") for f in stop["forced"]), stop
    assert not consumer_thread._thread.is_alive()
    assert [t.name for t in threading.enumerate() if t not in threads_before and t.is_alive()] == []
    # The future the halted thread owed was failed, so the task waiting on it ended.
    assert owed and owed[0].done()
    assert isinstance(owed[0].exception(), WorkerStopped)


def test_the_stop_timeout_is_a_positive_number_of_seconds() -> None:
    assert load_settings({"BREACH_STOP_TIMEOUT": "30"}).stop_timeout == 30.0
    for value in ("0", "-5"):
        with pytest.raises(SettingsError, match="BREACH_STOP_TIMEOUT"):
            load_settings({"BREACH_STOP_TIMEOUT": value})
