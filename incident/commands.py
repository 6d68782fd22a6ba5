"""Commands: requests to change one incident, each keyed by ``incident_id``.

Every change to an incident goes through a command on ``incident-commands``; the incident
agent is their only consumer (one writer per incident).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from incident.signals import Evidence


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachSignal:
    """Add a correlated signal; the first one opens the incident."""

    incident_id: str
    controller: str | None
    correlation_key: str
    evidence: Evidence


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordAwareness:
    """A person (or a rule) states the controller is aware of a personal-data breach."""

    incident_id: str
    aware_at: datetime
    by: str
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordDelivery:
    """The mailer's outcome for one recipient of one notice."""

    incident_id: str
    notice_id: str
    recipient: str
    delivered: bool
    message_id: str
    detail: str


Command = AttachSignal | RecordAwareness | RecordDelivery
COMMANDS: tuple[type, ...] = (AttachSignal, RecordAwareness, RecordDelivery)
