"""Shared by the measurements: records, reading incident-events, worker processes."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from console.projection import current_partitions
from streams import codec
from streams.embedded import free_port


def canonical(i: int, host: str, t0: datetime, *, confirms: bool = False) -> bytes:
    return json.dumps({"id": f"bench-{i}", "time": (t0 + timedelta(seconds=i)).isoformat(), "title": "Bench signal",
                       "host": host, "severity": "low", "confirms_breach": confirms}).encode()


async def produce(bootstrap: str, values: list[bytes], topic: str = "security-events") -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for value in values:
            await producer.send(topic, value)
        await producer.flush()
    finally:
        await producer.stop()


async def watch_events(bootstrap: str, done: Callable[[list[Any]], bool], within: float = 600) -> list[Any]:
    """Decoded incident-events from the start until ``done(events)`` (or ``within`` seconds)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    events: list[Any] = []
    assigned: set[Any] = set()
    deadline = time.monotonic() + within
    try:
        while not done(events) and time.monotonic() < deadline:
            wanted = await current_partitions(consumer, ("incident-events",))
            if wanted - assigned:
                assigned = wanted
                consumer.assign(sorted(assigned))
                await consumer.seek_to_beginning()
                events.clear()
            for batch in (await consumer.getmany(timeout_ms=300)).values():
                events.extend(codec.decode(m.value) for m in batch)
    finally:
        await consumer.stop()
    return events


def percentiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return (values[0], values[0]) if values else (0.0, 0.0)
    q = statistics.quantiles(values, n=100)
    return q[49], q[98]


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
    for n in range(count):
        port = free_port()
        log = scratch / f"worker-{n}.log"
        worker_env = {**os.environ, "BREACH_BROKER_URL": f"kafka://{bootstrap}", "BREACH_PARTITIONS": str(partitions),
                      "BREACH_SESSION_TIMEOUT": "2", "BREACH_HEARTBEAT_INTERVAL": "0.5",
                      "BREACH_DATA_DIR": str(scratch / f"worker-{n}"), "BREACH_WEB_PORT": str(port),
                      "BREACH_LOG_LEVEL": "warning", "BREACH_LOG_FORMAT": "json", **env}
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


def epoch() -> datetime:
    return datetime.now(UTC)
