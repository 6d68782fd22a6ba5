"""The clocks survive a worker killed with SIGKILL: on the embedded stack, with time moved by
configuration (BREACH_CLOCK_FILE), each reminder step reaches the mail catcher exactly once,
although the worker that sent the first one died and a new process took over its partitions."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer

from streams.embedded.samples import publish
from streams.embedded.services import Broker, MailCatcher, free_port
from streams.settings import ROOT
from tests.support import COMMAND_KEYS, POLL_INTERVAL, Watcher, eventually

ONCALL = "oncall@ampere.example"
STEPS = (("T-48h", timedelta(hours=47)), ("T-24h", timedelta(hours=23)), ("T-6h", timedelta(hours=5)),
         ("T-1h", timedelta(minutes=30)), ("DÉPASSÉ", -timedelta(minutes=1)))  # AMPERE reads French


class Worker:
    """`breach worker` as its own process, as an SRE runs it."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"], cwd=ROOT, env=self.env,
                                            stdout=out, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def catcher_port() -> int:
    return free_port()


@pytest_asyncio.fixture
async def catcher(catcher_port: int) -> AsyncIterator[MailCatcher]:
    mail = MailCatcher(port=catcher_port)
    await mail.start()
    try:
        yield mail
    finally:
        await mail.stop()


@pytest.fixture
def worker(broker: Broker, catcher_port: int, tmp_path: Path) -> Iterator[Worker]:
    clock = tmp_path / "now"
    clock.write_text(datetime.now(UTC).isoformat())
    env = {**os.environ, "BREACH_BROKER_URL": f"kafka://{broker.bootstrap}", "BREACH_DATA_DIR": str(tmp_path),
           "BREACH_SMTP_PORT": str(catcher_port), "BREACH_CLOCK_FILE": str(clock), "BREACH_TICK_SECONDS": "0.2",
           "BREACH_ONCALL_EMAILS": ONCALL, "BREACH_SESSION_TIMEOUT": "2", "BREACH_HEARTBEAT_INTERVAL": "0.5",
           "BREACH_LOG_FORMAT": "json", "BREACH_COMMAND_KEYS": COMMAND_KEYS}
    w = Worker(env, tmp_path / "worker.log")
    try:
        yield w
    finally:
        w.stop()


def reminders(catcher: MailCatcher) -> list[str]:
    subjects = [str(m.parsed()["Subject"]) for m in catcher.messages if ONCALL in m.recipients]
    # Pages (English or French: tests/integration/test_paging.py) are not reminders.
    return [s.split(" · ")[0] for s in subjects if not s.startswith(("PAGE", "ALERTE"))]


async def on_changelog(bootstrap: str, topic: str, key: str, timeout: float = 30.0) -> None:
    """Wait until ``key`` is written to a table's changelog: the worker's memory is durable."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                if any(r.key and key.encode() in r.key for r in batch):
                    return
            await asyncio.sleep(POLL_INTERVAL)
    finally:
        await consumer.stop()
    raise AssertionError(f"{key} never reached {topic}")


@pytest.mark.asyncio
async def test_each_reminder_arrives_once_across_a_sigkilled_worker(broker: Broker, catcher: MailCatcher,
                                                                     worker: Worker) -> None:
    clock_file = Path(worker.env["BREACH_CLOCK_FILE"])
    worker.start()
    record = {"id": "crm-exfil-1", "time": datetime.now(UTC).isoformat(), "title": "Bulk export of the CRM",
              "host": "ampere-crm-db", "severity": "high", "confirms_breach": True}
    async with Watcher(broker.bootstrap) as watcher:
        await publish(broker.bootstrap, [json.dumps(record).encode()])
        (incident,) = await eventually(lambda: [i for i in watcher.model.incidents.values() if i.clocks],
                                       timeout=60, what="the Art. 33 clock started")
    deadline = incident.clocks[0].deadline

    for number, (step, before) in enumerate(STEPS):
        clock_file.write_text((deadline - before).isoformat())
        await eventually(lambda n=number: len(reminders(catcher)) > n, timeout=60, what=f"the {step} reminder")
        assert reminders(catcher)[number] == step
        if step == "T-48h":
            # Between two steps: once the ledger holds the message, the worker dies without warning.
            sent = catcher.messages[-1].parsed()["Message-ID"]
            await on_changelog(broker.bootstrap, "breach-response-delivery-ledger-changelog", str(sent))
            worker.kill()
            worker.start()

    assert reminders(catcher) == [step for step, _ in STEPS]  # each once, none lost, none twice
