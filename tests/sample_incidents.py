"""The shipped samples (deploy/samples) as incidents, through the pure domain: each record read,
located on the shipped profiles (deploy/profiles), correlated with the shipped rule pack and
decided, as the worker would. Tests of the notices render what these incidents draft."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from incident.commands import Command, RecordAwareness
from incident.correlation import correlate_batch
from incident.decide import Rules, decide, reactions
from incident.model import Incident, fold
from incident.normalize import normalize_all
from incident.profiles import Directory, Profile
from incident.signals import SecurityEvent
from streams.calendars import HolidaysCalendar
from streams.profiles_loader import load_directory
from streams.rules_loader import load_rules

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "deploy" / "samples"
# No shipped sample concerns the Publisher (deploy/profiles/publisher-2018.toml), whose contact is
# not a DPO: this record stands for one.
PUBLISHER = (b'{"id": "publisher-siem-1", "time": "2026-12-07T21:30:00+00:00", "title": "Bulk export of the user '
             b'account table", "host": "publisher-2018-db-01", "severity": "critical", "category": "exfiltration", '
             b'"breach_types": ["confidentiality"], "data_categories": ["contact"], "confirms_breach": true}')


@dataclass(frozen=True)
class SampleIncident:
    sample: str
    state: Incident
    profile: Profile
    now: datetime


def directory() -> Directory:
    return load_directory(ROOT / "deploy" / "profiles")


def _events(lines: list[bytes], directory: Directory) -> list[SecurityEvent]:
    events = []
    for index, raw in enumerate(line for line in lines if line.strip()):
        for result in normalize_all(raw, datetime(2026, 12, 7, 21, 42, tzinfo=UTC) + timedelta(seconds=index)):
            if not isinstance(result, SecurityEvent):
                continue
            profile, system = directory.locate(result.asset, result.controller)
            events.append(result.located(profile.id if profile else None, system.id if system else None))
    return events


def _send(states: dict[str, Incident], now: datetime, rules: Rules, *commands: Command) -> None:
    """Decide each command as the incident agent does, then the reactions it calls for."""
    queue = list(commands)
    while queue:
        command = queue.pop(0)
        state = states.get(command.incident_id)
        decided = decide(command, state, now=now, rules=rules)
        new = fold(state, decided) if decided else state
        if new is not None:
            states[command.incident_id] = new
        queue.extend(reactions(command, new, decided))


def sample_incidents() -> list[SampleIncident]:
    """Every incident of every sample that has a controller; one not yet aware is made aware by
    the DPO at the last signal's time, so each has its assessment and drafts."""
    folder = directory()
    rules = Rules(folder, HolidaysCalendar())
    pack = load_rules(ROOT / "deploy" / "rules")
    out = []
    sources = [(p.stem, p.read_bytes().splitlines()) for p in sorted(SAMPLES.glob("*.jsonl"))]
    for name, lines in [*sources, ("publisher", [PUBLISHER])]:
        events = _events(lines, folder)
        if not events:
            continue
        now = max(e.ingested_at for e in events) + timedelta(minutes=5)
        states: dict[str, Incident] = {}
        send = functools.partial(_send, states, now, rules)
        by_key: dict[str, list[SecurityEvent]] = {}
        for e in events:
            by_key.setdefault(e.controller or f"unmapped|{e.asset}", []).append(e)
        for batch in by_key.values():
            _, commands = correlate_batch(None, sorted(batch, key=lambda e: e.occurred_at), pack=pack)
            send(*commands)
        for incident_id, state in list(states.items()):
            if state.controller is None or state.merged_into is not None:
                continue
            if state.awareness is None:
                send(RecordAwareness(incident_id=incident_id, aware_at=now - timedelta(minutes=1), by="dpo",
                                     evidence=()))
            final = states[incident_id]
            profile = folder.profiles[final.controller]  # type: ignore[index]
            out.append(SampleIncident(sample=name, state=replace(final), profile=profile, now=now))
    return out
