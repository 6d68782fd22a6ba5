"""Correlation: signals become incidents, by shared entities and by rules, in event time.

``correlate_batch(window, events, pack=..., config=...)`` is pure. ``window`` is the state of
one *partition key* (:func:`correlation_key`: the controller, or the asset of a signal no
profile declares); every signal of a key reaches the same worker, so its state never needs
a second hop. Within a key:

* **Rules.** Each signal is matched against the detection rules of the pack. A signal whose
  only matches feed correlation rules (failed logons, say) is *held* until a correlation
  fires (then every contributing signal is attached), it shares an entity with an open
  incident (then it joins that one at once, its reason saying it was held: evidence is never
  dropped), or its timespan passes (then it is dropped: it was noise). Any other signal (a
  standalone rule matched, or no rule at all: the SIEM already called it an alert; or one that
  confirms a breach) is attached at once.
* **Grouping.** An incident is open for (controller, entity, window): a signal joins the open
  incident that shares one of its entities (``Config.link_on``: host, user, source IP, data
  store) within ``span`` of its signals; a signal that shares entities with several open
  incidents merges them (the oldest survives and takes the others' entities; the others take
  no new signals). Otherwise it opens one whose id is uuid5(key, host, span bucket of the
  event time): the id no longer depends on which event arrived first, only on the bucket.
* **Unmapped copies.** A signal no profile declares is keyed by its asset; ingest also copies it,
  tagged ``LINK_ONLY``, to each controller's key, where it only joins an open incident it shares
  an account, a source address or a data store with.
* **Why.** Every attached signal carries a reason naming the rules, the correlation that
  fired, the entity *kinds* it was linked by with a keyed hash of the value, and its
  fingerprint. Never the value itself: Evidence is kept for years (``signals.Evidence``).
* **Duplicates.** A signal is ignored when its event id, or its fingerprint (a hash of the
  ``Config.fingerprint`` fields: the same alert re-sent with a new id), was seen within the
  lateness bound (the state would otherwise grow with rate × window). An older duplicate id
  still reaches the incident it belongs to, which ignores an event id it already holds.
* **Time.** Everything runs on event time. The watermark is the newest event time seen,
  capped by each event's ingest time (a clock far in the future cannot expire everything).
  Events up to ``Config.lateness`` behind the watermark are handled exactly as in order;
  later ones are still attached, but their reason says late, and state older than
  ``watermark - lateness - (span or the longest rule timespan)`` may already be gone.
* **Bounded.** After each batch, incidents, seen ids (after the lateness bound), rule hits and
  held signals older than that horizon are dropped, and each list is capped (``Config.max_*``), oldest out first.
"""

from __future__ import annotations

import uuid
from bisect import insort
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from hashlib import blake2b
from typing import Any

from incident.commands import AttachSignal, MergeIncident
from incident.copying import evolve
from incident.reasons import Part, Why, say
from incident.rules import CorrelationRule, Hit, RulePack, fires_ordered, hit_order
from incident.signals import Evidence, SecurityEvent

NAMESPACE = uuid.UUID("6f1d3c52-7f0e-4d55-9a1e-5b2f0b7e1c01")
DEFAULT_SPAN = timedelta(hours=24)
# The tag of the copy of an unmapped signal that ingest sends to each controller's key
# (``_Work._link_unmapped``): there it may only join an open incident. Honoured only on an
# unmapped signal, so a record carrying it cannot keep itself out of its controller's incidents.
LINK_ONLY = "breach:link-only"
EMPTY_PACK = RulePack()
# A signal to attach (a held one's Evidence, or the signal itself), its entities and fingerprint.
Attaching = tuple[Evidence | SecurityEvent, tuple[str, ...], str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    span: timedelta = DEFAULT_SPAN  # an incident takes signals this long before/after its own
    lateness: timedelta = timedelta(hours=1)  # handled as if in order up to this far behind the watermark
    link_on: tuple[str, ...] = ("host.name", "user.name", "source.ip", "data_store.name")
    fingerprint: tuple[str, ...] = ("rule.id", "rule.name", "host.name", "user.name", "source.ip",
                                    "destination.ip", "event.action", "event.outcome", "@timestamp")
    salt: str = ""  # keys the entity hashes, so a reason's hash cannot be looked up in a table of IPs
    max_incidents: int = 1_000
    max_seen: int = 20_000
    max_hits: int = 10_000
    max_held: int = 2_000
    max_entities: int = 256  # per incident: merging many accounts must not grow it without end


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenIncident:
    incident_id: str
    entities: tuple[str, ...]  # "kind#hash"
    first_at: datetime
    last_at: datetime
    merged_into: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Seen:
    event_id: str
    fingerprint: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Held:
    """A signal waiting for a correlation: what its Evidence will be, without personal data."""

    evidence: Evidence
    entities: tuple[str, ...]
    rules: tuple[str, ...]
    fingerprint: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Fired:
    """An outermost correlation that fired for a group, and the event times it spanned: a signal
    of that group arriving later (out of order, or still going on) joins without re-counting."""

    correlation: str
    group: str
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """The correlator's state for one partition key (a faust table value)."""

    key: str
    watermark: datetime | None = None
    incidents: tuple[OpenIncident, ...] = ()
    seen: tuple[Seen, ...] = ()
    hits: tuple[Hit, ...] = ()
    held: tuple[Held, ...] = ()
    fired: tuple[Fired, ...] = ()
    version: int = 0  # bumped per batch: lets the shell cache the decoded state safely
    incident_id: str | None = field(default=None)  # the incident the last signal joined (for logs)

    def trimmed(self) -> Window:
        """The newest half of every list: what the shell keeps when the state outgrows a record.
        Drops dedup memory, rule hits and held signals early, never an open incident's id."""
        def half(items: tuple[Any, ...]) -> tuple[Any, ...]:
            return items[(len(items) + 1) // 2:]  # the lists are kept oldest first
        return replace(self, seen=half(self.seen), hits=half(self.hits), held=half(self.held),
                       incidents=self.incidents[-max(len(self.incidents) // 2, 1):] if len(self.incidents) > 64
                       else self.incidents, version=self.version + 1)

    @property
    def size(self) -> int:
        return len(self.incidents) + len(self.seen) + len(self.hits) + len(self.held) + len(self.fired)


def entity_hash(value: str, salt: str) -> str:
    """The keyed hash an entity's value (a user name, an IP) is written as in reasons: the
    console's search hashes a term the same way to find the incidents it linked."""
    return blake2b(value.encode(), digest_size=6, key=salt.encode()[:64]).hexdigest()


def correlation_key(event: SecurityEvent) -> str:
    """The partition key: the controller, so every entity of one controller meets on one worker;
    a signal no profile declares is keyed by its asset (it cannot join a controller's incident)."""
    return event.controller or f"unmapped|{event.asset}"


def correlate(window: Window | None, event: SecurityEvent, *, pack: RulePack = EMPTY_PACK,
              config: Config = Config()) -> tuple[Window, list[AttachSignal | MergeIncident]]:
    return correlate_batch(window, [event], pack=pack, config=config)


def correlate_batch(window: Window | None, events: Sequence[SecurityEvent], *, pack: RulePack = EMPTY_PACK,
                    config: Config = Config()) -> tuple[Window, list[AttachSignal | MergeIncident]]:
    """Correlate a batch of signals of one partition key; returns the new state and the commands."""
    if not events:
        return window or Window(key=""), []
    correlator = Correlator(window or Window(key=correlation_key(events[0])), pack=pack, config=config)
    commands = correlator.add(events)
    return correlator.snapshot(), commands


class Correlator:
    """One key's state kept alive across batches: what ``correlate_batch`` rebuilds and freezes
    per call (indexes, sorted lists) is built once here, and ``snapshot()`` is taken only when
    the shell persists it. The commands are those ``correlate_batch`` would give for the same
    batches; between snapshots, state past its horizon may linger a little longer (at most
    ``EXPIRY_SLACK`` of event time, or 25 % over a cap) before it is dropped, which the module's
    contract allows ("may already be gone"). ``snapshot()`` is bounded exactly."""

    EXPIRY_SLACK = timedelta(minutes=1)

    def __init__(self, window: Window, *, pack: RulePack = EMPTY_PACK, config: Config = Config()) -> None:
        self._work = _Work(window, pack, config)

    @property
    def key(self) -> str:
        return self._work.key

    @property
    def size(self) -> int:
        w = self._work
        return len(w.incidents) + len(w.seen) + len(w.hits) + len(w.held) + len(w.fired)

    def add(self, events: Sequence[SecurityEvent]) -> list[AttachSignal | MergeIncident]:
        work = self._work
        work.commands = []
        for event in events:
            work.add(event)
        if work.due(self.EXPIRY_SLACK):
            work.compact()
        return work.commands

    def snapshot(self) -> Window:
        self._work.version += 1
        return self._work.freeze(self._work.version)


class _Work:
    """The state of one batch as mutable lists: appending to tuples per signal would be quadratic."""

    MAX_ENTITY_CACHE = 4_096

    def __init__(self, window: Window, pack: RulePack, config: Config) -> None:
        self.key, self.pack, self.config = window.key, pack, config
        self.salt_key = config.salt.encode()[:64]
        self.span_text = _human(config.span)
        self.entity_of: dict[tuple[str, str], str] = {}
        self.watermark = window.watermark
        self.version = window.version
        self.incidents = list(window.incidents)
        self.seen = list(window.seen)
        self.hits = list(window.hits)
        self.held = {h.evidence.event_id: h for h in window.held}
        self.commands: list[AttachSignal | MergeIncident] = []
        self.last_incident = window.incident_id
        self.correlations_of: dict[str, list[CorrelationRule]] = {}
        for c in pack.correlations:
            for ref in c.rules:
                self.correlations_of.setdefault(ref, []).append(c)
        self.referenced = {r for c in pack.correlations for r in c.rules}
        self.fired = {(f.correlation, f.group): f for f in window.fired}
        self.entity_sets: dict[str, set[str]] = {}  # incident id -> its entities, as a set
        # Set by compact(), kept by _attach: where each incident is in ``incidents``, and the
        # incidents that hold each entity (ids of merged or dropped ones may linger: looked up
        # again). Scanning every open incident per signal was the correlator's largest cost.
        self.position: dict[str, int] = {}
        self.holding: dict[str, list[str]] = {}
        # Set by compact(): the indexes over the lists, and per horizon ("seen", "rules",
        # "incidents") the oldest time in its lists, ``least`` the smallest of those.
        self.seen_ids: set[str] = set()
        self.seen_prints: set[str] = set()
        self.hits_by: dict[tuple[str, str], list[Hit]] = {}
        self.oldest: dict[str, datetime | None] = {}
        self.least: datetime | None = None
        self.outer_of: dict[str, set[str]] = {}  # rule id -> the outermost correlations it feeds
        by_id = {c.id: c for c in pack.correlations}

        def outer(rule_id: str) -> set[str]:
            found: set[str] = set()
            for c in self.correlations_of.get(rule_id, ()):
                found |= outer(c.id) if c.id in self.referenced else {c.id}
            return found

        for rule_id in {*self.correlations_of, *by_id}:
            self.outer_of[rule_id] = outer(rule_id)
        self.by_id = by_id
        self.compact()

    # -- one signal ----------------------------------------------------------------------------

    def add(self, event: SecurityEvent) -> None:
        if event.controller is None and self._controller is not None and LINK_ONLY in event.tags:
            self._link_unmapped(event)
            return
        fields = event.fields()
        fingerprint = self._fingerprint(fields)
        if event.event_id in self.seen_ids or fingerprint in self.seen_prints:
            return
        self.seen_ids.add(event.event_id)
        self.seen_prints.add(fingerprint)
        at = event.occurred_at
        # Every list's times are signal times: the oldest signal bounds each list from below.
        if self.least is None or at < self.least:
            self.least = at
            self.oldest = {name: at if old is None or at < old else old for name, old in self.oldest.items()}
        self.seen.append(Seen(event_id=event.event_id, fingerprint=fingerprint, at=at))
        late = self.watermark is not None and at < self.watermark - self.config.lateness
        capped = min(at, event.ingested_at)
        self.watermark = capped if self.watermark is None else max(self.watermark, capped)

        matched = self.pack.matching(fields)
        entities = tuple(self._entity(name, fields[name]) for name in self.config.link_on
                         if fields.get(name) not in (None, "", []))
        fired = self._correlate(event, fields, matched)
        standalone = [r for r in matched if r not in self.pack.held]
        note: Why = (("late", _human(self.watermark - at)),) if late else ()
        # A signal that confirms a breach is never held: the SIEM already concluded (a Wazuh level
        # 12 "failures followed by a success" is also one successful logon for the pack).
        if standalone or not matched or event.confirms_breach:
            what: Part = (("rule_matched", ", ".join(self.pack.title_of(r) for r in standalone)) if standalone
                          else ("siem_confirming", ", ".join(self.pack.title_of(r) for r in matched)) if matched
                          else ("siem_alert",))
            self._attach([(event, entities, fingerprint)], (what, *note))
        else:
            self.held[event.event_id] = Held(evidence=Evidence.of(event, ""), entities=entities, rules=matched,
                                             fingerprint=fingerprint)
        for rule, contributing, group in fired:
            self._release(rule, contributing, note, group)
        if event.event_id in self.held:
            self._join_fired(event, fields, matched, note)
        if event.event_id in self.held and self._sharing(set(entities), at, at):
            # Evidence of an incident already open (the read of the customer table during the
            # breach): it joins now rather than wait for a count it may never reach. Its hits
            # stay counted, so the correlation still fires for the signals still held.
            held = self.held.pop(event.event_id)
            feeds = sorted({c for r in matched for c in self.outer_of.get(r, ())})
            what = ("held_joined", ", ".join(self.pack.title_of(r) for r in matched),
                    ", ".join(self.pack.title_of(c) for c in feeds))
            self._attach([(held.evidence, held.entities, held.fingerprint)], (what, *note))

    def _link_unmapped(self, event: SecurityEvent) -> None:
        """A signal no profile declares, which ingest also copies to each controller's key (its
        own key, by asset, handles it as ever): here it only joins an open incident it shares an
        entity with (the attacker's address, an account), saying so. No rule counts it, it opens
        nothing and leaves nothing in the window but what joining changes in the incident: a
        redelivered copy is ignored by the incident, which holds its event id already. Its asset
        is no entity here: a sensor or an unknown host that names every alert it sees would
        otherwise pull all of them in after the first."""
        fields = event.fields()
        entities = tuple(self._entity(name, fields[name]) for name in self.config.link_on
                         if name != "host.name" and fields.get(name) not in (None, "", []))
        if not self._sharing(set(entities), event.occurred_at, event.occurred_at):
            return
        fingerprint = self._fingerprint(fields)
        self._attach([(event, entities, fingerprint)], (("unmapped_link",),))

    def _correlate(self, event: SecurityEvent, fields: dict[str, object], matched: tuple[str, ...],
                   ) -> list[tuple[CorrelationRule, set[str], str]]:
        """Record hits for the correlations the matched rules feed; returns the outermost
        correlations that fire, each with the ids of every signal that contributed."""
        out: list[tuple[CorrelationRule, set[str], str]] = []
        pending = [(rule_id, frozenset({event.event_id})) for rule_id in matched]
        while pending:
            rule_id, sources = pending.pop(0)
            for c in self.correlations_of.get(rule_id, ()):
                group = self._group(c, fields)
                if group is None:
                    continue
                value = fields.get(c.field) if c.field else None
                hit = Hit(at=event.occurred_at, rule=rule_id, group=group, correlation=c.id,
                          value=self._hash(str(value)) if value is not None else None, sources=tuple(sorted(sources)))
                self.hits.append(hit)
                same = self.hits_by.setdefault((c.id, group), [])
                insort(same, hit, key=hit_order)  # at the end, unless the signal came out of order
                window = fires_ordered(c, same)
                if not window:
                    continue
                contributing = {s for h in window for s in h.sources}
                if c.id in self.referenced:  # an inner correlation: its firing is a hit of the outer one
                    pending.append((c.id, frozenset(contributing)))
                else:
                    out.append((c, contributing, group))
        return out

    def _join_fired(self, event: SecurityEvent, fields: dict[str, object], matched: tuple[str, ...],
                    note: Why) -> None:
        """A held signal of a group whose correlation already fired, within its timespan of the
        signals that made it fire, joins them (a late failure of a brute force, say)."""
        for correlation_id in sorted({c for r in matched for c in self.outer_of.get(r, ())}):
            rule = self.by_id[correlation_id]
            group = self._group(rule, fields)
            record = self.fired.get((rule.id, group)) if group is not None else None
            if record and record.first_at - rule.timespan <= event.occurred_at <= record.last_at + rule.timespan:
                self._release(rule, {event.event_id}, note)
                return

    def _group(self, rule: CorrelationRule, fields: dict[str, object]) -> str | None:
        if any(fields.get(g) in (None, "", []) for g in rule.group_by):
            return None  # Sigma counts per group; a signal without the group's fields has none
        return self._hash("|".join(str(fields[g]) for g in rule.group_by))

    def _release(self, rule: CorrelationRule, contributing: set[str], note: Why, group: str | None = None) -> None:
        held = sorted((self.held.pop(i) for i in contributing if i in self.held),
                      key=lambda h: (h.evidence.occurred_at, h.evidence.event_id))
        if not held:
            return
        if group is not None:
            first, last = held[0].evidence.occurred_at, held[-1].evidence.occurred_at
            record = self.fired.get((rule.id, group))
            if record is not None:
                first, last = min(first, record.first_at), max(last, record.last_at)
            self.fired[(rule.id, group)] = Fired(correlation=rule.id, group=group, first_at=first, last_at=last)
        groups = ", ".join(rule.group_by)
        what = ("correlation_fired", rule.name or rule.title, rule.type,
                ", ".join(self.pack.title_of(r) for r in rule.rules), groups, _human(rule.timespan))
        self._attach([(h.evidence, h.entities, h.fingerprint) for h in held], (what, *note))

    # -- incidents -----------------------------------------------------------------------------

    def _attach(self, items: list[Attaching], what: Why) -> None:
        """Attach signals that belong together (one, or all of a fired correlation) to one incident.
        A signal attached as it arrives comes as itself: its Evidence is made once, with its reason."""
        if len(items) == 1:  # the common case, without the generators
            entities = set(items[0][1])
            first = last = items[0][0].occurred_at
        else:
            entities = {e for _, ents, _ in items for e in ents}
            first = min(ev.occurred_at for ev, _, _ in items)
            last = max(ev.occurred_at for ev, _, _ in items)
        candidates = self._sharing(entities, first, last)
        if candidates:
            if len(candidates) == 1:
                survivor, others = candidates[0], []
                shared = sorted(entities & self._entities(survivor))
            else:
                survivor = min(candidates, key=lambda o: (o.first_at, o.incident_id))
                others = [o for o in candidates if o is not survivor]
                shared = sorted(e for e in entities if any(e in self._entities(o) for o in candidates))
            how: Why = (("joined_by", ", ".join(shared), self.span_text),)
            if others:
                how += (("merges", ", ".join(o.incident_id for o in others)),)
                self._merge(others, survivor, entities, [ev.event_id for ev, _, _ in items])
            known = self._entities(survivor)
            # Only what is new is collected: an incident holds up to max_entities, a signal a few.
            extra = {e for e in entities if e not in known}
            for o in others:
                extra.update(e for e in o.entities if e not in known)
            if extra and len(known) < self.config.max_entities:
                kept = tuple(sorted(known | extra))[:self.config.max_entities]
                self.entity_sets[survivor.incident_id] = set(kept)
            else:
                kept = survivor.entities  # nothing new, or full: no re-sort per signal
            first_at = min(survivor.first_at, first, *[o.first_at for o in others])
            last_at = max(survivor.last_at, last, *[o.last_at for o in others])
            if kept is survivor.entities and first_at == survivor.first_at and last_at == survivor.last_at:
                current = survivor
            else:
                current = OpenIncident(incident_id=survivor.incident_id, entities=kept, first_at=first_at,
                                       last_at=last_at, merged_into=survivor.merged_into)
            if others:
                self.incidents = [current if o is survivor else
                                  replace(o, merged_into=survivor.incident_id) if o in others else o
                                  for o in self.incidents]
            elif current is not survivor:
                self.incidents[self.position[survivor.incident_id]] = current
            for entity in kept if kept is not survivor.entities else ():
                if entity not in known:
                    self.holding.setdefault(entity, []).append(survivor.incident_id)
        else:
            current = OpenIncident(incident_id=self._new_id(items, entities, first),
                                   entities=tuple(sorted(entities))[:self.config.max_entities],
                                   first_at=first, last_at=last)
            self.position[current.incident_id] = len(self.incidents)
            self.incidents.append(current)
            for entity in current.entities:
                self.holding.setdefault(entity, []).append(current.incident_id)
            how = (("opened_for", ", ".join(sorted(entities))) if entities else ("opened_for_asset",),)
        for signal, _, fingerprint in items:
            why = (*what, *how, *((("unmapped",),) if signal.system is None else ()), ("fingerprint", fingerprint))
            reason = say(why)
            evidence = (Evidence.of(signal, reason, why) if isinstance(signal, SecurityEvent)
                        else evolve(signal, reason=reason, why=why))
            self.commands.append(AttachSignal(incident_id=current.incident_id, controller=self._controller,
                                              correlation_key=self.key, evidence=evidence))
        self.last_incident = current.incident_id

    def _sharing(self, entities: set[str], first: datetime, last: datetime) -> list[OpenIncident]:
        """The open incidents a signal of these entities and times joins: sharing one, within span."""
        span = self.config.span
        found: dict[int, OpenIncident] = {}
        for entity in entities:
            for incident_id in self.holding.get(entity, ()):
                at = self.position.get(incident_id)
                if at is None or at in found:
                    continue
                o = self.incidents[at]
                if (o.incident_id == incident_id and o.merged_into is None and o.first_at - span <= last
                        and first <= o.last_at + span and not entities.isdisjoint(self._entities(o))):
                    found[at] = o
        return [found[at] for at in sorted(found)]  # in the list's order, as a scan gave them

    def _merge(self, others: list[OpenIncident], survivor: OpenIncident, entities: set[str],
               event_ids: list[str]) -> None:
        """Each absorbed incident is told where its evidence goes, and why (kinds and hashes only)."""
        ids, more = ", ".join(event_ids[:3]), str(len(event_ids) - 3) if len(event_ids) > 3 else ""
        with_survivor = ", ".join(sorted(entities & self._entities(survivor)))
        for other in others:
            why = (("merge_shares", ids, more, ", ".join(sorted(entities & self._entities(other))), with_survivor,
                    survivor.incident_id, self.span_text),)
            self.commands.append(MergeIncident(incident_id=other.incident_id, into=survivor.incident_id,
                                               reason=say(why), why=why))

    def _entities(self, incident: OpenIncident) -> set[str]:
        found = self.entity_sets.get(incident.incident_id)
        if found is None:
            found = self.entity_sets[incident.incident_id] = set(incident.entities)
        return found

    @property
    def _controller(self) -> str | None:
        return None if self.key.startswith("unmapped|") else self.key

    def _new_id(self, items: list[Attaching], entities: set[str],
                first: datetime) -> str:
        # The host of the earliest signal and the span bucket of its event time: the same for
        # any arrival order of an attack's signals that fall in one bucket.
        evidence = min((ev for ev, _, _ in items), key=lambda ev: (ev.occurred_at, ev.event_id))
        bucket = int(first.timestamp() // max(self.config.span.total_seconds(), 1))
        base = f"{self.key}|{evidence.asset}|{bucket}"
        candidate, n = str(uuid.uuid5(NAMESPACE, base)), 1
        while candidate in self.position:  # another incident of the same host and bucket is still open
            n += 1
            candidate = str(uuid.uuid5(NAMESPACE, f"{base}|{n}"))
        return candidate

    def _hash(self, value: str) -> str:
        return blake2b(value.encode(), digest_size=6, key=self.salt_key).hexdigest()  # entity_hash, key encoded once

    def _fingerprint(self, fields: dict[str, object]) -> str:
        get = fields.get
        return "fp:" + self._hash("|".join([str(get(f, "")) for f in self.config.fingerprint]))

    def _entity(self, name: str, value: object) -> str:
        """``kind#hash`` of one entity: a host or an account recurs in most signals of a key, so
        each is hashed once while it does (in memory only, like the signals themselves)."""
        text = str(value)
        found = self.entity_of.get((name, text))
        if found is None:
            if len(self.entity_of) >= self.MAX_ENTITY_CACHE:
                self.entity_of.clear()
            found = self.entity_of[(name, text)] = f"{name}#{self._hash(text)}"
        return found

    # -- state ---------------------------------------------------------------------------------

    def _bounded(self) -> tuple[list[OpenIncident], list[Seen], list[Hit], list[Held], list[Fired]]:
        """Every list without what is past its horizon or over its cap, oldest first."""
        c = self.config
        incidents, seen, hits, held = self.incidents, self.seen, self.hits, list(self.held.values())
        fired = list(self.fired.values())
        if self.watermark is not None:
            horizon = self.watermark - c.lateness - c.span
            rule_horizon = self.watermark - c.lateness - self.pack.max_timespan
            incidents = [o for o in incidents if o.last_at >= horizon]
            # Dedup memory spans the lateness bound: a redelivery or re-send within it is caught
            # here; an older duplicate joins the incident it came from (still open, by its
            # entities), whose aggregate ignores an event id it already has.
            seen = [s for s in seen if s.at >= self.watermark - c.lateness]
            hits = [h for h in hits if h.at >= rule_horizon]
            held = [h for h in held if h.evidence.occurred_at >= rule_horizon]
            fired = [f for f in fired if f.last_at >= rule_horizon]
        incidents = sorted(incidents, key=lambda o: o.last_at)[-c.max_incidents:]
        seen = sorted(seen, key=lambda s: s.at)[-c.max_seen:]
        hits = sorted(hits, key=lambda h: h.at)[-c.max_hits:]
        held = sorted(held, key=lambda h: h.evidence.occurred_at)[-c.max_held:]
        fired = sorted(fired, key=lambda f: f.last_at)[-c.max_incidents:]
        return incidents, seen, hits, held, fired

    def freeze(self, version: int | None = None) -> Window:
        incidents, seen, hits, held, fired = self._bounded()
        return Window(key=self.key, watermark=self.watermark, incidents=tuple(incidents), seen=tuple(seen),
                      hits=tuple(hits), held=tuple(held), fired=tuple(fired),
                      version=self.version + 1 if version is None else version, incident_id=self.last_incident)

    def due(self, slack: timedelta) -> bool:
        """Whether a compaction would drop something older than ``slack`` past its horizon, or
        a list is 25 % over its cap (cheap: no list is walked)."""
        c = self.config
        if (len(self.seen) > c.max_seen * 1.25 or len(self.hits) > c.max_hits * 1.25
                or len(self.held) > c.max_held * 1.25 or len(self.incidents) > c.max_incidents * 1.25
                or len(self.fired) > c.max_incidents * 1.25):
            return True
        if self.watermark is None:
            return False
        horizons = {"seen": self.watermark - c.lateness, "incidents": self.watermark - c.lateness - c.span,
                    "rules": self.watermark - c.lateness - self.pack.max_timespan}
        return any(old is not None and old < horizons[name] - slack for name, old in self.oldest.items())

    def compact(self) -> None:
        """Drop what ``freeze`` would and rebuild the indexes over what is left."""
        incidents, seen, hits, held, fired = self._bounded()
        self.incidents, self.seen, self.hits = incidents, seen, hits
        self.held = {h.evidence.event_id: h for h in held}
        self.fired = {(f.correlation, f.group): f for f in fired}
        self.seen_ids = {s.event_id for s in seen}
        self.seen_prints = {s.fingerprint for s in seen}
        self.hits_by = {}
        for hit in hits:
            self.hits_by.setdefault((hit.correlation, hit.group), []).append(hit)
        for same in self.hits_by.values():
            same.sort(key=hit_order)  # kept in order from here on: fires_ordered reads them as they are
        live = {o.incident_id for o in incidents}
        self.entity_sets = {i: e for i, e in self.entity_sets.items() if i in live}
        self.position = {o.incident_id: n for n, o in enumerate(incidents)}
        self.holding = {}
        for o in incidents:
            for entity in self._entities(o):
                self.holding.setdefault(entity, []).append(o.incident_id)
        rules = [*(h.at for h in hits), *(h.evidence.occurred_at for h in held), *(f.last_at for f in fired)]
        self.oldest = {"seen": seen[0].at if seen else None, "rules": min(rules) if rules else None,
                       "incidents": min((o.last_at for o in incidents), default=None)}
        self.least = min((t for t in self.oldest.values() if t is not None), default=None)


def _human(span: timedelta) -> str:
    seconds = span.total_seconds()
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
