"""The console's read model: incidents folded from incident-events, plus the dead letters.

Rebuilt from the start of the topics each time the console starts (events are the record).
Duplicated events (at-least-once) are skipped by version. Each incident's audit chain is
checked as its events are read (incident/chain.py), duplicates included: a replay must chain too.
"""

from __future__ import annotations

import json
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from incident import register
from incident.chain import ChainCheck, Link, Verdict
from incident.events import CommandRejected, SignalAttached, SignalsAbsorbed
from incident.model import Incident, evolve
from incident.profiles import Directory
from incident.signals import Evidence

LETTERS_KEPT = 500  # the latest dead letters listed (the topics keep them all; counts cover every one)


@dataclass(frozen=True)
class DeadLetter:
    """What the console shows of a record a stage refused: never the record itself (it may hold
    personal data, and a forged command is not to be read as a fact), only what identifies it."""

    topic: str
    stage: str
    source: str  # topic:partition:offset of the refused record
    reason: str
    at: str | None
    incident_id: str | None = None  # a refused command's incident, when the letter keeps it whole
    command: str | None = None


def read_letter(topic: str, raw: bytes) -> DeadLetter:
    """A dead letter (streams/kafka/dlq.py) as the console lists it; an unreadable one says so."""
    try:
        letter = json.loads(raw)
        reason, source = str(letter["reason"]), str(letter.get("source", ""))
    except (ValueError, KeyError, TypeError):
        return DeadLetter(topic=topic, stage="", source="", reason="unreadable dead letter", at=None)
    incident_id = command = None
    if not letter.get("truncated") and letter.get("encoding") == "utf-8":
        try:  # a command's envelope: {"type": ..., "data": {"incident_id": ...}}
            record = json.loads(letter.get("record", ""))
            command = str(record["type"])[:64]
            incident_id = str(record["data"]["incident_id"])[:64]
        except (ValueError, KeyError, TypeError):
            pass
    return DeadLetter(topic=topic, stage=str(letter.get("stage", "")), source=source, reason=reason,
                      at=str(letter["at"]) if letter.get("at") else None, incident_id=incident_id, command=command)


@dataclass
class ReadModel:
    incidents: dict[str, Incident] = field(default_factory=dict)
    timeline: dict[str, list[Any]] = field(default_factory=dict)
    rejected: deque[CommandRejected] = field(default_factory=lambda: deque(maxlen=200))
    dead_letters: Counter[str] = field(default_factory=Counter)
    letters: deque[DeadLetter] = field(default_factory=lambda: deque(maxlen=LETTERS_KEPT))
    letters_by_topic: Counter[str] = field(default_factory=Counter)
    events_seen: int = 0
    chains: dict[str, ChainCheck] = field(default_factory=dict)
    # Called with the incident id after each change ("*" after a reset, "dlq" for a dead letter):
    # the console's live updates (SSE) listen here.
    listeners: list[Callable[[str], None]] = field(default_factory=list)

    def _changed(self, what: str) -> None:
        for listener in list(self.listeners):
            listener(what)

    def reset(self) -> None:
        self.incidents.clear()
        self.timeline.clear()
        self.rejected.clear()
        self.dead_letters.clear()
        self.letters.clear()
        self.letters_by_topic.clear()
        self.chains.clear()
        self.events_seen = 0
        self._changed("*")

    def apply(self, event: Any, link: Link | None = None) -> None:
        """``link``: the event's place in its incident's audit chain, as read from the record
        (streams/kafka/audit_chain.py); None when the caller has no record (then the chain is not checked)."""
        self.events_seen += 1
        if link is not None:
            self.chains.setdefault(event.incident_id, ChainCheck()).add(link)
        if isinstance(event, CommandRejected):
            self.rejected.append(event)
            self.timeline.setdefault(event.incident_id, []).append(event)
            self._changed(event.incident_id)
            return
        current = self.incidents.get(event.incident_id)
        if current is not None and event.version <= current.version:
            return  # a redelivered event we already applied
        self.incidents[event.incident_id] = evolve(event, current)
        self.timeline.setdefault(event.incident_id, []).append(event)
        self._changed(event.incident_id)

    def evidence(self, incident_id: str) -> list[Evidence]:
        """Every signal of an incident, from its events: the aggregate keeps only its first and
        latest items (incident/signal_summary.py). A merged incident's signals that were not
        re-attached one by one (SignalsAbsorbed) come from its own events, saying why they are here."""
        items: list[Evidence] = []
        seen: set[str] = set()
        for event in self.timeline.get(incident_id, []):
            if isinstance(event, SignalAttached) and event.evidence.event_id not in seen:
                seen.add(event.evidence.event_id)
                items.append(event.evidence)
            elif isinstance(event, SignalsAbsorbed) and event.absorbed != incident_id:
                for e in self.evidence(event.absorbed):
                    if e.event_id not in seen:
                        seen.add(e.event_id)
                        why = (f"merged from incident {event.absorbed}: {event.reason}; "
                               f"attached there because: {e.reason}")
                        items.append(replace(e, reason=why))
        return items

    def chain(self, incident_id: str) -> Verdict | None:
        check = self.chains.get(incident_id)
        return None if check is None else check.verdict

    def register(self, directory: Directory | None = None) -> list[dict[str, Any]]:
        """The Art. 33(5) register, oldest breach first, each entry saying whether its chain verifies;
        with the controllers' profiles, their systems' names and the categories of people."""
        profiles = directory.profiles if directory is not None else {}
        return [register.entry(i, audit_chain=c.label if (c := self.chain(i.id)) else "not checked",
                               profile=profiles.get(i.controller or ""))
                for i in sorted(self.incidents.values(), key=lambda i: i.opened_at)]

    def apply_dead_letter(self, raw: bytes, topic: str = "security-events.dlq") -> None:
        letter = read_letter(topic, raw)
        # Group by the reason's first clause so the console shows kinds, not every variant.
        self.dead_letters[letter.reason.split(":")[0]] += 1
        self.letters_by_topic[topic] += 1
        self.letters.append(letter)
        self._changed("dlq")

    def refused_commands(self, incident_id: str) -> list[DeadLetter]:
        """Commands for this incident that the worker refused (a forged signature, a failed
        decision), newest first: they changed nothing, and the responder should know they came."""
        return [d for d in reversed(self.letters) if d.incident_id == incident_id]
