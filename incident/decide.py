"""decide(command, state, now=..., rules=...) -> events: the only place the workflow branches.

Commands are idempotent: replaying one that was already applied (Kafka redelivers)
yields no event. An illegal command raises CommandRejected with a reason.

Lifecycle (Incident.status): open → triage → aware → assessed → drafts_requested →
drafts_delivered (to the DPO) → submitted (to the authority, recorded by a person) → closed.
Becoming aware is atomic with what follows from it: the assessment, the clocks of the
controller's regimes, and the notice drafts, all decided in the same call from the same state.
A Tick (the clock agent turning time into a command) emits the reminders now due, once each.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo

from incident.commands import (
    AbsorbIncident,
    ActOnObligation,
    AttachSignal,
    ClassifyIncident,
    Command,
    CorrectFacts,
    MergeIncident,
    OverrideRisk,
    RecordAwareness,
    RecordDelivery,
    RecordDeliveryProgress,
    RecordSubjects,
    SendSubjectNotice,
    StartTriage,
    Tick,
)
from incident.deadlines import DEFAULT_REMINDERS, Calendar, start_clock
from incident.errors import CommandRejected
from incident.events import (
    AwarenessRecorded,
    ClockStarted,
    DeliveryProgressed,
    Event,
    FactsCorrected,
    IncidentClassified,
    IncidentMerged,
    IncidentOpened,
    NoticeDelivered,
    NoticeFailed,
    NoticeRequested,
    ObligationActed,
    RiskAssessed,
    RiskOverridden,
    SignalAttached,
    SubjectNoticeRequested,
    SubjectsListed,
    TriageStarted,
)
from incident.facts import Facts, FactsError
from incident.merging import advance_awareness
from incident.model import Incident, evolve
from incident.notices import (
    AUTHORITY_NOTIFICATION,
    DATA_SUBJECT_NOTICE,
    NoticeDraft,
    draft,
    subject_notice_context,
    subject_notice_id,
    submission,
)
from incident.obligations import DPO_ROLE, act
from incident.profiles import Directory, Profile
from incident.regimes import CLASSIFICATION_TRIGGERS, REGIMES, Obligation
from incident.reminders import tick
from incident.risk import LEVELS, assess

AUTOMATIC_AWARENESS = "rule:confirmed-signal"
# Signal categories that come from an attack, not an accident (malicious intent, ENISA CB).
HOSTILE_CATEGORIES = ("authentication", "exfiltration", "malware", "intrusion")


class _Tape:
    """Events decided so far, and the state they lead to (so later decisions see earlier ones)."""

    def __init__(self, state: Incident | None) -> None:
        self.state = state
        self.events: list[Event] = []

    @property
    def version(self) -> int:
        return (self.state.version if self.state else 0) + 1

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


def decide(command: Command, state: Incident | None, *, now: datetime, rules: Rules) -> list[Event]:
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
            tape = _Tape(state)
            _become_aware(tape, command.aware_at, command.by, command.evidence, now, rules)
            return tape.events
        case RecordDelivery():
            return _delivery(command, state, now)
        case CorrectFacts():
            return _correct(command, _aware(state, command.incident_id), now, rules.directory)
        case OverrideRisk():
            return _override(command, _aware(state, command.incident_id), now, rules.directory)
        case ActOnObligation():
            tape = _Tape(state)
            sending = _email_submission(command, state, now, rules.directory)
            for event in act(command, state, now):
                tape.emit(event)
            if sending is not None and tape.events:
                tape.emit(NoticeRequested(incident_id=_id(tape), version=tape.version, at=now, draft=sending))
            if command.action == "submit" and tape.events:
                _start_following(tape, command.obligation, command.at, now, rules)
            return tape.events
        case ClassifyIncident():
            return _classify(command, _aware(state, command.incident_id), now, rules)
        case Tick():
            # A merged incident's clocks run on the one it merged into (it took its awareness).
            return tick(state, now, rules.triage_window) if state is not None and not state.merged_into else []
        case StartTriage():
            if state is None:
                raise CommandRejected(f"no incident {command.incident_id}")
            if state.triage is not None or state.awareness is not None:
                return []
            return [TriageStarted(incident_id=state.id, version=state.version + 1, at=now, by=command.by,
                                  started_at=min(command.at, now))]
        case RecordSubjects():
            return _subjects(command, state, now)
        case SendSubjectNotice():
            tape = _Tape(state)
            for event in _send_subject_notice(command, _aware(state, command.incident_id), now, rules.directory):
                tape.emit(event)
            _subjects_informed(tape, command, now)
            return tape.events
        case RecordDeliveryProgress():
            return _progress(command, state, now)
    raise CommandRejected(f"unknown command {type(command).__name__}")


def _attach(cmd: AttachSignal, state: Incident | None, now: datetime, rules: Rules) -> list[Event]:
    if state is not None and state.has_signal(cmd.evidence.event_id):
        return []
    if state is not None and state.merged_into is not None:
        # The correlator never sends here after the merge; a replay might: say where it belongs.
        raise CommandRejected(f"incident merged into {state.merged_into}: attach the signal there")
    tape = _Tape(state)
    if state is None:
        profile = rules.directory.profiles.get(cmd.controller) if cmd.controller else None
        tape.emit(IncidentOpened(incident_id=cmd.incident_id, version=1, at=now, controller=cmd.controller,
                                 correlation_key=cmd.correlation_key, profile_ref=profile.ref if profile else None))
    current = tape.emit(SignalAttached(incident_id=cmd.incident_id, version=tape.version, at=now,
                                       evidence=cmd.evidence))
    if cmd.evidence.confirms_breach and current.awareness is None:
        # The machine learnt of a confirmed breach when the signal reached us, not when it happened.
        _become_aware(tape, cmd.evidence.ingested_at, AUTOMATIC_AWARENESS, (cmd.evidence.event_id,), now, rules)
    return tape.events


def _merge(cmd: MergeIncident, state: Incident | None, now: datetime) -> list[Event]:
    if state is None:
        raise CommandRejected(f"no incident {cmd.incident_id} to merge")
    if cmd.into == state.id:
        raise CommandRejected("an incident cannot merge into itself")
    if state.merged_into is not None:
        return []  # redelivered, or merged already (into the first survivor: it keeps the evidence)
    return [IncidentMerged(incident_id=state.id, version=state.version + 1, at=now, into=cmd.into, reason=cmd.reason)]


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
    if not any(isinstance(e, IncidentMerged) for e in events):
        return []
    aware = state.awareness
    return [AbsorbIncident(incident_id=state.merged_into, absorbed=state.id, controller=state.controller,
                           correlation_key=state.correlation_key, reason=state.merge_reason, evidence=state.evidence,
                           aware_at=aware.aware_at if aware else None, aware_by=aware.by if aware else "",
                           aware_evidence=aware.evidence if aware else ())]


def _absorb(cmd: AbsorbIncident, state: Incident | None, now: datetime, rules: Rules) -> list[Event]:
    """Take a merged incident's evidence, each item saying it came by the merge and why it was
    attached there first; and its awareness when this one has none yet (the same breach), or
    when it is earlier than this one's (its running clocks then move back with it)."""
    if state is not None and state.merged_into is not None:
        return []  # it merged on before this arrived: reactions() pass the evidence to its survivor
    tape = _Tape(state)
    if state is None:  # its first AttachSignal is ordered before this on its partition; still, never lose evidence
        profile = rules.directory.profiles.get(cmd.controller) if cmd.controller else None
        tape.emit(IncidentOpened(incident_id=cmd.incident_id, version=1, at=now, controller=cmd.controller,
                                 correlation_key=cmd.correlation_key, profile_ref=profile.ref if profile else None))
    for evidence in cmd.evidence:
        current = tape.state
        if current is not None and current.has_signal(evidence.event_id):
            continue
        why = f"merged from incident {cmd.absorbed}: {cmd.reason}; attached there because: {evidence.reason}"
        tape.emit(SignalAttached(incident_id=cmd.incident_id, version=tape.version, at=now,
                                 evidence=replace(evidence, reason=why)))
    current = tape.state
    by = f"{cmd.aware_by} (on incident {cmd.absorbed}, merged into this one)"
    if current is not None and current.awareness is not None and cmd.aware_at is not None:
        # Aware of the same breach earlier over there: the clocks run from then (Art. 33(1)).
        profile = _profile(current, rules.directory)
        for event in advance_awareness(current, aware_at=cmd.aware_at, by=by, evidence=cmd.aware_evidence,
                                       absorbed=cmd.absorbed, now=now, calendar=rules.calendar,
                                       tz=_zone(profile, rules), profile=profile):
            tape.emit(event)
    if current is not None and current.awareness is None:
        if cmd.aware_at is not None:
            _become_aware(tape, cmd.aware_at, by, cmd.aware_evidence, now, rules)
        elif confirming := [e for e in cmd.evidence if e.confirms_breach]:
            first = min(confirming, key=lambda e: e.ingested_at)
            _become_aware(tape, first.ingested_at, AUTOMATIC_AWARENESS, (first.event_id,), now, rules)
    return tape.events


def _become_aware(tape: _Tape, aware_at: datetime, by: str, evidence: tuple[str, ...], now: datetime,
                  rules: Rules) -> None:
    state = tape.emit(AwarenessRecorded(incident_id=_id(tape), version=tape.version, at=now, aware_at=aware_at,
                                        by=by, evidence=evidence))
    profile = _profile(state, rules.directory)
    facts = facts_of(state, profile)
    tape.emit(RiskAssessed(incident_id=state.id, version=tape.version, at=now, facts=facts,
                           assessment=assess(facts, profile)))
    _start_clocks(tape, profile, aware_at, now, rules)
    _request_due_notices(tape, profile, now)


def _start_clocks(tape: _Tape, profile: Profile | None, aware_at: datetime, now: datetime, rules: Rules) -> None:
    """One clock per timed obligation of the controller's regimes that runs from what is known
    at awareness. A controller no profile declares is held to the GDPR, in UTC."""
    state = tape.state
    assert state is not None
    anchors = _anchors(state, aware_at)
    for obligation in _owed(state, profile):
        if (obligation.anchor not in anchors or obligation.trigger in CLASSIFICATION_TRIGGERS.values()
                or (obligation.trigger == "high_risk" and state.level != "high")):
            continue  # later anchors (classification, a submission) start with their own commands
        _start(tape, obligation, anchors[obligation.anchor], profile, now, rules)


def _anchors(state: Incident, aware_at: datetime) -> dict[str, datetime]:
    detected_at = min((e.ingested_at for e in state.evidence), default=aware_at)
    return {"awareness": aware_at, "discovery": aware_at, "detection": detected_at}


def _owed(state: Incident, profile: Profile | None) -> list[Obligation]:
    """The obligations of the controller's regimes that this incident's systems call for: a
    breach in a system run for someone else (as a processor) is owed to that controller
    (Art. 33(2)); one in the controller's own systems to the authority and the people."""
    regimes = profile.regimes if profile else ("gdpr",)
    roles = {s.role for s in profile.systems if s.id in state.systems} if profile else set()
    as_processor, as_controller = "processor" in roles, "controller" in roles or not roles
    return [o for regime in regimes for o in REGIMES[regime]
            if (o.recipient == "controller" and as_processor) or (o.recipient != "controller" and as_controller)]


def _zone(profile: Profile | None, rules: Rules) -> tzinfo:
    """Where a controller's deadlines are counted; one no profile declares, in UTC."""
    return rules.calendar.zone(profile.timezone if profile else "UTC")


def _start(tape: _Tape, obligation: Obligation, anchor_at: datetime, profile: Profile | None, now: datetime,
           rules: Rules) -> None:
    state = tape.state
    assert state is not None
    tz = _zone(profile, rules)
    clock = start_clock(obligation, anchor_at, state.profile_ref, tz=tz, calendar=rules.calendar,
                        reminders=rules.reminders)
    tape.emit(ClockStarted(incident_id=state.id, version=tape.version, at=now, clock=clock))


def _start_following(tape: _Tape, submitted: str, submitted_at: datetime, now: datetime, rules: Rules) -> None:
    """A submission starts the clocks that run from it (NIS2 final report one month after the
    incident notification; DORA intermediate and final reports)."""
    state = tape.state
    assert state is not None
    clock = next(c for c in state.clocks if c.rule_ref == submitted)
    profile = _profile(state, rules.directory)
    started = {c.rule_ref for c in state.clocks}
    for obligation in _owed(state, profile):
        follows = obligation.regime == clock.regime and obligation.after == clock.obligation
        if follows and obligation.rule_ref not in started:
            _start(tape, obligation, submitted_at, profile, now, rules)


def _classify(cmd: ClassifyIncident, state: Incident, now: datetime, rules: Rules) -> list[Event]:
    """Record a regime classification; start the clocks it triggers: DORA's 4 h from the
    classification and 24 h from awareness, NIS2's 24 h and 72 h from becoming aware of the
    significant incident (the classification, never before breach awareness)."""
    if cmd.classification not in CLASSIFICATION_TRIGGERS:
        raise CommandRejected(f"classification must be one of {', '.join(CLASSIFICATION_TRIGGERS)}")
    if cmd.classification in state.classifications:
        return []
    if cmd.at > now:
        raise CommandRejected("a classification cannot be dated in the future")
    assert state.awareness is not None
    tape = _Tape(state)
    tape.emit(IncidentClassified(incident_id=state.id, version=tape.version, at=now,
                                 classification=cmd.classification, by=cmd.by, classified_at=cmd.at))
    profile = _profile(state, rules.directory)
    anchors = {**_anchors(state, state.awareness.aware_at),
               "classification": max(cmd.at, state.awareness.aware_at)}
    started = {c.rule_ref for c in state.clocks}
    for obligation in _owed(state, profile):
        if (obligation.trigger == CLASSIFICATION_TRIGGERS[cmd.classification] and obligation.anchor in anchors
                and obligation.rule_ref not in started):
            _start(tape, obligation, anchors[obligation.anchor], profile, now, rules)
    return tape.events


def _request_due_notices(tape: _Tape, profile: Profile | None, now: datetime) -> None:
    """Draft each notice the level in force calls for and that was not drafted yet."""
    state = tape.state
    if state is None or profile is None or state.level is None:
        return  # no controller known: nobody to draft for; the console shows it as unmapped
    if not any(c.recipient == "authority" for c in state.clocks):
        return  # nothing owed to an authority (a processor's breach, say): no notification to draft
    kinds = [AUTHORITY_NOTIFICATION] if state.level != "unlikely" else []
    kinds += [DATA_SUBJECT_NOTICE] if state.level == "high" else []
    requested = {n.kind for n in state.notices}
    for kind in kinds:
        if kind not in requested:
            tape.emit(NoticeRequested(incident_id=state.id, version=tape.version, at=now,
                                      draft=draft(kind, state, profile, now)))


def _email_submission(cmd: ActOnObligation, state: Incident | None, now: datetime, directory: Directory,
                      ) -> NoticeDraft | None:
    """A submission "by e-mail" is sent by us, to the authority's address in the profile; refused
    up front when there is no such address or no template, so nothing is recorded as submitted
    that was not sent."""
    if cmd.action != "submit" or cmd.channel != "email" or state is None:
        return None
    clock = next((c for c in state.clocks if c.rule_ref == cmd.obligation), None)
    profile = _profile(state, directory)
    current = state.obligation(cmd.obligation)
    if clock is None or profile is None or current is None or current.status != "approved":
        return None  # act() refuses it with the reason
    try:
        return submission(state, profile, clock, cmd.text.strip() or current.delay_reasons, now)
    except ValueError as exc:
        raise CommandRejected(f"cannot submit by e-mail: {exc}; record the portal's reference (channel "
                              "portal) or how it was sent (channel other)") from None


def _id(tape: _Tape) -> str:
    assert tape.state is not None
    return tape.state.id


def _profile(state: Incident, directory: Directory) -> Profile | None:
    return directory.profiles.get(state.controller) if state.controller else None


def _aware(state: Incident | None, incident_id: str) -> Incident:
    if state is None:
        raise CommandRejected(f"no incident {incident_id}")
    if state.awareness is None:
        raise CommandRejected("record awareness first: the assessment starts from it")
    return state


def facts_of(state: Incident, profile: Profile | None) -> Facts:
    """The breach facts an incident supports: its signals, its systems' declarations, then the
    corrections responders made (which win)."""
    systems = [s for s in profile.systems if s.id in state.systems] if profile else []
    categories = [c for e in state.evidence for c in e.data_categories]
    categories += [c for s in systems for c in s.data_categories]
    declared = [s.approx_subjects for s in systems if s.approx_subjects is not None]
    estimate = state.records_estimate if state.records_estimate is not None else (sum(declared) if declared else None)
    signal_categories = {e.category for e in state.evidence}
    exfiltration = None
    if "exfiltration" in signal_categories:
        exfiltration = "confirmed" if any(e.confirms_breach and e.category == "exfiltration" for e in state.evidence) \
            else "suspected"
    facts = Facts(
        controller=state.controller,
        # No signal said which: a loss of confidentiality, the most harmful reading.
        breach_types=tuple(dict.fromkeys(t for e in state.evidence for t in e.breach_types)) or ("confidentiality",),
        data_categories=tuple(dict.fromkeys(categories)),
        subjects_count=estimate,
        exfiltration=exfiltration,
        malicious=True if signal_categories & set(HOSTILE_CATEGORIES) else None,
        unmapped_assets=state.unmapped_assets,
    )
    return facts.corrected(state.corrections) if state.corrections else facts


def _correct(cmd: CorrectFacts, state: Incident, now: datetime, directory: Directory) -> list[Event]:
    profile = _profile(state, directory)
    try:
        facts = facts_of(state, profile).corrected(cmd.changes)
    except FactsError as exc:
        raise CommandRejected(f"invalid correction: {exc}") from None
    if not cmd.reason.strip():
        raise CommandRejected("a correction needs a reason")
    tape = _Tape(state)
    tape.emit(FactsCorrected(incident_id=state.id, version=tape.version, at=now, changes=dict(cmd.changes),
                             by=cmd.by, reason=cmd.reason))
    tape.emit(RiskAssessed(incident_id=state.id, version=tape.version, at=now, facts=facts,
                           assessment=assess(facts, profile)))
    _request_due_notices(tape, profile, now)
    return tape.events


def _override(cmd: OverrideRisk, state: Incident, now: datetime, directory: Directory) -> list[Event]:
    if cmd.role != DPO_ROLE:
        raise CommandRejected("only the DPO may override the risk level")
    if cmd.level not in LEVELS:
        raise CommandRejected(f"level must be one of {', '.join(LEVELS)}")
    if len(cmd.justification.strip()) < 10:
        raise CommandRejected("an override needs a justification (a sentence at least)")
    tape = _Tape(state)
    tape.emit(RiskOverridden(incident_id=state.id, version=tape.version, at=now, level=cmd.level,
                             justification=cmd.justification.strip(), by=cmd.by))
    _request_due_notices(tape, _profile(state, directory), now)
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



def _subjects(cmd: RecordSubjects, state: Incident | None, now: datetime) -> list[Event]:
    if state is None:
        raise CommandRejected(f"no incident {cmd.incident_id}")
    if state.subject_list(cmd.list_id) is not None:
        return []  # the same file imported again
    if cmd.count < 1:
        raise CommandRejected("a list of affected people needs at least one valid address")
    return [SubjectsListed(incident_id=state.id, version=state.version + 1, at=now, list_id=cmd.list_id,
                           count=cmd.count, invalid=cmd.invalid, by=cmd.by)]


def _send_subject_notice(cmd: SendSubjectNotice, state: Incident, now: datetime, directory: Directory,
                         ) -> list[Event]:
    if cmd.role != DPO_ROLE:
        raise CommandRejected("only the DPO may approve the notice to the people affected")
    listed = state.subject_list(cmd.list_id)
    if listed is None:
        raise CommandRejected(f"no list {cmd.list_id} of affected people on this incident")
    notice_id = subject_notice_id(state.id, cmd.list_id)
    if state.subject_notice(notice_id) is not None:
        return []
    profile = _profile(state, directory)
    if profile is None or state.assessment is None:
        raise CommandRejected("the incident has no controller profile or assessment to write the notice from")
    taken = tuple(m.strip() for m in cmd.measures_taken if m.strip())
    if not taken:
        raise CommandRejected("say what was done (at least one measure taken): Art. 34(2) with 33(3)(d)")
    proposed = tuple(m.strip() for m in cmd.measures_proposed if m.strip())
    context = subject_notice_context(state, profile, now, list_id=cmd.list_id, measures_taken=taken,
                                     measures_proposed=proposed)
    return [SubjectNoticeRequested(incident_id=state.id, version=state.version + 1, at=now, notice_id=notice_id,
                                   list_id=cmd.list_id, total=listed.count, regime="gdpr", kind=DATA_SUBJECT_NOTICE,
                                   default_locale=profile.languages[0], context=context, by=cmd.by)]


def _subjects_informed(tape: _Tape, cmd: SendSubjectNotice, now: datetime) -> None:
    """The DPO's approval of the notice to the people affected is the Art. 34 communication: the
    obligations owed to them are recorded as approved and submitted (by e-mail, with the notice
    id), so their workflow and the register agree with what was sent. Delivery progress is the
    notice's own record."""
    state = tape.state
    if not tape.events or state is None:
        return
    notice_id = subject_notice_id(state.id, cmd.list_id)
    for clock in (c for c in state.clocks if c.recipient == "data_subjects"):
        current = state.obligation(clock.rule_ref)
        if current is None or current.settled:
            continue
        steps = (("approve", ""), ("submit", "email")) if current.status == "running" else (("submit", "email"),)
        for action, channel in steps:
            tape.emit(ObligationActed(incident_id=state.id, version=tape.version, at=now, obligation=clock.rule_ref,
                                      action=action, by=cmd.by, acted_at=now, channel=channel,
                                      reference=f"notice {notice_id} to list {cmd.list_id}" if channel else "",
                                      text="", late=clock.timed and now > clock.deadline))


def progress_score(accepted: int, failed: int, bounced: int, in_doubt: int) -> int:
    """Grows with every step a delivery can take (none → sent/failed +2, none → in doubt +1,
    in doubt → sent/failed +1, sent → bounced +1), so of two reports on a partition the one with
    the higher score is the newer."""
    return 2 * accepted + 2 * failed + bounced + in_doubt


def _progress(cmd: RecordDeliveryProgress, state: Incident | None, now: datetime) -> list[Event]:
    """A report is applied only if it is newer than what the incident holds for that partition
    (higher progress score): a replay or a late report from a worker that lost the partition is
    ignored."""
    if state is None:
        raise CommandRejected(f"no incident {cmd.incident_id}")
    notice = state.subject_notice(cmd.notice_id)
    if notice is None:
        raise CommandRejected(f"no notice {cmd.notice_id} sent to affected people on this incident")
    current = notice.progress(cmd.partition)
    new = progress_score(cmd.accepted, cmd.failed, cmd.bounced, cmd.in_doubt)
    if new <= progress_score(current.accepted, current.failed, current.bounced, current.in_doubt):
        return []
    return [DeliveryProgressed(incident_id=state.id, version=state.version + 1, at=now, notice_id=cmd.notice_id,
                               partition=cmd.partition, accepted=cmd.accepted, failed=cmd.failed,
                               bounced=cmd.bounced, in_doubt=cmd.in_doubt)]
