"""Clocks on a real broker with a fake clock: each reminder step arrives once, including
across a worker restart between steps."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from streams.agents.due_index import DueIndex
from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.oncall.webhook import RecordingWebhook
from streams.settings import ROOT
from streams.worker import running
from tests.support import Watcher, eventually, settings_for
from tests.unit.builders import directory

ONCALL = "oncall@acme.example"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def reminders(mailer: RecordingMailer) -> list[str]:
    """Each reminder's step, as its subject says it (in French: the test profile's first language)."""
    return [m.subject.split(" · ")[0] for m in mailer.sent if m.recipient == ONCALL]


@pytest.mark.asyncio
async def test_reminders_arrive_once_per_step_across_a_restart(broker: Broker, tmp_path: Path) -> None:
    clock, mailer, webhook = FakeClock(), RecordingMailer(), RecordingWebhook()
    deps = Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"), mailer=mailer,
                clock=clock, oncall=(ONCALL,), retry_delay=0.01, webhook=webhook)
    settings = settings_for(broker.bootstrap, tmp_path, tick_seconds=0.2)
    record = {"id": "r1", "time": clock.now.isoformat(), "title": "Export", "host": "acme-crm-db",
              "confirms_breach": True}
    async with Watcher(broker.bootstrap) as watcher:
        async with running(settings, deps, app_id="clock-test"):
            await publish(broker.bootstrap, [json.dumps(record).encode()])
            (incident,) = await eventually(lambda: [i for i in watcher.model.incidents.values() if i.clocks],
                                           what="the clock started")
            deadline = incident.clocks[0].deadline
            clock.now = deadline - timedelta(hours=47)
            await eventually(lambda: reminders(mailer) == ["T-48h"], what="the T-48h reminder")

        # The worker stops between steps; a new one (empty memory) takes over the same tables.
        async with running(settings, replace(deps, due_index=DueIndex()), app_id="clock-test"):
            clock.now = deadline - timedelta(hours=5)
            await eventually(lambda: reminders(mailer) == ["T-48h", "T-6h"], what="T-6h (T-24h skipped)")
            clock.now = deadline + timedelta(minutes=1)
            await eventually(lambda: reminders(mailer) == ["T-48h", "T-6h", "DÉPASSÉ"], what="the overdue reminder")

            def reminder_events() -> list[object]:
                return [e for e in watcher.model.timeline[incident.id] if type(e).__name__ == "ReminderDue"]

            skipped = await eventually(lambda: len(reminder_events()) == 3 and reminder_events(),
                                       what="three reminder events on the incident")
            # Nothing is left to remind: the schedule is empty, so no more Ticks are sent.
            assert watcher.model.incidents[incident.id].reminded[-1].endswith("|overdue")
    assert reminders(mailer) == ["T-48h", "T-6h", "DÉPASSÉ"]
    assert [(p["step"], p["reference"]) for p in webhook.posted] == [
        (step, f"BR-{incident.id.replace('-', '')[:8].upper()}") for step in ("T-48h", "T-6h", "overdue")]
    assert [(e.step, e.skipped) for e in skipped] == [("T-48h", ()), ("T-6h", ("T-24h",)), ("overdue", ("T-1h",))]
