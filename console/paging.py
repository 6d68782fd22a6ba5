"""Paging from the console: the incident's pages as the detail page and the API show them, and
the acknowledgement (a form at /incidents/{id}/act/acknowledge, the API at
/api/incidents/{id}/acknowledge) that stops their repeats; incident/paging.py decides it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from console import refusals
from console.actions import RESPONDERS, Builder, Clock
from console.users import User
from incident.commands import AcknowledgePage, Command
from incident.model import Incident


def acknowledge(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    return AcknowledgePage(incident_id=incident_id, by=user.actor, role=user.role)


BUILDERS: dict[str, Builder] = {"acknowledge": acknowledge}


def refused(action: str, user: User, incident: Incident) -> str | None:
    """The console's check (None: allowed): an acknowledgement needs a page waiting for one."""
    if action not in BUILDERS:
        return None
    if user.role not in RESPONDERS:
        return refusals.read_only_role(user.role)
    if not any(p.unacknowledged for p in incident.pages):
        return refusals.NO_PAGE_WAITING
    return None


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def state(incident: Incident) -> dict[str, Any]:
    """Every page of the incident, newest first: why, when, how many repeats, when the next one is
    due (none once acknowledged, superseded, out of repeats, dismissed or merged), who acknowledged."""
    stopped = incident.dismissal is not None or incident.merged_into is not None
    pages = [{"page_id": p.page.page_id, "reason": p.page.reason, "trigger": p.page.trigger,
              "raised_at": p.page.raised_at.isoformat(), "repeats": p.repeats, "last_at": _iso(p.last_at),
              "next_at": None if stopped else _iso(p.next_at), "acknowledged_by": p.acknowledged_by or None,
              "acknowledged_at": _iso(p.acknowledged_at)} for p in reversed(incident.pages)]
    return {"waiting": any(p.unacknowledged for p in incident.pages), "pages": pages}
