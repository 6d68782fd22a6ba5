"""Pages: what paging the on-call team holds, as plain data (the decisions are in incident/paging.py).

A page says an incident needs someone now: it was opened by a signal at or above a severity,
the controller became aware of a breach, or it was escalated (a deadline or the awareness
decision overdue). It holds ids, references, times and levels only: no names, no addresses,
no evidence (a page leaves the organisation through chat tools and mail relays).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

# Why a page was raised.
SEVERITY, AWARE, ESCALATED = "severity", "aware", "escalated"
REASONS = (SEVERITY, AWARE, ESCALATED)
# Which reason wins when one decision brings several (becoming aware on a critical signal pages once).
STRENGTH = {SEVERITY: 0, AWARE: 1, ESCALATED: 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class PagingPolicy:
    """When to page and how often to repeat: the deployment's defaults (BREACH_PAGE_*), which a
    profile's ``[paging]`` table overrides key by key. ``oncall`` is who is e-mailed (empty: the
    deployment's BREACH_ONCALL_EMAILS, else the controller's DPO); the domain does not read it."""

    severity: int | None = 4  # OCSF severity_id ("high"); a signal this severe pages a suspected incident
    on_aware: bool = True
    on_escalation: bool = True
    repeat_minutes: int = 15  # until someone acknowledges
    max_repeats: int = 12  # then it stops repeating (3 h at the default interval); 0: never repeats
    oncall: tuple[str, ...] = ()

    def with_overrides(self, overrides: tuple[tuple[str, Any], ...]) -> PagingPolicy:
        if not overrides:
            return self
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(dict(overrides))
        return PagingPolicy(**values)


DEFAULT_PAGING = PagingPolicy()
PAGING_OFF = PagingPolicy(severity=None, on_aware=False, on_escalation=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    """One page, as sent every time it repeats. ``repeat_seconds`` and ``max_repeats`` are the
    policy's at the time it was raised (editing a profile does not change a running page)."""

    page_id: str  # "<incident id>/page-<n>": deterministic, so a replayed decision raises the same page
    incident_id: str
    reason: str  # REASONS
    trigger: str  # what raised it: "severity 5", "awareness", or the escalated rule
    raised_at: datetime
    controller: str | None
    severity: int  # the highest signal severity (OCSF severity_id)
    level: str | None  # the assessed risk level in force, once assessed
    opened_at: datetime
    aware_at: datetime | None
    deadline: datetime | None  # the nearest deadline still running
    repeat_seconds: int
    max_repeats: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PageStatus:
    """Where one page stands on the incident: sent ``repeats`` more times; due again at ``next_at``
    (None: acknowledged, superseded by a later page, or out of repeats)."""

    page: Page
    repeats: int = 0
    last_at: datetime | None = None
    next_at: datetime | None = None
    acknowledged_by: str = ""
    acknowledged_at: datetime | None = None

    @property
    def unacknowledged(self) -> bool:
        """Not acknowledged yet (it may have stopped repeating)."""
        return not self.acknowledged_by
