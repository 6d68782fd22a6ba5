"""Worker processes on this host: `breach worker` subprocesses in one consumer group on a
broker, ready when every /readyz answers 200 at once (the group formed and stable), stopped
with SIGTERM or killed with SIGKILL. Used by `make bench` and the reliability tests."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from streams.embedded.services import free_port
from streams.kafka.command_signing import new_key


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    web_port: int
    log: Path

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/readyz", timeout=1) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def peak_rss_mb(self) -> float:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def metric(self, name: str, **labels: str) -> float:
        """The sum of the samples ``name`` whose labels include ``labels``, on this worker's /metrics."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/metrics", timeout=5) as response:
            text = response.read().decode()
        return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
                   if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()))

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no leave-group, no commit, no flush — a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def spawn_workers(count: int, bootstrap: str, scratch: Path, partitions: int, env: dict[str, str]) -> list[
        WorkerProcess]:
    scratch.mkdir(parents=True, exist_ok=True)
    workers = []
    keys = new_key("cluster")  # one for the cluster: a worker refuses to start without one
    for n in range(count):
        port = free_port()
        log = scratch / f"worker-{n}.log"
        worker_env = {**os.environ, "BREACH_BROKER_URL": f"kafka://{bootstrap}", "BREACH_PARTITIONS": str(partitions),
                      "BREACH_SESSION_TIMEOUT": "2", "BREACH_HEARTBEAT_INTERVAL": "0.5",
                      "BREACH_DATA_DIR": str(scratch / f"worker-{n}"), "BREACH_WEB_PORT": str(port),
                      "BREACH_LOG_LEVEL": "warning", "BREACH_LOG_FORMAT": "json", "BREACH_COMMAND_KEYS": keys,
                      # A SIGKILLed worker's last lines would die in its stdout buffer: they are
                      # the ones that tell what it was doing.
                      "PYTHONUNBUFFERED": "1", **env}
        with open(log, "wb") as out:
            process = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"], stdout=out,
                                       stderr=subprocess.STDOUT, env=worker_env, start_new_session=True)
        workers.append(WorkerProcess(process, port, log))
    return workers


async def all_ready(workers: list[WorkerProcess], within: float = 120) -> None:
    """Every worker ready at the same moment: the group is formed and stable."""
    deadline = time.monotonic() + within
    while not all(await asyncio.to_thread(lambda: [w.ready() for w in workers])):
        for w in workers:
            if w.process.poll() is not None:
                raise RuntimeError(f"a bench worker exited (code {w.process.returncode}); see {w.log}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"bench workers not ready within {within:g} s; see {workers[0].log}")
        await asyncio.sleep(0.2)  # polling the probes, not waiting for a result
