"""An agent that crashes is counted in /metrics and makes /readyz answer 503 naming it, until it
takes a record again; its log line names the agent and the exception type, nothing else.

Every agent of the service dead-letters a bad record rather than raise (tests/agents/
test_isolation.py), so no input is known to crash one: this watch is for the fault nobody
foresaw. The crash here is still a real faust agent crash, on the worker's real app and web
server, of an agent the test adds beside the service's own (the watch is the same for all).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from streams.app import build
from streams.deps import Deps
from streams.embedded.services import Broker, free_port
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.metrics import WorkerMetrics
from streams.settings import ROOT
from streams.web import WebServer
from streams.worker import started
from tests.support import eventually, settings_for
from tests.unit.builders import directory

MARKER = "leaked-7c1e"  # in the exception's message: must never reach a log line
PROBE = "agent-crash-probe"


async def _get(http: aiohttp.ClientSession, port: int, path: str) -> tuple[int, str]:
    async with http.get(f"http://127.0.0.1:{port}{path}") as response:
        return response.status, await response.text()


async def _crashes(http: aiohttp.ClientSession, port: int, agent: str) -> float:
    _, text = await _get(http, port, "/metrics")
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
               if s.name == "breach_agent_crashes_total" and s.labels.get("agent") == agent)


@pytest.mark.asyncio
async def test_an_agent_crash_is_counted_and_not_ready_until_the_agent_runs_again(
        broker: Broker, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    deps = Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                mailer=RecordingMailer(), clock=lambda: datetime.now(UTC), retry_delay=0.01)
    app, _, tables = build(settings_for(broker.bootstrap, tmp_path), deps)
    probe_topic = app.topic(PROBE, partitions=1, key_serializer="raw", value_serializer="raw")

    @app.agent(probe_topic, name="probe")
    async def probe(stream: Any) -> None:
        async for value in stream:
            if value == b"crash":
                raise RuntimeError(f"the record said {MARKER}")

    port = free_port()
    server = WebServer(app, WorkerMetrics(app, tables.incidents, deps.clock), "127.0.0.1", port)
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    caplog.set_level(logging.INFO)
    with capture_logs() as logs:
        async with started(app, stop_timeout=15, server=server), aiohttp.ClientSession() as http:
            await producer.start()
            try:
                before = await _crashes(http, port, "probe")
                await eventually(lambda: _ready(http, port), what="the worker ready")
                await producer.send_and_wait(PROBE, b"crash")
                await eventually(lambda: _count_is(http, port, before + 1), what="the probe's crash counted")
                assert await _get(http, port, "/readyz") == (503, "agent probe crashed (RuntimeError)\n")
                await producer.send_and_wait(PROBE, b"fine")
                await eventually(lambda: _ready(http, port), timeout=60, what="/readyz 200 once the probe runs again")
                assert await _crashes(http, port, "probe") == before + 1
            finally:
                await producer.stop()

    crashed = [e for e in logs if e["event"] == "agent.crashed"]
    assert [(e["agent"], e["error"], e["log_level"]) for e in crashed] == [("probe", "RuntimeError", "error")]
    assert any(e["event"] == "agent.running_again" and e["agent"] == "probe" for e in logs)
    assert MARKER not in repr(logs)  # neither in our lines …
    leaked = [r.name for r in caplog.records if MARKER in r.getMessage() or MARKER in (r.exc_text or "")]
    assert leaked == []  # … nor faust's


async def _count_is(http: aiohttp.ClientSession, port: int, expected: float) -> bool:
    return await _crashes(http, port, "probe") == expected


async def _ready(http: aiohttp.ClientSession, port: int) -> bool:
    return await _get(http, port, "/readyz") == (200, "ok\n")
