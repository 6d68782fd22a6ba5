"""The incident aggregate's state, and ``evolve``/``fold`` that build it from events.

State is frozen; anything derivable from it (status, assets, time span) is a property,
not a stored field, so it can never disagree with the events.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from incident.deadlines import Clock
from incident.errors import OutOfSequence
from incident.events import (
    AwarenessAdvanced,
    AwarenessRecorded,
    ClockMoved,
    ClockStarted,
    DeliveryProgressed,
    Event,
    FactsCorrected,
    FactsProposed,
    FormAnswered,
    IncidentClassified,
    IncidentDismissed,
    IncidentMerged,
    IncidentOpened,
    IncidentReopened,
    IncidentTagged,
    MeasuresRecorded,
    NoteAdded,
    NoticeDelivered,
    NoticeFailed,
    NoticeRequested,
    ObligationActed,
    OwnerAssigned,
    PageAcknowledged,
    Paged,
    ProposalSettled,
    ReminderDue,
    RiskAssessed,
    RiskOverridden,
    SignalAttached,
    SignalsAbsorbed,
    SubjectNoticeRequested,
    SubjectsListed,
    TaskChecked,
    TasksAdded,
    TitleSet,
    TriageStarted,
)
from incident.measures import Measures
from incident.notification_form import FormAnswers
from incident.pages import PageStatus
from incident.proposals import CONFIRMED, DECLINED, Proposal
from incident.risk import Assessment
from incident.signal_summary import NO_SIGNALS, SignalSummary, kept_items
from incident.signals import Evidence


@dataclass(frozen=True, slots=True, kw_only=True)
class Awareness:
    aware_at: datetime
    by: str
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Override:
    level: str
    justification: str
    by: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Dismissal:
    """Why an incident was closed without notification (incident.work.OUTCOMES), who, when, and
    whether the controller was aware of it then (only the DPO reopens those)."""

    outcome: str
    reason: str
    by: str
    at: datetime
    was_aware: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskState:
    """One playbook task on the incident (TasksAdded) and who checked it last, when."""

    key: str  # "<playbook>/<task>"
    playbook: str
    texts: dict[str, str]
    when: str
    done_by: str = ""  # empty: not done
    done_at: datetime | None = None

    @property
    def done(self) -> bool:
        return bool(self.done_by)

    def text(self, lang: str) -> str:
        return self.texts.get(lang) or next(iter(self.texts.values()))


@dataclass(frozen=True, slots=True, kw_only=True)
class ObligationState:
    """Where one obligation (one clock) stands: running → approved → submitted → closed."""

    rule_ref: str
    status: str = "running"  # running | approved | submitted | closed | withdrawn
    approved_by: str | None = None
    submitted_at: datetime | None = None
    channel: str = ""
    reference: str = ""
    late: bool = False
    delay_reasons: str = ""
    complements: int = 0
    corrections: int = 0  # submitted information found wrong and corrected, each with its reason
    closing_reason: str = ""
    closing_why: tuple[tuple[str, ...], ...] = ()  # closing_reason as codes, when the domain wrote it

    @property
    def settled(self) -> bool:
        """No more reminders: it was submitted, closed or withdrawn."""
        return self.status in ("submitted", "closed", "withdrawn")


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeProgress:
    notice_id: str
    kind: str
    locale: str
    audience: str
    recipients: tuple[str, ...]
    delivered: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()

    @property
    def settled(self) -> bool:
        return len(self.delivered) + len(self.failed) >= len(self.recipients)


@dataclass(frozen=True, slots=True, kw_only=True)
class SubjectList:
    """An imported list of the people affected: its id and counts (the addresses are not here)."""

    list_id: str
    count: int
    invalid: int
    by: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PartitionProgress:
    partition: int
    accepted: int = 0
    failed: int = 0
    bounced: int = 0
    in_doubt: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SubjectNotice:
    """A data-subject notice sent to one list, and how far its delivery has gone.

    accepted: the SMTP relay took the message (bounced ones included); failed: refused for good,
    or retries ran out; bounced: accepted, then a delivery status notification said it failed;
    in_doubt: a worker crashed between handing it to the relay and recording the answer (held,
    never re-sent automatically, so nobody gets it twice)."""

    notice_id: str
    list_id: str
    total: int
    default_locale: str
    context: dict[str, Any]
    requested_at: datetime
    by: str
    partitions: tuple[PartitionProgress, ...] = ()

    def _sum(self, name: str) -> int:
        return sum(getattr(p, name) for p in self.partitions)

    @property
    def accepted(self) -> int:
        return self._sum("accepted")

    @property
    def failed(self) -> int:
        return self._sum("failed")

    @property
    def bounced(self) -> int:
        return self._sum("bounced")

    @property
    def in_doubt(self) -> int:
        return self._sum("in_doubt")

    @property
    def sent(self) -> int:
        """Accepted and not bounced (as far as we know)."""
        return self.accepted - self.bounced

    @property
    def pending(self) -> int:
        return max(0, self.total - self.accepted - self.failed - self.in_doubt)

    def progress(self, partition: int) -> PartitionProgress:
        return next((p for p in self.partitions if p.partition == partition), PartitionProgress(partition=partition))


@dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    id: str
    version: int
    controller: str | None
    correlation_key: str
    profile_ref: str | None
    opened_at: datetime
    # The first and the latest signals, for display (incident/signal_summary.py): not every one,
    # so the saved state stays bounded; ``signals`` knows them all in summary.
    evidence: tuple[Evidence, ...] = ()
    signals: SignalSummary = NO_SIGNALS
    triage: Awareness | None = None  # who started investigating, when (evidence unused)
    classifications: tuple[str, ...] = ()  # "major" (DORA), "significant" (NIS2)…
    awareness: Awareness | None = None
    assessment: Assessment | None = None
    corrections: dict[str, Any] | None = None  # responders' fact corrections, merged in order
    override: Override | None = None
    clocks: tuple[Clock, ...] = ()
    reminded: tuple[str, ...] = ()  # "<rule_ref>|<step>" of every reminder step sent or skipped
    obligations: tuple[ObligationState, ...] = ()  # one per clock, same order
    notices: tuple[NoticeProgress, ...] = ()
    subject_lists: tuple[SubjectList, ...] = ()
    subject_notices: tuple[SubjectNotice, ...] = ()
    merged_into: str | None = None  # the incident that took this one's evidence (IncidentMerged)
    merge_reason: str = ""
    merge_why: tuple[tuple[str, ...], ...] = ()  # merge_reason as codes (incident/reasons.py)
    merged_into_bucket: datetime | None = None  # the survivor's bucket start, if the merge carried it
    # Incidents whose signal summaries this one joined (SignalsAbsorbed): a redelivered
    # AbsorbIncident must not count their signals twice.
    absorbed_from: tuple[str, ...] = ()
    # The DPO's measures taken and proposed, the latest per audience (incident/measures.py).
    measures: tuple[Measures, ...] = ()
    form: FormAnswers | None = None  # the DPO's answers to the CNIL form (incident/notification_form.py)
    dismissal: Dismissal | None = None  # closed as not a breach (IncidentDismissed), until reopened
    owner: str = ""  # who works it (an actor, "user:rita"); empty: nobody yet
    title: str = ""  # the name a person gave it; empty: derived from its signals (incident/work.py)
    note_ids: tuple[str, ...] = ()  # the notes added (their texts are on incident-events only)
    pages: tuple[PageStatus, ...] = ()  # the on-call team paged (incident/paging.py), oldest first
    tasks: tuple[TaskState, ...] = ()  # its playbooks' tasks (incident/tasks.py), in the order added
    tags: tuple[str, ...] = ()
    proposals: tuple[Proposal, ...] = ()  # facts a responder proposed for the DPO (incident/proposals.py)

    def __post_init__(self) -> None:
        # A state saved before summaries holds every Evidence and no summary: summarise it, and
        # keep only the displayed items (the next save is bounded). O(1) for a current state.
        if self.signals.count == 0 and self.evidence:
            items: tuple[Evidence, ...] = ()
            for e in self.evidence:
                items = kept_items(items, e)
            object.__setattr__(self, "signals", SignalSummary.of(self.evidence))
            object.__setattr__(self, "evidence", items)

    @property
    def signal_count(self) -> int:
        return self.signals.count

    @property
    def status(self) -> str:
        """Where the incident stands, in words that never overstate: drafts delivered to the DPO
        are not a notification; only a recorded submission is."""
        if self.merged_into is not None:
            return "merged"
        if self.dismissal is not None:
            return "dismissed"
        if self.awareness is None:
            return "triage" if self.triage else "open"
        if self.obligations and all(o.status in ("closed", "withdrawn") for o in self.obligations):
            return "closed"
        authority = [o for o, c in zip(self.obligations, self.clocks, strict=True) if c.recipient == "authority"]
        if authority and all(o.settled for o in authority):
            return "submitted"
        if self.assessment is None:
            return "aware"
        if not self.notices:
            return "assessed"
        if not all(n.settled for n in self.notices):
            return "drafts_requested"
        return "draft_failed" if any(n.failed for n in self.notices) else "drafts_delivered"

    @property
    def assets(self) -> tuple[str, ...]:
        return self.signals.assets

    @property
    def systems(self) -> tuple[str, ...]:
        return self.signals.systems

    @property
    def unmapped_assets(self) -> tuple[str, ...]:
        return self.signals.unmapped_assets

    @property
    def first_event_at(self) -> datetime | None:
        return self.signals.first_event_at

    @property
    def last_event_at(self) -> datetime | None:
        return self.signals.last_event_at

    @property
    def records_estimate(self) -> int | None:
        return self.signals.records_max

    @property
    def level(self) -> str | None:
        """The level in force: the DPO's override if any, else the latest assessment's."""
        if self.override is not None:
            return self.override.level
        return self.assessment.level if self.assessment else None

    def obligation(self, rule_ref: str) -> ObligationState | None:
        return next((o for o in self.obligations if o.rule_ref == rule_ref), None)

    @property
    def settled_obligations(self) -> tuple[str, ...]:
        return tuple(o.rule_ref for o in self.obligations if o.settled)

    def has_signal(self, event_id: str) -> bool:
        """Whether this signal was attached lately: the correlator sends each once, and a replay
        re-sends only the last batches, which the remembered ids cover."""
        return self.signals.seen(event_id)

    def notice(self, notice_id: str) -> NoticeProgress | None:
        return next((n for n in self.notices if n.notice_id == notice_id), None)

    def measures_for(self, audience: str) -> Measures | None:
        return next((m for m in self.measures if m.audience == audience), None)

    def subject_list(self, list_id: str) -> SubjectList | None:
        return next((x for x in self.subject_lists if x.list_id == list_id), None)

    def subject_notice(self, notice_id: str) -> SubjectNotice | None:
        return next((n for n in self.subject_notices if n.notice_id == notice_id), None)


@functools.singledispatch
def evolve(event: Event, state: Incident | None) -> Incident:
    raise TypeError(f"no evolve() for {type(event).__name__}")


def _next(event: Event, state: Incident | None) -> Incident:
    return replace(_in_sequence(event, state), version=event.version)


def _in_sequence(event: Event, state: Incident | None) -> Incident:
    if state is None or event.incident_id != state.id or event.version != state.version + 1:
        expected = 1 if state is None else state.version + 1
        raise OutOfSequence(f"{type(event).__name__} v{event.version} for {event.incident_id}: expected v{expected}")
    return state


@evolve.register
def _opened(event: IncidentOpened, state: Incident | None) -> Incident:
    if state is not None or event.version != 1:
        raise OutOfSequence(f"IncidentOpened v{event.version} for an incident that exists")
    return Incident(id=event.incident_id, version=1, controller=event.controller,
                    correlation_key=event.correlation_key, profile_ref=event.profile_ref, opened_at=event.at)


@evolve.register
def _attached(event: SignalAttached, state: Incident | None) -> Incident:
    # One replace, not two (_next's and this one's): every signal is folded twice, and copying
    # the incident's fields is most of what attaching costs.
    s = _in_sequence(event, state)
    return replace(s, version=event.version, evidence=kept_items(s.evidence, event.evidence),
                   signals=s.signals.with_signal(event.evidence))


@evolve.register
def _absorbed(event: SignalsAbsorbed, state: Incident | None) -> Incident:
    s = _next(event, state)
    return replace(s, signals=s.signals.merged(event.signals), absorbed_from=(*s.absorbed_from, event.absorbed))


@evolve.register
def _merged(event: IncidentMerged, state: Incident | None) -> Incident:
    return replace(_next(event, state), merged_into=event.into, merge_reason=event.reason,
                   merge_why=event.why, merged_into_bucket=event.into_bucket)


@evolve.register
def _triage(event: TriageStarted, state: Incident | None) -> Incident:
    return replace(_next(event, state), triage=Awareness(aware_at=event.started_at, by=event.by, evidence=()))


@evolve.register
def _classified(event: IncidentClassified, state: Incident | None) -> Incident:
    s = _next(event, state)
    return replace(s, classifications=(*s.classifications, event.classification))


@evolve.register
def _aware(event: AwarenessRecorded, state: Incident | None) -> Incident:
    return replace(_next(event, state),
                   awareness=Awareness(aware_at=event.aware_at, by=event.by, evidence=event.evidence))


@evolve.register
def _advanced(event: AwarenessAdvanced, state: Incident | None) -> Incident:
    return replace(_next(event, state),
                   awareness=Awareness(aware_at=event.aware_at, by=event.by, evidence=event.evidence))


@evolve.register
def _moved(event: ClockMoved, state: Incident | None) -> Incident:
    s = _next(event, state)
    return replace(s, clocks=tuple(replace(c, anchor_at=event.anchor_at, deadline=event.deadline)
                                   if c.rule_ref == event.rule_ref else c for c in s.clocks))


@evolve.register
def _assessed(event: RiskAssessed, state: Incident | None) -> Incident:
    return replace(_next(event, state), assessment=event.assessment)


@evolve.register
def _corrected(event: FactsCorrected, state: Incident | None) -> Incident:
    s = _next(event, state)
    return replace(s, corrections={**(s.corrections or {}), **event.changes})


@evolve.register
def _proposed(event: FactsProposed, state: Incident | None) -> Incident:
    s = _next(event, state)
    proposal = Proposal(number=event.version, at=event.at, changes=dict(event.changes), by=event.by,
                        reason=event.reason, level=event.level)
    return replace(s, proposals=(*s.proposals, proposal))


@evolve.register
def _settled(event: ProposalSettled, state: Incident | None) -> Incident:
    s = _next(event, state)
    outcome = CONFIRMED if event.confirmed else DECLINED
    return replace(s, proposals=tuple(replace(p, outcome=outcome, settled_by=event.by, settled_at=event.at,
                                              settle_reason=event.reason) if p.number == event.proposal else p
                                      for p in s.proposals))


@evolve.register
def _overridden(event: RiskOverridden, state: Incident | None) -> Incident:
    return replace(_next(event, state), override=Override(level=event.level, justification=event.justification,
                                                          by=event.by, at=event.at))


@evolve.register
def _form(event: FormAnswered, state: Incident | None) -> Incident:
    return replace(_next(event, state), form=event.answers)


@evolve.register
def _measures(event: MeasuresRecorded, state: Incident | None) -> Incident:
    s = _next(event, state)
    kept = tuple(m for m in s.measures if m.audience != event.audience)
    return replace(s, measures=(*kept, Measures(audience=event.audience, texts=event.texts, by=event.by,
                                                at=event.at)))


@evolve.register
def _clock(event: ClockStarted, state: Incident | None) -> Incident:
    s = _next(event, state)
    return replace(s, clocks=(*s.clocks, event.clock),
                   obligations=(*s.obligations, ObligationState(rule_ref=event.clock.rule_ref)))


@evolve.register
def _acted(event: ObligationActed, state: Incident | None) -> Incident:
    s = _next(event, state)

    def step(o: ObligationState) -> ObligationState:
        match event.action:
            case "approve":
                return replace(o, status="approved", approved_by=event.by)
            case "submit":
                return replace(o, status="submitted", submitted_at=event.acted_at, channel=event.channel,
                               reference=event.reference, late=event.late,
                               delay_reasons=event.text or o.delay_reasons)
            case "delay_reasons":
                return replace(o, delay_reasons=event.text)
            case "complement":
                return replace(o, complements=o.complements + 1)
            case "correct":
                return replace(o, corrections=o.corrections + 1)
            case "close" | "withdraw":
                return replace(o, status="closed" if event.action == "close" else "withdrawn",
                               closing_reason=event.text, closing_why=event.why)
            case "reinstate":  # withdrawn when the level no longer called for it; the level calls again
                return replace(o, status="approved" if o.approved_by else "running", closing_reason="",
                               closing_why=())
        raise OutOfSequence(f"unknown obligation action {event.action!r}")

    return replace(s, obligations=tuple(step(o) if o.rule_ref == event.obligation else o for o in s.obligations))


@evolve.register
def _requested(event: NoticeRequested, state: Incident | None) -> Incident:
    s, d = _next(event, state), event.draft
    progress = NoticeProgress(notice_id=d.notice_id, kind=d.kind, locale=d.locale, audience=d.audience,
                              recipients=d.recipients)
    return replace(s, notices=(*s.notices, progress))


@evolve.register
def _reminded(event: ReminderDue, state: Incident | None) -> Incident:
    s = _next(event, state)
    keys = tuple(f"{event.rule_ref}|{step}" for step in (*event.skipped, event.step))
    return replace(s, reminded=(*s.reminded, *keys))


def _settle(state: Incident, notice_id: str, *, delivered: str | None = None, failed: str | None = None) -> Incident:
    notices = tuple(
        replace(n, delivered=(*n.delivered, delivered) if delivered else n.delivered,
                failed=(*n.failed, failed) if failed else n.failed) if n.notice_id == notice_id else n
        for n in state.notices
    )
    return replace(state, notices=notices)


@evolve.register
def _delivered(event: NoticeDelivered, state: Incident | None) -> Incident:
    return _settle(_next(event, state), event.notice_id, delivered=event.recipient)


@evolve.register
def _failed(event: NoticeFailed, state: Incident | None) -> Incident:
    return _settle(_next(event, state), event.notice_id, failed=event.recipient)


@evolve.register
def _listed(event: SubjectsListed, state: Incident | None) -> Incident:
    s = _next(event, state)
    listed = SubjectList(list_id=event.list_id, count=event.count, invalid=event.invalid, by=event.by, at=event.at)
    return replace(s, subject_lists=(*s.subject_lists, listed))


@evolve.register
def _subject_notice(event: SubjectNoticeRequested, state: Incident | None) -> Incident:
    s = _next(event, state)
    notice = SubjectNotice(notice_id=event.notice_id, list_id=event.list_id, total=event.total,
                           default_locale=event.default_locale, context=event.context, requested_at=event.at,
                           by=event.by)
    return replace(s, subject_notices=(*s.subject_notices, notice))


@evolve.register
def _progressed(event: DeliveryProgressed, state: Incident | None) -> Incident:
    s = _next(event, state)
    counts = PartitionProgress(partition=event.partition, accepted=event.accepted, failed=event.failed,
                               bounced=event.bounced, in_doubt=event.in_doubt)

    def update(n: SubjectNotice) -> SubjectNotice:
        others = tuple(p for p in n.partitions if p.partition != event.partition)
        return replace(n, partitions=tuple(sorted((*others, counts), key=lambda p: p.partition)))

    return replace(s, subject_notices=tuple(update(n) if n.notice_id == event.notice_id else n
                                            for n in s.subject_notices))


@evolve.register
def _dismissed(event: IncidentDismissed, state: Incident | None) -> Incident:
    s = _next(event, state)
    return replace(s, dismissal=Dismissal(outcome=event.outcome, reason=event.reason, by=event.by, at=event.at,
                                          was_aware=s.awareness is not None))


@evolve.register
def _reopened(event: IncidentReopened, state: Incident | None) -> Incident:
    return replace(_next(event, state), dismissal=None)


@evolve.register
def _owned(event: OwnerAssigned, state: Incident | None) -> Incident:
    return replace(_next(event, state), owner=event.owner)


@evolve.register
def _noted(event: NoteAdded, state: Incident | None) -> Incident:
    s = _next(event, state)
    return replace(s, note_ids=(*s.note_ids, event.note_id))


@evolve.register
def _titled(event: TitleSet, state: Incident | None) -> Incident:
    return replace(_next(event, state), title=event.title)


@evolve.register
def _paged(event: Paged, state: Incident | None) -> Incident:
    s = _next(event, state)
    page = event.page
    repeats_left = event.repeat < page.max_repeats and page.repeat_seconds > 0
    next_at = event.at + timedelta(seconds=page.repeat_seconds) if repeats_left else None
    if event.repeat == 0:
        # A new page carries the repeats from now on: the earlier ones stop (still to acknowledge).
        earlier = tuple(replace(p, next_at=None) for p in s.pages)
        return replace(s, pages=(*earlier, PageStatus(page=page, last_at=event.at, next_at=next_at)))
    return replace(s, pages=tuple(replace(p, repeats=event.repeat, last_at=event.at, next_at=next_at)
                                  if p.page.page_id == page.page_id else p for p in s.pages))


@evolve.register
def _page_acknowledged(event: PageAcknowledged, state: Incident | None) -> Incident:
    s = _next(event, state)
    return replace(s, pages=tuple(replace(p, acknowledged_by=event.by, acknowledged_at=event.at, next_at=None)
                                  if p.page.page_id in event.page_ids else p for p in s.pages))


@evolve.register
def _tasks(event: TasksAdded, state: Incident | None) -> Incident:
    s = _next(event, state)
    added = tuple(TaskState(key=f"{event.playbook}/{t.id}", playbook=event.playbook, texts=t.texts, when=t.when)
                  for t in event.tasks)
    return replace(s, tasks=(*s.tasks, *added))


@evolve.register
def _checked(event: TaskChecked, state: Incident | None) -> Incident:
    s = _next(event, state)
    return replace(s, tasks=tuple(replace(t, done_by=event.by if event.done else "",
                                          done_at=event.at if event.done else None)
                                  if t.key == event.task else t for t in s.tasks))


@evolve.register
def _tagged(event: IncidentTagged, state: Incident | None) -> Incident:
    s = _next(event, state)
    kept = tuple(t for t in s.tags if t != event.tag)
    return replace(s, tags=(*kept, event.tag) if event.added else kept)


def fold(state: Incident | None, events: list[Event]) -> Incident | None:
    return functools.reduce(lambda s, e: evolve(e, s), events, state)
