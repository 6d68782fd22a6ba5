"""Tags on an incident, and linking two incidents by hand.

A tag is one short word (lower case, digits, ``-``, ``_``, ``.``) the list filters on. Linking
is the correlator's merge decided by a person: the incident merges into the other exactly as
MergeIncident does (decide.reactions hands its evidence and awareness over), with the person's
name and reason. Merging an incident the controller is aware of moves legal clocks: the DPO's.
"""

from __future__ import annotations

import re
from datetime import datetime

from incident import reasons
from incident.commands import LinkIncidents, TagIncident
from incident.errors import CommandRejected
from incident.events import Event, IncidentMerged, IncidentTagged
from incident.model import Incident
from incident.obligations import DPO_ROLE
from incident.work import MAX_NOTE, _workable

TAG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
MAX_TAGS = 20


def normal_tag(tag: str) -> str:
    return tag.strip().lower()


def tag(cmd: TagIncident, state: Incident | None, now: datetime) -> list[Event]:
    s = _workable(state, cmd.incident_id, cmd.role)
    word = normal_tag(cmd.tag)
    if not TAG.match(word):
        raise CommandRejected("a tag is one word of at most 32 lower-case letters, digits, '-', '_' or '.'")
    if (word in s.tags) == cmd.add:
        return []
    if cmd.add and len(s.tags) >= MAX_TAGS:
        raise CommandRejected(f"an incident has at most {MAX_TAGS} tags")
    return [IncidentTagged(incident_id=s.id, version=s.version + 1, at=now, tag=word, added=cmd.add, by=cmd.by)]


def link(cmd: LinkIncidents, state: Incident | None, now: datetime) -> list[Event]:
    s = _workable(state, cmd.incident_id, cmd.role)
    reason = " ".join(cmd.reason.split())
    if cmd.into == s.id:
        raise CommandRejected("an incident cannot merge into itself")
    if not cmd.into.strip():
        raise CommandRejected("a link needs the incident to merge into")
    if not reason:
        raise CommandRejected("a link needs a reason")
    if len(reason) > MAX_NOTE:
        raise CommandRejected(f"a reason is at most {MAX_NOTE} characters")
    if s.awareness is not None and cmd.role != DPO_ROLE:
        raise CommandRejected("only the DPO may merge an incident the controller is aware of (its clocks move)")
    why = (("linked_by_hand", cmd.by, reason),)
    return [IncidentMerged(incident_id=s.id, version=s.version + 1, at=now, into=cmd.into, reason=reasons.say(why),
                           why=why)]
