"""What an incident knows of all its signals, in a size that does not grow with them.

A brute-force storm or a mass download attaches tens of thousands of signals to one incident.
Keeping every Evidence in the aggregate made each attach scan the whole list and the saved
state outgrow the producer's request limit (the breach was lost). The aggregate keeps instead
what its decisions read (counts, the sets risk and notices use, the earliest and latest
times, the largest record count, the first confirming signal), the latest event ids for
idempotency, and a few items for display. Every Evidence still lives on ``incident-events``
(each SignalAttached carries it), and the console keeps them all.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from incident.signals import Evidence

IDS_KEPT = 2_048  # ids remembered at least, for idempotency: replays re-send the last batches (500 each)
FIRST_KEPT = 5  # the first items kept for display (how it started)
LATEST_KEPT = 200  # ... and the latest (what it is doing now)
SET_CAP = 1_000  # distinct assets, systems, categories, titles kept: beyond, the set says it was capped


def _add1(values: tuple[str, ...], value: str) -> tuple[tuple[str, ...], bool]:
    if value in values:
        return values, False
    return ((*values, value), False) if len(values) < SET_CAP else (values, True)


def _add(values: tuple[str, ...], new: tuple[str, ...] | list[str]) -> tuple[tuple[str, ...], bool]:
    """``values`` with the new distinct ones appended up to SET_CAP, and whether some did not fit."""
    fresh = [v for v in dict.fromkeys(new) if v not in values]
    if not fresh:
        return values, False
    room = SET_CAP - len(values)
    return (*values, *fresh[:max(room, 0)]), len(fresh) > room


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalSummary:
    count: int = 0
    confirmed: int = 0
    first_event_at: datetime | None = None
    last_event_at: datetime | None = None
    first_ingested_at: datetime | None = None  # the detection anchor (NIS2/DORA clocks)
    records_max: int | None = None
    assets: tuple[str, ...] = ()
    unmapped_assets: tuple[str, ...] = ()
    systems: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # signal categories (authentication, exfiltration…)
    data_categories: tuple[str, ...] = ()
    breach_types: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()  # distinct, for the notices' summary
    exfiltration_confirmed: bool = False
    bytes_out: int = 0  # bytes its signals report sent out, added up
    data_stores: tuple[str, ...] = ()  # the tables and buckets its signals read or exported
    capped: bool = False  # some set above reached SET_CAP: it lists the first ones only
    first_confirmed: Evidence | None = None  # the earliest-ingested signal that confirmed the breach
    # The highest OCSF severity of its signals: the page a settle delay held back reads it
    # (incident/settling.py). 0 in a summary saved before it was kept.
    severity_max: int = 0
    # The last IDS_KEPT event ids (up to CHUNK more), oldest first: full chunks, then the open one.
    recent_ids: tuple[tuple[str, ...], ...] = ()
    open_ids: tuple[str, ...] = ()

    def seen(self, event_id: str) -> bool:
        return _seen(self.recent_ids, self.open_ids, event_id)

    def with_signal(self, e: Evidence) -> SignalSummary:
        """This summary with one more signal: O(1) in the number of signals (bounded tuples only).
        Runs for every signal, twice (the decision's tape, then the fold): written out for speed."""
        assets, c1 = _add1(self.assets, e.asset)
        unmapped, c2 = _add1(self.unmapped_assets, e.asset) if e.system is None else (self.unmapped_assets, False)
        systems, c3 = _add1(self.systems, e.system) if e.system else (self.systems, False)
        if e.store_system:  # involved through the data store it read, whichever host read it
            systems, c3s = _add1(systems, e.store_system)
            c3 = c3 or c3s
        categories, c4 = _add1(self.categories, e.category) if e.category else (self.categories, False)
        data_categories, c5 = _add(self.data_categories, e.data_categories) if e.data_categories \
            else (self.data_categories, False)
        breach_types, c6 = _add(self.breach_types, e.breach_types) if e.breach_types else (self.breach_types, False)
        titles, c7 = _add1(self.titles, e.title)
        stores, c8 = _add1(self.data_stores, e.data_store) if e.data_store else (self.data_stores, False)
        first = self.first_confirmed
        if e.confirms_breach and (first is None or e.ingested_at < first.ingested_at):
            first = e
        full, open_ids = _remember(self.recent_ids, self.open_ids, (e.event_id,))
        return SignalSummary(
            count=self.count + 1, confirmed=self.confirmed + e.confirms_breach,
            first_event_at=_min(self.first_event_at, e.occurred_at),
            last_event_at=_max(self.last_event_at, e.occurred_at),
            first_ingested_at=_min(self.first_ingested_at, e.ingested_at),
            records_max=_max(self.records_max, e.records),
            assets=assets, unmapped_assets=unmapped, systems=systems, categories=categories,
            data_categories=data_categories, breach_types=breach_types, titles=titles,
            exfiltration_confirmed=self.exfiltration_confirmed or (e.confirms_breach and e.category == "exfiltration"),
            capped=self.capped or c1 or c2 or c3 or c4 or c5 or c6 or c7 or c8,
            first_confirmed=first, recent_ids=full, open_ids=open_ids,
            bytes_out=self.bytes_out + max(e.bytes_out or 0, 0), data_stores=stores,
            severity_max=max(self.severity_max, e.severity))

    def merged(self, other: SignalSummary) -> SignalSummary:
        """Both summaries' knowledge: counts added, sets joined, times widened; the remembered ids
        stay this one's (the other's belong to its incident: they are never attached here)."""
        assets, c1 = _add(self.assets, other.assets)
        unmapped, c2 = _add(self.unmapped_assets, other.unmapped_assets)
        systems, c3 = _add(self.systems, other.systems)
        categories, c4 = _add(self.categories, other.categories)
        data_categories, c5 = _add(self.data_categories, other.data_categories)
        breach_types, c6 = _add(self.breach_types, other.breach_types)
        titles, c7 = _add(self.titles, other.titles)
        stores, c8 = _add(self.data_stores, other.data_stores)
        confirmed = [c for c in (self.first_confirmed, other.first_confirmed) if c is not None]
        return SignalSummary(
            count=self.count + other.count, confirmed=self.confirmed + other.confirmed,
            first_event_at=_min(self.first_event_at, other.first_event_at),
            last_event_at=_max(self.last_event_at, other.last_event_at),
            first_ingested_at=_min(self.first_ingested_at, other.first_ingested_at),
            records_max=_max(self.records_max, other.records_max),
            assets=assets, unmapped_assets=unmapped, systems=systems, categories=categories,
            data_categories=data_categories, breach_types=breach_types, titles=titles,
            exfiltration_confirmed=self.exfiltration_confirmed or other.exfiltration_confirmed,
            capped=self.capped or other.capped or c1 or c2 or c3 or c4 or c5 or c6 or c7 or c8,
            first_confirmed=min(confirmed, key=lambda c: c.ingested_at) if confirmed else None,
            recent_ids=self.recent_ids, open_ids=self.open_ids,
            bytes_out=self.bytes_out + other.bytes_out, data_stores=stores,
            severity_max=max(self.severity_max, other.severity_max),
        )

    @classmethod
    def of(cls, evidence: tuple[Evidence, ...] | list[Evidence]) -> SignalSummary:
        """The summary of a full list (an incident saved before summaries, or a test's oracle)."""
        summary = cls()
        for e in evidence:
            summary = summary.with_signal(e)
        return summary


NO_SIGNALS = SignalSummary()  # immutable: one shared empty summary


def kept_items(items: tuple[Evidence, ...], new: Evidence) -> tuple[Evidence, ...]:
    """The displayed items with ``new``: the first FIRST_KEPT and the latest LATEST_KEPT."""
    if len(items) < FIRST_KEPT + LATEST_KEPT:
        return (*items, new)
    return (*items[:FIRST_KEPT], *items[FIRST_KEPT + 1:], new)


T = TypeVar("T", datetime, int)


def _min(a: T | None, b: T | None) -> T | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: T | None, b: T | None) -> T | None:
    return b if a is None else a if b is None else max(a, b)


# The remembered ids are full chunks of CHUNK ids plus an open chunk. The full ones change once
# every CHUNK attachments, so their lookup set is built then and shared by every state holding
# the same chunks (a decision and the fold after it both evolve one state: nothing here may
# belong to one state alone). A lookup is one set and at most CHUNK ids: O(1) in the signals.
CHUNK = 64
_SETS: OrderedDict[int, tuple[tuple[tuple[str, ...], ...], frozenset[str]]] = OrderedDict()
_SETS_KEPT = 256  # the busy incidents' sets (64 KB each); a miss rebuilds one from IDS_KEPT ids


def _set_of(full: tuple[tuple[str, ...], ...]) -> frozenset[str]:
    found = _SETS.get(id(full))
    if found is not None and found[0] is full:
        return found[1]
    built = frozenset(i for chunk in full for i in chunk)
    _SETS[id(full)] = (full, built)  # held here, so its id is not reused while cached
    if len(_SETS) > _SETS_KEPT:
        _SETS.popitem(last=False)
    return built


def _seen(full: tuple[tuple[str, ...], ...], open_ids: tuple[str, ...], event_id: str) -> bool:
    return event_id in open_ids or (bool(full) and event_id in _set_of(full))


def _remember(full: tuple[tuple[str, ...], ...], open_ids: tuple[str, ...], new: tuple[str, ...],
              ) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
    for event_id in new:
        if _seen(full, open_ids, event_id):
            continue
        if len(open_ids) == CHUNK:  # it is full: it joins the shared ones, a new one opens
            full, open_ids = (*full, open_ids)[-(IDS_KEPT // CHUNK):], ()
        open_ids = (*open_ids, event_id)
    return full, open_ids
