"""Running the faust app: in this process, until a signal or a crash stops it."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator

import faust
import structlog

from streams.app import build
from streams.deps import Deps
from streams.kafka import batch_in, faust_recovery
from streams.kafka.topics import Tables, Topics
from streams.metrics import WorkerMetrics
from streams.settings import Settings
from streams.stopping import Tasks, stop_app
from streams.web import WebServer

log = structlog.get_logger("breach.worker")

READY = "worker.ready"


class WorkerCrashed(RuntimeError):
    """The app stopped on a crash, not on a signal: the process must exit with a failure."""


@contextlib.asynccontextmanager
async def running(settings: Settings, deps: Deps, *, app_id: str | None = None,
                  ) -> AsyncIterator[tuple[faust.App, Topics, Tables]]:
    """The worker's app started and its tables recovered; stopped on exit (see ``started``)."""
    app, topics, tables = build(settings, deps, app_id=app_id)
    metrics = WorkerMetrics(app, tables.incidents, deps.clock)  # before start: faust's sensor
    server = WebServer(app, metrics, settings.web_host, settings.web_port) if settings.web_port else None
    async with started(app, stop_timeout=settings.stop_timeout, server=server):
        log.info(READY, app_id=app.conf.id, broker=settings.broker_url, profiles=len(deps.directory.profiles))
        yield app, topics, tables


@contextlib.asynccontextmanager
async def started(app: faust.App, *, stop_timeout: float, server: WebServer | None = None) -> AsyncIterator[None]:
    """``app`` started, its tables recovered and its batch stages in their groups. On exit it is
    stopped within ``stop_timeout`` plus streams.stopping.FORCE_SECONDS whatever faust does: what
    had to be forced is logged, and no thread or task of the app is left behind to hang the
    loop's own close."""
    tasks = Tasks(app)
    watch: asyncio.Future[None] | None = None
    try:
        if server is not None:
            await server.start()  # /healthz and /readyz answer (503) while the group forms
        with tasks.owning():
            # A table recovery that receives nothing: nudged, then the app crashed (see the module).
            watch = asyncio.ensure_future(faust_recovery.watching(app))
            await app.start()
        await _recovered(app)
        await asyncio.wait_for(batch_in.joined(app), timeout=120)  # ingest has a group of its own
        yield
    finally:
        if watch is not None:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
        try:
            if server is not None:
                await server.stop()
            await stop_app(app, tasks, grace=stop_timeout)
        finally:
            tasks.release()


async def _recovered(app: faust.App) -> None:
    """The tables recovered, within 120 s; a recovery given up (streams/kafka/faust_recovery.py)
    crashes the app: then at once, not at the timeout."""
    recovered = asyncio.ensure_future(app.tables.recovery.completed.wait())  # type: ignore[attr-defined]
    # mode's Event, not wait_until_stopped(): that one leaves a task of its own pending when cancelled.
    crashed = asyncio.ensure_future(app._crashed.wait())
    try:
        await asyncio.wait([recovered, crashed], timeout=120, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (recovered, crashed):
            task.cancel()
        await asyncio.gather(recovered, crashed, return_exceptions=True)  # none left pending
    if app.crashed:
        raise WorkerCrashed(type(app.crash_reason).__name__)
    if not recovered.done() or recovered.cancelled():
        raise TimeoutError("the tables did not recover within 120 s")


async def run_worker(settings: Settings, deps: Deps) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    ready = False

    def on_signal() -> None:
        # Nothing waits on ``stop`` before the worker is ready (the group, the table recovery:
        # seconds, or minutes against a broker in trouble), which made a SIGTERM look ignored:
        # then the start-up is cancelled instead, and stopping what it started is bounded as ever.
        stop.set()
        if not ready and main is not None:
            main.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    try:
        async with running(settings, deps) as (app, _, _):
            ready = True
            stopped = asyncio.ensure_future(app.wait_until_stopped())
            waiting = asyncio.ensure_future(stop.wait())
            await asyncio.wait([stopped, waiting], return_when=asyncio.FIRST_COMPLETED)
            for task in (stopped, waiting):
                task.cancel()
            log.info("worker.stopping", reason="signal" if stop.is_set() else "app stopped")
            crash = app.crash_reason if app.crashed else None
        if crash is not None and not stop.is_set():
            # The app crashed (a table recovery that never received anything, say): exit with a
            # failure so the supervisor or the orchestrator starts the worker again.
            log.error("worker.crashed", error=type(crash).__name__)
            raise WorkerCrashed(type(crash).__name__)
    except asyncio.CancelledError:
        if ready or not stop.is_set():
            raise
        log.info("worker.stopped_before_ready", reason="signal")
