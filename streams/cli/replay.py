"""Replays: what the service derives from its topics, derived again.

- ``projections``: every incident, its timeline and the Art. 33(5) register folded again from
  incident-events (the record) — to rebuild a lost read model, or to check one.
- ``correlation``: the records of security-events received in a time range normalised and
  correlated again, as the ingest and correlate agents do, into topics prefixed with a
  namespace (``<ns>.signals``, ``<ns>.incident-commands``, ``<ns>.security-events.dlq``). Live
  topics and incidents are never written: try a new rule or profile on real traffic, compare.

Both read with plain consumers (no group, no committed offsets) from the first offset.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from console.read_model import ReadModel
from incident.correlation import Window, correlate, correlation_key
from incident.errors import InvalidEvent
from incident.model import Incident
from streams.deps import Deps
from streams.kafka import audit_chain, codec
from streams.kafka.dlq import dead_letter
from streams.kafka.kafka_security import client_options
from streams.kafka.partitions import current_partitions
from streams.kafka.topics import INCIDENT_COMMANDS, INCIDENT_EVENTS, SECURITY_EVENTS, SECURITY_EVENTS_DLQ, SIGNALS
from streams.kafka.topics_admin import TopicSpec, ensure_topics
from streams.mail.mailer import RecordingMailer
from streams.pipeline.ingest import link_only, linkable_keys, normalise  # the ingest agent's own functions
from streams.settings import Settings

IDLE_POLLS = 3  # empty polls (0.5 s each) past the end offsets before a read is complete
NAMESPACE = re.compile(r"[a-z0-9][a-z0-9_-]{0,48}")


class ReplayError(ValueError):
    pass


async def read_topic(settings: Settings, topic: str) -> AsyncIterator[Any]:
    """Every record of ``topic`` now, across its partitions, then stop.

    The end is the end offsets *and* a few empty polls: the embedded broker under-reports end
    offsets after multi-record batches (research/runtime.md §2), so they alone would cut the tail."""
    consumer = AIOKafkaConsumer(enable_auto_commit=False, group_id=None, auto_offset_reset="earliest",
                                **client_options(settings))
    await consumer.start()
    try:
        partitions = sorted(await current_partitions(consumer, (topic,)))
        if not partitions:
            return
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        idle = 0
        while idle < IDLE_POLLS or any([await consumer.position(tp) < end for tp, end in ends.items()]):
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            idle = 0 if batches else idle + 1
            for records in batches.values():
                for record in records:
                    yield record
    finally:
        await consumer.stop()


# ---- projections -------------------------------------------------------------------------------------------

@dataclass
class Projections:
    model: ReadModel
    undecodable: int = 0

    @property
    def incidents(self) -> list[Incident]:
        return sorted(self.model.incidents.values(), key=lambda i: i.opened_at)

    def register(self) -> list[dict[str, Any]]:
        return self.model.register()

    def summary(self) -> dict[str, Any]:
        by_status: dict[str, int] = {}
        for incident in self.incidents:
            by_status[incident.status] = by_status.get(incident.status, 0) + 1
        return {"events": self.model.events_seen, "undecodable": self.undecodable,
                "incidents": len(self.model.incidents), "by_status": dict(sorted(by_status.items())),
                "dead_letters": sum(self.model.dead_letters.values())}


async def replay_projections(settings: Settings) -> Projections:
    out = Projections(ReadModel())
    async for record in read_topic(settings, INCIDENT_EVENTS):
        try:
            event, link = audit_chain.decode(record.value or b"", f"{record.topic}/{record.partition}@{record.offset}")
        except codec.DecodeError:
            out.undecodable += 1  # counted, not fatal: the rest of the record still folds
            continue
        out.model.apply(event, link)
    async for record in read_topic(settings, SECURITY_EVENTS_DLQ):
        out.model.apply_dead_letter(record.value or b"")
    return out


# ---- correlation -------------------------------------------------------------------------------------------

@dataclass
class CorrelationRun:
    namespace: str
    start: datetime
    end: datetime
    read: int = 0  # records of security-events in the whole topic
    in_range: int = 0
    signals: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    incidents: set[str] = field(default_factory=set)

    def topic(self, live: str) -> str:
        return f"{self.namespace}.{live}"

    def summary(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "from": self.start.isoformat(), "to": self.end.isoformat(),
                "records_in_range": self.in_range, "signals": self.signals, "duplicates": self.duplicates,
                "dead_letters": self.dead_letters, "incidents": len(self.incidents),
                "topics": [self.topic(t) for t in (SIGNALS, INCIDENT_COMMANDS, SECURITY_EVENTS_DLQ)]}


def parse_instant(text: str, flag: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ReplayError(f"{flag} {text!r}: not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise ReplayError(f"{flag} {text!r}: needs a UTC offset, e.g. 2026-11-22T09:30:00+01:00")
    return value.astimezone(UTC)


def check_namespace(namespace: str) -> str:
    if not NAMESPACE.fullmatch(namespace):
        raise ReplayError(f"--namespace {namespace!r}: lower-case letters, digits, '-' and '_' (max 49), "
                          "so that its topics can never be the live ones")
    return namespace


async def replay_correlation(settings: Settings, start: datetime, end: datetime, namespace: str,
                             *, deps: Deps | None = None) -> CorrelationRun:
    """Records whose broker timestamp is in [start, end), in timestamp order, through the ingest
    agent's normalisation and the pure correlator, with fresh windows (the namespace's own)."""
    if start >= end:
        raise ReplayError("--from must be before --to")
    run = CorrelationRun(check_namespace(namespace), start, end)
    # The worker's own dependencies (profiles, rule pack from BREACH_RULES_DIR: point it at the rules
    # to try), except the mailer: a replay never sends.
    deps = deps or replace(Deps.production(settings), mailer=RecordingMailer())
    chosen = []
    async for record in read_topic(settings, SECURITY_EVENTS):
        run.read += 1
        received = datetime.fromtimestamp(record.timestamp / 1000, UTC)
        if start <= received < end:
            chosen.append((record.timestamp, record.partition, record.offset, received, record))
    chosen.sort(key=lambda c: c[:3])
    run.in_range = len(chosen)
    windows: dict[str, Window] = {}
    # Made here, not by auto-creation (off on a production cluster); the namespace's topics are
    # scratch space: a week's retention.
    await ensure_topics(settings, [TopicSpec(run.topic(t), settings.partitions, {"retention.ms": str(7 * 86400000)})
                                   for t in (SIGNALS, INCIDENT_COMMANDS, SECURITY_EVENTS_DLQ)])
    producer = AIOKafkaProducer(acks="all", linger_ms=5, **client_options(settings))
    await producer.start()
    try:
        for _, _, _, received, record in chosen:
            raw = record.value or b""
            ref = f"{record.topic}:{record.partition}:{record.offset}"
            for source, result in normalise(raw, received, ref, deps):
                if isinstance(result, InvalidEvent):
                    run.dead_letters += 1
                    record_bytes = result.record if result.record is not None and "#" in source else raw
                    await producer.send(run.topic(SECURITY_EVENTS_DLQ),
                                        dead_letter(record_bytes, result.reason, source, received), key=record.key)
                    continue
                key = correlation_key(result)
                await producer.send(run.topic(SIGNALS), codec.encode(result), key=key.encode())
                run.signals += 1
                window, commands = correlate(windows.get(key), result, pack=deps.rule_pack, config=deps.correlation)
                windows[key] = window
                run.duplicates += not commands
                for linked in linkable_keys(result, deps):  # as ingest copies it: to the controllers' keys
                    other = linked.decode()
                    windows[other], links = correlate(windows.get(other) or Window(key=other), link_only(result),
                                                      pack=deps.rule_pack, config=deps.correlation)
                    commands += links
                for command in commands:
                    run.incidents.add(command.incident_id)
                    await producer.send(run.topic(INCIDENT_COMMANDS), codec.encode(command),
                                        key=command.incident_id.encode())
        await producer.flush()
    finally:
        await producer.stop()
    return run


def as_text(summary: dict[str, Any]) -> str:
    return json.dumps(summary, indent=2, ensure_ascii=False)
