"""Commands: requests to change one incident, each keyed by ``incident_id``.

Every change to an incident goes through a command on ``incident-commands``; the incident
agent is their only consumer (one writer per incident).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incident.measures import MeasureText
from incident.notification_form import FormAnswers
from incident.signal_summary import SignalSummary
from incident.signals import Evidence


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachSignal:
    """Add a correlated signal; the first one opens the incident."""

    incident_id: str
    controller: str | None
    correlation_key: str
    evidence: Evidence


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeIncident:
    """The correlator found that this incident and ``into`` are one: a signal shares entities
    with both within the window. This one stops (its history stays); ``into`` takes its evidence."""

    incident_id: str
    into: str
    reason: str  # which entity kinds (hashed) linked them, within which window; never the values
    why: tuple[tuple[str, ...], ...] = ()  # the reason's codes and parameters (incident/reasons.py)
    # The two incidents' ranks, (bucket start, id), when the sender knows them (the split stages,
    # incident/stage_messages.py): the ids are the fields above, so only the bucket starts travel.
    # None from the one-worker correlator and from records written before them: a second merge of
    # this incident is then ignored, as it always was (incident/survivors.py).
    bucket: datetime | None = None
    into_bucket: datetime | None = None

    @property
    def rank(self) -> tuple[datetime, str] | None:
        return None if self.bucket is None else (self.bucket, self.incident_id)

    @property
    def into_rank(self) -> tuple[datetime, str] | None:
        return None if self.into_bucket is None else (self.into_bucket, self.into)


@dataclass(frozen=True, slots=True, kw_only=True)
class CarriedTask:
    """A playbook task of a merged incident as AbsorbIncident carries it to the one it merged into
    (incident/tasks.py ``carried``): its words and who checked it, when."""

    key: str  # "<playbook>/<task>"
    playbook: str
    texts: dict[str, str]
    when: str = "opened"
    done_by: str = ""  # empty: not done
    done_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AbsorbIncident:
    """Sent by the incident agent for a merged incident to the one it merged into: its evidence,
    each item to be re-attached with why, and its awareness (the same breach, known since then)."""

    incident_id: str
    absorbed: str
    controller: str | None
    correlation_key: str
    reason: str
    evidence: tuple[Evidence, ...]  # the items it kept (its first and latest), each re-attached
    why: tuple[tuple[str, ...], ...] = ()  # ``reason`` as codes (incident/reasons.py); none from older senders
    aware_at: datetime | None = None
    aware_by: str = ""
    aware_evidence: tuple[str, ...] = ()
    # Everything it knew of its signals (counts, sets): the survivor joins what the items do not
    # carry. None from a sender that predates summaries (its evidence was every item).
    signals: SignalSummary | None = None
    # Its playbook tasks, checked or not: the work done there is not lost nor done twice. Empty from
    # a sender that predates this (and for the evidence a merged incident passes on later).
    tasks: tuple[CarriedTask, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordAwareness:
    """A person (or a rule) states the controller is aware of a personal-data breach."""

    incident_id: str
    aware_at: datetime
    by: str
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordDelivery:
    """The mailer's outcome for one recipient of one notice."""

    incident_id: str
    notice_id: str
    recipient: str
    delivered: bool
    message_id: str
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrectFacts:
    """A responder corrects or completes the breach facts (fields as in a facts file). A change
    that lowers the assessed risk is the DPO's decision (``role``), as an override is."""

    incident_id: str
    changes: dict[str, Any]
    by: str
    reason: str
    role: str = ""  # the actor's console role; empty on commands written before it was carried


@dataclass(frozen=True, slots=True, kw_only=True)
class SettleProposal:
    """The DPO confirms (``confirm``) or declines a responder's proposed facts (incident/proposals.py),
    ``proposal`` being its number as the incident lists it."""

    incident_id: str
    proposal: int
    confirm: bool
    reason: str
    by: str
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OverrideRisk:
    """The DPO sets the level, with a justification; only a DPO-role actor may."""

    incident_id: str
    level: str
    justification: str
    by: str
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StartTriage:
    """Someone starts investigating whether this is a personal-data breach."""

    incident_id: str
    by: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassifyIncident:
    """A person classifies the incident under a regime's own scale (DORA "major", NIS2
    "significant"); clocks that run from the classification start then."""

    incident_id: str
    classification: str
    by: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Tick:
    """Time has passed: the clock agent's only command. Deciding what is due is the domain's job."""

    incident_id: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ActOnObligation:
    """A step of one obligation's workflow (its clock's rule_ref), by a person.

    action: approve (DPO only) | submit (channel "email" or "portal", reference for a portal) |
    complement (Art. 33(4) phased information) | correct (with the reason) |
    delay_reasons (may come before the deadline) | close | withdraw (with a reason).
    """

    incident_id: str
    obligation: str
    action: str
    by: str
    role: str
    at: datetime
    channel: str = ""
    reference: str = ""
    text: str = ""  # reasons, summary of a complement, or why it is closed or withdrawn


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordSubjects:
    """A list of the people affected was imported (the addresses travel on ``affected-subjects``,
    never in the incident's history: only the list's id and counts do)."""

    incident_id: str
    list_id: str
    count: int
    invalid: int
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SendSubjectNotice:
    """The DPO approves the data-subject notice (Art. 34) for one imported list, with the
    measures it tells people about; the worker fans it out to every recipient."""

    incident_id: str
    list_id: str
    by: str
    role: str
    measures_taken: tuple[str, ...]
    measures_proposed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordMeasures:
    """The DPO writes the measures taken and proposed (Art. 33(3)(d)) for one audience, the
    authority or the people affected, one text per language; it replaces that audience's last."""

    incident_id: str
    audience: str
    texts: tuple[MeasureText, ...]
    by: str
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordFormAnswers:
    """The DPO's answers to the CNIL form's questions the incident cannot answer itself (start and
    end, cause, other Member States, initial or complete, police and ANSSI); they replace the last."""

    incident_id: str
    answers: FormAnswers
    by: str
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordDeliveryProgress:
    """Absolute counts of one mass notice on one partition of ``notice-deliveries`` (a batch,
    never one command per recipient): replays and stale reports are harmless."""

    incident_id: str
    notice_id: str
    partition: int
    accepted: int
    failed: int
    bounced: int
    in_doubt: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DismissIncident:
    """A person closes the incident as not a breach, a false positive or a duplicate, with the
    reason: it stays in the register as examined (Art. 33(5)); its escalations and clocks stop.
    Responders may dismiss a suspected incident; only the DPO one the controller is aware of."""

    incident_id: str
    outcome: str  # incident.work.OUTCOMES
    reason: str
    by: str
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReopenIncident:
    """A dismissed incident is worked again (the reason says what changed)."""

    incident_id: str
    reason: str
    by: str
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AssignOwner:
    """Who works the incident: ``owner`` is a person's actor (``user:rita``), the sender's own
    to claim it; empty to release it."""

    incident_id: str
    owner: str
    by: str
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AddNote:
    """A free-text note on the timeline. ``note_id`` is made by the sender, so a redelivered
    command adds it once."""

    incident_id: str
    note_id: str
    text: str
    by: str
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SetTitle:
    """A person names the incident (empty: back to the title derived from its signals)."""

    incident_id: str
    title: str
    by: str
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AcknowledgePage:
    """A person acknowledges the incident's pages (incident/paging.py): someone is on it, the
    repeats stop."""

    incident_id: str
    by: str
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckTask:
    """A person checks (``done``) or unchecks a playbook task: ``task`` is its key,
    "<playbook>/<task>" (incident/tasks.py)."""

    incident_id: str
    task: str
    done: bool
    by: str
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TagIncident:
    """A person adds (``add``) or removes a tag: a short word the list filters on."""

    incident_id: str
    tag: str
    add: bool
    by: str
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkIncidents:
    """A person finds that this incident and ``into`` are one breach: it merges into ``into``
    exactly as the correlator's MergeIncident does (its evidence and awareness go there), with
    the person's reason and name."""

    incident_id: str
    into: str
    reason: str
    by: str
    role: str


Command = (AttachSignal | RecordAwareness | RecordDelivery | CorrectFacts | OverrideRisk | Tick | ActOnObligation
           | StartTriage | ClassifyIncident | RecordSubjects | SendSubjectNotice | RecordDeliveryProgress
           | MergeIncident | AbsorbIncident | RecordMeasures | RecordFormAnswers | DismissIncident | ReopenIncident
           | AssignOwner | AddNote | SetTitle | AcknowledgePage | CheckTask | TagIncident | LinkIncidents
           | SettleProposal)
COMMANDS: tuple[type, ...] = (AttachSignal, RecordAwareness, RecordDelivery, CorrectFacts, OverrideRisk, Tick,
                              ActOnObligation, StartTriage, ClassifyIncident, RecordSubjects, SendSubjectNotice,
                              RecordDeliveryProgress, MergeIncident, AbsorbIncident, RecordMeasures,
                              RecordFormAnswers, DismissIncident, ReopenIncident, AssignOwner, AddNote, SetTitle,
                              AcknowledgePage, CheckTask, TagIncident, LinkIncidents, SettleProposal)
