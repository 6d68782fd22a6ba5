"""Small builders for domain tests: a profile document and security events."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from incident.profiles import Directory, parse_profile
from incident.signals import SecurityEvent

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

PROFILE: dict[str, Any] = {
    "id": "acme",
    "name": "ACME SAS",
    "policy": {"source": "tests"},
    "timezone": "Europe/Paris",
    "languages": ["fr", "en"],
    "established_in": "FR",
    "address": {"street": "1 rue de la Paix", "postcode": "75002", "city": "Paris", "country": "FR"},
    "dpo": {"name": "DPO", "email": "dpo@acme.example", "is_dpo": True},
    "authority": {"id": "cnil", "name": "CNIL", "address": "3 place de Fontenoy, 75007 Paris", "language": "fr",
                  "email": "notifications@authority.example"},
    "systems": [
        {"id": "crm", "name": "CRM", "assets": ["acme-crm-db"], "data_categories": ["contact", "identity"],
         "data_subjects": ["customers"], "approx_subjects": 5000},
        {"id": "accounts", "name": "Customer accounts", "assets": ["acme-auth"],
         "data_categories": ["contact", "credentials"], "data_subjects": ["customers"]},
    ],
}


def profile_doc(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(PROFILE)
    doc.update(changes)
    return doc


def directory() -> Directory:
    return Directory.of([parse_profile(PROFILE, source="acme.toml")])


def event(event_id: str = "ev-1", *, asset: str = "acme-crm-db", at: datetime = T0, confirms: bool = False,
          located: bool = True, **fields: Any) -> SecurityEvent:
    e = SecurityEvent(event_id=event_id, source_format="canonical", title="Bulk export", occurred_at=at,
                      ingested_at=at + timedelta(minutes=2), asset=asset, confirms_breach=confirms, **fields)
    if not located:
        return e
    profile, system = directory().locate(asset)
    return e.located(profile.id if profile else None, system.id if system else None)


@dataclass
class FakeCalendar:
    """The Calendar port with the public holidays a test names (zones come from the system)."""

    holidays: set[tuple[str, date]] = field(default_factory=set)

    def zone(self, name: str) -> tzinfo:
        return ZoneInfo(name)

    def is_public_holiday(self, jurisdiction: str, day: date) -> bool:
        return (jurisdiction, day) in self.holidays


def aware_incident() -> Any:
    """An incident on acme-crm-db whose awareness alice recorded at T0 (level "risk")."""
    from incident.commands import RecordAwareness
    from incident.correlation import correlate
    from incident.decide import Rules, decide
    from incident.model import fold

    rules = Rules(directory(), FakeCalendar())
    _, (command,) = correlate(None, event("a"))
    state = fold(None, decide(command, None, now=T0, rules=rules))
    assert state is not None
    state = fold(state, decide(RecordAwareness(incident_id=state.id, aware_at=T0, by="alice", evidence=()), state,
                               now=T0, rules=rules))
    assert state is not None and state.level == "risk"
    return state


def high_risk_incident() -> Any:
    """An incident on acme-crm-db confirmed by a signal: card data of 5,000 customers taken."""
    from incident.correlation import correlate
    from incident.decide import Rules, decide
    from incident.model import fold

    _, (command,) = correlate(None, event("a", confirms=True, breach_types=("confidentiality",),
                                          data_categories=("payment_card",), records=5000, category="exfiltration"))
    state = fold(None, decide(command, None, now=T0, rules=Rules(directory(), FakeCalendar())))
    assert state is not None and state.level == "high", state and state.level
    return state


def merge_after_awareness(rules: Any, now: datetime, aware_at: datetime) -> tuple[dict[str, Any], str, str, list[Any]]:
    """A (not yet aware) and B (a confirmed signal: aware at once, clocks running); the DPO
    records awareness on A at ``aware_at``, later than B's; then a signal links them and B merges
    into A, each command decided and its reactions sent as the incident agent does. Returns each
    incident's state, A's and B's ids, and every event in the order decided."""
    from incident.commands import RecordAwareness
    from incident.correlation import correlate_batch
    from incident.decide import decide, reactions
    from incident.model import fold

    states: dict[str, Any] = {}
    emitted: list[Any] = []

    def send(*commands: Any) -> None:
        queue = list(commands)
        while queue:
            command = queue.pop(0)
            state = states.get(command.incident_id)
            events = decide(command, state, now=now, rules=rules)
            emitted.extend(events)
            new = fold(state, events) if events else state
            if new is not None:
                states[command.incident_id] = new
            queue.extend(reactions(command, new, events))

    window, first = correlate_batch(None, [
        event("a", asset="acme-crm-db", user="alice"),
        event("b", asset="acme-auth", user="bob", at=T0 + timedelta(minutes=1), confirms=True)])
    send(*first)
    older, younger = first[0].incident_id, first[1].incident_id
    send(RecordAwareness(incident_id=older, aware_at=aware_at, by="dora", evidence=("a",)))
    _, linking = correlate_batch(window, [event("c", asset="acme-auth", user="alice", at=T0 + timedelta(minutes=2))])
    send(*linking)
    assert states[younger].merged_into == older
    return states, older, younger, emitted
