"""Where an incident's clocks stand, in one place: each obligation's state and the one line the
list, the detail page, the CLI (``breach incidents``, through the API) and the register show.

Before this, each wrote its own ("no clock (awareness not recorded)" after a submission while
Art. 34 still ran; "71 h 55 min left" for an obligation already submitted; no overdue flag
for an awareness decision already escalated by e-mail). Pure: ``now`` is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from incident.deadlines import Clock
from incident.model import Incident
from incident.reminders import TRIAGE_RULE

# One obligation's state.
DUE, OVERDUE, UNDUE_DELAY, SETTLED, STOPPED = "due", "overdue", "without_undue_delay", "settled", "stopped"
# The incident's line when no obligation is due (besides the above).
AWAITING_AWARENESS, AWARENESS_OVERDUE, MERGED, DISMISSED = ("awaiting_awareness", "awareness_overdue", "merged",
                                                            "dismissed")


@dataclass(frozen=True, slots=True)
class Standing:
    state: str
    legal_ref: str | None = None
    deadline: datetime | None = None
    seconds_left: int | None = None

    @property
    def overdue(self) -> bool:
        return self.state in (OVERDUE, AWARENESS_OVERDUE)


def obligation(incident: Incident, clock: Clock, now: datetime) -> Standing:
    """One obligation: stopped (merged or dismissed), settled (submitted, closed or withdrawn),
    without undue delay (no deadline), overdue, or due."""
    if incident.merged_into is not None or incident.dismissal is not None:
        return Standing(STOPPED, clock.legal_ref, clock.deadline)
    state = incident.obligation(clock.rule_ref)
    if state is not None and state.settled:
        return Standing(SETTLED, clock.legal_ref, clock.deadline)
    if not clock.timed:
        return Standing(UNDUE_DELAY, clock.legal_ref)
    seconds = int((clock.deadline - now).total_seconds())
    return Standing(OVERDUE if seconds < 0 else DUE, clock.legal_ref, clock.deadline, seconds)


def workflow(incident: Incident, clock: Clock) -> str:
    """One obligation's workflow word (running, approved, submitted, closed, withdrawn), or
    "stopped" while the incident is merged or dismissed and the obligation was not settled."""
    state = incident.obligation(clock.rule_ref)
    if state is not None and state.settled:
        return state.status
    if incident.merged_into is not None or incident.dismissal is not None:
        return STOPPED
    return state.status if state is not None else "running"


def standing(incident: Incident, now: datetime) -> Standing:
    """The incident's one line: its most urgent open obligation (the nearest deadline; then one
    without a deadline); else why nothing runs."""
    if incident.merged_into is not None:
        return Standing(MERGED)
    if incident.dismissal is not None:
        return Standing(DISMISSED)
    if incident.awareness is None:
        escalated = f"{TRIAGE_RULE}|overdue" in incident.reminded
        return Standing(AWARENESS_OVERDUE if escalated else AWAITING_AWARENESS)
    each = [obligation(incident, c, now) for c in incident.clocks]
    timed = sorted((s for s in each if s.state in (DUE, OVERDUE)), key=lambda s: s.seconds_left or 0)
    untimed = [s for s in each if s.state == UNDUE_DELAY]
    return (timed or untimed or [Standing(SETTLED)])[0]


def duration(seconds: int) -> str:
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{hours} h {minutes:02d} min"


def text(s: Standing, merged_into: str | None = None) -> str:
    """The line in English (the API's and the CLI's; the console's pages translate ``state``)."""
    match s.state:
        case "due":
            return f"{duration(s.seconds_left or 0)} left"
        case "overdue":
            return f"overdue by {duration(s.seconds_left or 0)}"
        case "without_undue_delay":
            return "without undue delay"
        case "settled":
            return "settled"
        case "stopped":
            return f"stopped: merged into {merged_into}" if merged_into else "stopped: dismissed"
        case "merged":
            return f"merged into {merged_into}" if merged_into else "merged"
        case "dismissed":
            return "dismissed"
        case "awareness_overdue":
            return "awareness decision overdue"
        case _:
            return "no clock (awareness not recorded)"
