"""The entity linker: the stage keyed by (controller, entity) that merges incidents sharing an
entity (docs/rules.md, "One controller over N workers").

One worker's incidents are the connected components of "two signals share an entity within the
window". Split over workers, a shared host is seen by that host's stage (``host_stage``); every
other shared entity (an account, a source address, a data store) by its linker, here. A linker
keeps, per incident seen with its entity, the event times of those signals, so the window is
measured between *occurrences of the entity* (two signals carrying it within ``span``).

* **Merges.** When an occurrence links incidents, each but the least by ``Rank`` (bucket start,
  id: fixed when the incident opened) is merged into it. A linker remembers what it merged, as
  a small union-find, so it sends each merge once; merges only join, so the order in which
  occurrences arrive changes nothing but the order of the records.
* **Held signals.** A held signal carrying the entity joins at once if an incident held the
  entity *before* it (in event time, ``attached_at``): evidence of an open breach. Asked before
  that incident is seen here, the linker keeps the question and answers when it is.
* **Idempotent.** A record read twice (a redelivery after a crash) finds its occurrence, its
  merge or its answer already there and sends nothing.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from incident.correlation import _human
from incident.stage_messages import EntitySeen, HeldAsk, Merge, Rank, Release


@dataclass(slots=True)
class _Holder:
    """An incident seen with the entity: the event times of its signals that carried it."""

    rank: Rank
    times: list[datetime] = field(default_factory=list)
    attached: dict[datetime, datetime] = field(default_factory=dict)  # event time -> when it joined (earliest)

    def near(self, at: datetime, span: timedelta) -> bool:
        i = bisect_left(self.times, at - span)
        return i < len(self.times) and self.times[i] <= at + span

    def open_before(self, at: datetime, span: timedelta) -> bool:
        """Whether a signal of this incident carried the entity within ``span`` of ``at`` and had
        joined it before ``at``."""
        for t in self.times[bisect_left(self.times, at - span):]:
            if t > at + span:
                return False
            if self.attached[t] < at:
                return True
        return False


class Linker:
    """The state of one (controller, entity) key; each method returns what it sends."""

    def __init__(self, controller: str, entity: str, *, span: timedelta = timedelta(hours=24)) -> None:
        self.controller, self.entity, self.span = controller, entity, span
        self.holders: dict[str, _Holder] = {}
        self.into: dict[str, str] = {}  # absorbed -> survivor, as merged from here
        self.asks: dict[str, HeldAsk] = {}  # held signals waiting for an incident
        self.answered: dict[str, datetime] = {}  # held signals released from here, by their time

    def seen(self, record: EntitySeen) -> list[Merge | Release]:
        holder = self.holders.get(record.incident_id)
        if holder is None:
            holder = self.holders[record.incident_id] = _Holder(rank=record.rank)
        known = holder.attached.get(record.at)
        if known is not None and known <= record.attached_at:
            return []  # read twice
        if known is None:
            insort(holder.times, record.at)
        holder.attached[record.at] = record.attached_at
        out: list[Merge | Release] = []
        out.extend(self._link(record))
        out.extend(self._answer(record.incident_id))
        return out

    def ask(self, record: HeldAsk) -> list[Release]:
        if record.event_id in self.answered or record.event_id in self.asks:
            return []
        self.asks[record.event_id] = record
        return [r for incident_id in list(self.holders) for r in self._answer(incident_id)]

    def survivor(self, incident_id: str) -> str:
        """Where this linker sent ``incident_id`` (itself if nowhere)."""
        while incident_id in self.into:
            incident_id = self.into[incident_id]
        return incident_id

    def expire(self, horizon: datetime) -> None:
        """Forget occurrences and questions older than ``horizon`` (the shell's watermark − lateness
        − span): no signal within the lateness bound can be within the window of them."""
        for incident_id, holder in list(self.holders.items()):
            cut = bisect_left(holder.times, horizon)
            for t in holder.times[:cut]:
                del holder.attached[t]
            holder.times = holder.times[cut:]
            if not holder.times:
                del self.holders[incident_id]
        # A merge whose survivor is forgotten is forgotten too: the absorbed one is its own root here.
        self.into = {a: b for a, b in self.into.items() if a in self.holders and b in self.holders}
        self.asks = {i: a for i, a in self.asks.items() if a.at >= horizon}
        self.answered = {i: at for i, at in self.answered.items() if at >= horizon}

    @property
    def size(self) -> int:
        return sum(len(h.times) for h in self.holders.values()) + len(self.asks) + len(self.answered)

    # -- inside ----------------------------------------------------------------------------------

    def _link(self, record: EntitySeen) -> list[Merge]:
        linked = {self.survivor(i) for i, h in self.holders.items()
                  if i != record.incident_id and h.near(record.at, self.span)}
        if not linked:
            return []
        roots = linked | {self.survivor(record.incident_id)}
        least = min(roots, key=self._rank)
        out: list[Merge] = []
        for root in sorted(roots - {least}):
            self.into[root] = least
            out.append(Merge(absorbed=root, into=least, into_rank=self._rank(least), absorbed_rank=self._rank(root),
                             reason=f"signal {record.event_id} shares {self.entity} with it and with incident "
                                    f"{least} within {_human(self.span)}"))
        return out

    def _rank(self, incident_id: str) -> Rank:
        holder = self.holders.get(incident_id)
        assert holder is not None, incident_id  # a survivor is always one seen here
        return holder.rank

    def _answer(self, incident_id: str) -> list[Release]:
        """Release the held signals that came after ``incident_id`` held the entity, near it."""
        holder = self.holders[incident_id]
        out: list[Release] = []
        for event_id, ask in list(self.asks.items()):
            if holder.open_before(ask.at, self.span):
                del self.asks[event_id]
                self.answered[event_id] = ask.at
                out.append(Release(controller=self.controller, host=ask.host, event_id=event_id, at=ask.at,
                                   joined_by=self.entity))
        return out
