"""Correlation v1: signals on the same asset within a time window join one incident.

``correlate(window, event, span=...)`` is pure. The window is the correlator's state for
one correlation key (controller + asset); it remembers recent event ids so a redelivered
or re-sent event is ignored. Incident ids are uuid5 of the key and the first event id, so
replaying the same signals yields the same incidents.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from incident.commands import AttachSignal
from incident.signals import Evidence, SecurityEvent

NAMESPACE = uuid.UUID("6f1d3c52-7f0e-4d55-9a1e-5b2f0b7e1c01")
DEFAULT_SPAN = timedelta(hours=24)
SEEN_LIMIT = 1000  # event ids remembered per window, for de-duplication


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    key: str
    incident_id: str
    first_at: datetime
    last_at: datetime
    seen: tuple[str, ...]


def correlation_key(event: SecurityEvent) -> str:
    return f"{event.controller or 'unmapped'}|{event.asset}"


def correlate(window: Window | None, event: SecurityEvent, *, span: timedelta = DEFAULT_SPAN,
              ) -> tuple[Window, list[AttachSignal]]:
    key = correlation_key(event)
    if window is not None and event.event_id in window.seen:
        return window, []
    t = event.occurred_at
    if window is not None and window.first_at - span <= t <= window.last_at + span:
        reason = (f"same asset {event.asset} within {_human(span)} of the incident's signals "
                  f"({window.first_at.isoformat()} – {window.last_at.isoformat()})")
        window = replace(window, first_at=min(window.first_at, t), last_at=max(window.last_at, t),
                         seen=(*window.seen, event.event_id)[-SEEN_LIMIT:])
    else:
        reason = f"first signal on asset {event.asset}" + (" (no profile declares it)" if event.unmapped else "")
        incident_id = str(uuid.uuid5(NAMESPACE, f"{key}|{event.event_id}"))
        window = Window(key=key, incident_id=incident_id, first_at=t, last_at=t, seen=(event.event_id,))
    command = AttachSignal(incident_id=window.incident_id, controller=event.controller, correlation_key=key,
                           evidence=Evidence.of(event, reason))
    return window, [command]


def _human(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} h" if hours >= 1 else f"{span.total_seconds() / 60:g} min"
