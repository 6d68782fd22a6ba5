"""One controller's signals through the split stages over k simulated workers (issue 19): each
stage's keys hashed onto k partitions, each partition read in order, the partitions interleaved
as a random scheduler picks them, a record now and then read twice (a crash before the commit)."""

from __future__ import annotations

import random
import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

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
    salt = rnd.randrange(1 << 16)
    queues: list[deque[tuple[tuple[str, ...], Record]]] = [deque() for _ in range(4 * k)]
    topics = {"host": 0, "entity": 1, "rule": 2}

    def send(key: tuple[str, ...], record: Record) -> None:
        partition = zlib.crc32(f"{salt}|{'|'.join(key)}".encode()) % k
        queues[topics[key[0]] * k + partition].append((key, record))

    hosts: dict[tuple[str, ...], HostStage] = {}
    linkers: dict[tuple[str, ...], Linker] = {}
    rules: dict[tuple[str, ...], RuleStage] = {}
    by_id = {c.id: c for c in pack.correlations}
    out = Outcome()

    def merge(record: Merge) -> None:
        out.merges.append(record)
        out.ranks[record.absorbed], out.ranks[record.into] = record.absorbed_rank, record.into_rank
        for follow in out.survivors.merge(record):
            merge(follow)

    def route(records: Sequence[object]) -> None:
        for r in records:
            match r:
                case AttachSignal():
                    out.attach_count[r.evidence.event_id] = out.attach_count.get(r.evidence.event_id, 0) + 1
                    out.attached[r.evidence.event_id] = r.incident_id
                    out.reasons[r.evidence.event_id] = r.evidence.reason
                case Merge():
                    merge(r)
                case EntitySeen() | HeldAsk():
                    send(("entity", r.controller, r.entity), r)
                case RuleHit() | FiredAsk():
                    send(("rule", r.controller, r.correlation, r.group), r)
                case Release():
                    send(("host", r.controller, r.host), r)
                case _:
                    raise AssertionError(r)

    for e in events:
        send(("host", e.controller or "", e.asset), e)
    while any(queues):
        queue = rnd.choice([q for q in queues if q])
        key, record = queue[0] if rnd.random() < reread else queue.popleft()
        match record:
            case SecurityEvent() | Release():
                host = hosts.get(key) or hosts.setdefault(key, HostStage(key[1], key[2], pack=pack, config=config))
                route(host.add(record) if isinstance(record, SecurityEvent) else host.release(record))
                for r in route_ranks(host):
                    out.ranks.setdefault(*r)
            case EntitySeen() | HeldAsk():
                linker = linkers.get(key) or linkers.setdefault(key, Linker(key[1], key[2], span=config.span))
                route(linker.seen(record) if isinstance(record, EntitySeen) else linker.ask(record))
            case RuleHit() | FiredAsk():
                stage = rules.get(key) or rules.setdefault(
                    key, RuleStage(key[1], by_id[key[2]], key[3], pack=pack, lateness=config.lateness))
                route(stage.hit(record) if isinstance(record, RuleHit) else stage.ask(record))
    return out


def route_ranks(host: HostStage) -> list[tuple[str, Rank]]:
    return [(o.incident_id, o.rank) for o in host.incidents]


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
