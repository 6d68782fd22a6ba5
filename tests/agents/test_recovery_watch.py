"""A table recovery that receives nothing is nudged, then the worker gives up and exits
(streams/kafka/faust_recovery.py).

Seen once in 18 runs of tests/reliability/test_worker_crash.py: a surviving worker recovering
the killed one's tables got no changelog record at all for two minutes, and held the partitions
all along. Here the same stall is laid on a real worker: its tables have records on their
changelogs (an incident), and faust's fetch path hands none of them over (aiokafka fetches; the
records never reach the tables)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from faust.transport.consumer import Consumer
from structlog.testing import capture_logs

from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker
from streams.kafka import faust_recovery
from streams.kafka.faust_recovery import GIVE_UP_SECONDS, STALL_SECONDS, verdict
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.metrics import REGISTRY
from streams.settings import ROOT
from streams.worker import WorkerCrashed, running
from tests.support import Watcher, eventually, settings_for
from tests.unit.builders import directory

APP_ID = "recovery-watch-test"


def stalls(outcome: str) -> float:
    return REGISTRY.get_sample_value("breach_recovery_stalls_total", {"outcome": outcome}) or 0.0


@pytest.mark.asyncio
async def test_a_recovery_that_receives_nothing_is_nudged_then_the_worker_exits(
        broker: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deps = Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                mailer=RecordingMailer(), clock=lambda: datetime.now(UTC), retry_delay=0.01)
    settings = settings_for(broker.bootstrap, tmp_path)
    record = {"id": "r1", "time": datetime.now(UTC).isoformat(), "title": "Export", "host": "acme-crm-db",
              "confirms_breach": True}
    async with Watcher(broker.bootstrap) as watcher, running(settings, deps, app_id=APP_ID):
        await publish(broker.bootstrap, [json.dumps(record).encode()])
        await eventually(lambda: watcher.model.incidents, what="the incident on its table")

    monkeypatch.setattr(faust_recovery, "STALL_SECONDS", 1.0)
    monkeypatch.setattr(faust_recovery, "GIVE_UP_SECONDS", 1.0)
    monkeypatch.setattr(faust_recovery, "CHECK_SECONDS", 0.2)
    original = Consumer._wait_next_records

    async def without_changelogs(self: Any, timeout: float) -> Any:
        records, active = await original(self, timeout)
        if records:
            records = {tp: batch for tp, batch in records.items() if not tp.topic.endswith("-changelog")}
        return records, active

    monkeypatch.setattr(Consumer, "_wait_next_records", without_changelogs)
    nudged, given_up = stalls("nudged"), stalls("given_up")
    with capture_logs() as logs, pytest.raises(WorkerCrashed, match="RecoveryStuck"):
        async with running(settings, deps, app_id=APP_ID):
            pytest.fail("the worker became ready without its tables")
    events = [line["event"] for line in logs if line["event"].startswith("recovery.")]
    assert events == ["recovery.stalled", "recovery.stuck"]
    stuck = next(line for line in logs if line["event"] == "recovery.stuck")
    assert stuck["remaining"] > 0 and stuck["partitions_heard_from"] == 0
    assert (stalls("nudged"), stalls("given_up")) == (nudged + 1, given_up + 1)


def test_a_recovery_that_moves_is_left_alone() -> None:
    # Events keep arriving (a large changelog read slowly): never a nudge, however long it takes.
    assert verdict(1000.0, started_at=0.0, last_event_at=999.0, remaining=10**6, nudged_at=None) == "moving"
    assert verdict(1000.0, started_at=0.0, last_event_at=1000.0 - STALL_SECONDS + 1, remaining=5,
                   nudged_at=None) == "moving"
    # Nothing left to read: faust is finishing.
    assert verdict(1000.0, started_at=0.0, last_event_at=None, remaining=0, nudged_at=None) == "moving"


def test_quiet_for_the_stall_delay_is_nudged_once_then_given_up() -> None:
    start = 100.0
    assert verdict(start + STALL_SECONDS - 1, started_at=start, last_event_at=None, remaining=3,
                   nudged_at=None) == "moving"
    assert verdict(start + STALL_SECONDS, started_at=start, last_event_at=None, remaining=3,
                   nudged_at=None) == "nudge"
    nudged = start + STALL_SECONDS
    assert verdict(nudged + GIVE_UP_SECONDS - 1, started_at=start, last_event_at=None, remaining=3,
                   nudged_at=nudged) == "moving"
    assert verdict(nudged + GIVE_UP_SECONDS, started_at=start, last_event_at=None, remaining=3,
                   nudged_at=nudged) == "give_up"


def test_a_nudge_that_worked_starts_the_count_again() -> None:
    # The nudge brought records; quiet again later: a new nudge, not a give-up.
    nudged = 130.0
    assert verdict(nudged + GIVE_UP_SECONDS, started_at=100.0, last_event_at=nudged + 5, remaining=3,
                   nudged_at=nudged) == "moving"
    assert verdict(nudged + 5 + STALL_SECONDS, started_at=100.0, last_event_at=nudged + 5, remaining=3,
                   nudged_at=nudged) == "nudge"
