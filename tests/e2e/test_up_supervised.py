"""`breach up` looks after its stack: a worker killed with SIGKILL is restarted (and said so) while
the broker keeps its data; `breach up` killed with SIGKILL takes its broker and worker with it; a
port already taken is refused naming the variable that moves it."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from streams.embedded.services import free_port, port_is_free
from streams.settings import ROOT, variable_names
from tests.e2e.test_up import Up
from tests.support import eventually


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc: what `ps --ppid` shows)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # it ended while we looked
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def command_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def gone(pid: int) -> bool:
    """Ended: no such process, or a zombie nobody has reaped yet (it runs nothing)."""
    try:
        return "\nState:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    running = Up(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def the_worker(up: Up) -> int:
    (pid,) = [p for p in children(up.process.pid) if "streams.cli worker" in command_of(p)]
    return pid


@pytest.mark.asyncio
async def test_a_worker_killed_is_restarted_and_the_stack_goes_on(up: Up) -> None:
    await eventually(lambda: [i for i in up.incidents() if i["deadlines"]], timeout=90,
                     what="the samples' incidents in the console")
    before = {i["id"] for i in up.incidents()}
    killed = the_worker(up)
    os.kill(killed, signal.SIGKILL)

    await eventually(lambda: "the worker is back" in up.stderr.read_text(), timeout=120,
                     what="`breach up` to say the worker is back")
    said = up.stderr.read_text()
    assert "breach up: the worker died (killed by SIGKILL); restarting it in 1 s" in said
    assert up.process.poll() is None and the_worker(up) != killed
    # The broker kept everything: the console still shows the incidents, and a new event still
    # becomes one (the restarted worker recovered its tables and took over the partitions).
    assert before <= {i["id"] for i in up.incidents()}
    new = {"id": "after-restart", "time": datetime.now().astimezone().isoformat(), "title": "Customer table exported",
           "host": "ama-crm-db", "confirms_breach": True}
    assert "sent 1 record(s)" in up.breach("send", "-", stdin=json.dumps(new) + "\n").stdout
    await eventually(lambda: [i for i in up.incidents() if i["id"] not in before and i["deadlines"]], timeout=60,
                     what="the new event's incident")


@pytest.fixture
def stray() -> Iterator[set[int]]:
    """Processes a failed test must not leave running: killed at the end whatever happened."""
    pids: set[int] = set()
    yield pids
    for pid in pids:
        if not gone(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.asyncio
async def test_breach_up_killed_takes_its_broker_and_worker_with_it(tmp_path: Path, stray: set[int]) -> None:
    stack = Up(tmp_path, "--no-samples")
    stray.add(stack.process.pid)
    await eventually(lambda: "is running" in stack.stdout.read_text() or stack.process.poll() is not None,
                     timeout=90, what="the stack ready")
    started = children(stack.process.pid)
    stray.update(started)
    assert {("tansu" in command_of(p), "streams.cli worker" in command_of(p)) for p in started} == {
        (True, False), (False, True)}

    stack.process.kill()  # SIGKILL: no chance to stop anything itself
    stack.process.wait()

    # A killed process's threads end one by one, its ports are free after the last: both polled.
    await eventually(lambda: all(gone(p) for p in started) and port_is_free("127.0.0.1", stack.ports["broker"]),
                     timeout=30, what="the broker and the worker to end, and the broker's port to be free")


@pytest.mark.parametrize("taken", ["broker", "smtp", "console"])
def test_a_taken_port_is_refused_naming_the_variable_that_moves_it(tmp_path: Path, taken: str) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        ports = {"broker": free_port(), "smtp": free_port(), "console": free_port(), taken: holder.getsockname()[1]}
        env = {**os.environ, "BREACH_BROKER_URL": f"kafka://127.0.0.1:{ports['broker']}",
               "BREACH_SMTP_PORT": str(ports["smtp"]), "BREACH_CONSOLE_PORT": str(ports["console"]),
               "BREACH_DATA_DIR": str(tmp_path)}
        result = subprocess.run([sys.executable, "-m", "streams.cli", "up", "--no-samples"], env=env, cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    refusal = next(line for line in result.stderr.splitlines() if "taken" in line)
    expected = {"broker": "BREACH_BROKER_URL", "smtp": "BREACH_SMTP_PORT", "console": "BREACH_CONSOLE_PORT"}[taken]
    assert f"127.0.0.1:{ports[taken]} ({expected}" in refusal
    assert set(re.findall(r"BREACH_[A-Z_]+", refusal)) <= variable_names()  # each one named is read


@pytest.mark.asyncio
async def test_a_dead_broker_stops_the_stack_saying_the_data_is_gone(tmp_path: Path, stray: set[int]) -> None:
    stack = Up(tmp_path, "--no-samples")
    stray.add(stack.process.pid)
    await eventually(lambda: "is running" in stack.stdout.read_text() or stack.process.poll() is not None,
                     timeout=90, what="the stack ready")
    started = children(stack.process.pid)
    stray.update(started)
    (broker,) = [p for p in started if "tansu" in command_of(p)]
    os.kill(broker, signal.SIGKILL)

    await eventually(lambda: stack.process.poll() is not None, timeout=60, what="`breach up` to stop")
    assert stack.process.returncode == 1
    said = stack.stderr.read_text()
    assert "breach up: the embedded broker died (killed by SIGKILL)" in said and "they are gone" in said
    assert "restarting it" not in said  # nothing was restarted over an empty broker
    await eventually(lambda: all(gone(p) for p in started), timeout=30, what="the worker stopped too")
