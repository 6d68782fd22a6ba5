"""An agent that crashes is counted in /metrics and makes /readyz answer 503 naming it, until it
takes a record again; its log line names the agent and the exception type, nothing the record held.

The crash is a real one: a record on incident-events that is not an event of ours (anything with
access to the broker can write one) makes the notify agent's decode raise.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from streams.cluster import WorkerProcess, all_ready, spawn_workers
from streams.embedded import Broker, MailCatcher, free_port
from streams.samples import publish
from streams.topics import INCIDENT_EVENTS
from tests.support import eventually

MARKER = "leaked-7c1e"  # in the bad record: must never reach the log


def readyz(worker: WorkerProcess) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{worker.web_port}/readyz", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest_asyncio.fixture
async def worker(broker: Broker, tmp_path: Path) -> AsyncIterator[WorkerProcess]:
    catcher = MailCatcher(port=free_port())
    await catcher.start()
    (process,) = spawn_workers(1, broker.bootstrap, tmp_path, partitions=4,
                               env={"BREACH_SMTP_PORT": str(catcher.port), "BREACH_LOG_LEVEL": "info"})
    try:
        await all_ready([process])
        yield process
    finally:
        process.stop()
        await catcher.stop()


@pytest.mark.asyncio
async def test_an_agent_crash_is_counted_and_not_ready_until_the_agent_runs_again(broker: Broker,
                                                                                    worker: WorkerProcess) -> None:
    assert worker.metric("breach_agent_crashes_total") == 0
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(INCIDENT_EVENTS, json.dumps({"type": MARKER, "v": 1, "data": {}}).encode(),
                                     key=b"incident-x")
    finally:
        await producer.stop()

    await eventually(lambda: worker.metric("breach_agent_crashes_total", agent="notify") == 1, timeout=30,
                     what="the notify agent's crash counted")
    assert await asyncio.to_thread(readyz, worker) == (503, "agent notify crashed (DecodeError)\n")
    assert worker.alive()  # faust restarted the agent; the worker goes on

    # A new security event becomes an incident; its events reach the restarted notify agent.
    event = {"id": "after-crash", "time": datetime.now(UTC).isoformat(), "title": "Customer table exported",
             "host": "ama-crm-db", "confirms_breach": True}
    await publish(broker.bootstrap, [json.dumps(event).encode()])
    await eventually(lambda: readyz(worker) == (200, "ok\n"), timeout=60, what="/readyz 200 once notify runs again")
    assert worker.metric("breach_agent_crashes_total", agent="notify") == 1

    lines = [json.loads(line) for line in worker.log.read_text().splitlines() if line.startswith("{")]
    crashed = [line for line in lines if line.get("event") == "agent.crashed"]
    assert [(c["agent"], c["error"], c["level"]) for c in crashed] == [("notify", "DecodeError", "error")]
    assert any(line.get("event") == "agent.running_again" and line["agent"] == "notify" for line in lines)
    assert MARKER not in worker.log.read_text()  # neither in our line nor in faust's or mode's
