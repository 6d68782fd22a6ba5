"""The tables on ``rocksdb://``, the store production runs (deploy/compose.yaml, deploy/k8s).

faust's RocksDB store keeps one database per partition and picks it from "the current event";
the correlator works on batches of several partitions at once, where no single event is current.
These tests run correlation on that store: two controllers whose signals share batches but not
partitions, a rule that holds signals until it fires, and a worker restarted in between.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner

from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.pipeline import window_store
from streams.profiles_loader import load_directory
from streams.rules_loader import load_rules
from streams.settings import ROOT, Settings
from streams.worker import running
from tests.support import Watcher, eventually, settings_for

NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW - timedelta(minutes=30)
PARTITIONS = 4
# Two controllers (the signals' partition key) and the source each one is attacked from.
ATTACKS = {"ampere": ("ampere-web-01", "203.0.113.9"), "atometrics": ("atometrics-www-01", "198.51.100.77")}
THRESHOLD = 20  # credential_stuffing (deploy/rules/authentication.yml): 20 accounts from one source


def failure(controller: str, i: int) -> bytes:
    host, ip = ATTACKS[controller]
    return json.dumps({"id": f"{controller}-{i}", "time": (START + timedelta(seconds=5 * i)).isoformat(),
                       "title": "Login failed", "host": host, "severity": "low", "category": "authentication",
                       "outcome": "failure", "user": f"customer{i}@example.org", "source_ip": ip}).encode()


def interleaved(numbers: range) -> list[bytes]:
    """Both controllers' failures alternating, so the correlator's batches hold both keys."""
    return [failure(controller, i) for i in numbers for controller in ATTACKS]


def deps() -> Deps:
    return Deps(directory=load_directory(ROOT / "deploy" / "profiles"), mailer=RecordingMailer(),
                renderer=NoticeRenderer(ROOT / "templates" / "notices"), clock=lambda: NOW,
                rule_pack=load_rules(ROOT / "deploy" / "rules"))


def rocksdb_settings(broker: Broker, tmp_path: Path) -> Settings:
    # A longer batch window than the default: the interleaved records meet in one batch.
    return settings_for(broker.bootstrap, tmp_path / "worker", store="rocksdb://", partitions=PARTITIONS,
                        batch_seconds=0.5)


def held_in(tables: Any, key: str) -> int:
    """Signals the key's window holds for a rule that has not fired (read as the console's
    operator would: from the test's task, where faust has no current event)."""
    found = window_store.read(tables.windows.get, key)
    return len(found.window.held) if found is not None else 0


def evidence(watcher: Watcher) -> Callable[[], dict[str | None, set[str]]]:
    return lambda: {i.controller: {e.event_id for e in i.evidence} for i in watcher.model.incidents.values()}


def test_the_two_controllers_are_on_different_partitions() -> None:
    """The scenario's premise: otherwise one partition database holds both and hides the bug."""
    partitioner = DefaultPartitioner()
    partitions = list(range(PARTITIONS))
    assert len({partitioner(key.encode(), partitions, partitions) for key in ATTACKS}) == 2


@pytest.mark.asyncio
async def test_held_signals_survive_mixed_batches_and_a_restart_and_all_become_evidence(
        broker: Broker, tmp_path: Path) -> None:
    settings = rocksdb_settings(broker, tmp_path)
    before, after = range(THRESHOLD - 5), range(THRESHOLD - 5, THRESHOLD + 5)
    async with Watcher(broker.bootstrap) as watcher:
        async with running(settings, deps()) as (_, _, tables):
            await publish(broker.bootstrap, interleaved(before))
            # Below the threshold: every failure is held in its controller's window, none is evidence.
            await eventually(lambda: all(held_in(tables, c) == len(before) for c in ATTACKS), timeout=60,
                             what="both windows holding their failures")
            assert not watcher.model.incidents
        assert any((tmp_path / "worker").rglob("*.sst")) or any((tmp_path / "worker").rglob("*.log")), \
            "the windows were not written to RocksDB"

        # A new worker on the same data directory: the windows come back from the local store.
        async with running(settings, deps()) as (_, _, tables):
            await eventually(lambda: all(held_in(tables, c) == len(before) for c in ATTACKS), timeout=60,
                             what="both windows restored")
            await publish(broker.bootstrap, interleaved(after))
            expected = {c: {f"{c}-{i}" for i in range(THRESHOLD + 5)} for c in ATTACKS}
            await eventually(lambda: evidence(watcher)() == expected, timeout=90,
                             what="every failure of both controllers attached to its incident")
            assert len(watcher.model.incidents) == 2
            # The fired rule's state and the incident are found again: a later failure joins it.
            await publish(broker.bootstrap, [failure("atometrics", 99)])
            await eventually(lambda: "atometrics-99" in evidence(watcher)().get("atometrics", set()), timeout=60,
                             what="a later failure on the same incident")
            assert len(watcher.model.incidents) == 2 and all(held_in(tables, c) == 0 for c in ATTACKS)
