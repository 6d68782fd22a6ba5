"""A worker honours SIGTERM and SIGINT before it is ready, too: an orphaned worker that could not
reach its broker used to carry on, signals or not, until its start-up ended on its own."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from streams.settings import ROOT
from tests.support import COMMAND_KEYS, eventually


class BlackHole:
    """A "broker" that accepts connections and never answers: a worker's start-up waits on it."""

    def __init__(self) -> None:
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await reader.read()  # until the worker hangs up
        writer.close()

    @property
    def port(self) -> int:
        assert self.server is not None
        port: int = self.server.sockets[0].getsockname()[1]
        return port


@pytest_asyncio.fixture
async def black_hole() -> AsyncIterator[BlackHole]:
    hole = BlackHole()
    hole.server = await asyncio.start_server(hole.accept, "127.0.0.1", 0)
    try:
        yield hole
    finally:
        hole.server.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_worker_stops_on_a_signal_while_it_starts(black_hole: BlackHole, tmp_path: Path,
                                                           signum: signal.Signals) -> None:
    log = tmp_path / "worker.log"
    env = {**os.environ, "BREACH_BROKER_URL": f"kafka://127.0.0.1:{black_hole.port}", "BREACH_DATA_DIR": str(tmp_path),
           "BREACH_LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1", "BREACH_COMMAND_KEYS": COMMAND_KEYS}
    with log.open("wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        # Connected: its signal handlers are in place (installed before the app starts), and its
        # start-up now waits on a broker that never answers.
        await eventually(lambda: black_hole.connections > 0, timeout=60, what="the worker to reach the broker")
        worker.send_signal(signum)
        await eventually(lambda: worker.poll() is not None, timeout=30, what="the worker to stop")
        assert worker.returncode == 0
        events = [json.loads(line).get("event") for line in log.read_text().splitlines() if line.startswith("{")]
        assert "worker.stopped_before_ready" in events and "worker.ready" not in events
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
