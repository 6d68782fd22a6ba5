"""Stopping a worker within a bound: what will not stop in time is forced, and said.

faust's stop walks a tree of services, and three places in it can wait for ever (issue 20: a test
suite that sat 19 minutes in a teardown; in production, a rolling restart killed after its grace
period with work in flight):

- mode's ``ServiceThread.stop`` joins its thread (faust's consumer runs in one) with a blocking,
  unbounded ``threading.Event.wait`` *on the event loop's thread*: if the consumer thread is
  waiting for the loop (faust hands rebalance callbacks to the main thread), neither moves again;
- mode's ``_default_stop_children`` shields each child's stop and swallows its cancellation, so
  cancelling a late ``app.stop()`` (what ``asyncio.wait_for`` does on time-out, and then waits for
  the cancellation to finish) leaves children stopping on their own, or not at all;
- a task whose clean-up awaits a future only the consumer thread resolves (a commit, a seek)
  waits for a thread that may be gone: the loop's own close (``asyncio.run``, pytest-asyncio)
  then waits for that task for ever.

So: ``install()`` makes a service thread's join poll instead of block, and remembers the futures
each thread owes the loop; ``stop_app()`` gives ``app.stop()`` STOP_SECONDS, then stops what is
left by force: each service thread's own loop is halted and what it owed is failed, each worker
task still pending is cancelled (again, for as long as FORCE_SECONDS, since a cancelled task may
await again in its ``finally``), and the result names everything that had to be forced. A forced
stop loses nothing that was acknowledged: offsets are committed only for records whose output
was flushed (streams/kafka/faust_offsets.py), so records in flight are read again by the next owner.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from typing import Any

import structlog
from mode import Service
from mode.threads import MethodQueue, ServiceThread, WorkerThread

log = structlog.get_logger("breach.worker")

STOP_SECONDS = 15.0  # app.stop() alone (BREACH_STOP_TIMEOUT); a clean stop takes ~1.5 s here
JOIN_SECONDS = 5.0  # a service thread asked to stop has this long to end before its loop is halted
FORCE_SECONDS = 5.0  # forcing what is left: halting thread loops, cancelling tasks
POLL = 0.02  # seconds between two looks at a thread that is ending (a poll, not a wait for a result)

_threads: weakref.WeakSet[ServiceThread] = weakref.WeakSet()
# The app whose start created the running code (tasks inherit it from the task that made them).
_owner: contextvars.ContextVar[object | None] = contextvars.ContextVar("breach_task_owner", default=None)


class WorkerStopped(RuntimeError):
    """What a future owed by a halted service thread is failed with."""


@dataclass(frozen=True, slots=True)
class Stopped:
    """How a stop went: how long it took and what had to be forced (empty when all stopped)."""

    seconds: float
    forced: tuple[str, ...]


def install() -> None:
    """Idempotent: patch mode's service threads once per process (see the module docstring)."""
    if getattr(ServiceThread, "_breach_bounded", False):
        return
    original_start = ServiceThread.start
    original_call = MethodQueue.call
    original_run = WorkerThread.run

    def run(self: WorkerThread) -> None:
        try:
            original_run(self)
        except RuntimeError:  # "Event loop stopped before Future completed": we halted it, and said so
            if not self.service.__dict__.get("_breach_halted"):
                raise

    async def start(self: ServiceThread) -> None:
        # Whose thread it is: the app whose start (or whose tasks) started it. Several apps may
        # share a process (tests run two workers in one), and a stop halts only its own threads.
        self.__dict__["_breach_owner"] = _owner.get()
        _threads.add(self)
        await original_start(self)

    async def stop(self: ServiceThread) -> None:
        if self._started.is_set():
            await Service.stop(self)
            if self._thread is not None:
                await _join(self, JOIN_SECONDS)

    async def call(self: MethodQueue, promise: asyncio.Future[Any], fun: Any, *args: Any,
                   **kwargs: Any) -> asyncio.Future[Any]:
        # Remember what this queue's thread owes the caller's loop, to fail it if the thread is halted.
        if self.loop.is_closed():  # its thread was halted: nobody will ever answer
            promise.set_exception(WorkerStopped(f"{self.label}: its thread was halted"))
            return promise
        owed: set[asyncio.Future[Any]] = self.__dict__.setdefault("_breach_owed", set())
        owed.add(promise)
        promise.add_done_callback(owed.discard)
        return await original_call(self, promise, fun, *args, **kwargs)

    ServiceThread.start = start  # type: ignore[method-assign]
    ServiceThread.stop = stop  # type: ignore[method-assign]
    MethodQueue.call = call  # type: ignore[method-assign]
    WorkerThread.run = run  # type: ignore[method-assign]
    ServiceThread._breach_bounded = True  # type: ignore[attr-defined]


class Tasks:
    """The tasks an app made, told apart from its caller's (a test's consumer, the console's
    projection): those created while ``owning()``, and every task those create in turn (a task
    inherits the context of the code that made it)."""

    def __init__(self, app: object) -> None:
        self.app = app
        self.made: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()
        self._previous: Any = None
        self._factory: Any = None

    @contextlib.contextmanager
    def owning(self) -> Iterator[None]:
        """Within: the code that starts the app. The task factory stays until ``release()``."""
        loop = asyncio.get_running_loop()
        if self._factory is None:
            self._previous = previous = loop.get_task_factory()

            def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Future[Any]:
                task = previous(loop, coro, **kwargs) if previous else asyncio.Task(coro, loop=loop, **kwargs)
                if _owner.get() is self.app and isinstance(task, asyncio.Task):
                    self.made.add(task)
                return task

            self._factory = factory
            loop.set_task_factory(factory)
        token = _owner.set(self.app)
        try:
            yield
        finally:
            _owner.reset(token)  # the caller's later tasks are its own

    def release(self) -> None:
        """Give the loop back the task factory it had (once the app has stopped)."""
        loop = asyncio.get_running_loop()
        if self._factory is not None and loop.get_task_factory() is self._factory:
            loop.set_task_factory(self._previous)
        self._factory = None

    def pending(self) -> list[asyncio.Task[Any]]:
        current = asyncio.current_task()
        return [t for t in self.made if t is not current and not t.done()]


async def finish(*cleanups: Awaitable[Any], seconds: float = FORCE_SECONDS) -> None:
    """Run clean-ups (a Kafka client's stop) to their end even if the caller is cancelled
    meanwhile, then let the cancellation go on. faust cancels an agent again while it stops, and
    aiokafka marks a client closed before its stop has ended its background tasks: a stop cut
    short there leaves them running for ever, and a second stop does nothing."""
    ending = asyncio.ensure_future(asyncio.gather(*cleanups, return_exceptions=True))
    try:
        results = await asyncio.shield(ending)
    except asyncio.CancelledError:
        await asyncio.wait({ending}, timeout=seconds)
        raise
    # A clean-up's own failure is said, not raised: the stop goes on with the others. (aiokafka's
    # fetcher, closed with a fetch in flight, lets out the CancelledError of the fetch it
    # cancelled itself: that is a clean stop.)
    for result in results:
        if isinstance(result, Exception):
            log.warning("stop.cleanup_failed", error=type(result).__name__)


@contextlib.asynccontextmanager
async def client_running(client: Any) -> AsyncIterator[Any]:
    """An aiokafka client started, and stopped to the end on exit (``finish``), also when the
    start itself is cancelled half-way (a worker stopping as it starts)."""
    try:
        await client.start()
    except BaseException:
        await finish(client.stop())
        raise
    try:
        yield client
    finally:
        await finish(client.stop())


async def stop_app(app: Any, tasks: Tasks | None = None, *, grace: float = STOP_SECONDS) -> Stopped:
    """Stop a faust app: ``grace`` seconds for its own stop, at most FORCE_SECONDS more for the
    rest (its service threads, and the ``tasks`` it made). Logs ``worker.stopped``, or
    ``worker.stop_forced`` with what had to be forced."""
    began = time.monotonic()
    forced: list[str] = []
    stopping = asyncio.ensure_future(app.stop())
    # asyncio.wait, not wait_for: on time-out wait_for waits for the cancellation to finish,
    # which a shielded child stop may never do.
    if not (await asyncio.wait({stopping}, timeout=grace))[0]:
        forced.append(f"app.stop() still running after {grace:g} s")
        stopping.cancel()
    elif stopping.exception() is not None:
        forced.append(f"app.stop() failed: {type(stopping.exception()).__name__}")
    deadline = time.monotonic() + FORCE_SECONDS
    loop = asyncio.get_running_loop()
    for service in [s for s in _threads if s.__dict__.get("_breach_owner") is app and s.parent_loop is loop
                    and _alive(s)]:
        forced.append(f"thread {service.label} halted")
        await _halt(service, deadline)
    # A stop cancelled late goes on stopping children on its own (mode swallows the cancellation).
    forced.extend(await _cancel([stopping], tasks, deadline))
    stopped = Stopped(seconds=round(time.monotonic() - began, 3), forced=tuple(forced))
    if forced:
        log.warning("worker.stop_forced", seconds=stopped.seconds, forced=list(forced))
    else:
        log.info("worker.stopped", seconds=stopped.seconds)
    return stopped


async def _join(service: ServiceThread, seconds: float) -> None:
    """Wait for a service thread to end without blocking the loop it may be waiting for."""
    if not await _ended(service, time.monotonic() + seconds):
        log.warning("worker.thread_not_ending", thread=service.label, seconds=seconds)
        await _halt(service, time.monotonic() + FORCE_SECONDS)


async def _halt(service: ServiceThread, deadline: float) -> None:
    """Stop a service thread's loop from outside, and fail every future it still owed us."""
    thread_loop = service.thread_loop
    service.__dict__["_breach_halted"] = True
    if not thread_loop.is_closed():
        # run_until_complete() in the thread then returns (with an error the thread reports) and
        # the thread ends; its pending tasks die with its loop.
        thread_loop.call_soon_threadsafe(thread_loop.stop)
    await _ended(service, deadline)
    queue = service.__dict__.get("_method_queue")
    for promise in list(queue.__dict__.get("_breach_owed", ())) if queue is not None else ():
        if not promise.done():
            promise.set_exception(WorkerStopped(f"{service.label} was halted"))
    if _alive(service):
        log.error("worker.thread_left_running", thread=service.label)


async def _ended(service: ServiceThread, deadline: float) -> bool:
    """Whether the thread ended by the deadline. Polled: a thread's end sets no asyncio event,
    and mode's own wait for it (threading.Event.wait) would block the loop."""
    while _alive(service) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(POLL)
    return not _alive(service)


def _alive(service: ServiceThread) -> bool:
    thread: threading.Thread | None = service._thread
    return thread is not None and thread.is_alive()


async def _cancel(stopping: list[asyncio.Future[Any]], tasks: Tasks | None, deadline: float) -> list[str]:
    """Cancel the stop and the app's tasks still pending, again each round (a cancelled task may
    await once more in its clean-up) until they end or the deadline passes."""
    named: dict[asyncio.Future[Any], str] = {}
    cancel = False  # the first round only lets tasks woken by a failed future end on their own
    while True:
        pending = [f for f in stopping if not f.done()] + (tasks.pending() if tasks is not None else [])
        if not pending or time.monotonic() >= deadline:
            break
        for task in pending if cancel else ():
            named.setdefault(task, _name(task))
            task.cancel()
        cancel = True
        await asyncio.wait(pending, timeout=min(0.2, max(0.0, deadline - time.monotonic())))
    forced = [f"task {name} cancelled" for task, name in named.items() if task.done() and task not in stopping]
    forced += [f"task {_name(task)} left pending" for task in pending]
    if pending:
        log.error("worker.tasks_left_pending", tasks=[_name(t) for t in pending])
    return forced


def _name(task: asyncio.Future[Any]) -> str:
    if not isinstance(task, asyncio.Task):
        return repr(task)
    code = getattr(task.get_coro(), "cr_code", None)
    return code.co_qualname if code is not None else task.get_name()
