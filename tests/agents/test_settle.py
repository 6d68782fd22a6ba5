"""The settle delay with real parts (issue 19, incident/settling.py): the embedded broker and a
worker whose clock the test moves (never a sleep). A confirming signal opens an incident with
BREACH_SETTLE_SECONDS=1: nothing leaves the service (no awareness, no page) until the worker's
clock is a second on; then the clock agent's Tick records the awareness and the page goes out,
once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker
from streams.mail.mailer import OutgoingMessage, RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.oncall.page_hooks import Pager
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


def pages(mailer: RecordingMailer) -> list[OutgoingMessage]:
    return [m for m in mailer.sent if m.recipient == ONCALL and m.subject.startswith(("PAGE", "ALERTE"))]


def signal(event_id: str, at: datetime, *, confirms: bool) -> bytes:
    return json.dumps({"id": event_id, "time": at.isoformat(), "title": "Export", "host": "acme-crm-db",
                       "confirms_breach": confirms}).encode()


@pytest.mark.asyncio
async def test_a_settle_delay_holds_the_page_then_it_is_sent_once(broker: Broker, tmp_path: Path) -> None:
    clock, mailer = FakeClock(), RecordingMailer()
    deps = Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"), mailer=mailer,
                clock=clock, oncall=(ONCALL,), retry_delay=0.01, pager=Pager(), settle=timedelta(seconds=1))
    settings = settings_for(broker.bootstrap, tmp_path, tick_seconds=0.2)
    opened_at = clock.now
    async with Watcher(broker.bootstrap) as watcher, running(settings, deps, app_id="settle-test"):
        incidents: Any = watcher.model.incidents
        await publish(broker.bootstrap, [signal("s1", opened_at, confirms=True)])
        await eventually(lambda: [i for i in incidents.values() if i.signal_count == 1], what="the incident")
        # A second signal of the same incident, seen after it: every event of the first decision is
        # on the watcher by then (one incident, one partition, in order).
        await publish(broker.bootstrap, [signal("s2", opened_at + timedelta(minutes=1), confirms=False)])
        (held,) = await eventually(lambda: [i for i in incidents.values() if i.signal_count == 2],
                                   what="the second signal")
        assert held.awareness is None and held.pages == () and held.clocks == () and held.notices == ()
        assert pages(mailer) == []

        clock.now = opened_at + timedelta(seconds=1)  # the delay is over: the clock agent's Tick
        (released,) = await eventually(lambda: [i for i in incidents.values() if i.awareness and i.pages],
                                       what="the awareness and the page held by the settle delay")
        await eventually(lambda: len(pages(mailer)) == 1, what="the page mailed")
        first = released.signals.first_confirmed
        assert released.awareness is not None and released.awareness.evidence == ("s1",)
        assert first is not None and released.awareness.aware_at == first.ingested_at  # when s1 reached us
        assert released.clocks  # the Art. 33 clock started with it

        # Once: a third signal later, everything of the release on the watcher before it.
        await publish(broker.bootstrap, [signal("s3", opened_at + timedelta(minutes=2), confirms=True)])
        (after,) = await eventually(lambda: [i for i in incidents.values() if i.signal_count == 3],
                                    what="the third signal")
        assert len(after.pages) == 1 and after.awareness == released.awareness
        assert len(pages(mailer)) == 1
