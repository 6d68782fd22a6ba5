"""streams/embedded/supervise.py with real processes: a unit that keeps dying is restarted with back-off,
then given up with a line saying so; a broker that dies stops the stack, saying the data is gone."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys

import pytest

from streams.embedded.children import how_it_ended
from streams.embedded.restarts import Restarts
from streams.embedded.services import Broker
from streams.embedded.supervise import supervise


class Process:
    """A unit of the stack: a real process, ready as soon as it is started."""

    name = "the test process"
    where = "its exit code"

    def __init__(self, code: str) -> None:
        self.code = code
        self.process = self._spawn()
        self.starts = 1

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-c", self.code])

    def ended(self) -> str | None:
        code = self.process.poll()
        return None if code is None else how_it_ended(code)

    async def restart(self) -> None:
        self.process = self._spawn()
        self.starts += 1

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def fast() -> Restarts:
    return Restarts(first=0.01, cap=0.04, limit=3)


@pytest.mark.asyncio
async def test_a_unit_that_keeps_dying_is_restarted_then_given_up(broker: Broker,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    dying = Process("import sys; sys.exit(3)")
    try:
        assert await supervise([dying], broker, asyncio.Event(), policy=fast) == 1
    finally:
        dying.stop()
    said = capsys.readouterr().err.splitlines()
    assert [line.split(";")[0] for line in said if "restarting it" in line] == [
        "breach up: the test process died (exit code 3)"] * 3
    assert said[-1].startswith("breach up: the test process died again (exit code 3): 4 deaths in a row, giving up.")
    assert dying.starts == 4
    assert broker.process is not None and broker.process.poll() is None  # the broker was left alone


@pytest.mark.asyncio
async def test_a_dead_broker_stops_the_stack_saying_its_data_is_gone(broker: Broker,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    running = Process("import time; time.sleep(600)")
    stop = asyncio.Event()
    try:
        watching = asyncio.ensure_future(supervise([running], broker, stop, policy=fast))
        assert broker.process is not None
        broker.process.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(watching, 30) == 1
    finally:
        running.stop()
    said = capsys.readouterr().err
    assert "the embedded broker died (killed by SIGKILL)" in said and "they are gone, so it is not restarted" in said
    assert "restarting it" not in said
