"""Playbook tasks, tags, and merging two incidents by hand, from the console: builders joined to
console.actions' (a form at /incidents/{id}/act/<name>, the API at /api/incidents/{id}/<name>):
``task`` (check or uncheck), ``tag`` and ``untag``, ``link`` (merge this incident into another).

The console checks first what it can see and the domain cannot: the incident to merge into
exists, is another, is not merged itself, is the same controller's, and whether either is one
the controller is aware of (then the merge is the DPO's: clocks move). incident/tasks.py and
incident/tags.py check the rest again on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console import refusals
from console.actions import DPO, RESPONDERS, ActionError, Builder, Clock, text_field
from console.users import User
from incident.commands import CheckTask, Command, LinkIncidents, TagIncident
from incident.model import Incident
from incident.notices import reference
from incident.tags import TAG, normal_tag

ACTIONS = ("task", "tag", "untag", "link")
_TRUE, _FALSE = ("1", "true", "on", "yes"), ("0", "false", "off", "no", "")


def _flag(body: Mapping[str, Any], key: str) -> bool:
    value = body.get(key, True)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in (*_TRUE, *_FALSE):
        return value.lower() in _TRUE
    raise ActionError(f"{key} must be true or false")


def task(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    """``task``: its key ("<playbook>/<task>"); ``done``: true (the default) or false to uncheck."""
    return CheckTask(incident_id=incident_id, task=text_field(body, "task", required=True).strip(),
                     done=_flag(body, "done"), by=user.actor, role=user.role)


def tag(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    return TagIncident(incident_id=incident_id, tag=text_field(body, "tag", required=True), add=True, by=user.actor,
                       role=user.role)


def untag(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    return TagIncident(incident_id=incident_id, tag=text_field(body, "tag", required=True), add=False,
                       by=user.actor, role=user.role)


def link(body: Mapping[str, Any], incident_id: str, user: User, clock: Clock) -> Command:
    """``into``: the incident to merge into, by id (``resolved`` turns a reference into it)."""
    return LinkIncidents(incident_id=incident_id, into=text_field(body, "into", required=True).strip(),
                         reason=text_field(body, "reason", required=True), by=user.actor, role=user.role)


BUILDERS: dict[str, Builder] = {"task": task, "tag": tag, "untag": untag, "link": link}


def target(value: str, incidents: Mapping[str, Incident]) -> Incident | None:
    """The incident a person names by its id or its reference (BR-…, any case)."""
    value = value.strip()
    if value in incidents:
        return incidents[value]
    wanted = value.upper()
    return next((i for i in incidents.values() if reference(i.id) == wanted), None)


def resolved(action: str, body: Mapping[str, Any], incidents: Mapping[str, Incident]) -> Mapping[str, Any]:
    """The request with ``into`` as the incident's id when a person gave its reference."""
    into = body.get("into")
    if action != "link" or not isinstance(into, str):
        return body
    found = target(into, incidents)
    return {**body, "into": found.id} if found is not None else body


def refused(action: str, body: Mapping[str, Any], user: User, incident: Incident,
            incidents: Mapping[str, Incident]) -> str | None:
    """The console's check of one of these actions (None: allowed)."""
    if action not in BUILDERS:
        return None
    if user.role not in RESPONDERS:
        return refusals.read_only_role(user.role)
    if action == "task":
        key = body.get("task")
        if isinstance(key, str) and key.strip() and key.strip() not in {t.key for t in incident.tasks}:
            return refusals.no_task(key.strip())
        return None
    if action in ("tag", "untag"):
        word = body.get("tag")  # the incident would refuse it too, later, on its timeline: said now
        return refusals.TAG_WORD if isinstance(word, str) and word.strip() and not TAG.match(normal_tag(word)) \
            else None
    if action != "link":
        return None
    into = body.get("into")
    other = target(into, incidents) if isinstance(into, str) and into.strip() else None
    if other is None or not user.sees(other.controller):  # another tenant's incident does not exist here
        return refusals.NO_MERGE_TARGET
    if other.id == incident.id:
        return refusals.MERGE_ITSELF
    if other.merged_into is not None:
        return refusals.merged_elsewhere(reference(other.merged_into))
    if other.controller != incident.controller:
        return refusals.MERGE_SAME_CONTROLLER
    if (incident.awareness is not None or other.awareness is not None) and user.role not in DPO:
        return refusals.MERGE_AWARE
    return None


def task_rows(incident: Incident, lang: str) -> list[dict[str, Any]]:
    """The incident's tasks for a page or the API, in the reader's language."""
    return [{"key": t.key, "playbook": t.playbook, "text": t.text(lang), "when": t.when, "done": t.done,
             "done_by": t.done_by or None, "done_at": t.done_at.isoformat() if t.done_at else None}
            for t in incident.tasks]


def tag_matches(wanted: str, row: Mapping[str, Any]) -> bool:
    """The list's tag filter: the row has that tag (any case)."""
    return wanted.strip().lower() in row.get("tags", ())
