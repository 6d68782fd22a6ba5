"""Domain events: what happened to an incident, in the past tense.

Published on ``incident-events`` (retained: the audit trail and the register's source).
Each carries ``version == previous version + 1``; ``model.evolve`` refuses anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from incident.deadlines import Clock
from incident.facts import Facts
from incident.measures import MeasureText
from incident.notices import NoticeDraft
from incident.notification_form import FormAnswers
from incident.pages import Page
from incident.playbooks import Task
from incident.risk import Assessment
from incident.signal_summary import SignalSummary
from incident.signals import Evidence


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentOpened:
    incident_id: str
    version: int
    at: datetime
    controller: str | None
    correlation_key: str
    profile_ref: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalAttached:
    incident_id: str
    version: int
    at: datetime
    evidence: Evidence


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentMerged:
    """This incident is part of ``into`` from now on: it takes no more signals or reminders; its
    evidence is re-attached there (each item with this reason) by an AbsorbIncident command."""

    incident_id: str
    version: int
    at: datetime
    into: str
    reason: str
    why: tuple[tuple[str, ...], ...] = ()  # ``reason`` as codes (incident/reasons.py); none in older events
    # ``into``'s bucket start (its rank with its id) when the merge carried it: a later merge of
    # this incident elsewhere then joins the two survivors (incident/survivors.py).
    into_bucket: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalsAbsorbed:
    """What a merged incident knew of its signals beyond the items it handed over (an incident
    keeps only its first and latest items, incident/signal_summary.py): their count and the sets
    its decisions read, joined to this incident's. Each of those signals is on incident-events,
    attached to ``absorbed``."""

    incident_id: str
    version: int
    at: datetime
    absorbed: str
    reason: str
    signals: SignalSummary  # the signals not re-attached one by one: their count, sets and times


@dataclass(frozen=True, slots=True, kw_only=True)
class AwarenessRecorded:
    incident_id: str
    version: int
    at: datetime
    aware_at: datetime
    by: str
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AwarenessAdvanced:
    """The controller was aware earlier than recorded: an incident merged into this one had been
    known as the same breach since ``aware_at``. Art. 33(1) runs from the earliest awareness, so
    the awareness (and the clocks anchored on it, by ClockMoved) move back to it."""

    incident_id: str
    version: int
    at: datetime
    aware_at: datetime
    previous_aware_at: datetime
    by: str
    evidence: tuple[str, ...]
    absorbed: str  # the merged incident that was aware first


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockMoved:
    """A running clock's anchor moved (awareness advanced): its new anchor and deadline. The
    reminder steps already sent stay sent; those the new deadline makes due fire at the next Tick."""

    incident_id: str
    version: int
    at: datetime
    rule_ref: str
    anchor_at: datetime
    deadline: datetime
    previous_deadline: datetime
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TriageStarted:
    incident_id: str
    version: int
    at: datetime
    by: str
    started_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentClassified:
    incident_id: str
    version: int
    at: datetime
    classification: str
    by: str
    classified_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskAssessed:
    """A (re-)assessment, with the exact facts it read: replaying them gives the same answer."""

    incident_id: str
    version: int
    at: datetime
    facts: Facts
    assessment: Assessment


@dataclass(frozen=True, slots=True, kw_only=True)
class FactsCorrected:
    incident_id: str
    version: int
    at: datetime
    changes: dict[str, Any]
    by: str
    reason: str
    why: tuple[tuple[str, ...], ...] = ()  # ``reason`` as codes when the domain wrote it (a confirmed proposal)


@dataclass(frozen=True, slots=True, kw_only=True)
class FactsProposed:
    """A responder's facts that would lower the risk to ``level``: the DPO settles them
    (incident/proposals.py); nothing changes until then."""

    incident_id: str
    version: int
    at: datetime
    changes: dict[str, Any]
    by: str
    reason: str
    level: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProposalSettled:
    """The DPO confirms (the facts are corrected, in the same decision) or declines a proposal."""

    incident_id: str
    version: int
    at: datetime
    proposal: int
    confirmed: bool
    by: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskOverridden:
    incident_id: str
    version: int
    at: datetime
    level: str
    justification: str
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasuresRecorded:
    """The DPO's measures taken and proposed for one audience (incident/measures.py)."""

    incident_id: str
    version: int
    at: datetime
    audience: str
    texts: tuple[MeasureText, ...]
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FormAnswered:
    """The DPO's answers to the CNIL form (incident/notification_form.py)."""

    incident_id: str
    version: int
    at: datetime
    answers: FormAnswers
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockStarted:
    incident_id: str
    version: int
    at: datetime
    clock: Clock


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeRequested:
    incident_id: str
    version: int
    at: datetime
    draft: NoticeDraft


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeDelivered:
    incident_id: str
    version: int
    at: datetime
    notice_id: str
    recipient: str
    message_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeFailed:
    incident_id: str
    version: int
    at: datetime
    notice_id: str
    recipient: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReminderDue:
    """A reminder step of one clock is due (T-48h … overdue); emitted once per step, ever."""

    incident_id: str
    version: int
    at: datetime
    controller: str | None
    rule_ref: str
    legal_ref: str
    deadline: datetime
    step: str
    skipped: tuple[str, ...]  # earlier steps passed while no worker ticked: recorded, not sent


@dataclass(frozen=True, slots=True, kw_only=True)
class ObligationActed:
    """A workflow step of one obligation: approved, submitted, complemented, delay reasons given,
    closed or withdrawn — who, when, how, and whether a submission was late."""

    incident_id: str
    version: int
    at: datetime
    obligation: str
    action: str
    by: str
    acted_at: datetime
    channel: str
    reference: str
    text: str
    late: bool
    why: tuple[tuple[str, ...], ...] = ()  # ``text`` as codes when the domain wrote it (incident/reasons.py)


@dataclass(frozen=True, slots=True, kw_only=True)
class SubjectsListed:
    incident_id: str
    version: int
    at: datetime
    list_id: str
    count: int
    invalid: int
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SubjectNoticeRequested:
    """The data-subject notice approved for one list: its context is fixed here, so what was
    previewed from this event is what every recipient receives."""

    incident_id: str
    version: int
    at: datetime
    notice_id: str
    list_id: str
    total: int
    regime: str
    kind: str
    default_locale: str
    context: dict[str, Any]
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryProgressed:
    incident_id: str
    version: int
    at: datetime
    notice_id: str
    partition: int
    accepted: int
    failed: int
    bounced: int
    in_doubt: int


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentDismissed:
    """Examined and closed without notification: not a breach, a false positive, or a duplicate
    (the reason says of what). The register keeps it with the reason; reminders and clocks stop."""

    incident_id: str
    version: int
    at: datetime
    outcome: str
    reason: str
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentReopened:
    incident_id: str
    version: int
    at: datetime
    reason: str
    by: str
    why: tuple[tuple[str, ...], ...] = ()  # a reopening the domain made, as codes (incident/reasons.py)


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnerAssigned:
    incident_id: str
    version: int
    at: datetime
    owner: str  # empty: released
    previous: str
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteAdded:
    """A person's note: free text, kept on the timeline (never logged)."""

    incident_id: str
    version: int
    at: datetime
    note_id: str
    text: str
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TitleSet:
    incident_id: str
    version: int
    at: datetime
    title: str  # empty: back to the derived title
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Paged:
    """The on-call team is paged (incident/paging.py): ``repeat`` 0 when the page is raised, then
    1, 2… each time it is sent again, unacknowledged."""

    incident_id: str
    version: int
    at: datetime
    page: Page
    repeat: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PageAcknowledged:
    """A named person acknowledged the incident's pages: they stop repeating."""

    incident_id: str
    version: int
    at: datetime
    page_ids: tuple[str, ...]
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TasksAdded:
    """A playbook's tasks now due on the incident (incident/tasks.py): their words as the
    profile (``profile_ref``) had them, so a later edit of the profile rewrites no history."""

    incident_id: str
    version: int
    at: datetime
    playbook: str
    profile_ref: str | None
    tasks: tuple[Task, ...]
    # The playbook's title by language, as it was (a rule pack's playbook is in no profile).
    titles: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskChecked:
    incident_id: str
    version: int
    at: datetime
    task: str  # "<playbook>/<task>"
    done: bool  # False: unchecked again
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentTagged:
    incident_id: str
    version: int
    at: datetime
    tag: str
    added: bool  # False: removed
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandRejected:
    """Not part of the incident's history (no version): a record that a command was refused."""

    incident_id: str
    at: datetime
    command: str
    reason: str


Event = (IncidentOpened | SignalAttached | AwarenessRecorded | RiskAssessed | FactsCorrected | RiskOverridden
         | ClockStarted | NoticeRequested | NoticeDelivered | NoticeFailed | ReminderDue | ObligationActed
         | TriageStarted | IncidentClassified | SubjectsListed | SubjectNoticeRequested | DeliveryProgressed
         | IncidentMerged | AwarenessAdvanced | ClockMoved | SignalsAbsorbed | MeasuresRecorded
         | FormAnswered | IncidentDismissed | IncidentReopened | OwnerAssigned | NoteAdded | TitleSet | Paged
         | PageAcknowledged | TasksAdded | TaskChecked | IncidentTagged | FactsProposed | ProposalSettled)
EVENTS: tuple[type, ...] = (IncidentOpened, SignalAttached, AwarenessRecorded, RiskAssessed, FactsCorrected,
                            RiskOverridden, ClockStarted, NoticeRequested, NoticeDelivered, NoticeFailed,
                            ReminderDue, ObligationActed, TriageStarted, IncidentClassified, CommandRejected,
                            SubjectsListed, SubjectNoticeRequested, DeliveryProgressed, IncidentMerged,
                            AwarenessAdvanced, ClockMoved, SignalsAbsorbed, MeasuresRecorded, FormAnswered,
                            IncidentDismissed, IncidentReopened, OwnerAssigned, NoteAdded, TitleSet, Paged,
                            PageAcknowledged, TasksAdded, TaskChecked, IncidentTagged, FactsProposed,
                            ProposalSettled)
