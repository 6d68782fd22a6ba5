"""Notification obligations as data. Each is reviewed against its legal source
(research/regulatory.md); a change here always gets a CHANGELOG entry and a test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class Obligation:
    regime: str
    id: str
    recipient: str  # "authority" | "data_subjects"
    anchor: str  # the fact the clock runs from
    offset: timedelta
    legal_ref: str


GDPR_ART33 = Obligation(
    regime="GDPR",
    id="art33_authority",
    recipient="authority",
    anchor="awareness",
    offset=timedelta(hours=72),
    legal_ref="GDPR Art. 33(1)",
)
