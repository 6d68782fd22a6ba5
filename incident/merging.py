"""What a merge does to the survivor's clocks: an absorbed incident known as a breach earlier
than the survivor means the controller has been aware since then (GDPR Art. 33(1): 72 h from
becoming aware, the earliest awareness of the breach). The survivor's awareness moves back to
it, and each clock still running from awareness or discovery moves with it; one running from
another anchor under a limit from awareness (DORA's initial notification) keeps its anchor and
takes the earlier limit. A settled
obligation (submitted, closed, withdrawn) keeps its clock: what was filed stays as filed.

A draft authority notification the DPO already received shows the old awareness time and
deadline; when the clock it speaks of moves, a corrected draft is requested (a new version,
so the delivery ledger sends it) saying the deadline moved and why.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, tzinfo

from incident.deadlines import Calendar, Clock, deadline_for
from incident.events import AwarenessAdvanced, ClockMoved, Event, NoticeRequested
from incident.model import Incident, fold
from incident.notices import AUTHORITY_NOTIFICATION, DPO_REVIEW, draft, draft_clock, reference
from incident.profiles import Profile
from incident.regimes import REGIMES, Obligation
from incident.tape import context_for

# The anchors that are the awareness itself (see tape.anchors_at); detection, classification
# and submission anchors are other facts and do not move with it.
AWARENESS_ANCHORS = ("awareness", "discovery")


def advance_awareness(state: Incident, *, aware_at: datetime, by: str, evidence: tuple[str, ...], absorbed: str,
                      now: datetime, tz: tzinfo, calendar: Calendar, profile: Profile | None = None,
                      ) -> list[Event]:
    """The events that move ``state``'s awareness back to ``aware_at`` (none if it is not
    earlier), then its running awareness clocks, then the corrected draft notification the
    DPO needs if one was already drafted (``profile``: the controller's, to write it with);
    versions follow ``state.version``."""
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
        if clock.rule_ref in settled:
            continue
        if clock.anchor in AWARENESS_ANCHORS and clock.anchor_at > aware_at:
            anchor_at, deadline = aware_at.astimezone(UTC), _deadline(clock, aware_at, tz, calendar)
        else:
            # A clock from another anchor whose outer limit runs from awareness (DORA's initial
            # notification: no later than 24 h from awareness) keeps its anchor; its limit may come
            # earlier.
            capped = _capped(state, clock, aware_at, tz, calendar, profile)
            if capped is None or capped >= clock.deadline:
                continue
            anchor_at, deadline = clock.anchor_at, capped
        version += 1
        events.append(ClockMoved(incident_id=state.id, version=version, at=now, rule_ref=clock.rule_ref,
                                 anchor_at=anchor_at, deadline=deadline, previous_deadline=clock.deadline,
                                 reason=reason))
    return events + redraft(state, events, absorbed=absorbed, profile=profile, now=now)


def redraft(state: Incident, moves: list[Event], *, absorbed: str, profile: Profile | None, now: datetime,
            ) -> list[Event]:
    """A corrected draft authority notification when ``moves`` (events on ``state``) moved the
    clock the drafts already sent speak of; none when nothing was drafted yet (the first draft
    will carry the new times), or the obligation is settled (its clock did not move).

    An obligation the DPO already approved keeps its approval: the approval covers the content
    the DPO checked, which the merge does not change, and what is submitted by e-mail is written
    from the incident as it stands then, with the new awareness time and deadline. Withdrawing
    it would make the DPO approve again against a deadline that just came closer; the corrected
    draft says plainly that the approval stands and that these are the times that will be sent."""
    moved = {e.rule_ref: e for e in moves if isinstance(e, ClockMoved)}
    advanced = next((e for e in moves if isinstance(e, AwarenessAdvanced)), None)
    drafts = [n for n in state.notices if n.kind == AUTHORITY_NOTIFICATION and n.audience == DPO_REVIEW]
    if profile is None or advanced is None or not drafts or not state.clocks:
        return []
    move = moved.get(draft_clock(state).rule_ref)
    obligation = state.obligation(move.rule_ref) if move else None
    if move is None or obligation is None or obligation.settled:
        return []
    after = fold(state, moves)
    assert after is not None
    seq = len(drafts) + 1
    correction = {"sequence": seq, "replaces": drafts[-1].notice_id, "absorbed": absorbed,
                  "absorbed_reference": reference(absorbed), "aware_at": advanced.aware_at.isoformat(),
                  "previous_aware_at": advanced.previous_aware_at.isoformat(), "deadline": move.deadline.isoformat(),
                  "previous_deadline": move.previous_deadline.isoformat(),
                  "approved": obligation.status == "approved"}
    return [NoticeRequested(incident_id=state.id, version=after.version + 1, at=now,
                            draft=draft(AUTHORITY_NOTIFICATION, after, profile, now, seq=seq, correction=correction))]


def _deadline(clock: Clock, anchor_at: datetime, tz: tzinfo, calendar: Calendar) -> datetime:
    """The deadline the clock's own rule gives from the new anchor; a rule no longer known keeps
    the clock's span (exact for hours, the unit of every awareness clock today)."""
    obligation = _rule(clock.rule_ref)
    if obligation is None:
        return clock.deadline - (clock.anchor_at - anchor_at)
    if clock.unit != obligation.unit:  # the branch a count chose (HIPAA 164.408(c)): the clock's own
        obligation = replace(obligation, unit=clock.unit, under=None)
    deadline = deadline_for(obligation, anchor_at, tz, calendar)
    return (deadline if deadline is not None else anchor_at).astimezone(UTC)


def _capped(state: Incident, clock: Clock, aware_at: datetime, tz: tzinfo, calendar: Calendar,
            profile: Profile | None) -> datetime | None:
    """The deadline of a clock whose rule has an outer limit from awareness, counted from the
    earlier awareness; None for a clock without one."""
    obligation = _rule(clock.rule_ref)
    if obligation is None or obligation.cap_anchor not in AWARENESS_ANCHORS:
        return None
    context = replace(context_for(obligation, state, profile), cap_at=aware_at)
    deadline = deadline_for(obligation, clock.anchor_at, tz, calendar, context)
    return None if deadline is None else deadline.astimezone(UTC)


def _rule(rule_ref: str) -> Obligation | None:
    return next((o for regime in REGIMES.values() for o in regime if o.rule_ref == rule_ref), None)
