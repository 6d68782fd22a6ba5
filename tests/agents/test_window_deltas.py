"""The correlation window is saved as deltas over a snapshot (streams/pipeline/window_store.py) and read
back whole: a worker started after another continues its windows from the changelog.

Held failed logons are brought in five batches by a first worker (each batch a delta on the
windows changelog, not the window again); a second worker, started on the same topics after the
first stopped, gets the success: brute force then success fires on the failures it only knows
from the snapshot and the deltas, and every one of them becomes evidence."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from streams import metrics
from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker
from streams.kafka.partitions import current_partitions
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.pipeline.window_store import SEPARATOR
from streams.rules_loader import load_rules
from streams.settings import ROOT
from streams.worker import running
from tests.support import Watcher, eventually, settings_for
from tests.unit.builders import directory

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
CHANGELOG = "breach-response-correlation-windows-changelog"
CAROL = {f"fail-{n}-carol" for n in range(3, 18)}


def failure(n: int, user: str = "carol", source_ip: str = "203.0.113.9") -> bytes:
    return json.dumps({"id": f"fail-{n}-{user}", "time": (NOW + timedelta(seconds=n)).isoformat(),
                       "title": "Failed logon", "host": "acme-auth", "category": "authentication",
                       "outcome": "failure", "user": user, "source_ip": source_ip}).encode()


def noise() -> list[bytes]:
    """One failure for each of 200 accounts from as many addresses: no correlation fires, and the
    window they fill is what a delta need not write again."""
    return [failure(0, f"user{n}", f"198.51.100.{n}") for n in range(200)]


def deps() -> Deps:
    return Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                mailer=RecordingMailer(), retry_delay=0.01, rule_pack=load_rules(ROOT / "deploy" / "rules"))


async def changelog_keys(bootstrap: str) -> list[str]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    keys: list[str] = []
    try:
        partitions = sorted(await current_partitions(consumer, (CHANGELOG,)))
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning()
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                keys.extend(json.loads(r.key) if r.key.startswith(b'"') else r.key.decode() for r in batch)
    finally:
        await consumer.stop()
    return keys


@pytest.mark.asyncio
async def test_a_second_worker_continues_the_windows_the_first_saved_as_deltas(broker: Broker,
                                                                               tmp_path: Path) -> None:
    async with Watcher(broker.bootstrap) as watcher:
        async with running(settings_for(broker.bootstrap, tmp_path / "first"), deps()):
            for batch in range(6):
                before = metrics.window_bytes_written()
                await publish(broker.bootstrap, noise() if batch == 0 else [failure(batch * 3 + n) for n in range(3)])
                await eventually(lambda b=before: metrics.window_bytes_written() > b, what=f"batch {batch} saved",
                                 timeout=60)
            assert not watcher.model.incidents  # failures alone: held for a correlation
        keys = await changelog_keys(broker.bootstrap)
        # How batches fall (and so when a snapshot is due) depends on the machine's load; what matters is
        # that failures live only in deltas after the last snapshot, so the second worker must read them.
        last_snapshot = max(i for i, k in enumerate(keys) if k == "acme")
        assert any(k.startswith("acme" + SEPARATOR) for k in keys[last_snapshot + 1:]), keys

        async with running(settings_for(broker.bootstrap, tmp_path / "second"), deps()):
            success = {"id": "success", "time": (NOW + timedelta(minutes=1)).isoformat(), "title": "Logon",
                       "host": "acme-auth", "category": "authentication", "outcome": "success", "user": "carol",
                       "source_ip": "203.0.113.9"}
            await publish(broker.bootstrap, [json.dumps(success).encode()])
            incident: Any = await eventually(
                lambda: next((i for i in watcher.model.incidents.values()
                              if "success" in {e.event_id for e in watcher.model.evidence(i.id)}), None),
                what="the brute force then success incident", timeout=60)
            held = await eventually(
                lambda: (ids := {e.event_id for e in watcher.model.evidence(incident.id)}) >= CAROL and ids,
                what="every failure the first worker held, as evidence", timeout=60)
            assert held == CAROL | {"success"}
