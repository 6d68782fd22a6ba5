"""The worker's log of `breach up` (streams/cli/stack.py): appended to across runs, not
truncated (a crash's lines survive the next start), and readable by its owner only."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from streams.cli import stack as embedded_run
from streams.settings import Settings


@pytest.mark.asyncio
async def test_a_new_run_appends_to_the_worker_log_and_keeps_it_private(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "logs" / "worker.log"
    log.parent.mkdir()
    log.write_bytes(b"the last run crashed here\n")
    log.chmod(0o644)  # as an earlier version left it
    # A stand-in worker: a real process writing to the log it is given, the ready line, then running on.
    monkeypatch.setattr(embedded_run, "WORKER_COMMAND", [
        sys.executable, "-c", f"import signal; print('this run'); print({embedded_run.READY!r}, flush=True); "
                              "signal.pause()"])
    worker = embedded_run._Worker(Settings(data_dir=tmp_path))
    try:
        await worker.start()
    finally:
        worker.stop()
    assert log.read_bytes() == f"the last run crashed here\nthis run\n{embedded_run.READY}\n".encode()
    assert log.stat().st_mode & 0o777 == 0o600


def test_a_new_log_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "worker.log"
    with embedded_run.open_log(path) as out:
        out.write(b"one\n")
    with embedded_run.open_log(path) as out:
        out.write(b"two\n")
    assert path.read_bytes() == b"one\ntwo\n" and path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
