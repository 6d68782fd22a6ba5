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
