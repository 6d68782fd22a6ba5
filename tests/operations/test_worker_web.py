"""The worker's /healthz, /readyz and /metrics, on a real embedded broker."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker, free_port
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.settings import ROOT
from streams.worker import running
from tests.support import Watcher, eventually, settings_for
from tests.unit.builders import directory

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def _deps() -> Deps:
    return Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                mailer=RecordingMailer(), clock=lambda: NOW, retry_delay=0.01)


async def _get(session: aiohttp.ClientSession, port: int, path: str) -> tuple[int, str]:
    async with session.get(f"http://127.0.0.1:{port}{path}") as response:
        return response.status, await response.text()


def _total(text: str, name: str, **labels: str) -> float:
    """The sum of every sample ``name{...}`` whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if match and match.group(1) == name:
            found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
            if all(found.get(k) == v for k, v in labels.items()):
                total += float(match.group(3))
    return total


def _value(text: str, name: str, **labels: str) -> float:
    """The sample ``name{labels}`` of a Prometheus exposition (0 when absent)."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if match and match.group(1) == name:
            found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(match.group(3))
    return 0.0


@pytest.mark.asyncio
async def test_probes_and_metrics_follow_what_the_worker_does(broker: Broker, tmp_path: Path) -> None:
    port = free_port()
    settings = settings_for(broker.bootstrap, tmp_path, web_port=port)
    async with aiohttp.ClientSession() as http, running(settings, _deps()), Watcher(broker.bootstrap) as watcher:
        assert await _get(http, port, "/healthz") == (200, "ok\n")
        assert await _get(http, port, "/readyz") == (200, "ok\n")
        _, before = await _get(http, port, "/metrics")
        good = {"id": "m1", "time": NOW.isoformat(), "title": "Export", "host": "acme-crm-db"}
        await publish(broker.bootstrap, [b"{not json", json.dumps(good).encode(),
                                         b'{"id": "m2", "time": "2026-11-22T10:00:00", "title": "t", "host": "h"}'])
        await eventually(lambda: watcher.model.incidents, what="the incident")

        async def scraped() -> str:
            return (await _get(http, port, "/metrics"))[1]

        text = ""

        async def settled() -> bool:
            nonlocal text
            text = await scraped()
            return _value(text, "breach_incidents", state="open") == 1 and (
                _value(text, "breach_security_events_in_total")
                - _value(before, "breach_security_events_in_total") == 3)

        await eventually(settled, what="the scrape to show the three records and the open incident")
        dlq = "security-events.dlq"
        assert _value(text, "breach_dead_letters_total", topic=dlq, reason="not JSON") - _value(
            before, "breach_dead_letters_total", topic=dlq, reason="not JSON") == 1
        # The reason class keeps our field name and drops nothing a person wrote.
        assert _value(text, "breach_dead_letters_total", topic=dlq, reason="field 'time' has no UTC offset") >= 1
        assert _value(text, "breach_incident_events_out_total", type="IncidentOpened") >= 1
        assert _value(text, "faust_messages_received_total") >= 3  # faust's own sensor
        assert "breach_consumer_lag{" in text and "breach_clocks" in text


@pytest.mark.asyncio
async def test_a_worker_is_not_ready_while_its_group_rebalances(broker: Broker, tmp_path: Path) -> None:
    port = free_port()
    seen: list[tuple[int, str]] = []
    async with aiohttp.ClientSession() as http, running(settings_for(broker.bootstrap, tmp_path / "a",
                                                                     web_port=port), _deps()):
        assert (await _get(http, port, "/readyz"))[0] == 200

        async def watch() -> None:  # the probe, as Kubernetes would call it, only more often
            while True:
                seen.append(await _get(http, port, "/readyz"))
                # A sampling interval, not a wait for a result: short enough that some probe lands
                # inside the rebalance; the test itself waits with eventually.
                await asyncio.sleep(0.02)

        watching = asyncio.create_task(watch())
        try:
            # A second worker joins the group: the first gives up its partitions and re-joins.
            async with running(settings_for(broker.bootstrap, tmp_path / "b"), _deps()):
                await eventually(lambda: _now_ready(seen), what="/readyz to answer 200 after the rebalance")
        finally:
            watching.cancel()
        assert (503, "rebalancing\n") in seen
        assert (await _get(http, port, "/healthz"))[0] == 200


async def _now_ready(seen: list[tuple[int, str]]) -> bool:
    """Ready again after having been not ready."""
    statuses = [status for status, _ in seen]
    return 503 in statuses and statuses[-1] == 200 and statuses.index(503) < len(statuses) - 1


@pytest.mark.asyncio
async def test_notices_by_outcome_clocks_by_state_and_lag_per_partition(broker: Broker, tmp_path: Path) -> None:
    port = free_port()
    deps = _deps()
    mailer = deps.mailer
    assert isinstance(mailer, RecordingMailer)
    settings = settings_for(broker.bootstrap, tmp_path, web_port=port)
    async with aiohttp.ClientSession() as http, running(settings, deps), Watcher(broker.bootstrap) as watcher:
        _, before = await _get(http, port, "/metrics")
        confirmed = {"id": "c1", "time": NOW.isoformat(), "title": "Export", "host": "acme-auth",
                     "confirms_breach": True}
        await publish(broker.bootstrap, [json.dumps(confirmed).encode()])
        await eventually(lambda: next((i for i in watcher.model.incidents.values() if i.clocks), None),
                         what="an incident with a running clock")
        await eventually(lambda: mailer.sent, what="the drafts sent to the DPO")
        text = ""

        async def settled() -> bool:
            nonlocal text
            text = (await _get(http, port, "/metrics"))[1]
            sent = _total(text, "breach_notices_total", outcome="sent") - _total(before, "breach_notices_total",
                                                                                 outcome="sent")
            clocks = sum(len(i.clocks) for i in watcher.model.incidents.values())
            return sent == len(mailer.sent) and _total(text, "breach_clocks", state="running") == clocks

        await eventually(settled, what="notices counted as sent and the clocks as running")
        # Every partition of security-events is assigned to this one worker, and all of it was read.
        for partition in map(str, range(settings.partitions)):
            assert f'breach_consumer_lag{{partition="{partition}",topic="security-events"}} 0.0' in text
