"""`breach up` watching its stack: a worker or console that dies is started again, and said.

Each death is a line on standard error: what died, how (exit code or signal), and what happens
next. A unit is restarted after a back-off (streams/embedded/restarts.py); one that keeps dying is given
up, and the stack stopped, with a line saying why. The broker is not restarted: the embedded
broker keeps every topic, record and incident in memory only, so one started again would be
empty, and a stack that carried on over it would show an on-call a console that silently lost
everything. Its death stops the stack with a line that says the data is gone.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TextIO

from streams.embedded.children import how_it_ended
from streams.embedded.restarts import Restarts
from streams.embedded.services import Broker, EmbeddedError

POLL = 0.2  # seconds between two looks at the processes (a poll, not a wait for a result)


class Unit(Protocol):
    name: str  # "the worker", as a sentence names it
    where: str  # where to look when it dies (its log)

    def ended(self) -> str | None:
        """How it ended ("killed by SIGKILL"), or None while it runs."""

    async def restart(self) -> None:
        """Start it again and return once it is ready; EmbeddedError if it does not come up."""


def say(line: str, out: TextIO | None = None) -> None:
    print(f"breach up: {line}", file=out or sys.stderr, flush=True)


async def supervise(units: Sequence[Unit], broker: Broker, stop: asyncio.Event, *,
                    policy: Callable[[], Restarts] = Restarts) -> int:
    """Until ``stop`` is set (0) or the stack cannot go on (1)."""
    restarts = {id(unit): policy() for unit in units}
    for unit in units:
        restarts[id(unit)].ready(time.monotonic())
    while not stop.is_set():
        if broker.process is not None and broker.process.poll() is not None:
            say(f"the embedded broker died ({how_it_ended(broker.process.returncode)}). It held every topic, "
                "record and incident in memory only: they are gone, so it is not restarted. Stopping the "
                "stack; `make up` starts it again, empty.")
            return 1
        for unit in units:
            how = unit.ended()
            if how is None:
                continue
            rule = restarts[id(unit)]
            delay = rule.died(time.monotonic())
            if delay is None:
                say(f"{unit.name} died again ({how}): {rule.in_a_row} deaths in a row, giving up. Stopping the "
                    f"stack; see {unit.where}")
                return 1
            say(f"{unit.name} died ({how}); restarting it in {delay:g} s ({rule.in_a_row} in a row, gives up after "
                f"{rule.limit}). The broker kept its data. See {unit.where}")
            began = time.monotonic()
            try:
                if not await _unless(stop, _after(delay, unit.restart)):
                    return 0
            except EmbeddedError as exc:
                say(f"{unit.name} did not come back: {exc}")
                continue  # it has ended: the next look counts it
            rule.ready(time.monotonic())
            say(f"{unit.name} is back (restarted in {time.monotonic() - began:.1f} s).")
        await _unless(stop, asyncio.sleep(POLL))
    return 0


async def _after(delay: float, then: Callable[[], Awaitable[None]]) -> None:
    await asyncio.sleep(delay)  # the back-off itself, not a wait for a result
    await then()


async def _unless(stop: asyncio.Event, work: Awaitable[None]) -> bool:
    """Run ``work`` unless ``stop`` is set first (then it is cancelled): whether it ran to its end."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
            await asyncio.wait({task})
    if task.cancelled():
        return False
    task.result()  # its error, if any
    return True
