"""A cluster on this host for the reliability tests: the embedded broker, `breach worker`
subprocesses (streams/embedded/cluster.py), a real aiosmtpd relay (tests/integration/smtp_sink.py)
and a clock the test moves by writing an instant into a file (BREACH_CLOCK_FILE).

The events each open their own incident with a confirmed breach: one Art. 33 clock each, and
the controllers' DPOs get drafts. Half are on assets no profile declares (one correlation key
each, so every worker correlates some), half on the controllers' assets, a day apart so that
no two share an incident."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from incident.deadlines import due_reminders
from incident.model import Incident
from streams.embedded.cluster import WorkerProcess, all_ready, spawn_workers
from streams.kafka import codec
from streams.kafka.partitions import current_partitions
from streams.kafka.topics import INCIDENT_COMMANDS, SECURITY_EVENTS
from streams.kafka.topics_admin import create_topics
from streams.mail.mailer import message_id_for
from streams.settings import ROOT, load_settings
from tests.support import POLL_INTERVAL

ONCALL = "oncall@reliability.example"
PARTITIONS = 6  # two of each topic per worker when three run
APP_ID = "breach-response"
INGEST_GROUP = f"{APP_ID}-ingest"  # the ingest stage reads security-events in a group of its own
STEPS = (("T-48h", timedelta(hours=47)), ("T-24h", timedelta(hours=23)), ("T-6h", timedelta(hours=5)),
         ("T-1h", timedelta(minutes=30)), ("overdue", -timedelta(minutes=1)))
_HOSTS = ("ampere-crm-db", "ampere-web-01", "ampere-dwh-01", "ama-crm-db", "ama-web-01", "ama-app-01")


def breach_events(count: int, now: datetime) -> list[dict[str, object]]:
    events = []
    for i in range(count):
        if i % 2:
            slot = i // 2
            host = _HOSTS[slot % len(_HOSTS)]
            at = now - timedelta(hours=25 * (count // len(_HOSTS) - slot // len(_HOSTS)))  # one day bucket each
        else:
            host, at = f"unmapped-host-{i}", now
        events.append({"id": f"rel-{i}", "time": at.isoformat(), "title": f"Confirmed breach {i}", "host": host,
                       "severity": "high", "confirms_breach": True})
    return events


@dataclass
class Cluster:
    bootstrap: str
    scratch: Path
    smtp_port: int
    clock_file: Path
    workers: list[WorkerProcess]

    @classmethod
    async def start(cls, bootstrap: str, scratch: Path, smtp_port: int, count: int,
                    env: dict[str, str] | None = None) -> Cluster:
        await create_topics(load_settings({}, broker_url=f"kafka://{bootstrap}", partitions=PARTITIONS))
        clock_file = scratch / "now"
        clock_file.write_text(datetime.now(UTC).isoformat())
        workers = spawn_workers(count, bootstrap, scratch, PARTITIONS, {
            "BREACH_PROFILES_DIR": str(ROOT / "deploy" / "profiles"), "BREACH_SMTP_PORT": str(smtp_port),
            "BREACH_CLOCK_FILE": str(clock_file), "BREACH_TICK_SECONDS": "0.2", "BREACH_ONCALL_EMAILS": ONCALL,
            "BREACH_LOG_LEVEL": "info", **(env or {})})
        return cls(bootstrap, scratch, smtp_port, clock_file, workers)

    @classmethod
    @asynccontextmanager
    async def running(cls, bootstrap: str, scratch: Path, smtp_port: int, count: int,
                      env: dict[str, str] | None = None) -> AsyncIterator[Cluster]:
        """A started cluster whose workers are all ready, stopped at the end whatever happens."""
        cluster = await cls.start(bootstrap, scratch, smtp_port, count, env)
        try:
            await all_ready(cluster.workers)
            yield cluster
        finally:
            cluster.stop()

    def stop(self) -> None:
        for w in self.workers:
            w.stop()

    def set_now(self, now: datetime) -> None:
        self.clock_file.write_text(now.isoformat())

    def logs(self) -> str:
        return "".join(w.log.read_text(errors="replace") for w in self.workers)


async def stream(bootstrap: str, events: Iterable[dict[str, object]], per_second: float) -> None:
    """Send the events one by one at about ``per_second``, each acknowledged by the broker."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(SECURITY_EVENTS, json.dumps(event).encode())
            await asyncio.sleep(1 / per_second)  # pacing the source, not waiting for a result
    finally:
        await producer.stop()


async def a_sending_worker(workers: list[WorkerProcess], within: float = 60.0) -> WorkerProcess:
    """The worker that has sent the most notices so far, by each worker's own /metrics."""
    deadline = time.monotonic() + within
    while True:
        sent = await asyncio.to_thread(lambda: [w.metric("breach_notices_total", outcome="sent") for w in workers])
        if max(sent) > 0:
            return workers[sent.index(max(sent))]
        assert time.monotonic() < deadline, f"no worker sent a notice within {within:g} s"
        await asyncio.sleep(POLL_INTERVAL)  # polling the workers' counters, not waiting for a result


def attached(incidents: Iterable[Incident]) -> set[str]:
    return {e.event_id for i in incidents for e in i.evidence}


def reminder_ids(incidents: Iterable[Incident], now: datetime, done: tuple[str, ...]) -> set[str]:
    """The Message-IDs of the reminders due at ``now`` once the steps ``done`` were sent."""
    ids = set()
    for i in incidents:
        reminded = tuple(f"{c.rule_ref}|{step}" for c in i.clocks for step in done)
        for clock, step, _ in due_reminders(i.clocks, reminded, now, i.level, i.settled_obligations):
            ids.add(message_id_for(f"reminder-{i.id}-{clock.rule_ref}-{step}", ONCALL))
    return ids


def timed_deadlines(incidents: Iterable[Incident]) -> list[datetime]:
    return [c.deadline for i in incidents for c in i.clocks if c.timed and c.reminders]


async def where_commands_are(bootstrap: str, event_ids: set[str]) -> str:
    """Diagnostics for a failure: where each lost event sits on incident-commands (its
    AttachSignal) and on security-events, and the offsets the workers' groups committed there
    (faust's on incident-commands, the ingest stage's own on security-events: streams/kafka/batch_in.py)."""
    def command_of(value: bytes) -> str | None:
        evidence = getattr(codec.decode(value), "evidence", None)
        return evidence.event_id if evidence is not None else None

    def event_of(value: bytes) -> str | None:
        return str(json.loads(value).get("id"))

    commands = await _where(bootstrap, INCIDENT_COMMANDS, command_of, event_ids, APP_ID)
    events = await _where(bootstrap, SECURITY_EVENTS, event_of, event_ids, INGEST_GROUP)
    return f"commands: {commands}; security events: {events}"


async def _where(bootstrap: str, topic: str, id_of: Callable[[bytes], str | None], event_ids: set[str],
                 group_id: str, within: float = 30.0) -> str:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    found: list[str] = []
    try:
        partitions = sorted(await current_partitions(consumer, (topic,)))
        consumer.assign(partitions)
        await consumer.seek_to_beginning()
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            if not batches:
                break
            for tp, records in batches.items():
                found += [f"{id_of(r.value)} at {tp.partition}:{r.offset}" for r in records
                          if id_of(r.value) in event_ids]
        ends = {tp.partition: consumer.highwater(tp) for tp in partitions}
    finally:
        await consumer.stop()
    group = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    await group.start()
    try:
        committed = {tp.partition: await group.committed(tp) for tp in partitions}
    finally:
        await group.stop()
    return f"{found}, committed by {group_id}: {committed}, ends: {ends}"

