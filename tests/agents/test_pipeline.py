"""The agents on a real embedded broker, with fakes only at our own ports (mailer, clock).

Each test gets a fresh broker and a fresh in-process worker.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker
from streams.mail.mailer import Disposition, MailError, RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.settings import ROOT
from streams.worker import running
from tests.support import Watcher, eventually, read_topic, settings_for
from tests.unit.builders import directory

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def record(event_id: str, *, host: str = "acme-crm-db", confirms: bool = False, minutes: int = 0) -> bytes:
    return json.dumps({"id": event_id, "time": (NOW + timedelta(minutes=minutes)).isoformat(), "title": "Export",
                       "host": host, "confirms_breach": confirms}).encode()


class System:
    def __init__(self, broker: Broker, mailer: RecordingMailer, watcher: Watcher) -> None:
        self.broker, self.mailer, self.watcher = broker, mailer, watcher

    async def send(self, *lines: bytes) -> None:
        await publish(self.broker.bootstrap, lines)

    def incidents(self) -> list:  # type: ignore[type-arg]
        return list(self.watcher.model.incidents.values())


@pytest_asyncio.fixture
async def system(broker: Broker, tmp_path: Path) -> AsyncIterator[System]:
    mailer = RecordingMailer()
    deps = Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"), mailer=mailer,
                clock=lambda: NOW, retry_delay=0.01)
    async with running(settings_for(broker.bootstrap, tmp_path), deps), Watcher(broker.bootstrap) as watcher:
        yield System(broker, mailer, watcher)


@pytest.mark.asyncio
async def test_malformed_records_go_to_the_dlq_and_the_worker_keeps_going(system: System) -> None:
    await system.send(b"{not json", b'{"id": "x", "time": "2026-11-22T10:00:00", "title": "t", "host": "h"}',
                      record("good-1"))
    await eventually(lambda: system.incidents(), what="the incident from the good record")
    letters = [json.loads(r.value) for r in await read_topic(system.broker.bootstrap, "security-events.dlq", 2)]
    reasons = sorted(letter["reason"] for letter in letters)
    assert reasons[0].startswith("field 'time' has no UTC offset") and reasons[1].startswith("not JSON")
    assert {letter["record"] for letter in letters} == {"{not json", '{"id": "x", "time": "2026-11-22T10:00:00", '
                                                        '"title": "t", "host": "h"}'}  # nothing lost
    assert all(letter["source"].startswith("security-events:") for letter in letters)


@pytest.mark.asyncio
async def test_related_events_make_one_incident_and_duplicates_are_ignored(system: System) -> None:
    await system.send(record("e1"), record("e2", minutes=30), record("e1"), record("other", host="acme-auth"))
    await eventually(lambda: len(system.incidents()) == 2 and sum(len(i.evidence) for i in system.incidents()) == 3,
                     what="two incidents holding three distinct signals")
    crm = next(i for i in system.incidents() if i.assets == ("acme-crm-db",))
    # Unkeyed records spread over partitions, so either may arrive first; both join one incident.
    assert sorted(e.event_id for e in crm.evidence) == ["e1", "e2"]


@pytest.mark.asyncio
async def test_a_confirmed_breach_is_assessed_clocked_and_its_notices_sent(system: System) -> None:
    await system.send(record("c1", host="acme-auth", confirms=True))
    incident = await eventually(lambda: next((i for i in system.incidents() if i.status == "drafts_delivered"), None),
                                what="a notified incident")
    assert incident.assessment.level == "high"
    assert incident.clocks[0].deadline - incident.awareness.aware_at == timedelta(hours=72)
    # Both drafts go to the DPO, in the controller's first language (French here), once each.
    assert sorted(m.notice_id for m in system.mailer.sent) == sorted(n.notice_id for n in incident.notices)
    assert all(m.subject.startswith("[PROJET à valider par le DPO]") for m in system.mailer.sent)
    assert {m.recipient for m in system.mailer.sent} == {"dpo@acme.example"}
    assert len({m.message_id for m in system.mailer.sent}) == 2


@pytest.mark.asyncio
async def test_a_permanent_smtp_failure_is_recorded_on_the_incident(system: System) -> None:
    system.mailer.fail_with = MailError("SMTPRecipientsRefused", Disposition.PERMANENT)
    await system.send(record("f1", confirms=True))
    incident = await eventually(lambda: next((i for i in system.incidents() if i.status == "draft_failed"), None),
                                what="an incident whose notice failed")
    assert incident.notices[0].failed == ("dpo@acme.example",)
    assert system.mailer.sent == []


@pytest.mark.asyncio
async def test_an_undecodable_command_is_dead_lettered_and_incidents_go_on(system: System) -> None:
    await publish(system.broker.bootstrap, [b'{"type": "DeleteEverything", "data": {}}'], topic="incident-commands")
    await system.send(record("after-1"))
    await eventually(lambda: system.incidents(), what="the incident after the bad command")
    (letter,) = [json.loads(r.value) for r in await read_topic(system.broker.bootstrap, "incident-commands.dlq", 1)]
    assert letter["reason"].startswith("not a valid envelope") and "DeleteEverything" in letter["record"]


@pytest.mark.asyncio
async def test_a_command_keyed_for_another_incident_is_refused(system: System) -> None:
    from aiokafka import AIOKafkaProducer

    from incident.commands import StartTriage
    from streams.kafka import codec
    from tests.support import KEYS

    value = codec.encode(StartTriage(incident_id="incident-a", by="mallory", at=NOW))
    producer = AIOKafkaProducer(bootstrap_servers=system.broker.bootstrap, acks="all")
    await producer.start()
    try:  # signed, so it reaches the decision: no record key
        await producer.send_and_wait("incident-commands", value, headers=KEYS.headers(value))
    finally:
        await producer.stop()
    await eventually(lambda: system.watcher.model.rejected, what="the refusal")
    assert "arrived keyed" in system.watcher.model.rejected[0].reason
