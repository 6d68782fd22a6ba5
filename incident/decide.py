"""decide(command, state, now, directory) -> events: the only place the workflow branches.

Commands are idempotent: replaying one that was already applied (Kafka redelivers)
yields no event. An illegal command raises CommandRejected with a reason.

Lifecycle (Incident.status): open → aware → assessed → notices_requested → notified.
Becoming aware is atomic with what follows from it: the assessment, the GDPR Art. 33
clock, and the notice drafts, all decided in the same call from the same state.
"""

from __future__ import annotations

from datetime import datetime

from incident.commands import AttachSignal, Command, RecordAwareness, RecordDelivery
from incident.deadlines import start_clock
from incident.errors import CommandRejected
from incident.events import (
    AwarenessRecorded,
    ClockStarted,
    Event,
    IncidentOpened,
    NoticeDelivered,
    NoticeFailed,
    NoticeRequested,
    RiskAssessed,
    SignalAttached,
)
from incident.model import Incident, evolve
from incident.notices import AUTHORITY_NOTIFICATION, DATA_SUBJECT_NOTICE, draft
from incident.profiles import Directory, Profile
from incident.regimes import GDPR_ART33
from incident.risk import Facts, assess

AUTOMATIC_AWARENESS = "rule:confirmed-signal"


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


def decide(command: Command, state: Incident | None, *, now: datetime, directory: Directory) -> list[Event]:
    match command:
        case AttachSignal():
            return _attach(command, state, now, directory)
        case RecordAwareness():
            if state is None:
                raise CommandRejected(f"no incident {command.incident_id}")
            if state.awareness is not None:
                raise CommandRejected(f"awareness already recorded at {state.awareness.aware_at.isoformat()} "
                                      f"by {state.awareness.by}")
            if command.aware_at > now:
                raise CommandRejected("awareness cannot be in the future")
            tape = _Tape(state)
            _become_aware(tape, command.aware_at, command.by, command.evidence, now, directory)
            return tape.events
        case RecordDelivery():
            return _delivery(command, state, now)
    raise CommandRejected(f"unknown command {type(command).__name__}")


def _attach(cmd: AttachSignal, state: Incident | None, now: datetime, directory: Directory) -> list[Event]:
    if state is not None and state.has_signal(cmd.evidence.event_id):
        return []
    tape = _Tape(state)
    if state is None:
        profile = directory.profiles.get(cmd.controller) if cmd.controller else None
        tape.emit(IncidentOpened(incident_id=cmd.incident_id, version=1, at=now, controller=cmd.controller,
                                 correlation_key=cmd.correlation_key, profile_ref=profile.ref if profile else None))
    current = tape.emit(SignalAttached(incident_id=cmd.incident_id, version=tape.version, at=now,
                                       evidence=cmd.evidence))
    if cmd.evidence.confirms_breach and current.awareness is None:
        # The machine learnt of a confirmed breach when the signal reached us, not when it happened.
        _become_aware(tape, cmd.evidence.ingested_at, AUTOMATIC_AWARENESS, (cmd.evidence.event_id,), now, directory)
    return tape.events


def _become_aware(tape: _Tape, aware_at: datetime, by: str, evidence: tuple[str, ...], now: datetime,
                  directory: Directory) -> None:
    state = tape.emit(AwarenessRecorded(incident_id=_id(tape), version=tape.version, at=now, aware_at=aware_at,
                                        by=by, evidence=evidence))
    profile = directory.profiles.get(state.controller) if state.controller else None
    assessment = assess(facts_of(state, profile))
    tape.emit(RiskAssessed(incident_id=state.id, version=tape.version, at=now, assessment=assessment))
    state = tape.emit(ClockStarted(incident_id=state.id, version=tape.version, at=now,
                                   clock=start_clock(GDPR_ART33, aware_at, state.profile_ref)))
    if profile is None:
        return  # no controller known: nobody to draft for; the console shows it as unmapped
    kinds = [AUTHORITY_NOTIFICATION] if assessment.notify_authority else []
    kinds += [DATA_SUBJECT_NOTICE] if assessment.communicate_to_subjects else []
    for kind in kinds:
        tape.emit(NoticeRequested(incident_id=state.id, version=tape.version, at=now,
                                  draft=draft(kind, state, profile, now)))


def _id(tape: _Tape) -> str:
    assert tape.state is not None
    return tape.state.id


def facts_of(state: Incident, profile: Profile | None) -> Facts:
    """The breach facts an incident supports so far: its signals plus its systems' declarations."""
    systems = [s for s in profile.systems if s.id in state.systems] if profile else []
    categories = [c for e in state.evidence for c in e.data_categories]
    categories += [c for s in systems for c in s.data_categories]
    declared = [s.approx_subjects for s in systems if s.approx_subjects is not None]
    estimate = state.records_estimate if state.records_estimate is not None else (sum(declared) if declared else None)
    return Facts(
        breach_types=tuple(dict.fromkeys(t for e in state.evidence for t in e.breach_types)),
        data_categories=tuple(dict.fromkeys(categories)),
        subjects_estimate=estimate,
        unmapped_assets=state.unmapped_assets,
    )


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
