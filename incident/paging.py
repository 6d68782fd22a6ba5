"""Paging the on-call team: when a page is raised, when it is sent again, and its acknowledgement.

A page is raised in the same decision as what calls for it, so it goes out as soon as the
worker publishes that decision (not at the first reminder, T-48 h):

- a signal at or above the policy's severity reaches an incident still suspected (once);
- the controller becomes aware of a breach (a confirming signal, a person, a merge);
- an escalation: a deadline, or the awareness decision, is overdue (the reminder's overdue step).

When one decision brings several, one page goes out, for the strongest reason. Until a person
acknowledges it, the latest page is sent again every ``repeat_minutes`` (at the clock agent's
Ticks), at most ``max_repeats`` times; a later page takes over the repeats. A dismissed or merged
incident pages no more. Within the settle delay (``Rules.settle``, incident/settling.py) a new
incident's severity page waits for the first Tick after it. The policy is the deployment's
(Rules.paging), overridden key by key by the controller's profile (its ``[paging]`` table), and
snapshot in each page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from incident.commands import AcknowledgePage
from incident.errors import CommandRejected
from incident.events import (
    AwarenessRecorded,
    Event,
    IncidentOpened,
    PageAcknowledged,
    Paged,
    ReminderDue,
    SignalAttached,
)
from incident.model import Incident, fold
from incident.pages import AWARE, ESCALATED, SEVERITY, STRENGTH, Page, PagingPolicy
from incident.settling import held_severity, settling
from incident.tape import Rules, profile_of

ACKNOWLEDGING_ROLES = ("responder", "dpo", "admin")


def policy_for(state: Incident, rules: Rules) -> PagingPolicy:
    """The deployment's policy with the controller's profile's overrides."""
    profile = profile_of(state, rules.directory)
    return rules.paging.with_overrides(profile.paging if profile else ())


def follow(state: Incident | None, events: Sequence[Event], now: datetime, rules: Rules, *,
           ticked: bool) -> list[Event]:
    """The paging events that follow a decision (``events``, decided on ``state``): a new page when
    they call for one, else, on a Tick, the repeat now due of the page still unacknowledged."""
    if not _may_page(state, events, rules, ticked=ticked):
        return []  # most decisions (a signal among hundreds): no second fold of their events
    after = fold(state, list(events)) if events else state
    if after is None or after.merged_into is not None or after.dismissal is not None:
        return []
    policy = policy_for(after, rules)
    holding = settling(after, now, rules)  # it may still merge: its severity page waits (incident/settling.py)
    triggers = _triggers(after, events, policy, holding=holding)
    if ticked and not holding and (severity := held_severity(after, rules)) is not None:
        triggers.append((SEVERITY, f"severity {severity}"))  # the page the settle delay held back
    if triggers:
        reason, trigger = max(triggers, key=lambda t: STRENGTH[t[0]])
        return [Paged(incident_id=after.id, version=after.version + 1, at=now, repeat=0,
                      page=_page(after, reason, trigger, now, policy))]
    latest = after.pages[-1] if after.pages else None
    if ticked and latest is not None and latest.next_at is not None and latest.next_at <= now:
        return [Paged(incident_id=after.id, version=after.version + 1, at=now, page=latest.page,
                      repeat=latest.repeats + 1)]
    return []


def _may_page(state: Incident | None, events: Sequence[Event], rules: Rules, *, ticked: bool) -> bool:
    """A cheap first look: could these events raise a page, or this Tick repeat one?"""
    if ticked and state is not None and state.pages and state.pages[-1].next_at is not None:
        return True
    if ticked and rules.settle and state is not None and state.awareness is None:
        return True  # a page the settle delay held may be owed now
    controller = state.controller if state is not None else next(
        (e.controller for e in events if isinstance(e, IncidentOpened)), None)
    profile = rules.directory.profiles.get(controller) if controller else None
    policy = rules.paging.with_overrides(profile.paging if profile else ())
    severity = policy.severity
    return any(isinstance(e, (AwarenessRecorded, ReminderDue))
               or (isinstance(e, SignalAttached) and severity is not None and e.evidence.severity >= severity)
               for e in events)


def _triggers(after: Incident, events: Sequence[Event], policy: PagingPolicy, *,
              holding: bool) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for event in events:
        match event:
            case AwarenessRecorded() if policy.on_aware:
                found.append((AWARE, "awareness"))
            case ReminderDue(step="overdue") if policy.on_escalation:
                found.append((ESCALATED, event.rule_ref))
            case SignalAttached() if (policy.severity is not None and event.evidence.severity >= policy.severity
                                      and after.awareness is None and not holding
                                      and not any(p.page.reason == SEVERITY for p in after.pages)):
                found.append((SEVERITY, f"severity {event.evidence.severity}"))
    return found


def _page(state: Incident, reason: str, trigger: str, now: datetime, policy: PagingPolicy) -> Page:
    settled = state.settled_obligations
    deadlines = [c.deadline for c in state.clocks if c.timed and c.rule_ref not in settled]
    return Page(page_id=f"{state.id}/page-{len(state.pages) + 1}", incident_id=state.id, reason=reason,
                trigger=trigger, raised_at=now, controller=state.controller,
                severity=max((e.severity for e in state.evidence), default=0), level=state.level,
                opened_at=state.opened_at, aware_at=state.awareness.aware_at if state.awareness else None,
                deadline=min(deadlines, default=None), repeat_seconds=max(0, policy.repeat_minutes) * 60,
                max_repeats=max(0, policy.max_repeats))


def acknowledge(cmd: AcknowledgePage, state: Incident | None, now: datetime) -> list[Event]:
    """A named person acknowledges every page of the incident not acknowledged yet; a redelivered
    acknowledgement (nothing left open) changes nothing."""
    if state is None:
        raise CommandRejected(f"no incident {cmd.incident_id}")
    if cmd.role not in ACKNOWLEDGING_ROLES:
        raise CommandRejected(f"the {cmd.role} role may read, not act")
    if not cmd.by.strip():
        raise CommandRejected("an acknowledgement names who acknowledges")
    if not state.pages:
        raise CommandRejected("nobody was paged for this incident")
    open_ids = tuple(p.page.page_id for p in state.pages if p.unacknowledged)
    if not open_ids:
        return []
    return [PageAcknowledged(incident_id=state.id, version=state.version + 1, at=now, page_ids=open_ids, by=cmd.by)]

