"""Clocks: an obligation's deadline, computed once when its anchor is known.

The deadline is stored as an absolute UTC instant in the event that starts the clock,
with the profile reference it was computed under, so editing a profile never moves a
running clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from incident.regimes import Obligation


@dataclass(frozen=True, slots=True, kw_only=True)
class Clock:
    regime: str
    obligation: str
    recipient: str
    legal_ref: str
    anchor: str
    anchor_at: datetime
    deadline: datetime
    profile_ref: str | None


def start_clock(obligation: Obligation, anchor_at: datetime, profile_ref: str | None) -> Clock:
    if anchor_at.tzinfo is None:
        raise ValueError("a clock's anchor must be an aware datetime")
    anchor_utc = anchor_at.astimezone(UTC)
    return Clock(
        regime=obligation.regime, obligation=obligation.id, recipient=obligation.recipient,
        legal_ref=obligation.legal_ref, anchor=obligation.anchor, anchor_at=anchor_utc,
        deadline=anchor_utc + obligation.offset, profile_ref=profile_ref,
    )
