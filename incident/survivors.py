"""Where merged incidents went: what the incident stage must do with ``Merge`` records that come
from several linkers (docs/rules.md, "One controller over N workers").

Linkers see parts of a component: one may merge B into A while another merges B into C. Today
an incident merged already ignores a second merge; split over workers that would leave A and C
apart although they are one breach. So a second merge of B into another survivor merges the two
survivors, the greater by ``Rank`` into the lesser. Every merge goes from a greater incident to a
lesser one, so the chains end, and they end at the least incident of the component whatever
order the merges arrive in. Attaches to an absorbed incident are forwarded along the chain (the
incident stage does so, one hop per merge). The incident stage keeps no such map: each merged
incident remembers its survivor's rank (``Incident.merged_into_bucket``) and applies ``join``.
"""

from __future__ import annotations

from incident.stage_messages import Merge, Rank


def join(absorbed: str, current: Rank, told: Rank, reason: str) -> Merge | None:
    """``absorbed`` merged into ``current`` already and is told to merge into ``told``: the merge
    of the two survivors that follows, the greater by rank into the lesser (None when they are
    one: a merge read twice). The incident stage (``decide.reactions``) and ``Survivors`` both
    follow this rule."""
    if current[1] == told[1]:
        return None
    lesser, greater = sorted((current, told))
    return Merge(absorbed=greater[1], into=lesser[1], into_rank=lesser, absorbed_rank=greater,
                 reason=f"both took incident {absorbed}: {reason}")


class Survivors:
    """The merged-into map of one controller's incidents, as the incident stage keeps it."""

    def __init__(self) -> None:
        self.into: dict[str, str] = {}
        self.ranks: dict[str, Rank] = {}

    def merge(self, record: Merge) -> list[Merge]:
        """Apply one merge; returns the merge it implies between two survivors, if any."""
        self.ranks.setdefault(record.absorbed, record.absorbed_rank)
        self.ranks.setdefault(record.into, record.into_rank)
        current = self.into.get(record.absorbed)
        if current is None:
            self.into[record.absorbed] = record.into
            return []
        follow = join(record.absorbed, self.ranks[current], record.into_rank, record.reason)
        return [] if follow is None else [follow]

    def resolve(self, incident_id: str) -> str:
        """The incident an attach to ``incident_id`` ends up in (forwarded once per merge)."""
        while incident_id in self.into:
            incident_id = self.into[incident_id]
        return incident_id
