"""The host stage: the one-worker correlator restricted to one host, the stage keyed by
(controller, host) (docs/rules.md, "One controller over N workers").

Every signal of a host reaches it, so it deduplicates (the fingerprint holds ``host.name``: a
duplicate meets its original here), matches the detection rules once, and opens the host's
incidents with today's ids, uuid5(controller, host, span bucket), joining by the host within the
window. What it cannot decide alone it sends on:

* each attached signal's other entities to their linkers (``EntitySeen``), which merge;
* each hit of a correlation rule to its rule stage (``RuleHit``), which releases the held
  signals behind a firing (``Release`` back here);
* for a held signal, ``HeldAsk`` to its entities' linkers and ``FiredAsk`` to the rule stages it
  feeds: an incident already open with one of its entities, or a firing it falls within, releases it.

A held signal is *attached at* the event time of what released it: the signal that fired the
correlation, or its own time when it joined an incident that held one of its entities before it.
That is when one worker reading in event-time order attaches it, and it is what decides whether a
later held signal finds an incident open (``EntitySeen.attached_at``). A settled firing sends a
second ``Release`` with its link (a pseudo-entity): the signals that firing attached link by it.

The hits carry this stage's watermark; the shell sets ``RuleHit.partition`` (the ``signals``
partition it read), which the rule stage combines watermarks by.
"""

from __future__ import annotations

import uuid
from bisect import insort
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from incident.commands import AttachSignal
from incident.correlation import NAMESPACE, Config, _human, entity_hash
from incident.rules import CorrelationRule, RulePack
from incident.signals import Evidence, SecurityEvent
from incident.stage_messages import Contributor, EntitySeen, FiredAsk, HeldAsk, Merge, Rank, Release, RuleHit

HostOutput = AttachSignal | EntitySeen | HeldAsk | RuleHit | FiredAsk | Merge
HOST = "host.name"
DEFAULT = Config()


@dataclass(slots=True)
class _Incident:
    incident_id: str
    rank: Rank
    first_at: datetime
    last_at: datetime
    merged_into: str | None = None


@dataclass(slots=True)
class _Signal:
    """A signal of this host, held or attached: what its Evidence is and what it links by."""

    evidence: Evidence
    entities: tuple[str, ...]  # its entities other than the host, "kind#hash"
    fingerprint: str
    matched: tuple[str, ...]  # the detection rules it matched
    feeds: tuple[str, ...]  # the outermost correlations it feeds (held for them)
    incident_id: str | None = None  # None while held
    link: str | None = None  # the firing that attached it, once settled (``RuleStage.settle``)
    attached_at: datetime | None = None


class HostStage:
    """The state of one (controller, host) key; each method returns what it sends."""

    def __init__(self, controller: str, host: str, *, pack: RulePack, config: Config = DEFAULT) -> None:
        self.controller, self.host, self.pack, self.config = controller, host, pack, config
        self.host_entity = f"{HOST}#{entity_hash(host, config.salt)}"
        self.incidents: list[_Incident] = []
        self.signals: dict[str, _Signal] = {}
        self.waiting: set[str] = set()  # held, or released later than their own time
        self.joined: list[tuple[datetime, datetime]] = []  # (attached at, event time) of attached signals, sorted
        self.prints: set[str] = set()
        self.watermark: datetime | None = None
        self.feeding: dict[str, list[CorrelationRule]] = {}
        for c in pack.correlations:
            for ref in c.rules:
                self.feeding.setdefault(ref, []).append(c)
        referenced = {r for c in pack.correlations for r in c.rules}
        by_id = {c.id: c for c in pack.correlations}
        self.by_id = by_id

        def above(rule_id: str) -> set[str]:
            return {c.id for c in self.feeding.get(rule_id, ())} | {
                x for c in self.feeding.get(rule_id, ()) for x in above(c.id)}
        self.above = {r: above(r) for r in {*self.feeding, *by_id}}
        self.outermost = {r: {c for c in ids if c not in referenced} for r, ids in self.above.items()}

    # -- a signal --------------------------------------------------------------------------------

    def add(self, event: SecurityEvent) -> list[HostOutput]:
        fields = event.fields()
        fingerprint = "fp:" + entity_hash("|".join(str(fields.get(f, "")) for f in self.config.fingerprint),
                                          self.config.salt)
        if event.event_id in self.signals or fingerprint in self.prints:
            return []
        self.prints.add(fingerprint)
        at = event.occurred_at
        late = self.watermark is not None and at < self.watermark - self.config.lateness
        capped = min(at, event.ingested_at)
        self.watermark = capped if self.watermark is None else max(self.watermark, capped)
        note = f" (late: {_human(self.watermark - at)} behind the newest signal)" if late else ""
        matched = self.pack.matching(fields)
        entities = tuple(f"{name}#{entity_hash(str(fields[name]), self.config.salt)}" for name in self.config.link_on
                         if name != HOST and fields.get(name) not in (None, "", []))
        standalone = [r for r in matched if r not in self.pack.held]
        held = not (standalone or not matched or event.confirms_breach)
        feeds = tuple(sorted({c for r in matched for c in self.outermost.get(r, ())}))
        signal = _Signal(evidence=Evidence.of(event, ""), entities=entities, fingerprint=fingerprint,
                         matched=matched, feeds=feeds)
        self.signals[event.event_id] = signal
        if held:
            self.waiting.add(event.event_id)
        out: list[HostOutput] = list(self._hits(event, fields, matched, held))
        if not held:
            what = (f"rule {', '.join(self.pack.title_of(r) for r in standalone)} matched" if standalone
                    else f"SIEM alert confirming a breach (rule {', '.join(self.pack.title_of(r) for r in matched)} "
                         "matched)" if matched
                    else "SIEM alert (no rule of the pack claims it)")
            out.extend(self._attach(event.event_id, at, what + note))
            return out
        for entity in entities:
            out.append(HeldAsk(controller=self.controller, entity=entity, host=self.host, event_id=event.event_id,
                               at=at))
        for correlation in feeds:
            group = self._group(self.by_id[correlation], fields)
            if group is not None:
                out.append(FiredAsk(controller=self.controller, correlation=correlation, group=group, host=self.host,
                                    event_id=event.event_id, at=at))
        if self._open_before(at):
            out.extend(self._attach(event.event_id, at, self._joined_at_once(signal, self.host_entity)))
        return out

    def release(self, record: Release) -> list[HostOutput]:
        """A firing or a linker releases a held signal (read twice, or released already: nothing,
        unless this release is earlier in event time, which later held signals must see)."""
        signal = self.signals.get(record.event_id)
        if signal is None:
            return []
        if record.link is not None:  # a settled firing: link to its other signals if it attached this one
            if signal.attached_at != record.at or signal.link is not None:
                return []
            signal.link = record.link
            return [seen for seen in self._seen(record.event_id, signal) if seen.entity == record.link]
        if signal.incident_id is None:
            why = record.why if record.joined_by is None else self._joined_at_once(signal, record.joined_by)
            return self._attach(record.event_id, record.at, why)
        return self._earlier(record.event_id, record.at)

    # -- inside ----------------------------------------------------------------------------------

    def _hits(self, event: SecurityEvent, fields: dict[str, object], matched: tuple[str, ...],
              held: bool) -> list[RuleHit]:
        out: list[RuleHit] = []
        source = (Contributor(event_id=event.event_id, host=self.host, at=event.occurred_at, held=held),)
        outer: tuple[tuple[str, str], ...] | None = None
        for rule_id in matched:
            for c in self.feeding.get(rule_id, ()):
                group = self._group(c, fields)
                if group is None:
                    continue
                if outer is None:
                    groups = {x: self._group(self.by_id[x], fields) for r in matched for x in self.above.get(r, ())}
                    outer = tuple(sorted((x, g) for x, g in groups.items() if g is not None))
                value = fields.get(c.field) if c.field else None
                out.append(RuleHit(controller=self.controller, correlation=c.id, group=group, rule=rule_id,
                                   key=f"{rule_id}:{event.event_id}", at=event.occurred_at,
                                   value=entity_hash(str(value), self.config.salt) if value is not None else None,
                                   sources=source, outer=outer, watermark=self.watermark))
        return out

    def _group(self, rule: CorrelationRule, fields: dict[str, object]) -> str | None:
        if any(fields.get(g) in (None, "", []) for g in rule.group_by):
            return None
        return entity_hash("|".join(str(fields[g]) for g in rule.group_by), self.config.salt)

    def _open_before(self, at: datetime) -> bool:
        """Whether a signal of this host joined an incident before ``at``, within the window of it."""
        span = self.config.span
        for attached_at, occurred_at in self.joined:  # earliest joined first: usually the first one answers
            if attached_at >= at:
                return False
            if abs(occurred_at - at) <= span:
                return True
        return False

    def _joined_at_once(self, signal: _Signal, entity: str) -> str:
        rules = ", ".join(self.pack.title_of(r) for r in signal.matched)
        feeds = ", ".join(self.pack.title_of(c) for c in signal.feeds) or "none"
        return (f"rule {rules} matched (held for correlation {feeds}, joined at once: it shares {entity} "
                "with an open incident)")

    def _attach(self, event_id: str, attached_at: datetime, what: str) -> list[HostOutput]:
        signal = self.signals[event_id]
        at = signal.evidence.occurred_at
        span = self.config.span
        found = [o for o in self.incidents if o.merged_into is None and o.first_at - span <= at <= o.last_at + span]
        out: list[HostOutput] = []
        if found:
            current = min(found, key=lambda o: o.rank)
            how = f"joined by shared {self.host_entity} within {_human(span)}"
            for other in found:
                if other is not current:  # the signal bridges two of this host's incidents
                    other.merged_into = current.incident_id
                    out.append(Merge(absorbed=other.incident_id, into=current.incident_id, into_rank=current.rank,
                                     absorbed_rank=other.rank,
                                     reason=f"signal {event_id} shares {self.host_entity} with it and with incident "
                                            f"{current.incident_id} within {_human(span)}"))
            current.first_at, current.last_at = min(current.first_at, at), max(current.last_at, at)
        else:
            current = self._open(at)
            how = f"opened for {', '.join(sorted({self.host_entity, *signal.entities}))}"
        unmapped = " (no profile declares the asset)" if signal.evidence.system is None else ""
        signal.evidence = replace(signal.evidence, reason=f"{what}; {how}{unmapped}; fingerprint {signal.fingerprint}")
        signal.incident_id, signal.attached_at = current.incident_id, attached_at
        insort(self.joined, (attached_at, at))
        if attached_at <= at:
            self.waiting.discard(event_id)
        out.append(AttachSignal(incident_id=current.incident_id, controller=self.controller,
                                correlation_key=self.controller, evidence=signal.evidence))
        out.extend(self._seen(event_id, signal))
        out.extend(self._wake(attached_at))
        return out

    def _open(self, at: datetime) -> _Incident:
        bucket = int(at.timestamp() // max(self.config.span.total_seconds(), 1))
        start = datetime.fromtimestamp(bucket * max(self.config.span.total_seconds(), 1), tz=at.tzinfo)
        base = f"{self.controller}|{self.host}|{bucket}"
        taken = {o.incident_id for o in self.incidents}
        candidate, n = str(uuid.uuid5(NAMESPACE, base)), 1
        while candidate in taken:
            n += 1
            candidate = str(uuid.uuid5(NAMESPACE, f"{base}|{n}"))
        opened = _Incident(incident_id=candidate, rank=(start, candidate), first_at=at, last_at=at)
        self.incidents.append(opened)
        return opened

    def _seen(self, event_id: str, signal: _Signal) -> list[EntitySeen]:
        assert signal.incident_id is not None and signal.attached_at is not None
        rank = next(o.rank for o in self.incidents if o.incident_id == signal.incident_id)
        return [EntitySeen(controller=self.controller, entity=entity, incident_id=signal.incident_id, rank=rank,
                           at=signal.evidence.occurred_at, attached_at=signal.attached_at, event_id=event_id)
                for entity in (*signal.entities, *([signal.link] if signal.link else []))]

    def _earlier(self, event_id: str, attached_at: datetime) -> list[HostOutput]:
        """A released signal found to be attached earlier (in event time) than it was: the
        incident stays, but later held signals must see it open from then."""
        signal = self.signals[event_id]
        if signal.attached_at is None or attached_at >= signal.attached_at:
            return []
        self.joined.remove((signal.attached_at, signal.evidence.occurred_at))
        signal.attached_at = attached_at
        insort(self.joined, (attached_at, signal.evidence.occurred_at))
        if attached_at <= signal.evidence.occurred_at:
            self.waiting.discard(event_id)
        return [*self._seen(event_id, signal), *self._wake(attached_at)]

    def _wake(self, attached_at: datetime) -> list[HostOutput]:
        """Signals of this host after ``attached_at`` that wait (held, or released later than their
        own time) join at once from their own time: the host's incident was open."""
        out: list[HostOutput] = []
        for event_id in sorted(self.waiting, key=lambda i: self.signals[i].evidence.occurred_at):
            signal = self.signals[event_id]
            at = signal.evidence.occurred_at
            if event_id in self.waiting and attached_at < at and self._open_before(at):
                if signal.incident_id is None:
                    out.extend(self._attach(event_id, at, self._joined_at_once(signal, self.host_entity)))
                else:
                    out.extend(self._earlier(event_id, at))
        return out

    def expire(self) -> None:
        """Forget what is behind watermark − lateness − the longest of span and rule timespans."""
        if self.watermark is None:
            return
        horizon = self.watermark - self.config.lateness - max(self.config.span, self.pack.max_timespan,
                                                              timedelta(0))
        self.incidents = [o for o in self.incidents if o.last_at >= horizon]
        self.signals = {i: s for i, s in self.signals.items() if s.evidence.occurred_at >= horizon}
        self.waiting &= set(self.signals)
        self.prints = {s.fingerprint for s in self.signals.values()}
        self.joined = [j for j in self.joined if j[1] >= horizon]
