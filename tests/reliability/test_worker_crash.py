"""Three `breach worker` processes share the work; one is killed with SIGKILL while security
events stream in and notices are being sent. Then: no incident is lost (every event is attached
to its own incident), no notice reaches the relay twice, and every clock still fires — each
reminder step of every incident arrives once, sent by the two workers left."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from streams.embedded.services import Broker
from streams.mail.mailer import message_id_for
from tests.integration.smtp_sink import SmtpSink
from tests.reliability.stack import (
    ONCALL,
    STEPS,
    Cluster,
    a_sending_worker,
    attached,
    breach_events,
    reminder_ids,
    stream,
    timed_deadlines,
    where_commands_are,
)
from tests.support import Watcher, eventually

INCIDENTS = 90
RATE = 30.0  # events per second, so that the kill lands mid-stream


@pytest.mark.asyncio
async def test_a_worker_killed_mid_stream_loses_nothing_and_sends_nothing_twice(
        broker: Broker, sink: SmtpSink, tmp_path: Path) -> None:
    async with Cluster.running(broker.bootstrap, tmp_path, sink.port, count=3) as cluster:
        await _run(cluster, broker, sink)


async def _run(cluster: Cluster, broker: Broker, sink: SmtpSink) -> None:
    events = breach_events(INCIDENTS, datetime.now(UTC))
    ids = {str(e["id"]) for e in events}
    third = len(events) // 3
    async with Watcher(broker.bootstrap) as watcher:
        await stream(broker.bootstrap, events[:third], RATE)
        # Notices are on their way to the relay: kill a worker that is sending them, without
        # warning, and keep streaming.
        victim = await a_sending_worker(cluster.workers)
        survivors = [w for w in cluster.workers if w is not victim]
        victim.kill()
        killed_at = len(sink.received)
        await stream(broker.bootstrap, events[third:], RATE)

        def missing() -> set[str]:
            return ids - attached(watcher.model.incidents.values())

        try:
            await eventually(lambda: not missing(), timeout=120, what="every event attached to an incident")
        except AssertionError as exc:
            lost = missing()
            raise AssertionError(f"{len(lost)} event(s) lost: {sorted(lost)}; "
                                 f"{await where_commands_are(broker.bootstrap, lost)}") from exc
        # The rest of each incident's events (clocks, drafts) follow its SignalAttached.
        await eventually(lambda: all(i.clocks for i in watcher.model.incidents.values()), timeout=30,
                         what="every incident's clock started")
        incidents = list(watcher.model.incidents.values())
        assert len(incidents) == INCIDENTS  # each event its own incident, none twice

        # The drafts: each settled; what was delivered reached the relay once. A draft may be
        # left in doubt by the kill (handed to the relay, answer not recorded): it is then
        # recorded as failed, and not sent again.
        await eventually(lambda: all(n.settled for i in watcher.model.incidents.values() for n in i.notices),
                         timeout=60, what="every draft delivered or failed")
        notices = [n for i in watcher.model.incidents.values() for n in i.notices]
        assert notices
        for notice in notices:
            for recipient in notice.delivered:
                assert sink.received[message_id_for(notice.notice_id, recipient)] == 1
        assert sum(len(n.failed) for n in notices) <= 1  # one notify agent, one message in flight
        assert sink.duplicates == {}
        assert len(sink.received) > killed_at  # the survivors sent after the kill

        # Every clock fires after the kill, step by step, through the workers left.
        deadline = max(timed_deadlines(incidents))
        done: tuple[str, ...] = ()
        for step, before in STEPS:
            now = deadline - before
            expected = reminder_ids(incidents, now, done)
            assert len(expected) == INCIDENTS  # one timed clock per incident
            cluster.set_now(now)
            try:
                await eventually(lambda e=expected: e <= set(sink.received), timeout=90,  # type: ignore[misc]
                                 what=f"the {step} reminder of every incident")
            except AssertionError as exc:
                raise AssertionError(f"{step}: {len(expected - set(sink.received))} of {len(expected)} missing, "
                                     f"e.g. {sorted(expected - set(sink.received))[:2]}") from exc
            done += (step,)
        # Pages to the on-call team (incident/paging.py) go to the same list, each once too
        # (sink.duplicates): they are not the clocks' reminders counted here.
        reminders = {mid: n for mid, n in sink.received.items() if ONCALL in sink.rcpt[mid] and "page-" not in mid}
        assert len(reminders) == INCIDENTS * len(STEPS)
        assert set(reminders.values()) == {1}  # each step of each clock once
        assert sink.duplicates == {}
        # The record survived the kill: the events replayed by the worker that took over chain
        # on (identical copies, or a fork where its clock had moved), none breaks a chain.
        chains = {i.id: watcher.model.chain(i.id) for i in watcher.model.incidents.values()}
        assert {c.status if c else "not checked" for c in chains.values()} == {"verified"}, \
            {i: c.label for i, c in chains.items() if c is None or c.status != "verified"}

    assert not victim.alive() and all(w.alive() for w in survivors)
    logs = "".join(w.log.read_text() for w in survivors)
    assert "command.handled" in logs and "@example" not in logs  # ids and counts, never an address
