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

IDS_KEPT = 2_000  # event ids remembered for idempotency: replays re-send the last few batches (500 each)
FIRST_KEPT = 5  # the first items kept for display (how it started)
LATEST_KEPT = 200  # ... and the latest (what it is doing now)
SET_CAP = 1_000  # distinct assets, systems, categories, titles kept: beyond, the set says it was capped


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
    capped: bool = False  # some set above reached SET_CAP: it lists the first ones only
    first_confirmed: Evidence | None = None  # the earliest-ingested signal that confirmed the breach
    recent_ids: tuple[str, ...] = ()  # the last IDS_KEPT event ids, oldest first

    def seen(self, event_id: str) -> bool:
        return event_id in _index(self.recent_ids)

    def with_signal(self, e: Evidence) -> SignalSummary:
        """This summary with one more signal: O(1) in the number of signals (bounded tuples only)."""
        return self.merged(_of(e), new_ids=(e.event_id,))

    def merged(self, other: SignalSummary, *, new_ids: tuple[str, ...] = ()) -> SignalSummary:
        """Both summaries' knowledge: counts added, sets joined, times widened. ``new_ids`` join
        the remembered ids (the other's own ids are not: they belong to its incident)."""
        assets, c1 = _add(self.assets, other.assets)
        unmapped, c2 = _add(self.unmapped_assets, other.unmapped_assets)
        systems, c3 = _add(self.systems, other.systems)
        categories, c4 = _add(self.categories, other.categories)
        data_categories, c5 = _add(self.data_categories, other.data_categories)
        breach_types, c6 = _add(self.breach_types, other.breach_types)
        titles, c7 = _add(self.titles, other.titles)
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
            capped=self.capped or other.capped or c1 or c2 or c3 or c4 or c5 or c6 or c7,
            first_confirmed=min(confirmed, key=lambda c: c.ingested_at) if confirmed else None,
            recent_ids=_remember(self.recent_ids, new_ids) if new_ids else self.recent_ids,
        )

    @classmethod
    def of(cls, evidence: tuple[Evidence, ...] | list[Evidence]) -> SignalSummary:
        """The summary of a full list (an incident saved before summaries, or a test's oracle)."""
        summary = cls()
        for e in evidence:
            summary = summary.with_signal(e)
        return summary


NO_SIGNALS = SignalSummary()  # immutable: one shared empty summary


def _of(e: Evidence) -> SignalSummary:
    return SignalSummary(
        count=1, confirmed=1 if e.confirms_breach else 0, first_event_at=e.occurred_at,
        last_event_at=e.occurred_at, first_ingested_at=e.ingested_at, records_max=e.records,
        assets=(e.asset,), unmapped_assets=(e.asset,) if e.system is None else (),
        systems=(e.system,) if e.system else (), categories=(e.category,) if e.category else (),
        data_categories=e.data_categories, breach_types=e.breach_types, titles=(e.title,),
        exfiltration_confirmed=e.confirms_breach and e.category == "exfiltration",
        first_confirmed=e if e.confirms_breach else None)


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


# The remembered ids' lookup set, built once per ids tuple and handed on to the next tuple (a
# state's successor), so a lookup and an attach cost O(1) however long the incident is. A
# state's ids are an immutable tuple; the set is a cache of it, never saved.
_INDEXES: OrderedDict[int, tuple[tuple[str, ...], set[str]]] = OrderedDict()
_INDEXES_KEPT = 2_000  # incidents whose lookup sets stay built (the busy ones)


def _index(ids: tuple[str, ...]) -> set[str]:
    found = _INDEXES.get(id(ids))
    if found is not None and found[0] is ids:
        _INDEXES.move_to_end(id(ids))
        return found[1]
    index = set(ids)
    _keep(ids, index)
    return index


def _keep(ids: tuple[str, ...], index: set[str]) -> None:
    _INDEXES[id(ids)] = (ids, index)
    while len(_INDEXES) > _INDEXES_KEPT:
        _INDEXES.popitem(last=False)


def _remember(ids: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...]:
    fresh = tuple(i for i in dict.fromkeys(new) if i not in _index(ids))
    if not fresh:
        return ids
    combined = (*ids, *fresh)
    kept = combined[-IDS_KEPT:] if len(combined) > IDS_KEPT else combined
    found = _INDEXES.pop(id(ids), None)
    if found is not None and found[0] is ids:
        # The predecessor's set moves to the successor (the predecessor rebuilds its own if asked again).
        index = found[1]
        index.update(fresh)
        index.difference_update(combined[:len(combined) - len(kept)])
    else:
        index = set(kept)
    _keep(kept, index)
    return kept
