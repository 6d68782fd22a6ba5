"""The rule stage: one correlation rule counted for one group, the stage keyed by (controller,
correlation, group) (docs/rules.md, "One controller over N workers").

Hits come from the host stages of every host of the group (several partitions, interleaved in
any order). The counting is the current rules' (``incident.rules.fires_ordered``, the same
function the one-worker correlator calls): the condition over the sliding timespan that ends at
a hit. One worker, reading in event-time order, evaluates the window ending at each hit once;
here a hit may arrive after later ones, so the windows it falls in (those ending at it and up to
a timespan after it) are evaluated again. What a window sends only grows with what it holds, so
a window read twice, or again with a late hit, sends only what is new.

* A firing of an **outermost** correlation releases its held contributors (``Release`` to each
  one's host stage, at the event time of the hit that made it fire) and is remembered, so a held
  signal of the group arriving later within the timespan of the firing joins it (``FiredAsk``).
* A firing of an **inner** correlation (chaining) is a hit of each correlation it feeds, keyed
  by the window it ended, so a window that grows replaces its hit instead of counting twice.
* **Time.** Each upstream partition's watermark rides on its hits; the stage's watermark is the
  least of them, so a partition that is behind is not judged late by one that is ahead, as one
  worker reading all of them in order would not judge it. Hits behind that watermark − lateness
  − timespan are dropped (``expire``).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import overload

from incident.correlation import _human, entity_hash
from incident.rules import CorrelationRule, Hit, RulePack, fires_ordered, hit_order
from incident.stage_messages import Contributor, FiredAsk, Release, RuleHit


class _Prefix(Sequence[Hit]):
    """The first ``n`` hits, without copying them: a late hit re-evaluates the windows after it."""

    def __init__(self, hits: list[Hit], n: int) -> None:
        self.hits, self.n = hits, n

    def __len__(self) -> int:
        return self.n

    @overload
    def __getitem__(self, i: int) -> Hit: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Hit]: ...

    def __getitem__(self, i: int | slice) -> Hit | Sequence[Hit]:
        if isinstance(i, slice):
            return self.hits[slice(*i.indices(self.n))]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.hits[i]


class Watermarks:
    """The least of the upstream partitions' watermarks (each the newest event time it read).
    With ``partitions`` given, none until each of them has reported: a partition not heard from
    may still hold the oldest signals."""

    def __init__(self, partitions: int | None = None) -> None:
        self.partitions = partitions
        self.by_partition: dict[int, datetime] = {}

    def see(self, partition: int, watermark: datetime | None) -> None:
        if watermark is not None:
            old = self.by_partition.get(partition)
            self.by_partition[partition] = watermark if old is None else max(old, watermark)

    @property
    def combined(self) -> datetime | None:
        if self.partitions is not None and len(self.by_partition) < self.partitions:
            return None
        return min(self.by_partition.values(), default=None)


class RuleStage:
    """The state of one (controller, correlation, group) key; each method returns what it sends."""

    def __init__(self, controller: str, rule: CorrelationRule, group: str, *, pack: RulePack,
                 lateness: timedelta = timedelta(hours=1), partitions: int | None = None) -> None:
        self.controller, self.rule, self.group, self.pack, self.lateness = controller, rule, group, pack, lateness
        self.outers = tuple(c.id for c in pack.correlations if rule.id in c.rules)
        self.hits: list[Hit] = []  # in hit_order, as fires_ordered reads them
        self.by_key: dict[str, tuple[Hit, RuleHit]] = {}  # a hit's key -> it, and the record it came in
        self.key_of: dict[int, str] = {}  # id() of a hit in ``hits`` -> its key
        self.contributor: dict[str, Contributor] = {}  # the signals behind the hits, by event id
        self.sent: dict[str, frozenset[str]] = {}  # a window's end (its hit's key) -> the sources it sent
        # held contributor -> the earliest that released it: (event time, the firing's link or None
        # when it joined a firing alone, its host); and those whose firing link was sent
        self.released: dict[str, tuple[datetime, str | None, str]] = {}
        self.settled: set[str] = set()
        self.firings: list[tuple[datetime, datetime, datetime]] = []  # (fired at, first, last held signal)
        self.asks: dict[str, FiredAsk] = {}
        self.watermarks = Watermarks(partitions)

    def hit(self, record: RuleHit) -> list[RuleHit | Release]:
        self.watermarks.see(record.partition, record.watermark)
        key = record.key
        old = self.by_key.get(key)
        ids = tuple(sorted(s.event_id for s in record.sources))
        if old is not None:
            if set(ids) <= set(old[0].sources):
                return []  # read twice, or an inner window that did not grow
            self.hits.remove(old[0])
            del self.key_of[id(old[0])]
        hit = Hit(at=record.at, correlation=self.rule.id, rule=record.rule, group=self.group,
                  value=record.value, sources=ids)
        self.by_key[key] = (hit, record)
        self.key_of[id(hit)] = key
        for source in record.sources:
            self.contributor.setdefault(source.event_id, source)
        insort(self.hits, hit, key=hit_order)
        return self._evaluate(record.at)

    def ask(self, record: FiredAsk) -> list[Release]:
        """A held signal released by a later firing may still join an earlier one from its own
        time: it asks as well (read twice, it finds its answer given and sends nothing)."""
        if record.event_id in self.asks:
            return []
        self.asks[record.event_id] = record
        return self._answer()

    def settle(self, *, final: bool = False) -> list[Release]:
        """The firing links of the signals whose earliest release is a firing at least the lateness
        bound behind the watermark (``final``: the stream ended): no hit within the bound can
        still show an earlier firing of theirs. Released at once, they join their firing's other
        signals only now, by the firing as a pseudo-entity (their host stage adds it only if that
        firing is what attached them: one worker attaches a firing's held signals together)."""
        watermark = self.watermarks.combined
        out: list[Release] = []
        for event_id, (at, link, host) in self.released.items():
            if link is None or event_id in self.settled:
                continue
            if final or (watermark is not None and at <= watermark - self.lateness):
                self.settled.add(event_id)
                out.append(Release(controller=self.controller, host=host, event_id=event_id, at=at, why=self.what,
                                   link=link))
        return out

    def expire(self) -> None:
        watermark = self.watermarks.combined
        if watermark is None:
            return
        horizon = watermark - self.lateness - self.rule.timespan
        gone = {k for k, (h, _) in self.by_key.items() if h.at < horizon}
        for k in gone:
            del self.key_of[id(self.by_key.pop(k)[0])]
            self.sent.pop(k, None)
        self.hits = [h for h in self.hits if h.at >= horizon]
        self.contributor = {c.event_id: c for _, record in self.by_key.values() for c in record.sources}
        self.firings = [f for f in self.firings if f[2] >= horizon]
        self.asks = {i: a for i, a in self.asks.items() if a.at >= horizon}
        self.released = {i: r for i, r in self.released.items() if r[0] >= horizon}
        self.settled &= set(self.released)

    # -- inside ----------------------------------------------------------------------------------

    def _evaluate(self, at: datetime) -> list[RuleHit | Release]:
        """The windows that hold a hit at ``at``: those ending at it and a timespan after it."""
        out: list[RuleHit | Release] = []
        start = bisect_left(self.hits, at, key=lambda h: h.at)
        end = bisect_right(self.hits, at + self.rule.timespan, key=lambda h: h.at)
        keys = self.key_of
        for i in range(start, end):
            last = self.hits[i]
            window = fires_ordered(self.rule, self.hits if i == len(self.hits) - 1 else _Prefix(self.hits, i + 1))
            if not window:
                continue
            end_key = keys[id(last)]
            sources = frozenset(s for h in window for s in h.sources)
            if sources <= self.sent.get(end_key, frozenset()):
                continue
            self.sent[end_key] = sources | self.sent.get(end_key, frozenset())
            contributors = tuple(self.contributor[s] for s in sorted(sources))
            if self.outers:
                out.extend(self._feed(end_key, self.by_key[end_key][1], contributors))
            else:
                out.extend(self._release(last.at, end_key, contributors))
        return out

    def _feed(self, end_key: str, trigger: RuleHit, contributors: tuple[Contributor, ...]) -> list[RuleHit | Release]:
        groups = dict(trigger.outer)
        return [RuleHit(controller=self.controller, correlation=outer, group=groups[outer], rule=self.rule.id,
                        key=f"{self.rule.id}/{self.group}/{end_key}", at=trigger.at, value=None,
                        sources=contributors, outer=trigger.outer,
                        partition=trigger.partition, watermark=trigger.watermark)
                for outer in self.outers if outer in groups]

    def _release(self, at: datetime, end_key: str, contributors: tuple[Contributor, ...]) -> list[RuleHit | Release]:
        held = [c for c in contributors if c.held]
        if not held:
            return []
        self.firings.append((at, min(c.at for c in held), max(c.at for c in held)))
        out: list[RuleHit | Release] = []
        link = f"firing#{entity_hash(f'{self.rule.id}|{self.group}|{end_key}', self.group)}"
        for c in held:
            if c.event_id in self.released and self.released[c.event_id][0] <= at:
                continue
            self.released[c.event_id] = (at, link, c.host)
            out.append(Release(controller=self.controller, host=c.host, event_id=c.event_id, at=at, why=self.what))
        out.extend(self._answer())
        return out

    def _answer(self) -> list[Release]:
        """Held signals asked about that fall within the timespan of the firings before them."""
        out: list[Release] = []
        span = self.rule.timespan
        for event_id, ask in list(self.asks.items()):
            before = [f for f in self.firings if f[0] < ask.at]
            if before and min(f[1] for f in before) - span <= ask.at <= max(f[2] for f in before) + span:
                del self.asks[event_id]
                if event_id in self.released and self.released[event_id][0] <= ask.at:
                    continue
                self.released[event_id] = (ask.at, None, ask.host)
                out.append(Release(controller=self.controller, host=ask.host, event_id=event_id, at=ask.at,
                                   why=self.what))
        return out

    @property
    def what(self) -> str:
        r = self.rule
        return (f"correlation {r.name or r.title} fired ({r.type} of "
                f"{', '.join(self.pack.title_of(x) for x in r.rules)} by {', '.join(r.group_by)} within "
                f"{_human(r.timespan)})")

    @property
    def size(self) -> int:
        return len(self.hits) + len(self.asks) + len(self.firings) + len(self.released)
