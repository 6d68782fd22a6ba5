"""The SMTP relay goes down while two workers send drafts and reminders, long enough that the
old three attempts would have given up, and comes back: every draft and every reminder then
arrives, once; none is recorded as failed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from streams.embedded.services import Broker
from streams.mail.mailer import message_id_for
from tests.integration.smtp_sink import Refuser, SmtpSink
from tests.reliability.stack import STEPS, Cluster, attached, breach_events, reminder_ids, stream, timed_deadlines
from tests.support import Watcher, eventually

INCIDENTS = 30
RATE = 30.0
DOWN_ATTEMPTS = 12  # connections refused before the relay comes back: several per worker, > 3 s of back-off


@pytest.mark.asyncio
async def test_an_smtp_outage_delays_notices_and_loses_none(broker: Broker, sink: SmtpSink, tmp_path: Path) -> None:
    async with Cluster.running(broker.bootstrap, tmp_path, sink.port, count=2) as cluster:
        await _run(cluster, broker, sink)


async def _run(cluster: Cluster, broker: Broker, sink: SmtpSink) -> None:
    events = breach_events(INCIDENTS, datetime.now(UTC))
    async with Watcher(broker.bootstrap) as watcher:
        await stream(broker.bootstrap, events[:5], RATE)
        await eventually(lambda: len(sink.received) >= 1, timeout=60, what="the first draft at the relay")

        # The relay goes away: connections are accepted and dropped, as by a relay restarting.
        await sink.stop()
        down = Refuser(sink.port)
        await down.start()
        before = dict(sink.received)
        await stream(broker.bootstrap, events[5:], RATE)
        ids = {str(e["id"]) for e in events}
        await eventually(lambda: ids <= attached(watcher.model.incidents.values()), timeout=60,
                         what="every event attached while the relay is down")
        await eventually(lambda: all(i.clocks for i in watcher.model.incidents.values()), timeout=30,
                         what="every clock started")
        incidents = list(watcher.model.incidents.values())
        deadline = max(timed_deadlines(incidents))
        step, before_deadline = STEPS[0]
        cluster.set_now(deadline - before_deadline)  # the first reminders fall due during the outage
        await eventually(lambda: down.attempts >= DOWN_ATTEMPTS, timeout=60, what="the workers retrying")
        await down.stop()
        assert sink.received == before  # nothing got through while it was down
        await sink.start()

        notices = lambda: [n for i in watcher.model.incidents.values() for n in i.notices]  # noqa: E731
        await eventually(lambda: notices() and all(n.settled for n in notices()), timeout=120,
                         what="every draft settled after the outage")
        assert all(not n.failed for n in notices())  # none given up on
        for notice in notices():
            for recipient in notice.delivered:
                assert sink.received[message_id_for(notice.notice_id, recipient)] == 1
        reminders = reminder_ids(incidents, deadline - before_deadline, ())
        assert len(reminders) == INCIDENTS
        await eventually(lambda: reminders <= set(sink.received), timeout=120,
                         what=f"the {step} reminder of every incident")
    assert sink.duplicates == {}
    assert all(w.alive() for w in cluster.workers)
    logs = cluster.logs()
    assert "notice.retry" in logs and "@example" not in logs
