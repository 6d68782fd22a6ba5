"""Working an incident from the console: dismiss or reopen it, claim or assign it, note, rename it;
and the list's search. The builders join console.actions' (the same routes: a form at
/incidents/{id}/act/<name>, the API at /api/incidents/{id}/<name>).

The role checks here are the console's (so an action nobody may take is not offered, and a
forged form is refused before it is sent); incident/work.py checks the same on its own.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from console import refusals
from console.actions import DPO, RESPONDERS, ActionError, Builder, Clock, text_field
from console.users import User
from incident.commands import AddNote, AssignOwner, Command, DismissIncident, ReopenIncident, SetTitle
from incident.model import Incident
from incident.work import OUTCOMES


def dismiss(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    outcome = text_field(body, "outcome", required=True)
    if outcome not in OUTCOMES:
        raise ActionError(f"outcome must be one of {', '.join(OUTCOMES)}")
    return DismissIncident(incident_id=incident_id, outcome=outcome, reason=text_field(body, "reason", required=True),
                           by=user.actor, role=user.role)


def reopen(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    return ReopenIncident(incident_id=incident_id, reason=text_field(body, "reason", required=True), by=user.actor,
                          role=user.role)


def claim(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    return AssignOwner(incident_id=incident_id, owner=user.actor, by=user.actor, role=user.role)


def owner(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    """``owner``: a console user's name (checked against the users by ``refused``); empty releases."""
    name = text_field(body, "owner").strip()
    return AssignOwner(incident_id=incident_id, owner=f"user:{name}" if name else "", by=user.actor, role=user.role)


def note(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    # The id is made here, once per request: the broker may deliver the command twice, not add it twice.
    return AddNote(incident_id=incident_id, note_id=secrets.token_hex(8), text=text_field(body, "text", required=True),
                   by=user.actor, role=user.role)


def title(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    return SetTitle(incident_id=incident_id, title=text_field(body, "title"), by=user.actor, role=user.role)


BUILDERS: dict[str, Builder] = {"dismiss": dismiss, "reopen": reopen, "claim": claim, "owner": owner, "note": note,
                                "title": title}


def may_dismiss(incident: Incident, user: User) -> str | None:
    """None if ``user`` may dismiss (or reopen) this incident, else why not."""
    if user.role not in RESPONDERS:
        return refusals.read_only_role(user.role)
    aware = incident.awareness is not None if incident.dismissal is None else incident.dismissal.was_aware
    if aware and user.role not in DPO:
        return refusals.DISMISS_AWARE
    return None


def refused(action: str, body: Mapping[str, Any], user: User, incident: Incident,
            people: Callable[[], Iterable[str]]) -> str | None:
    """The console's check of one of these actions (None: allowed). ``people``: the names of the
    console users who may work an incident (an owner is one of them)."""
    if action not in BUILDERS:
        return None
    if user.role not in RESPONDERS:
        return refusals.read_only_role(user.role)
    if action in ("dismiss", "reopen"):
        return may_dismiss(incident, user)
    if action == "owner":
        name = body.get("owner", "")
        if isinstance(name, str) and name.strip() and name.strip() not in set(people()):
            return refusals.OWNER_MAY_ACT
    return None


def matches(query: str, row: Mapping[str, Any], reasons: Callable[[str], Iterable[str]],
            entity_hash: Callable[[str], str] | None) -> bool:
    """Whether one incident of the list matches a search: its reference, id, title, assets, tags or
    owner contain the words (case-insensitive); or a user name or an IP address linked its
    signals. The incident log keeps no user or IP (only a keyed hash of each in the signals'
    reasons, incident/correlation.py): the term is hashed the same way and looked up there."""
    words = query.lower().split()
    if not words:
        return True
    text = " ".join(str(v) for v in (row["reference"], row["id"], row["title"], row["owner"], *row["assets"],
                                     *row.get("tags", ()))).lower()
    if all(w in text for w in words):
        return True
    if entity_hash is None or len(words) != 1:
        return False
    wanted = "#" + entity_hash(query.strip())
    return any(wanted in reason for reason in reasons(str(row["id"])))
