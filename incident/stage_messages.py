"""The records the correlation stages of one controller send each other (issue 19, docs/rules.md
"One controller over N workers"). Each is keyed by the stage that reads it:

* ``EntitySeen``, ``HeldAsk``  → the linker of (controller, entity);
* ``RuleHit``, ``FiredAsk``    → the rule stage of (controller, correlation, group);
* ``Release``                  → the host stage of (controller, host);
* ``Merge``                    → the incident stage of the absorbed incident.

Entities and groups are ``kind#hash`` / keyed hashes, never values: these records are written to
Kafka topics. Every time is event time: a stage never reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from incident.commands import MergeIncident

# The survivor order: an incident's bucket start, then its id. Both are fixed when the host
# stage opens it, so every stage that sees part of a component picks the same least incident.
Rank = tuple[datetime, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class EntitySeen:
    """An attached signal carried ``entity``: ``incident_id`` holds it at ``at`` (the signal's
    event time, what the window is measured on). ``attached_at`` is when, in event time, the
    signal joined (a held signal: the time of what released it); held signals of later times may
    join at once."""

    controller: str
    entity: str
    incident_id: str
    rank: Rank
    at: datetime
    attached_at: datetime
    event_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldAsk:
    """A held signal (one that only feeds correlations) carries ``entity``: release it if an
    incident holds the entity from before ``at`` (it is evidence of that incident)."""

    controller: str
    entity: str
    host: str
    event_id: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Contributor:
    """A signal behind a rule hit: where it lives (its host stage) and whether it is held there."""

    event_id: str
    host: str
    at: datetime
    held: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleHit:
    """A match counted for ``correlation`` in ``group`` (a keyed hash of the group-by values):
    a detection rule's, or an inner correlation's firing (chaining). ``outer`` holds the groups
    of the triggering signal for the correlations this one feeds, so a firing can be counted there."""

    controller: str
    correlation: str
    group: str
    rule: str
    key: str  # the hit's identity: "<rule>:<event id>", or the window an inner firing ended
    at: datetime
    value: str | None  # value_count: keyed hash of the counted field's value
    sources: tuple[Contributor, ...]
    outer: tuple[tuple[str, str], ...] = ()  # (correlation id, group) for the outer correlations
    partition: int = 0  # the upstream partition it was read from, and that partition's watermark
    watermark: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FiredAsk:
    """A held signal of ``group`` at ``at``: release it if ``correlation`` already fired around it
    (a late failure of a brute force joins the firing's incident)."""

    controller: str
    correlation: str
    group: str
    host: str
    event_id: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    """Attach the held signal ``event_id`` as if at ``at`` (event time): a correlation fired
    (``why`` starts its reason), or an incident held ``joined_by`` before it."""

    controller: str
    host: str
    event_id: str
    at: datetime
    why: str = ""
    joined_by: str | None = None  # the shared entity, when it joins an open incident at once
    # A firing's signals are one incident, whatever their hosts: they link by this pseudo-entity
    # (the firing), which its linker merges like any other.
    link: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Merge:
    """``absorbed`` and ``into`` are one breach; ``into`` is the least of them by ``Rank``."""

    absorbed: str
    into: str
    into_rank: Rank
    absorbed_rank: Rank
    reason: str

    def command(self) -> MergeIncident:
        return MergeIncident(incident_id=self.absorbed, into=self.into, reason=self.reason,
                             bucket=self.absorbed_rank[0], into_bucket=self.into_rank[0])
