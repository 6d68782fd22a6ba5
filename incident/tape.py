"""The tape a command's decision is written on, and the steps several of decide()'s handlers
write on it.

A handler that emits more than one event writes them on a Tape, so each later decision sees
the state the earlier events lead to. Becoming aware (a person records it, a signal confirms
the breach, a merge hands it over) is one step: the awareness, the assessment, the clocks of
the controller's regimes and the notice drafts, all decided from the same state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from incident.commitments import policy_obligations
from incident.deadlines import DEFAULT_REMINDERS, Calendar, Clock, Context, in_force, start_clock
from incident.events import AwarenessRecorded, ClockStarted, Event, NoticeRequested, RiskAssessed
from incident.facts import Facts
from incident.model import Incident, evolve
from incident.notices import (
    AUTHORITY_NOTIFICATION,
    DATA_SUBJECT_NOTICE,
    DPO_REVIEW,
    PUBLIC_COMMUNICATION,
    draft,
    draft_regime_notice,
    notice_id,
)
from incident.pages import DEFAULT_PAGING, PagingPolicy
from incident.playbooks import Playbook
from incident.profiles import Directory, Profile
from incident.regime_notices import drafted_for
from incident.regimes import CLASSIFICATION_TRIGGERS, GDPR_ART33, REGIMES, Obligation
from incident.risk import assess

# Signal categories that come from an attack, not an accident (malicious intent, ENISA CB).
HOSTILE_CATEGORIES = ("authentication", "exfiltration", "malware", "intrusion")
# Bytes an incident's signals report sent out from which exfiltration is suspected: the rule
# pack's outbound transfer (deploy/rules/disclosure.yml), the smallest transfer it counts.
EXFILTRATION_BYTES = 10_000_000


class Tape:
    """Events decided so far, and the state they lead to (so later decisions see earlier ones)."""

    def __init__(self, state: Incident | None) -> None:
        self.state = state
        self.events: list[Event] = []

    @property
    def version(self) -> int:
        return (self.state.version if self.state else 0) + 1

    @property
    def incident_id(self) -> str:
        assert self.state is not None
        return self.state.id

    def emit(self, event: Event) -> Incident:
        self.events.append(event)
        self.state = evolve(event, self.state)
        return self.state


@dataclass(frozen=True, slots=True)
class Rules:
    """Everything decide() needs besides the command, the state and the time."""

    directory: Directory
    calendar: Calendar
    reminders: tuple[timedelta, ...] = DEFAULT_REMINDERS
    # A suspected incident must reach an awareness decision within this window, or it is escalated.
    triage_window: timedelta = timedelta(hours=24)
    # The deployment's paging policy; a profile's [paging] overrides it (incident/paging.py).
    paging: PagingPolicy = DEFAULT_PAGING
    # The rule pack's playbooks (deploy/rules/playbooks.toml), for every controller besides its own.
    playbooks: tuple[Playbook, ...] = ()
    # How long a new incident holds its automatic steps (awareness from a confirming signal, and
    # with it the clocks and drafts; pages) in case it merges meanwhile (incident/settling.py).
    # Zero: nothing is held.
    settle: timedelta = timedelta(0)


def profile_of(state: Incident, directory: Directory) -> Profile | None:
    return directory.profiles.get(state.controller) if state.controller else None


def zone(profile: Profile | None, rules: Rules) -> tzinfo:
    """Where a controller's deadlines are counted; one no profile declares, in UTC."""
    return rules.calendar.zone(profile.timezone if profile else "UTC")


def become_aware(tape: Tape, aware_at: datetime, by: str, evidence: tuple[str, ...], now: datetime,
                 rules: Rules) -> None:
    state = tape.emit(AwarenessRecorded(incident_id=tape.incident_id, version=tape.version, at=now, aware_at=aware_at,
                                        by=by, evidence=evidence))
    profile = profile_of(state, rules.directory)
    facts = facts_of(state, profile)
    tape.emit(RiskAssessed(incident_id=state.id, version=tape.version, at=now, facts=facts,
                           assessment=assess(facts, profile)))
    _start_clocks(tape, profile, aware_at, now, rules)
    request_due_notices(tape, profile, now)


def _start_clocks(tape: Tape, profile: Profile | None, aware_at: datetime, now: datetime, rules: Rules) -> None:
    """One clock per timed obligation of the controller's regimes that runs from what is known
    at awareness. A controller no profile declares is held to the GDPR, in UTC."""
    state = tape.state
    assert state is not None
    anchors = anchors_at(state, aware_at)
    for obligation in owed(state, profile):
        if (obligation.anchor not in anchors or obligation.trigger in CLASSIFICATION_TRIGGERS.values()
                or (obligation.trigger == "high_risk" and state.level != "high")):
            continue  # later anchors (classification, a submission) start with their own commands
        start_clock_for(tape, obligation, anchors[obligation.anchor], profile, now, rules)


def anchors_at(state: Incident, aware_at: datetime) -> dict[str, datetime]:
    detected_at = state.signals.first_ingested_at or aware_at
    return {"awareness": aware_at, "discovery": aware_at, "detection": detected_at}


def owed(state: Incident, profile: Profile | None) -> list[Obligation]:
    """The obligations of the controller's regimes that this incident's systems call for: a
    breach in a system run for someone else (as a processor) is owed to that controller
    (Art. 33(2)); one in the controller's own systems to the authority and the people, and to
    the people what the controller's own policy promises them (incident/commitments.py)."""
    regimes = profile.regimes if profile else ("gdpr",)
    roles = {s.role for s in profile.systems if s.id in state.systems} if profile else set()
    as_processor, as_controller = "processor" in roles, "controller" in roles or not roles
    promised = policy_obligations(profile) if as_controller else ()
    return [*(o for regime in regimes for o in REGIMES[regime]
              if ((o.recipient == "controller" and as_processor) or (o.recipient != "controller" and as_controller))
              and applies(o, state, profile)),
            *promised]


def applies(obligation: Obligation, state: Incident, profile: Profile | None) -> bool:
    """Whether the version of a rule governs this breach (by its discovery date) and its count
    of people reaches the rule's threshold. A count not known yet may be above it: the
    obligation opens (the conservative reading), and the DPO withdraws it with the reason."""
    if state.awareness is not None and not obligation.governs(state.awareness.aware_at):
        return False
    if obligation.more_than is None:
        return True
    people = facts_of(state, profile).subjects_count
    return people is None or people > obligation.more_than


def start_clock_for(tape: Tape, obligation: Obligation, anchor_at: datetime, profile: Profile | None,
                    now: datetime, rules: Rules) -> None:
    state = tape.state
    assert state is not None
    tz = zone(profile, rules)
    clock = start_clock(obligation, anchor_at, state.profile_ref, tz=tz, calendar=rules.calendar,
                        reminders=rules.reminders, context=context_for(obligation, state, profile))
    tape.emit(ClockStarted(incident_id=state.id, version=tape.version, at=now, clock=clock))
    request_regime_notices(tape, profile, now)


def request_regime_notices(tape: Tape, profile: Profile | None, now: datetime) -> None:
    """Draft the notice of each running obligation of a regime other than the GDPR that the level
    in force calls for and that was not drafted yet (incident/regime_notices.py)."""
    state = tape.state
    if state is None or profile is None or state.awareness is None or state.assessment is None:
        return
    for clock in state.clocks:
        obligation = state.obligation(clock.rule_ref)
        if not in_force(clock, state.level) or (obligation is not None and obligation.settled):
            continue  # not called for at this level, or already submitted, closed or withdrawn
        template = drafted_for(clock)  # NoNoticeTemplate for an obligation no template drafts
        if template is None or state.notice(notice_id(state.id, template.template, template.kind)) is not None:
            continue
        state = tape.emit(NoticeRequested(incident_id=state.id, version=tape.version, at=now,
                                          draft=draft_regime_notice(template, state, profile, clock, now)))


def redraft_unsent(tape: Tape, profile: Profile, now: datetime, *, gdpr_kinds: tuple[str, ...],
                   regime_audiences: tuple[str, ...]) -> None:
    """A new version, for the DPO's review, of each draft already sent to them that shows what the
    DPO just changed (``gdpr_kinds``: the GDPR's notices of those kinds; ``regime_audiences``: every
    other regime's notices to those audiences) and whose obligation is still to be met. A notice
    submitted (or an obligation closed or withdrawn) is never redrafted: what the authority already
    has is completed by a complement or a follow-up report, as the law asks, not rewritten."""
    state = tape.state
    assert state is not None
    for kind in gdpr_kinds:
        recipient = "authority" if kind == AUTHORITY_NOTIFICATION else "data_subjects"
        owed = next((c for c in state.clocks if c.regime == GDPR_ART33.regime and c.recipient == recipient), None)
        if owed is not None and _met(state, owed):
            continue
        drafted = [n for n in state.notices if n.kind == kind and n.audience == DPO_REVIEW]
        if drafted:
            state = tape.emit(NoticeRequested(incident_id=state.id, version=tape.version, at=now,
                                              draft=draft(kind, state, profile, now, seq=len(drafted) + 1)))
    redrafted: set[tuple[str, str]] = set()
    for clock in state.clocks:
        template = drafted_for(clock)
        if (template is None or template.audience not in regime_audiences or _met(state, clock)
                or not in_force(clock, state.level) or (template.template, template.kind) in redrafted):
            continue
        versions = 0
        while state.notice(notice_id(state.id, template.template, template.kind, versions + 1)) is not None:
            versions += 1
        if versions:
            redrafted.add((template.template, template.kind))
            state = tape.emit(NoticeRequested(incident_id=state.id, version=tape.version, at=now, draft=(
                draft_regime_notice(template, state, profile, clock, now, seq=versions + 1))))


def _met(state: Incident, clock: Clock) -> bool:
    """Whether the clock's obligation was submitted, closed or withdrawn."""
    obligation = state.obligation(clock.rule_ref)
    return obligation is not None and obligation.settled


def context_for(obligation: Obligation, state: Incident, profile: Profile | None) -> Context:
    """What the rule's deadline needs besides its anchor: its outer limit's anchor, the number of
    people, and the Member State whose closed days give relief (DORA RTS Art. 5(4), 5(5))."""
    cap_at = (anchors_at(state, state.awareness.aware_at).get(obligation.cap_anchor)
              if obligation.cap_anchor and state.awareness else None)
    people = facts_of(state, profile).subjects_count if obligation.under else None
    setting = profile.dora_weekend_relief if profile else "none"
    relieved = obligation.weekend_relief and (
        setting == "all_reports" or (setting == "final_report_only" and not obligation.relief_excludable))
    return Context(cap_at=cap_at, people=people, relief=profile.established_in if relieved and profile else None)


def request_due_notices(tape: Tape, profile: Profile | None, now: datetime) -> None:
    """Draft each notice the level in force calls for and that was not drafted yet."""
    request_regime_notices(tape, profile, now)
    state = tape.state
    if state is None or profile is None or state.level is None:
        return  # no controller known: nobody to draft for; the console shows it as unmapped
    # The GDPR's notices for the GDPR's obligations: another regime's authority has its own
    # (request_regime_notices), which never cite the GDPR.
    if not any(c.recipient == "authority" and c.regime == GDPR_ART33.regime for c in state.clocks):
        return  # nothing owed to an authority (a processor's breach, say): no notification to draft
    kinds = [AUTHORITY_NOTIFICATION] if state.level != "unlikely" else []
    # The people are told when the risk is high (Art. 34), or whenever the controller promised
    # to tell them at this level (its policy's commitments, whatever the risk for some).
    promised = any(c.recipient == "data_subjects" and in_force(c, state.level) for c in state.clocks)
    # People who cannot be reached one by one are told publicly (Art. 34(3)(c)): a public
    # communication is drafted instead of a notice nobody could be sent.
    # (Only a responder's correction says so: no signal knows whether the people can be reached.)
    unreachable = (state.corrections or {}).get("subjects_contactable") is False
    if state.level == "high" or promised:
        kinds += [PUBLIC_COMMUNICATION if unreachable else DATA_SUBJECT_NOTICE]
    requested = {n.kind for n in state.notices}
    for kind in kinds:
        if kind not in requested:
            tape.emit(NoticeRequested(incident_id=state.id, version=tape.version, at=now,
                                      draft=draft(kind, state, profile, now)))


def facts_of(state: Incident, profile: Profile | None) -> Facts:
    """The breach facts an incident supports: its signals, its systems' declarations, then the
    corrections responders made (which win). A system is involved when a signal's asset is one
    of its own, or when a signal read or exported a data store it declares holding (a dump run
    from a host no profile lists still takes that system's data)."""
    signals = state.signals  # every signal's, in summary (incident/signal_summary.py)
    stores = signals.data_stores
    systems = [s for s in profile.systems
               if s.id in state.systems or any(s.holds(store) for store in stores)] if profile else []
    categories = list(signals.data_categories)
    categories += [c for s in systems for c in s.data_categories]
    declared = [s.approx_subjects for s in systems if s.approx_subjects is not None]
    estimate = state.records_estimate if state.records_estimate is not None else (sum(declared) if declared else None)
    signal_categories = set(signals.categories)
    exfiltration = None
    if "exfiltration" in signal_categories or signals.bytes_out >= EXFILTRATION_BYTES:
        exfiltration = "confirmed" if signals.exfiltration_confirmed else "suspected"
    facts = Facts(
        controller=state.controller,
        # No signal said which: a loss of confidentiality, the most harmful reading.
        breach_types=signals.breach_types or ("confidentiality",),
        data_categories=tuple(dict.fromkeys(categories)),
        subjects_count=estimate,
        exfiltration=exfiltration,
        malicious=True if signal_categories & set(HOSTILE_CATEGORIES) else None,
        unmapped_assets=state.unmapped_assets,
        data_stores=stores,
    )
    return facts.corrected(state.corrections) if state.corrections else facts
