"""Where merged incidents went: what the incident stage must do with ``Merge`` records that come
from several linkers (docs/rules.md, "One controller over N workers").

Linkers see parts of a component: one may merge B into A while another merges B into C. Today
an incident merged already ignores a second merge; split over workers that would leave A and C
apart although they are one breach. So a second merge of B into another survivor merges the two
survivors, the greater by ``Rank`` into the lesser. Every merge goes from a greater incident to a
lesser one, so the chains end, and they end at the least incident of the component whatever
order the merges arrive in. Attaches to an absorbed incident are forwarded along the chain (the
incident stage already does so, one hop per merge).
"""

from __future__ import annotations

from incident.stage_messages import Merge, Rank


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
        if current == record.into:
            return []  # read twice
        lesser, greater = sorted((current, record.into), key=lambda i: self.ranks[i])
        return [Merge(absorbed=greater, into=lesser, into_rank=self.ranks[lesser], absorbed_rank=self.ranks[greater],
                      reason=f"both took incident {record.absorbed}: {record.reason}")]

    def resolve(self, incident_id: str) -> str:
        """The incident an attach to ``incident_id`` ends up in (forwarded once per merge)."""
        while incident_id in self.into:
            incident_id = self.into[incident_id]
        return incident_id
