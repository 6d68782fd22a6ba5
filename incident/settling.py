"""The settle delay (issue 19, docs/rules.md "One controller over N workers"): a new incident
holds what leaves the service until ``Rules.settle`` after it opened, because split over workers
it may be merged a moment later (a signal on a second host opens its own incident first).

Held: the awareness a confirming signal records (and with it the assessment, the clocks and the
drafts) and the page a severe signal raises. Never held: a person's decision, an awareness the
incident takes from one merged into it (already decided there), what stays inside (playbook
tasks, the timeline). The clock agent's first Tick at or after the end of the delay does what was
held, once: an incident merged meanwhile never ticks again, and its survivor, holding its
signals, does it instead. Nothing is recorded for the delay itself: what is still owed is read
from the state (a confirming signal and no awareness; a severe signal and no severity page), so
once done it is owed no more, and a zero delay (the default) holds nothing.
"""

from __future__ import annotations

from datetime import datetime

from incident.model import Incident
from incident.pages import SEVERITY
from incident.tape import Rules, profile_of


def settling(state: Incident, now: datetime, rules: Rules) -> bool:
    """Whether ``state`` is within its settle delay at ``now``."""
    return bool(rules.settle) and now < state.opened_at + rules.settle


def held_severity(state: Incident, rules: Rules) -> int | None:
    """The severity of the page the delay held back and still owed, if any: a signal at or above
    the policy's severity reached the incident while it was suspected, and no such page went out."""
    if not rules.settle or state.awareness is not None or state.merged_into is not None or state.dismissal:
        return None
    profile = profile_of(state, rules.directory)
    threshold = rules.paging.with_overrides(profile.paging if profile else ()).severity
    if threshold is None or state.signals.severity_max < threshold:
        return None
    if any(p.page.reason == SEVERITY for p in state.pages):
        return None
    return state.signals.severity_max


def held_awareness(state: Incident, rules: Rules) -> bool:
    """A confirming signal is attached and awareness was not recorded: the delay held it."""
    return (bool(rules.settle) and state.awareness is None and state.merged_into is None and state.dismissal is None
            and state.signals.first_confirmed is not None)


def release_at(state: Incident, rules: Rules) -> datetime | None:
    """When the incident needs a Tick to do what the delay held (None: nothing is held)."""
    if held_awareness(state, rules) or held_severity(state, rules) is not None:
        return state.opened_at + rules.settle
    return None
