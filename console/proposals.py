"""Proposed facts from the console: the responder's facts that would lower the risk wait for the
DPO (incident/proposals.py), who confirms or declines each one here (a form at
/incidents/{id}/act/settle, the API at /api/incidents/{id}/settle); the incident decides again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console import refusals
from console.actions import DPO, ActionError, Builder, Clock, text_field
from console.users import User
from incident.commands import Command, SettleProposal
from incident.model import Incident

_YES = ("1", "true", "yes", "on", "confirm")


def settle(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    number, confirm = body.get("proposal"), body.get("confirm", True)
    try:
        proposal = int(number) if isinstance(number, int | str) and not isinstance(number, bool) else None
    except ValueError:
        proposal = None
    if proposal is None:
        raise ActionError("proposal must be a proposal's number, as the incident lists it")
    if isinstance(confirm, str):  # a form's button
        confirm = confirm.strip().lower() in _YES
    if not isinstance(confirm, bool):
        raise ActionError("confirm must be true or false")
    reason = text_field(body, "reason")
    if not confirm and not reason.strip():
        raise ActionError("declining a proposal needs a reason")  # the incident would refuse it too
    return SettleProposal(incident_id=incident_id, proposal=proposal, confirm=confirm, reason=reason,
                          by=user.actor, role=user.role)


BUILDERS: dict[str, Builder] = {"settle": settle}


def refused(action: str, user: User, incident: Incident) -> str | None:
    """The console's check (None: allowed): the DPO's, with a proposal waiting."""
    if action not in BUILDERS:
        return None
    if user.role not in DPO:
        return refusals.SETTLE
    if not any(p.pending for p in incident.proposals):
        return refusals.NO_PROPOSAL_WAITING
    return None


def state(incident: Incident) -> list[dict[str, Any]]:
    """The incident's proposals, newest first, for the detail page and the API."""
    return [{"number": p.number, "at": p.at.isoformat(), "by": p.by, "reason": p.reason, "changes": p.changes,
             "level": p.level, "outcome": p.outcome or None, "settled_by": p.settled_by or None,
             "settled_at": p.settled_at.isoformat() if p.settled_at else None,
             "settle_reason": p.settle_reason or None} for p in reversed(incident.proposals)]
