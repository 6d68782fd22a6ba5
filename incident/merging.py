"""What a merge does to the survivor's clocks: an absorbed incident known as a breach earlier
than the survivor means the controller has been aware since then (GDPR Art. 33(1): 72 h from
becoming aware, the earliest awareness of the breach). The survivor's awareness moves back to
it, and each clock still running from awareness or discovery moves with it. A settled
obligation (submitted, closed, withdrawn) keeps its clock: what was filed stays as filed.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from incident.deadlines import Calendar, Clock, deadline_for
from incident.events import AwarenessAdvanced, ClockMoved, Event
from incident.model import Incident
from incident.regimes import REGIMES, Obligation

# The anchors that are the awareness itself (see tape.anchors_at); detection, classification
# and submission anchors are other facts and do not move with it.
AWARENESS_ANCHORS = ("awareness", "discovery")


def advance_awareness(state: Incident, *, aware_at: datetime, by: str, evidence: tuple[str, ...], absorbed: str,
                      now: datetime, tz: tzinfo, calendar: Calendar) -> list[Event]:
    """The events that move ``state``'s awareness back to ``aware_at`` (none if it is not
    earlier), then its running awareness clocks; versions follow ``state.version``."""
    current = state.awareness
    if current is None or aware_at >= current.aware_at:
        return []
    version = state.version + 1
    events: list[Event] = [AwarenessAdvanced(incident_id=state.id, version=version, at=now, aware_at=aware_at,
                                             previous_aware_at=current.aware_at, by=by, evidence=evidence,
                                             absorbed=absorbed)]
    reason = (f"awareness advanced to {aware_at.astimezone(UTC).isoformat()} (was "
              f"{current.aware_at.astimezone(UTC).isoformat()}): incident {absorbed}, merged into this one, "
              f"was aware first ({by})")
    settled = state.settled_obligations
    for clock in state.clocks:
        if clock.anchor not in AWARENESS_ANCHORS or clock.rule_ref in settled or clock.anchor_at <= aware_at:
            continue
        version += 1
        events.append(ClockMoved(incident_id=state.id, version=version, at=now, rule_ref=clock.rule_ref,
                                 anchor_at=aware_at.astimezone(UTC),
                                 deadline=_deadline(clock, aware_at, tz, calendar),
                                 previous_deadline=clock.deadline, reason=reason))
    return events


def _deadline(clock: Clock, anchor_at: datetime, tz: tzinfo, calendar: Calendar) -> datetime:
    """The deadline the clock's own rule gives from the new anchor; a rule no longer known keeps
    the clock's span (exact for hours, the unit of every awareness clock today)."""
    obligation = _rule(clock.rule_ref)
    if obligation is None:
        return clock.deadline - (clock.anchor_at - anchor_at)
    deadline = deadline_for(obligation, anchor_at, tz, calendar)
    return (deadline if deadline is not None else anchor_at).astimezone(UTC)


def _rule(rule_ref: str) -> Obligation | None:
    return next((o for regime in REGIMES.values() for o in regime if o.rule_ref == rule_ref), None)
