"""Facts a responder proposes and the DPO settles (issue 18).

Facts that would lower the assessed risk are an override in all but name, so they are the DPO's
decision — but the responder is often the one who learns them (the export held salted hashes
only). Refusing their correction lost what they knew; a proposal keeps it on the timeline, with
their reason, until the DPO confirms it (the facts are corrected in the DPO's name) or declines
it (with a reason). Pure: no I/O, the time is the command's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

CONFIRMED, DECLINED = "confirmed", "declined"


@dataclass(frozen=True, slots=True, kw_only=True)
class Proposal:
    number: int  # the version of its FactsProposed event: unique on the incident
    at: datetime
    changes: dict[str, Any]
    by: str
    reason: str
    level: str  # the level the proposed facts would give, when proposed
    outcome: str = ""  # "", CONFIRMED or DECLINED
    settled_by: str = ""
    settled_at: datetime | None = None
    settle_reason: str = ""

    @property
    def pending(self) -> bool:
        return not self.outcome


def find(proposals: tuple[Proposal, ...], number: int) -> Proposal | None:
    return next((p for p in proposals if p.number == number), None)
