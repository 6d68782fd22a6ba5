"""decide(command, state, now=..., rules=...) -> events: every command of an incident is decided here.

Commands are idempotent: replaying one that was already applied (Kafka redelivers)
yields no event. An illegal command raises CommandRejected with a reason.

Lifecycle (Incident.status): open → triage → aware → assessed → drafts_requested →
drafts_delivered (to the DPO) → submitted (to the authority, recorded by a person) → closed.
Becoming aware is atomic with what follows from it: the assessment, the clocks of the
controller's regimes, and the notice drafts, all decided in the same call from the same state.
A Tick (the clock agent turning time into a command) emits the reminders now due, once each.
Paging the on-call team follows every decision (incident/paging.py).

What several handlers share (the event tape, becoming aware, starting clocks, drafting the
notices due) is in incident/tape.py; the handlers of the notice to the people affected are in
incident/decide_subject_notice.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from incident import paging, reasons
from incident.commands import (
    AbsorbIncident,
    AcknowledgePage,
    ActOnObligation,
    AddNote,
    AssignOwner,
    AttachSignal,
    CheckTask,
    ClassifyIncident,
    Command,
    CorrectFacts,
    DismissIncident,
    LinkIncidents,
    MergeIncident,
    OverrideRisk,
    RecordAwareness,
    RecordDelivery,
    RecordDeliveryProgress,
    RecordFormAnswers,
    RecordMeasures,
    RecordSubjects,
    ReopenIncident,
    SendSubjectNotice,
    SetTitle,
    SettleProposal,
    StartTriage,
    TagIncident,
    Tick,
)
from incident.decide_subject_notice import record_progress, record_subjects, send_subject_notice
from incident.errors import CommandRejected
from incident.events import (
    Event,
    FactsCorrected,
    FactsProposed,
    FormAnswered,
    IncidentClassified,
    IncidentMerged,
    IncidentOpened,
    IncidentReopened,
    MeasuresRecorded,
    NoticeDelivered,
    NoticeFailed,
    NoticeRequested,
    ProposalSettled,
    RiskAssessed,
    RiskOverridden,
    SignalAttached,
    SignalsAbsorbed,
    TriageStarted,
)
from incident.facts import FactsError
from incident.measures import check, cleaned
from incident.merging import advance_awareness
from incident.model import Incident, evolve, fold
from incident.notices import (
    AUTHORITY_NOTIFICATION,
    DATA_SUBJECT_NOTICE,
    PUBLIC_COMMUNICATION,
    NoticeDraft,
    complement,
    submission,
)
from incident.notification_form import check as check_form
from incident.notification_form import check_locales as check_form_locales
from incident.obligations import DPO_ROLE, act
from incident.profiles import Directory
from incident.proposals import find as find_proposal
from incident.reassessment import follow_level, reassess, start_counted_clocks
from incident.regime_notices import AUTHORITY, PEOPLE
from incident.regimes import CLASSIFICATION_TRIGGERS, SUPERSEDED
from incident.reminders import tick
from incident.risk import LEVELS, assess
from incident.settling import held_awareness, settling
from incident.signal_summary import SignalSummary
from incident.signals import Evidence
from incident.survivors import join
from incident.tags import link, tag
from incident.tape import Rules as Rules  # in decide()'s signature: its callers import it from here
from incident.tape import (
    Tape,
    anchors_at,
    become_aware,
    facts_of,
    owed,
    profile_of,
    redraft_unsent,
    request_due_notices,
    start_clock_for,
    zone,
)
from incident.tasks import breach_types, carried, carry, due
from incident.tasks import check as check_task
from incident.work import assign, dismiss, note, reopen, set_title

AUTOMATIC_AWARENESS = "rule:confirmed-signal"
# What a dismissed incident refuses until it is reopened: deciding on a breach examined as none.
_NOT_WHILE_DISMISSED = (RecordAwareness, CorrectFacts, SettleProposal, OverrideRisk, ActOnObligation,
                        ClassifyIncident, StartTriage, RecordSubjects, SendSubjectNotice)


def decide(command: Command, state: Incident | None, *, now: datetime, rules: Rules) -> list[Event]:
    events = _decide(command, state, now=now, rules=rules)
    events = events + _tasks_due(command, state, events, now, rules)
    # Paging follows from what was just decided (incident/paging.py): in the same decision, so
    # the page goes out as soon as the decision is published.
    return [*events, *paging.follow(state, events, now, rules, ticked=isinstance(command, Tick))]


def _tasks_due(command: Command, state: Incident | None, events: list[Event], now: datetime,
               rules: Rules) -> list[Event]:
    if not events or isinstance(command, Tick):
        return []  # nothing changed, or only time passed: no playbook task newly due
    controller = state.controller if state is not None else getattr(command, "controller", None)
    profile = rules.directory.profiles.get(controller) if controller else None
    if profile is None or not (profile.playbooks or rules.playbooks):
        return []  # no checklist to follow: spare the signals' hot path a second fold
    if state is not None and _only_signals_of_known_types(state, events):
        return []  # what tasks wait for (a point reached, a breach type) did not move
    return due(fold(state, events), profile, now, rules.playbooks)


def _only_signals_of_known_types(state: Incident, events: list[Event]) -> bool:
    """A cheap first look before a second fold, which every attached signal would otherwise pay:
    tasks fall due at opened / aware / risk / high_risk or when a playbook starts to apply (a
    classification, a breach type), and plain signals of breach types the incident already has
    move none of these (a new type may: a playbook for availability breaches, say)."""
    known = set(breach_types(state))
    return all(isinstance(e, SignalAttached)
               and (state.assessment is not None or known.issuperset(e.evidence.breach_types))
               for e in events)


def _decide(command: Command, state: Incident | None, *, now: datetime, rules: Rules) -> list[Event]:
    if state is not None and state.dismissal is not None and isinstance(command, _NOT_WHILE_DISMISSED):
        raise CommandRejected(f"the incident was dismissed as {state.dismissal.outcome}: reopen it first")
    match command:
        case AttachSignal():
            return _attach(command, state, now, rules)
        case MergeIncident():
            return _merge(command, state, now)
        case AbsorbIncident():
            return _absorb(command, state, now, rules)
        case RecordAwareness():
            if state is None:
                raise CommandRejected(f"no incident {command.incident_id}")
            if state.awareness is not None:
                raise CommandRejected(f"awareness already recorded at {state.awareness.aware_at.isoformat()} "
                                      f"by {state.awareness.by}")
            if command.aware_at > now:
                raise CommandRejected("awareness cannot be in the future")
            tape = Tape(state)
            become_aware(tape, command.aware_at, command.by, command.evidence, now, rules)
            return tape.events
        case RecordDelivery():
            return _delivery(command, state, now)
        case CorrectFacts():
            return _correct(command, _aware(state, command.incident_id), now, rules)
        case SettleProposal():
            return _settle(command, _aware(state, command.incident_id), now, rules)
        case OverrideRisk():
            return _override(command, _aware(state, command.incident_id), now, rules)
        case ActOnObligation():
            tape = Tape(state)
            sending = _email_submission(command, state, now, rules.directory)
            for event in act(command, state, now):
                tape.emit(event)
            if sending is not None and tape.events:
                tape.emit(NoticeRequested(incident_id=tape.incident_id, version=tape.version, at=now, draft=sending))
            if command.action == "complement" and tape.events:
                _draft_complement(tape, command, now, rules.directory)
            if command.action == "submit" and tape.events:
                _start_following(tape, command.obligation, command.at, now, rules)
            return tape.events
        case ClassifyIncident():
            return _classify(command, _aware(state, command.incident_id), now, rules)
        case Tick():
            # A merged incident's clocks run on the one it merged into (it took its awareness); a
            # dismissed one's are stopped until it is reopened.
            if state is None or state.merged_into or state.dismissal is not None:
                return []
            tape = Tape(state)
            for event in tick(_release(tape, now, rules), now, rules.triage_window):
                tape.emit(event)
            return tape.events
        case StartTriage():
            if state is None:
                raise CommandRejected(f"no incident {command.incident_id}")
            if state.triage is not None or state.awareness is not None:
                return []
            return [TriageStarted(incident_id=state.id, version=state.version + 1, at=now, by=command.by,
                                  started_at=min(command.at, now))]
        case RecordSubjects():
            return record_subjects(command, state, now)
        case SendSubjectNotice():
            return send_subject_notice(command, _aware(state, command.incident_id), now, rules.directory)
        case RecordDeliveryProgress():
            return record_progress(command, state, now)
        case RecordFormAnswers():
            return _form(command, _aware(state, command.incident_id), now, rules.directory)
        case RecordMeasures():
            return _measures(command, _aware(state, command.incident_id), now, rules.directory)
        case DismissIncident():
            return dismiss(command, state, now)
        case ReopenIncident():
            return reopen(command, state, now)
        case AssignOwner():
            return assign(command, state, now)
        case AddNote():
            return note(command, state, now)
        case SetTitle():
            return set_title(command, state, now)
        case AcknowledgePage():
            return paging.acknowledge(command, state, now)
        case CheckTask():
            return check_task(command, state, now)
        case TagIncident():
            return tag(command, state, now)
        case LinkIncidents():
            return link(command, state, now)
    raise CommandRejected(f"unknown command {type(command).__name__}")


def _attach(cmd: AttachSignal, state: Incident | None, now: datetime, rules: Rules) -> list[Event]:
    if state is not None and state.has_signal(cmd.evidence.event_id):
        return []
    if state is not None and state.merged_into is not None:
        # A replay, or a signal the correlator still links here after a person merged this
        # incident by hand (the correlator did not decide it): reactions() pass it on.
        return []
    tape = Tape(state)
    if state is None:
        profile = rules.directory.profiles.get(cmd.controller) if cmd.controller else None
        tape.emit(IncidentOpened(incident_id=cmd.incident_id, version=1, at=now, controller=cmd.controller,
                                 correlation_key=cmd.correlation_key, profile_ref=profile.ref if profile else None))
    current = tape.emit(SignalAttached(incident_id=cmd.incident_id, version=tape.version, at=now,
                                       evidence=with_store_system(cmd.evidence, current_controller(tape, cmd), rules)))
    if cmd.evidence.confirms_breach and current.dismissal is not None:
        # Examined as no breach, and now a signal confirms one: it is worked again, at once.
        current = tape.emit(IncidentReopened(incident_id=cmd.incident_id, version=tape.version, at=now,
                                             reason=reasons.say(why := (("confirms_breach", cmd.evidence.event_id),)),
                                             by=AUTOMATIC_AWARENESS, why=why))
    if cmd.evidence.confirms_breach and current.awareness is None:
        # The machine learnt of a confirmed breach when the signal reached us, not when it happened.
        # Within the settle delay it waits: the incident may still merge (its Tick does it then).
        if not settling(current, now, rules):
            become_aware(tape, cmd.evidence.ingested_at, AUTOMATIC_AWARENESS, (cmd.evidence.event_id,), now, rules)
    elif state is not None:
        reassess(tape, state, cmd.evidence.ingested_at, now, rules)
    return tape.events


def _release(tape: Tape, now: datetime, rules: Rules) -> Incident:
    """The settle delay is over (incident/settling.py): the awareness its first confirming signal
    would have recorded, at the time that signal reached us (Art. 33's anchor does not move).
    Returns the state after it."""
    state = tape.state
    assert state is not None
    first = state.signals.first_confirmed
    if settling(state, now, rules) or not held_awareness(state, rules) or first is None:
        return state
    become_aware(tape, first.ingested_at, AUTOMATIC_AWARENESS, (first.event_id,), now, rules)
    assert tape.state is not None
    return tape.state


def current_controller(tape: Tape, cmd: AttachSignal | AbsorbIncident) -> str | None:
    return tape.state.controller if tape.state is not None else cmd.controller


def with_store_system(evidence: Evidence, controller: str | None, rules: Rules) -> Evidence:
    """The evidence naming the controller's system that declares the data store it read or
    exported: that system is involved (its name in the notices and the register) although the
    signal came from another host. Resolved once, here, so the record keeps what was decided."""
    if evidence.data_store is None or evidence.store_system is not None or controller is None:
        return evidence
    profile = rules.directory.profiles.get(controller)
    holder = next((s.id for s in profile.systems if s.holds(evidence.data_store)), None) if profile else None
    return evidence if holder is None else replace(evidence, store_system=holder)


def _merge(cmd: MergeIncident, state: Incident | None, now: datetime) -> list[Event]:
    if state is None:
        raise CommandRejected(f"no incident {cmd.incident_id} to merge")
    if cmd.into == state.id:
        raise CommandRejected("an incident cannot merge into itself")
    if state.merged_into is not None:
        # Redelivered, or merged already: it stays with its first survivor (which has its evidence),
        # and reactions() merge that survivor and this one's new one (incident/survivors.py).
        return []
    return [IncidentMerged(incident_id=state.id, version=state.version + 1, at=now, into=cmd.into, reason=cmd.reason,
                           why=cmd.why, into_bucket=cmd.into_bucket)]


def reactions(command: Command, state: Incident | None, events: list[Event]) -> list[Command]:
    """Commands for other incidents that follow from a command just decided (state: after its
    events). An incident that merged hands its evidence and awareness to the one it merged into;
    one that merged on meanwhile passes what it is handed on. The shell sends these before it
    saves the state, so a crash in between sends them again (harmless: the survivor ignores
    evidence it holds)."""
    if state is None or state.merged_into is None:
        return []
    if isinstance(command, AbsorbIncident):
        return [replace(command, incident_id=state.merged_into)]
    if isinstance(command, MergeIncident) and not events:
        return _join_survivors(command, state)
    if isinstance(command, AttachSignal) and not events and not state.has_signal(command.evidence.event_id):
        return [AbsorbIncident(incident_id=state.merged_into, absorbed=state.id, controller=state.controller,
                               correlation_key=state.correlation_key, reason=state.merge_reason,
                               why=state.merge_why,
                               evidence=(command.evidence,))]
    if not any(isinstance(e, IncidentMerged) for e in events):
        return []
    aware = state.awareness
    return [AbsorbIncident(incident_id=state.merged_into, absorbed=state.id, controller=state.controller,
                           correlation_key=state.correlation_key, reason=state.merge_reason, why=state.merge_why,
                           evidence=state.evidence,
                           signals=state.signals, tasks=carry(state),
                           aware_at=aware.aware_at if aware else None, aware_by=aware.by if aware else "",
                           aware_evidence=aware.evidence if aware else ())]


def _join_survivors(cmd: MergeIncident, state: Incident) -> list[Command]:
    """A merged incident told to merge into another: its two survivors are one breach, the
    greater by rank merges into the lesser, so merges chain to the component's least incident in
    any order (incident/survivors.py). Without both ranks (the one-worker correlator, a person's
    link, a record written before ranks) it is ignored, as before: the direction is not known."""
    told = cmd.into_rank
    if state.merged_into is None or state.merged_into_bucket is None or told is None:
        return []
    follow = join(state.id, (state.merged_into_bucket, state.merged_into), told, cmd.reason)
    return [] if follow is None else [follow.command()]


def _absorb(cmd: AbsorbIncident, state: Incident | None, now: datetime, rules: Rules) -> list[Event]:
    """Take a merged incident's evidence, each item saying it came by the merge and why it was
    attached there first; and its awareness when this one has none yet (the same breach), or
    when it is earlier than this one's (its running clocks then move back with it)."""
    if state is not None and state.merged_into is not None:
        return []  # it merged on before this arrived: reactions() pass the evidence to its survivor
    tape = Tape(state)
    if state is None:  # its first AttachSignal is ordered before this on its partition; still, never lose evidence
        profile = rules.directory.profiles.get(cmd.controller) if cmd.controller else None
        tape.emit(IncidentOpened(incident_id=cmd.incident_id, version=1, at=now, controller=cmd.controller,
                                 correlation_key=cmd.correlation_key, profile_ref=profile.ref if profile else None))
    for evidence in cmd.evidence:
        current = tape.state
        if current is not None and current.has_signal(evidence.event_id):
            continue
        why = reasons.absorbed(cmd.absorbed, cmd.why, cmd.reason, evidence.why, evidence.reason)
        tape.emit(SignalAttached(incident_id=cmd.incident_id, version=tape.version, at=now,
                                 evidence=with_store_system(replace(evidence, reason=reasons.say(why), why=why),
                                                            current_controller(tape, cmd), rules)))
    if tape.state is not None:  # its checklist: what was done there counts here
        for event in carried(tape.state, cmd.tasks, now):
            tape.emit(event)
    rest = _not_carried(cmd)
    if rest is not None and tape.state is not None and cmd.absorbed not in tape.state.absorbed_from:
        tape.emit(SignalsAbsorbed(incident_id=cmd.incident_id, version=tape.version, at=now, absorbed=cmd.absorbed,
                                  reason=cmd.reason, signals=rest))
    current = tape.state
    confirming = [e for e in (*cmd.evidence, *_first_confirmed(cmd)) if e.confirms_breach]
    if current is not None and current.dismissal is not None and (cmd.aware_at is not None or confirming):
        # Dismissed here, but the incident merging in knew it as a breach: it is worked again.
        current = tape.emit(IncidentReopened(incident_id=cmd.incident_id, version=tape.version, at=now,
                                             reason=reasons.say(why := (("merged_was_breach", cmd.absorbed),)),
                                             by=AUTOMATIC_AWARENESS, why=why))
    by = f"{cmd.aware_by} (on incident {cmd.absorbed}, merged into this one)"
    if current is not None and current.awareness is not None and cmd.aware_at is not None:
        # Aware of the same breach earlier over there: the clocks run from then (Art. 33(1)).
        profile = profile_of(current, rules.directory)
        for event in advance_awareness(current, aware_at=cmd.aware_at, by=by, evidence=cmd.aware_evidence,
                                       absorbed=cmd.absorbed, now=now, calendar=rules.calendar,
                                       tz=zone(profile, rules), profile=profile):
            tape.emit(event)
    if state is not None:  # what the merged incident knew may change the risk here
        reassess(tape, state, max((e.ingested_at for e in cmd.evidence), default=now), now, rules)
    if current is not None and current.awareness is None:
        if cmd.aware_at is not None:
            become_aware(tape, cmd.aware_at, by, cmd.aware_evidence, now, rules)
        elif confirming and not settling(current, now, rules):  # else its settle Tick does it
            first = min(confirming, key=lambda e: e.ingested_at)
            become_aware(tape, first.ingested_at, AUTOMATIC_AWARENESS, (first.event_id,), now, rules)
    return tape.events


def _not_carried(cmd: AbsorbIncident) -> SignalSummary | None:
    """What the absorbed incident knew beyond the items it sent (None when the items are all):
    its sets and times as they are (joining them again changes nothing), its counts less the items'."""
    if cmd.signals is None or cmd.signals.count <= len(cmd.evidence):
        return None
    return replace(cmd.signals, count=cmd.signals.count - len(cmd.evidence),
                   confirmed=max(0, cmd.signals.confirmed - sum(e.confirms_breach for e in cmd.evidence)),
                   bytes_out=max(0, cmd.signals.bytes_out - sum(max(e.bytes_out or 0, 0) for e in cmd.evidence)),
                   recent_ids=(), open_ids=())  # its ids are its own: its signals are never attached here again


def _first_confirmed(cmd: AbsorbIncident) -> tuple[Evidence, ...]:
    first = cmd.signals.first_confirmed if cmd.signals else None
    return (first,) if first is not None else ()


def _start_following(tape: Tape, submitted: str, submitted_at: datetime, now: datetime, rules: Rules) -> None:
    """A submission starts the clocks that run from it (NIS2 final report one month after the
    incident notification; DORA intermediate and final reports)."""
    state = tape.state
    assert state is not None
    clock = next(c for c in state.clocks if c.rule_ref == submitted)
    profile = profile_of(state, rules.directory)
    # By id, not version: a stored incident's v1 report that was started stays the one that runs.
    started = {(c.regime, c.obligation) for c in state.clocks}
    # A v1 obligation a later version replaced counts as the one that replaced it (DORA's two
    # initial-report clocks: either submission is the initial notification).
    names = {clock.obligation, SUPERSEDED.get((clock.regime, clock.obligation), clock.obligation)}
    for obligation in owed(state, profile):
        follows = obligation.regime == clock.regime and obligation.after in names
        if follows and (obligation.regime, obligation.id) not in started:
            start_clock_for(tape, obligation, submitted_at, profile, now, rules)


def _classify(cmd: ClassifyIncident, state: Incident, now: datetime, rules: Rules) -> list[Event]:
    """Record a regime classification; start the clocks it triggers: DORA's initial notification
    (4 h from the classification, no later than 24 h from awareness unless those had passed),
    NIS2's 24 h and 72 h from becoming aware of the significant incident (the classification,
    never before breach awareness)."""
    if cmd.classification not in CLASSIFICATION_TRIGGERS:
        raise CommandRejected(f"classification must be one of {', '.join(CLASSIFICATION_TRIGGERS)}")
    if cmd.classification in state.classifications:
        return []
    if cmd.at > now:
        raise CommandRejected("a classification cannot be dated in the future")
    assert state.awareness is not None
    tape = Tape(state)
    tape.emit(IncidentClassified(incident_id=state.id, version=tape.version, at=now,
                                 classification=cmd.classification, by=cmd.by, classified_at=cmd.at))
    profile = profile_of(state, rules.directory)
    anchors = {**anchors_at(state, state.awareness.aware_at),
               "classification": max(cmd.at, state.awareness.aware_at)}
    started = {c.rule_ref for c in state.clocks}
    for obligation in owed(state, profile):
        if (obligation.trigger == CLASSIFICATION_TRIGGERS[cmd.classification] and obligation.anchor in anchors
                and obligation.rule_ref not in started):
            start_clock_for(tape, obligation, anchors[obligation.anchor], profile, now, rules)
    return tape.events


def _email_submission(cmd: ActOnObligation, state: Incident | None, now: datetime, directory: Directory,
                      ) -> NoticeDraft | None:
    """A submission "by e-mail" is sent by us, to the authority's address in the profile; refused
    up front when there is no such address or no template, so nothing is recorded as submitted
    that was not sent."""
    if cmd.action != "submit" or cmd.channel != "email" or state is None:
        return None
    clock = next((c for c in state.clocks if c.rule_ref == cmd.obligation), None)
    profile = profile_of(state, directory)
    current = state.obligation(cmd.obligation)
    if clock is None or profile is None or current is None or current.status != "approved":
        return None  # act() refuses it with the reason
    try:
        return submission(state, profile, clock, cmd.text.strip() or current.delay_reasons, now)
    except ValueError as exc:
        raise CommandRejected(f"cannot submit by e-mail: {exc}; record the portal's reference (channel "
                              "portal) or how it was sent (channel other)") from None


def _draft_complement(tape: Tape, cmd: ActOnObligation, now: datetime, directory: Directory) -> None:
    """A complement recorded on the GDPR notification to the authority (Art. 33(4)) is drafted
    for the DPO as the complementary notification to send; other regimes' complements are
    recorded only (their templates do not exist)."""
    state = tape.state
    clock = next((c for c in state.clocks if c.rule_ref == cmd.obligation), None) if state else None
    profile = profile_of(state, directory) if state else None
    if state is None or clock is None or profile is None or clock.regime != "GDPR" or clock.recipient != "authority":
        return
    tape.emit(NoticeRequested(incident_id=state.id, version=tape.version, at=now,
                              draft=complement(state, profile, clock, cmd.text, now)))


def _aware(state: Incident | None, incident_id: str) -> Incident:
    if state is None:
        raise CommandRejected(f"no incident {incident_id}")
    if state.awareness is None:
        raise CommandRejected("record awareness first: the assessment starts from it")
    return state


def _correct(cmd: CorrectFacts, state: Incident, now: datetime, rules: Rules, why: reasons.Part | None = None,
             ) -> list[Event]:
    """``why``: the correction's reason as codes, when the domain wrote it (a confirmed proposal)."""
    profile = profile_of(state, rules.directory)
    try:
        facts = facts_of(state, profile).corrected(cmd.changes)
    except FactsError as exc:
        raise CommandRejected(f"invalid correction: {exc}") from None
    if not cmd.reason.strip():
        raise CommandRejected("a correction needs a reason")
    assessment = assess(facts, profile)
    tape = Tape(state)
    if cmd.role != DPO_ROLE and lowers_risk(state, assessment.level):
        # An override in all but name: the DPO's to decide. What the responder learned is kept as a
        # proposal the DPO confirms or declines (incident/proposals.py), and nothing changes yet.
        tape.emit(FactsProposed(incident_id=state.id, version=tape.version, at=now, changes=dict(cmd.changes),
                                by=cmd.by, reason=cmd.reason.strip(), level=assessment.level))
        return tape.events
    tape.emit(FactsCorrected(incident_id=state.id, version=tape.version, at=now, changes=dict(cmd.changes),
                             by=cmd.by, reason=cmd.reason, why=(why,) if why else ()))
    tape.emit(RiskAssessed(incident_id=state.id, version=tape.version, at=now, facts=facts,
                           assessment=assessment))
    follow_level(tape, state.level, now, now, rules, by=cmd.by,
                 why=("facts_corrected_proposal", *why[1:]) if why else ("facts_corrected", cmd.reason.strip()))
    start_counted_clocks(tape, now, now, rules)  # a number of people now known above a threshold
    request_due_notices(tape, profile, now)
    return tape.events


def _settle(cmd: SettleProposal, state: Incident, now: datetime, rules: Rules) -> list[Event]:
    if cmd.role != DPO_ROLE:
        raise CommandRejected("only the DPO confirms or declines proposed facts")
    proposal = find_proposal(state.proposals, cmd.proposal)
    if proposal is None:
        raise CommandRejected(f"no proposal {cmd.proposal} on this incident")
    if not proposal.pending:
        raise CommandRejected(f"proposal {cmd.proposal} is already {proposal.outcome}")
    if not cmd.confirm and not cmd.reason.strip():
        raise CommandRejected("declining a proposal needs a reason")
    settled = ProposalSettled(incident_id=state.id, version=state.version + 1, at=now, proposal=proposal.number,
                              confirmed=cmd.confirm, by=cmd.by, reason=cmd.reason.strip())
    if not cmd.confirm:
        return [settled]
    why = ("proposal_confirmed", proposal.by, proposal.reason, cmd.reason.strip())
    correction = CorrectFacts(incident_id=state.id, changes=proposal.changes, by=cmd.by, role=DPO_ROLE,
                              reason=reasons.say((why,)))
    after = evolve(settled, state)
    return [settled, *_correct(correction, after, now, rules, why)]


def lowers_risk(state: Incident, level: str) -> bool:
    """Would ``level`` be below the incident's assessed level (the console asks too, before sending)."""
    current = state.assessment.level if state.assessment else None
    return current is not None and LEVELS.index(level) < LEVELS.index(current)


def facts_lower_risk(state: Incident, changes: dict[str, Any], directory: Directory) -> bool:
    """Whether correcting ``state``'s facts with ``changes`` would lower its assessed risk; False when
    the changes are invalid (the incident refuses them for that, whoever sends them)."""
    profile = profile_of(state, directory)
    try:
        facts = facts_of(state, profile).corrected(changes)
    except FactsError:
        return False
    return lowers_risk(state, assess(facts, profile).level)


def _override(cmd: OverrideRisk, state: Incident, now: datetime, rules: Rules) -> list[Event]:
    if cmd.role != DPO_ROLE:
        raise CommandRejected("only the DPO may override the risk level")
    if cmd.level not in LEVELS:
        raise CommandRejected(f"level must be one of {', '.join(LEVELS)}")
    if len(cmd.justification.strip()) < 10:
        raise CommandRejected("an override needs a justification (a sentence at least)")
    tape = Tape(state)
    tape.emit(RiskOverridden(incident_id=state.id, version=tape.version, at=now, level=cmd.level,
                             justification=cmd.justification.strip(), by=cmd.by))
    follow_level(tape, state.level, now, now, rules, by=cmd.by, why=("dpo_override", cmd.justification.strip()))
    request_due_notices(tape, profile_of(state, rules.directory), now)
    return tape.events


def _form(cmd: RecordFormAnswers, state: Incident, now: datetime, directory: Directory) -> list[Event]:
    if cmd.role != DPO_ROLE:
        raise CommandRejected("only the DPO may answer the notification form")
    check_form(cmd.answers, now=now)
    profile = profile_of(state, directory)
    if profile is not None:
        check_form_locales(cmd.answers, tuple(dict.fromkeys((*profile.languages, profile.authority.language))))
    if state.form == cmd.answers:
        return []
    tape = Tape(state)
    tape.emit(FormAnswered(incident_id=state.id, version=tape.version, at=now, answers=cmd.answers, by=cmd.by))
    # The DPO sees each notice they will approve with their answers in it (their own name and
    # contact, Art. 33(3)(b), among them): a new version of every draft already sent for review
    # that shows them — the GDPR's authority notification, and every other regime's notices (each
    # tells the breach's timeline and the contact) — unless it was submitted already.
    if profile is not None:
        redraft_unsent(tape, profile, now, gdpr_kinds=(AUTHORITY_NOTIFICATION,), regime_audiences=(AUTHORITY, PEOPLE))
    return tape.events


def _measures(cmd: RecordMeasures, state: Incident, now: datetime, directory: Directory) -> list[Event]:
    """The DPO's measures for one audience, in the languages the controller's notices use."""
    if cmd.role != DPO_ROLE:
        raise CommandRejected("only the DPO may write the measures taken and proposed")
    profile = profile_of(state, directory)
    if profile is None:
        raise CommandRejected("the incident has no controller profile: no notice to write the measures in")
    texts = cleaned(cmd.texts)
    locales = tuple(dict.fromkeys((*profile.languages, profile.authority.language)))
    check(cmd.audience, texts, locales)
    current = state.measures_for(cmd.audience)
    if current is not None and current.texts == texts:
        return []  # the same measures again (a redelivered command, or a form sent twice)
    tape = Tape(state)
    tape.emit(MeasuresRecorded(incident_id=state.id, version=tape.version, at=now, audience=cmd.audience,
                               texts=texts, by=cmd.by))
    # The DPO sees the drafts they will approve with the measures in it: a new version of each
    # draft of this audience already sent for review (its own id, so it is delivered), the GDPR's
    # and every other regime's, unless it was submitted already.
    gdpr_kinds = {"authority": (AUTHORITY_NOTIFICATION,),
                  "data_subjects": (DATA_SUBJECT_NOTICE, PUBLIC_COMMUNICATION)}[cmd.audience]
    redraft_unsent(tape, profile, now, gdpr_kinds=gdpr_kinds, regime_audiences=(cmd.audience,))
    return tape.events


def _delivery(cmd: RecordDelivery, state: Incident | None, now: datetime) -> list[Event]:
    if state is None:
        raise CommandRejected(f"no incident {cmd.incident_id}")
    notice = state.notice(cmd.notice_id)
    if notice is None:
        raise CommandRejected(f"no notice {cmd.notice_id} on this incident")
    if cmd.recipient not in notice.recipients:
        raise CommandRejected("recipient is not on this notice")
    if cmd.recipient in notice.delivered or cmd.recipient in notice.failed:
        return []
    version = state.version + 1
    if cmd.delivered:
        return [NoticeDelivered(incident_id=state.id, version=version, at=now, notice_id=cmd.notice_id,
                                recipient=cmd.recipient, message_id=cmd.message_id)]
    return [NoticeFailed(incident_id=state.id, version=version, at=now, notice_id=cmd.notice_id,
                         recipient=cmd.recipient, reason=cmd.detail)]
