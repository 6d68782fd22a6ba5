"""Working an incident: dismissing it (and reopening it), its owner, its notes and its title.

Each handler checks the sender's role itself (the console checks first, but the domain is what
the events trust): anyone who may act may claim, assign, note, rename, and dismiss a suspected
incident; only the DPO dismisses (or reopens) one the controller is aware of, since that decides
the breach is not notified.
"""

from __future__ import annotations

from datetime import datetime

from incident.commands import AddNote, AssignOwner, DismissIncident, ReopenIncident, SetTitle
from incident.errors import CommandRejected
from incident.events import Event, IncidentDismissed, IncidentReopened, NoteAdded, OwnerAssigned, TitleSet
from incident.model import Incident
from incident.obligations import DPO_ROLE

# Why an examined incident is not notified: the register says which, with the reason.
OUTCOMES = ("not_a_breach", "false_positive", "duplicate")
ACTING_ROLES = ("responder", DPO_ROLE, "admin")
MAX_NOTE = 10_000  # characters: a note is a paragraph or a page, not an attachment
MAX_TITLE = 200


def _workable(state: Incident | None, incident_id: str, role: str) -> Incident:
    if state is None:
        raise CommandRejected(f"no incident {incident_id}")
    if role not in ACTING_ROLES:
        raise CommandRejected(f"the {role} role may read, not act")
    if state.merged_into is not None:
        raise CommandRejected(f"incident merged into {state.merged_into}: work on that one")
    return state


def dismiss(cmd: DismissIncident, state: Incident | None, now: datetime) -> list[Event]:
    s = _workable(state, cmd.incident_id, cmd.role)
    reason = cmd.reason.strip()
    if cmd.outcome not in OUTCOMES:
        raise CommandRejected(f"a dismissal's outcome must be one of {', '.join(OUTCOMES)}")
    if not reason:
        raise CommandRejected("a dismissal needs a reason")
    if s.dismissal is not None:
        if (s.dismissal.outcome, s.dismissal.reason) == (cmd.outcome, reason):
            return []  # the same decision redelivered
        raise CommandRejected(f"already dismissed as {s.dismissal.outcome} by {s.dismissal.by}: reopen it first")
    if s.awareness is not None and cmd.role != DPO_ROLE:
        raise CommandRejected("only the DPO may dismiss an incident the controller is aware of")
    notified = [o.rule_ref for o in s.obligations if o.status in ("submitted", "closed")]
    if notified:
        raise CommandRejected(f"a notified breach cannot be dismissed ({', '.join(notified)} submitted): "
                              "correct or complement what was sent")
    return [IncidentDismissed(incident_id=s.id, version=s.version + 1, at=now, outcome=cmd.outcome, reason=reason,
                              by=cmd.by)]


def reopen(cmd: ReopenIncident, state: Incident | None, now: datetime) -> list[Event]:
    s = _workable(state, cmd.incident_id, cmd.role)
    if s.dismissal is None:
        return []  # open already (or this reopening redelivered)
    if not cmd.reason.strip():
        raise CommandRejected("a reopening needs a reason")
    if s.dismissal.was_aware and cmd.role != DPO_ROLE:
        raise CommandRejected("only the DPO may reopen an incident dismissed after awareness")
    return [IncidentReopened(incident_id=s.id, version=s.version + 1, at=now, reason=cmd.reason.strip(), by=cmd.by)]


def assign(cmd: AssignOwner, state: Incident | None, now: datetime) -> list[Event]:
    s = _workable(state, cmd.incident_id, cmd.role)
    owner = cmd.owner.strip()
    if len(owner) > MAX_TITLE:
        raise CommandRejected(f"an owner is at most {MAX_TITLE} characters")
    if owner == s.owner:
        return []
    return [OwnerAssigned(incident_id=s.id, version=s.version + 1, at=now, owner=owner, previous=s.owner, by=cmd.by)]


def note(cmd: AddNote, state: Incident | None, now: datetime) -> list[Event]:
    s = _workable(state, cmd.incident_id, cmd.role)
    if not cmd.note_id.strip():
        raise CommandRejected("a note needs its id")
    if cmd.note_id in s.note_ids:
        return []  # redelivered
    text = cmd.text.strip()
    if not text:
        raise CommandRejected("a note needs a text")
    if len(text) > MAX_NOTE:
        raise CommandRejected(f"a note is at most {MAX_NOTE} characters")
    return [NoteAdded(incident_id=s.id, version=s.version + 1, at=now, note_id=cmd.note_id, text=text, by=cmd.by)]


def set_title(cmd: SetTitle, state: Incident | None, now: datetime) -> list[Event]:
    s = _workable(state, cmd.incident_id, cmd.role)
    title = " ".join(cmd.title.split())  # one line
    if len(title) > MAX_TITLE:
        raise CommandRejected(f"a title is at most {MAX_TITLE} characters")
    if title == s.title:
        return []
    return [TitleSet(incident_id=s.id, version=s.version + 1, at=now, title=title, by=cmd.by)]


def derived_title(incident: Incident) -> str:
    """What the incident is about, from its strongest signal: the first that confirmed a breach,
    else the most severe kept (the earliest of equals), with its asset (no words to translate:
    the rule's name is the SIEM's)."""
    strongest = incident.signals.first_confirmed
    if strongest is None and incident.evidence:
        strongest = max(incident.evidence, key=lambda e: (e.severity, -e.ingested_at.timestamp()))
    if strongest is None:
        return ""
    return f"{strongest.title} · {strongest.asset}"


def headline(incident: Incident) -> str:
    """The incident's title as people see it: the one a person gave, else the derived one."""
    return incident.title or derived_title(incident)
