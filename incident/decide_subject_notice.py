"""decide() for the notice to the people affected (Art. 34): a list of them imported, the
DPO's approval of the notice for a list (which is the communication the obligations owed to
them record), and the progress of its delivery, reported per partition of the mass fan-out.
"""

from __future__ import annotations

from datetime import datetime

from incident.commands import RecordDeliveryProgress, RecordSubjects, SendSubjectNotice
from incident.errors import CommandRejected
from incident.events import DeliveryProgressed, Event, ObligationActed, SubjectNoticeRequested, SubjectsListed
from incident.model import Incident
from incident.notices import DATA_SUBJECT_NOTICE, subject_notice_context, subject_notice_id
from incident.obligations import DPO_ROLE
from incident.profiles import Directory
from incident.tape import Tape, profile_of


def record_subjects(cmd: RecordSubjects, state: Incident | None, now: datetime) -> list[Event]:
    if state is None:
        raise CommandRejected(f"no incident {cmd.incident_id}")
    if state.subject_list(cmd.list_id) is not None:
        return []  # the same file imported again
    if cmd.count < 1:
        raise CommandRejected("a list of affected people needs at least one valid address")
    return [SubjectsListed(incident_id=state.id, version=state.version + 1, at=now, list_id=cmd.list_id,
                           count=cmd.count, invalid=cmd.invalid, by=cmd.by)]


def send_subject_notice(cmd: SendSubjectNotice, state: Incident, now: datetime, directory: Directory) -> list[Event]:
    tape = Tape(state)
    for event in _request_subject_notice(cmd, state, now, directory):
        tape.emit(event)
    _subjects_informed(tape, cmd, now)
    return tape.events


def _request_subject_notice(cmd: SendSubjectNotice, state: Incident, now: datetime, directory: Directory,
                            ) -> list[Event]:
    if cmd.role != DPO_ROLE:
        raise CommandRejected("only the DPO may approve the notice to the people affected")
    listed = state.subject_list(cmd.list_id)
    if listed is None:
        raise CommandRejected(f"no list {cmd.list_id} of affected people on this incident")
    notice_id = subject_notice_id(state.id, cmd.list_id)
    if state.subject_notice(notice_id) is not None:
        return []
    profile = profile_of(state, directory)
    if profile is None or state.assessment is None:
        raise CommandRejected("the incident has no controller profile or assessment to write the notice from")
    taken = tuple(m.strip() for m in cmd.measures_taken if m.strip())
    proposed = tuple(m.strip() for m in cmd.measures_proposed if m.strip())
    recorded = state.measures_for("data_subjects")
    written = recorded.in_locale(profile.languages[0]) if recorded else None
    if not taken and (written is None or not written.taken):
        raise CommandRejected("say what was done (at least one measure taken): Art. 34(2) with 33(3)(d)")
    context = subject_notice_context(state, profile, now, list_id=cmd.list_id, measures_taken=taken,
                                     measures_proposed=proposed)
    return [SubjectNoticeRequested(incident_id=state.id, version=state.version + 1, at=now, notice_id=notice_id,
                                   list_id=cmd.list_id, total=listed.count, regime="gdpr", kind=DATA_SUBJECT_NOTICE,
                                   default_locale=profile.languages[0], context=context, by=cmd.by)]


def _subjects_informed(tape: Tape, cmd: SendSubjectNotice, now: datetime) -> None:
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


def record_progress(cmd: RecordDeliveryProgress, state: Incident | None, now: datetime) -> list[Event]:
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
