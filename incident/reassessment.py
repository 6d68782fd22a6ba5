"""Re-assessment as evidence lands (issue 15): a signal that reaches an incident already assessed
may bring what the first assessment did not know (an export, a dump, gigabytes sent out, a
data category, a system). The facts are derived again from the incident as it now stands; when
they changed materially, a new versioned ``RiskAssessed`` goes on the timeline, and a level
raised by it starts the clocks and drafts the notices it calls for (GDPR Art. 34 when the risk
becomes high), exactly as an assessment at awareness would.

"Materially": any fact the assessment reads but the number of people, or that number changing
its order of magnitude; and a data store read or exported for the first time (the data the
notification must name), each of the first STORES_EACH, then by order of magnitude.
A mass download attaches thousands of reads, each a little larger: one assessment per read
would bury the timeline, and a count in the same decade changes neither severity nor level.
A dump of a whole schema touches hundreds of tables: each of the first ten is news for the
DPO, the rest say how far it went.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime

from incident.deadlines import in_force
from incident.events import ObligationActed, RiskAssessed
from incident.facts import Facts
from incident.model import Incident
from incident.reasons import Part, say
from incident.regimes import CLASSIFICATION_TRIGGERS, SUPERSEDED, Obligation
from incident.risk import LEVELS, assess
from incident.tape import Rules, Tape, anchors_at, facts_of, owed, profile_of, request_due_notices, start_clock_for


def reassess(tape: Tape, before: Incident, at: datetime, now: datetime, rules: Rules) -> None:
    """After a signal was written on ``tape`` (``before``: the state it found), assess again when
    the facts moved. ``at``: when the signal reached us, the moment a raised level could be known."""
    after = tape.state
    if after is None or after.awareness is None or before.assessment is None or after.merged_into:
        return  # not assessed yet: awareness will assess from everything attached by then
    profile = profile_of(after, rules.directory)
    old, new = facts_of(before, profile), facts_of(after, profile)
    if not _material(old, new):
        return
    level = after.level
    state = tape.emit(RiskAssessed(incident_id=after.id, version=tape.version, at=now, facts=new,
                                   assessment=assess(new, profile)))
    # Only a rise follows by itself: lowering what is owed is the DPO's decision (override).
    if state.level is not None and (level is None or LEVELS.index(state.level) > LEVELS.index(level)):
        follow_level(tape, level, at, now, rules, by="system", why=("new_evidence",))
    start_counted_clocks(tape, at, now, rules)
    request_due_notices(tape, profile, now)


# The start of the reason of an obligation withdrawn because the level no longer calls for it:
# such an obligation, and only such, comes back when the level calls for it again.
LEVEL_WITHDRAWAL = "not required at the level now in force"


def follow_level(tape: Tape, before: str | None, at: datetime, now: datetime, rules: Rules, *, by: str,
                 why: Part) -> None:
    """Settle or create the obligations a change of level implies (issue 16), each recorded.

    Lowered (the DPO's override or corrected facts): each running obligation the new level does
    not call for is withdrawn, by that DPO decision, with the level and the reason (its clock
    stops reminding; the register says why nothing was notified). Raised: those withdrawn that
    way come back where they stood, and the clocks the level calls for and that never ran start
    from ``at`` (when it became known), as at awareness."""
    state = tape.state
    assert state is not None
    level = state.level
    if level == before or level is None:
        return
    clocks = {c.rule_ref: c for c in state.clocks}
    for obligation in state.obligations:
        clock = clocks.get(obligation.rule_ref)
        if clock is None:
            continue
        needed = in_force(clock, level)
        if not needed and obligation.status in ("running", "approved"):
            action, said = "withdraw", (("level_withdrawal", level), why)
        elif needed and obligation.status == "withdrawn" and obligation.closing_reason.startswith(LEVEL_WITHDRAWAL):
            action, said = "reinstate", (("level_reinstated", level), why)
        else:
            continue
        tape.emit(ObligationActed(incident_id=state.id, version=tape.version, at=now, obligation=clock.rule_ref,
                                  action=action, by=by, acted_at=now, channel="", reference="", text=say(said),
                                  late=False, why=said))
    if before is None or LEVELS.index(level) > LEVELS.index(before):
        _start_raised_clocks(tape, at, now, rules)


STORES_EACH = 10


def _material(old: Facts, new: Facts) -> bool:
    # Assets no profile declares are listed for people, never read by the assessment.
    if (replace(old, subjects_count=None, unmapped_assets=(), data_stores=())
            != replace(new, subjects_count=None, unmapped_assets=(), data_stores=())):
        return True
    return (_decade(old.subjects_count) != _decade(new.subjects_count)
            or _stores(old.data_stores) != _stores(new.data_stores))


def _stores(stores: tuple[str, ...]) -> object:
    return stores if len(stores) <= STORES_EACH else _decade(len(stores))


def _decade(count: int | None) -> int | None:
    return None if count is None else (0 if count < 1 else int(math.log10(count)) + 1)


def _start_raised_clocks(tape: Tape, at: datetime, now: datetime, rules: Rules, *, counted: bool = False) -> None:
    """The clocks the level now in force calls for and that did not run yet: Art. 34's when the
    risk became high. They run from when the evidence that raised it reached us (never before
    awareness): that is when the controller could know the risk was high. ``counted``: only the
    obligations owed above a number of people (the count just changed)."""
    state = tape.state
    assert state is not None and state.awareness is not None
    profile = profile_of(state, rules.directory)
    started = {(c.regime, c.obligation) for c in state.clocks}
    anchors = anchors_at(state, max(at, state.awareness.aware_at))
    # A number of people known later does not move the breach's discovery, which the law counts
    # from (HIPAA 164.406(b): 60 days of discovery): those clocks run from the awareness recorded.
    discovered = anchors_at(state, state.awareness.aware_at)
    for obligation in owed(state, profile):
        if counted and obligation.more_than is None:
            continue
        anchor_at = (_submitted(state, obligation) if obligation.anchor == "submission"
                     else (discovered if obligation.more_than is not None else anchors).get(obligation.anchor))
        if ((obligation.regime, obligation.id) in started or anchor_at is None
                or obligation.trigger in CLASSIFICATION_TRIGGERS.values()
                or (obligation.trigger == "high_risk" and state.level != "high")):
            continue
        start_clock_for(tape, obligation, anchor_at, profile, now, rules)


def start_counted_clocks(tape: Tape, at: datetime, now: datetime, rules: Rules) -> None:
    """The obligations owed above a number of people (California's Attorney General, HIPAA's
    media notice) that a new count now calls for: from the breach's discovery, or from the
    submission they follow if it was made already (none yet: that submission starts them)."""
    if tape.state is not None and tape.state.awareness is not None:
        _start_raised_clocks(tape, at, now, rules, counted=True)


def _submitted(state: Incident, obligation: Obligation) -> datetime | None:
    """When the obligation an obligation follows was submitted (None: not yet; its submission
    will start it)."""
    for clock in state.clocks:
        if clock.regime == obligation.regime and obligation.after in (
                clock.obligation, SUPERSEDED.get((clock.regime, clock.obligation))):
            current = state.obligation(clock.rule_ref)
            if current is not None and current.submitted_at is not None:
                return current.submitted_at
    return None
