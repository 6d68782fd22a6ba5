"""Playbook tasks on an incident: added when the incident reaches the point a task is due
from, checked (and unchecked) by a named person.

A controller's playbooks (incident/playbooks.py, in its profile) apply to an incident when they
name one of the controller's regimes the incident falls under (or none) and one of its breach
types (or none); NIS2 and DORA come under once a person classifies the incident significant or
major. A task is due from the incident's opening, its awareness, or its assessed level (risk,
high risk): decide() asks ``due`` after every decision, so a task appears the moment its point
is reached, once. Tasks are never taken away: a level lowered later leaves a checked task as
history and an unchecked one to be checked or left.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from incident.commands import CarriedTask, CheckTask
from incident.errors import CommandRejected
from incident.events import Event, TaskChecked, TasksAdded
from incident.model import Incident
from incident.playbooks import Playbook, Task
from incident.profiles import Profile
from incident.regimes import CLASSIFICATION_TRIGGERS, REGIMES
from incident.work import _workable


def reached(incident: Incident) -> tuple[str, ...]:
    """The points (playbooks.WHEN) the incident has reached."""
    points = ["opened"]
    if incident.awareness is not None:
        points.append("aware")
    if incident.level in ("risk", "high"):
        points.append("risk")
    if incident.level == "high":
        points.append("high_risk")
    return tuple(points)


def breach_types(incident: Incident) -> tuple[str, ...]:
    """What the breach is said to be: the assessment's, else its signals' (confidentiality by
    default, as the assessment reads it)."""
    if incident.assessment is not None:
        return incident.assessment.breach_types
    return incident.signals.breach_types or ("confidentiality",)


def regimes(incident: Incident, profile: Profile) -> tuple[str, ...]:
    """The controller's regimes this incident falls under: a breach regime (GDPR…) from the
    start; one whose obligations all wait for a classification (NIS2 "significant", DORA
    "major") once a person classified the incident so."""
    classified = {CLASSIFICATION_TRIGGERS.get(c) for c in incident.classifications}
    waiting = set(CLASSIFICATION_TRIGGERS.values())
    out = []
    for regime in profile.regimes:
        triggers = {o.trigger for o in REGIMES.get(regime, ())}
        if triggers and triggers <= waiting and not triggers & classified:
            continue
        out.append(regime)
    return tuple(out)


def applies(playbook: Playbook, incident: Incident, profile: Profile) -> bool:
    return ((not playbook.regimes or any(r in regimes(incident, profile) for r in playbook.regimes))
            and (not playbook.breach_types or any(t in breach_types(incident) for t in playbook.breach_types)))


def due(state: Incident | None, profile: Profile | None, now: datetime, pack: Sequence[Playbook] = (),
        ) -> list[Event]:
    """The tasks ``state`` has newly reached, one TasksAdded per playbook (none once merged or
    dismissed: work goes on elsewhere, or stops). ``pack``: the rule pack's playbooks, for every
    controller after its profile's (a profile's playbook of the same id replaces the pack's)."""
    if state is None or profile is None or state.merged_into is not None or state.dismissal is not None:
        return []
    points, have = reached(state), {t.key for t in state.tasks}
    own = {p.id for p in profile.playbooks}
    events: list[Event] = []
    for playbook in (*profile.playbooks, *(p for p in pack if p.id not in own)):
        if not applies(playbook, state, profile):
            continue
        new = tuple(t for t in playbook.tasks if t.when in points and f"{playbook.id}/{t.id}" not in have)
        if new:
            events.append(TasksAdded(incident_id=state.id, version=state.version + len(events) + 1, at=now,
                                     playbook=playbook.id, profile_ref=profile.ref, tasks=new,
                                     titles=dict(playbook.titles)))
    return events


def check(cmd: CheckTask, state: Incident | None, now: datetime) -> list[Event]:
    s = _workable(state, cmd.incident_id, cmd.role)
    task = next((t for t in s.tasks if t.key == cmd.task), None)
    if task is None:
        raise CommandRejected(f"no task {cmd.task} on this incident")
    if task.done == cmd.done:
        return []  # already so (or this command redelivered)
    return [TaskChecked(incident_id=s.id, version=s.version + 1, at=now, task=cmd.task, done=cmd.done, by=cmd.by)]


def carry(incident: Incident) -> tuple[CarriedTask, ...]:
    """``incident``'s tasks as a merge carries them to the incident it merged into."""
    return tuple(CarriedTask(key=t.key, playbook=t.playbook, texts=dict(t.texts), when=t.when, done_by=t.done_by,
                             done_at=t.done_at) for t in incident.tasks)


def carried(state: Incident, tasks: tuple[CarriedTask, ...], now: datetime) -> list[Event]:
    """A merged incident's tasks on the one it merged into: those it lacks are added (one
    TasksAdded per playbook, with the words they had), and those checked over there are checked
    here by whoever checked them, so no work is lost or asked twice. A task already checked here
    stays as it is; nothing is unchecked. Versions follow ``state.version``."""
    have = {t.key: t for t in state.tasks}
    new = [t for t in tasks if t.key not in have]
    events: list[Event] = []
    for playbook in dict.fromkeys(t.playbook for t in new):
        events.append(TasksAdded(incident_id=state.id, version=state.version + len(events) + 1, at=now,
                                 playbook=playbook, profile_ref=None,
                                 tasks=tuple(Task(id=t.key.partition("/")[2], texts=t.texts, when=t.when)
                                             for t in new if t.playbook == playbook)))
    for t in tasks:
        if t.done_by and not (t.key in have and have[t.key].done):
            events.append(TaskChecked(incident_id=state.id, version=state.version + len(events) + 1, at=now,
                                      task=t.key, done=True, by=t.done_by))
    return events


def progress(incident: Incident) -> tuple[int, int]:
    """(done, total)."""
    return sum(t.done for t in incident.tasks), len(incident.tasks)
