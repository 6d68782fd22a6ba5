"""One controller's signals through the split stages over k simulated workers (issue 19): each
stage's keys hashed onto k partitions, each partition read in order, the partitions interleaved
as a random scheduler picks them, a record now and then read twice (a crash before the commit)."""

from __future__ import annotations

import random
import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from incident.commands import AttachSignal, MergeIncident
from incident.correlation import Config, correlate_batch
from incident.host_stage import HostStage
from incident.linker import Linker
from incident.rule_stage import RuleStage
from incident.rules import RulePack
from incident.signals import SecurityEvent
from incident.stage_messages import EntitySeen, FiredAsk, HeldAsk, Merge, Rank, Release, RuleHit
from incident.survivors import Survivors

Record = SecurityEvent | EntitySeen | HeldAsk | RuleHit | FiredAsk | Release


@dataclass
class Outcome:
    attached: dict[str, str] = field(default_factory=dict)  # event id -> the incident it was attached to
    reasons: dict[str, str] = field(default_factory=dict)
    merges: list[Merge] = field(default_factory=list)
    ranks: dict[str, Rank] = field(default_factory=dict)
    survivors: Survivors = field(default_factory=Survivors)
    attach_count: dict[str, int] = field(default_factory=dict)

    def final(self) -> dict[str, str]:
        return {e: self.survivors.resolve(i) for e, i in self.attached.items()}


def spread(events: Sequence[SecurityEvent], *, pack: RulePack, config: Config, k: int, rnd: random.Random,
           reread: float = 0.0) -> Outcome:
    """``events`` in arrival order; the host stage of each reads them in that order."""
    return _Workers(pack, config, k, rnd, reread).run(events)


class _Workers:
    TOPICS: ClassVar[dict[str, int]] = {"host": 0, "entity": 1, "rule": 2}

    def __init__(self, pack: RulePack, config: Config, k: int, rnd: random.Random, reread: float) -> None:
        self.pack, self.config, self.k, self.rnd, self.reread = pack, config, k, rnd, reread
        self.salt = rnd.randrange(1 << 16)  # which keys share a partition varies from run to run
        self.queues: list[deque[tuple[tuple[str, ...], Record]]] = [deque() for _ in range(len(self.TOPICS) * k)]
        self.hosts: dict[tuple[str, ...], HostStage] = {}
        self.linkers: dict[tuple[str, ...], Linker] = {}
        self.rules: dict[tuple[str, ...], RuleStage] = {}
        self.by_id = {c.id: c for c in pack.correlations}
        self.out = Outcome()

    def run(self, events: Sequence[SecurityEvent]) -> Outcome:
        for e in events:
            self.send(("host", e.controller or "", e.asset), e)
        self.drain()
        for stage in list(self.rules.values()):  # the stream ended: every firing is settled
            self.route(stage.settle(final=True))
        self.drain()
        return self.out

    def send(self, key: tuple[str, ...], record: Record) -> None:
        partition = zlib.crc32(f"{self.salt}|{'|'.join(key)}".encode()) % self.k
        self.queues[self.TOPICS[key[0]] * self.k + partition].append((key, record))

    def drain(self) -> None:
        """Any interleaving of the partitions, each in its order; a record now and then read twice."""
        while any(self.queues):
            queue = self.rnd.choice([q for q in self.queues if q])
            key, record = queue[0] if self.rnd.random() < self.reread else queue.popleft()
            self.deliver(key, record)

    def deliver(self, key: tuple[str, ...], record: Record) -> None:
        c = self.config
        match record:
            case SecurityEvent() | Release():
                host = self.hosts.get(key) or self.hosts.setdefault(
                    key, HostStage(key[1], key[2], pack=self.pack, config=c))
                self.route(host.add(record) if isinstance(record, SecurityEvent) else host.release(record))
                for o in host.incidents:
                    self.out.ranks.setdefault(o.incident_id, o.rank)
            case EntitySeen() | HeldAsk():
                linker = self.linkers.get(key) or self.linkers.setdefault(key, Linker(key[1], key[2], span=c.span))
                self.route(linker.seen(record) if isinstance(record, EntitySeen) else linker.ask(record))
            case RuleHit() | FiredAsk():
                stage = self.rules.get(key) or self.rules.setdefault(
                    key, RuleStage(key[1], self.by_id[key[2]], key[3], pack=self.pack, lateness=c.lateness))
                self.route(stage.hit(record) if isinstance(record, RuleHit) else stage.ask(record))

    def merge(self, record: Merge) -> None:
        self.out.merges.append(record)
        for follow in self.out.survivors.merge(record):
            self.merge(follow)

    def route(self, records: Sequence[object]) -> None:
        out = self.out
        for r in records:
            match r:
                case AttachSignal():
                    out.attach_count[r.evidence.event_id] = out.attach_count.get(r.evidence.event_id, 0) + 1
                    out.attached[r.evidence.event_id] = r.incident_id
                    out.reasons[r.evidence.event_id] = r.evidence.reason
                case Merge():
                    self.merge(r)
                case EntitySeen() | HeldAsk():
                    self.send(("entity", r.controller, r.entity), r)
                case RuleHit() | FiredAsk():
                    self.send(("rule", r.controller, r.correlation, r.group), r)
                case Release():
                    self.send(("host", r.controller, r.host), r)
                case _:
                    raise AssertionError(r)


@dataclass
class OneWorker:
    attached: dict[str, str]
    into: dict[str, str]
    reasons: dict[str, str]
    attach_count: dict[str, int]

    def final(self) -> dict[str, str]:
        def resolve(i: str) -> str:
            while i in self.into:
                i = self.into[i]
            return i
        return {e: resolve(i) for e, i in self.attached.items()}


def one_worker(events: Sequence[SecurityEvent], *, pack: RulePack, config: Config) -> OneWorker:
    """Today's correlator, reading the signals in event-time order."""
    ordered = sorted(events, key=lambda e: (e.occurred_at, e.event_id))
    _, commands = correlate_batch(None, ordered, pack=pack, config=config)
    result = OneWorker({}, {}, {}, {})
    for c in commands:
        if isinstance(c, AttachSignal):
            result.attached[c.evidence.event_id] = c.incident_id
            result.reasons[c.evidence.event_id] = c.evidence.reason
            result.attach_count[c.evidence.event_id] = result.attach_count.get(c.evidence.event_id, 0) + 1
        elif isinstance(c, MergeIncident):
            result.into.setdefault(c.incident_id, c.into)
    return result


def groups(final: dict[str, str]) -> set[frozenset[str]]:
    by: dict[str, set[str]] = {}
    for e, i in final.items():
        by.setdefault(i, set()).add(e)
    return {frozenset(s) for s in by.values()}
