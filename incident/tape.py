"""The tape a command's decision is written on, and what several of decide()'s handlers share.

A handler that emits more than one event writes them on a Tape, so each later decision sees
the state the earlier events lead to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, tzinfo

from incident.deadlines import DEFAULT_REMINDERS, Calendar
from incident.events import Event
from incident.model import Incident, evolve
from incident.profiles import Directory, Profile


class Tape:
    """Events decided so far, and the state they lead to (so later decisions see earlier ones)."""

    def __init__(self, state: Incident | None) -> None:
        self.state = state
        self.events: list[Event] = []

    @property
    def version(self) -> int:
        return (self.state.version if self.state else 0) + 1

    @property
    def incident_id(self) -> str:
        assert self.state is not None
        return self.state.id

    def emit(self, event: Event) -> Incident:
        self.events.append(event)
        self.state = evolve(event, self.state)
        return self.state


@dataclass(frozen=True, slots=True)
class Rules:
    """Everything decide() needs besides the command, the state and the time."""

    directory: Directory
    calendar: Calendar
    reminders: tuple[timedelta, ...] = DEFAULT_REMINDERS
    # A suspected incident must reach an awareness decision within this window, or it is escalated.
    triage_window: timedelta = timedelta(hours=24)


def profile_of(state: Incident, directory: Directory) -> Profile | None:
    return directory.profiles.get(state.controller) if state.controller else None


def zone(profile: Profile | None, rules: Rules) -> tzinfo:
    """Where a controller's deadlines are counted; one no profile declares, in UTC."""
    return rules.calendar.zone(profile.timezone if profile else "UTC")
