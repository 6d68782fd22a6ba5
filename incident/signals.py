"""SecurityEvent: the one normalised model every SIEM record becomes.

Field names follow ECS where ECS has one (``host.name`` → ``asset``, ``source.ip`` →
``source_ip``); severity uses OCSF ``severity_id`` (0 unknown … 6 fatal). Two times are
kept apart on purpose: ``occurred_at`` (the event time the SIEM reports, used for
correlation windows) and ``ingested_at`` (when we received it, the earliest moment the
controller could have known — used for awareness).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from incident.copying import evolve

BREACH_TYPES = ("confidentiality", "integrity", "availability")
OUTCOMES = ("success", "failure", "unknown")  # ECS event.outcome

# OCSF severity_id values, by name, so canonical events may say "high" or 4.
SEVERITIES = {"unknown": 0, "informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5, "fatal": 6}


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityEvent:
    event_id: str
    source_format: str
    title: str
    occurred_at: datetime
    ingested_at: datetime
    asset: str
    severity: int = 0
    category: str | None = None
    rule_id: str | None = None
    controller: str | None = None
    system: str | None = None
    user: str | None = None
    source_ip: str | None = None
    destination_ip: str | None = None
    data_store: str | None = None
    records: int | None = None
    action: str | None = None  # ECS event.action: what was done (logon, export, file-encrypt…)
    outcome: str | None = None  # ECS event.outcome: success | failure | unknown
    bytes_out: int | None = None  # ECS source.bytes: volume sent by the source (exfiltration rules)
    destination_domain: str | None = None
    tags: tuple[str, ...] = ()
    # Added with the SIEM adapters (issue 3); ECS names in fields(). All optional: a rule pack
    # written before them still matches.
    class_uid: int | None = None  # OCSF class of the source record (2004 Detection Finding, 3002…)
    source_port: int | None = None
    destination_port: int | None = None
    observer_vendor: str | None = None  # who produced the record (ECS observer.*: Okta, Suricata…)
    observer_product: str | None = None
    file_name: str | None = None  # ECS file.name (Suricata fileinfo, CEF fname)
    breach_types: tuple[str, ...] = ()
    data_categories: tuple[str, ...] = ()
    confirms_breach: bool = False
    raw_ref: str | None = None
    unmapped: bool = field(default=False)

    def located(self, controller: str | None, system: str | None, **also: Any) -> SecurityEvent:
        """The same event attributed to a controller's system (or flagged unmapped), with ``also``
        changed in the same copy (ingest sets the source reference and asset: one copy, not two)."""
        return evolve(self, controller=controller, system=system, unmapped=system is None, **also)

    def fields(self) -> dict[str, object]:
        """ECS-style dotted field names → values: what detection and correlation rules match on.

        Rules are written against these names (Sigma style), never against the dataclass, so
        adapters may grow the model without breaking a rule pack.
        """
        # Only the fields that hold a value, in this order. Spelled out, not a dict literal filtered
        # afterwards: this runs once per signal in correlation and costs ~40 % less.
        out: dict[str, object] = {}
        value: object
        if (value := self.event_id) is not None:
            out["event.id"] = value
        if (value := self.category) is not None:
            out["event.category"] = value
        if (value := self.severity) is not None:
            out["event.severity"] = value
        if (value := self.source_format) is not None:
            out["event.module"] = value
        out["event.created"] = self.ingested_at.isoformat()
        out["@timestamp"] = self.occurred_at.isoformat()
        if (value := self.rule_id) is not None:
            out["rule.id"] = value
        if (value := self.title) is not None:
            out["rule.name"] = value
        if (value := self.asset) is not None:
            out["host.name"] = value
        if (value := self.user) is not None:
            out["user.name"] = value
        if (value := self.source_ip) is not None:
            out["source.ip"] = value
        if (value := self.destination_ip) is not None:
            out["destination.ip"] = value
        if (value := self.destination_domain) is not None:
            out["destination.domain"] = value
        if (value := self.action) is not None:
            out["event.action"] = value
        if (value := self.outcome) is not None:
            out["event.outcome"] = value
        if (value := self.bytes_out) is not None:
            out["source.bytes"] = value
        out["tags"] = list(self.tags)
        if (value := self.data_store) is not None:
            out["data_store.name"] = value
        if (value := self.records) is not None:
            out["breach.records"] = value
        out["breach.types"] = list(self.breach_types)
        out["breach.data_categories"] = list(self.data_categories)
        if (value := self.confirms_breach) is not None:
            out["breach.confirmed"] = value
        if (value := self.controller) is not None:
            out["organization.id"] = value
        if (value := self.system) is not None:
            out["service.name"] = value
        if (value := self.class_uid) is not None:
            out["ocsf.class_uid"] = value
        if (value := self.source_port) is not None:
            out["source.port"] = value
        if (value := self.destination_port) is not None:
            out["destination.port"] = value
        if (value := self.observer_vendor) is not None:
            out["observer.vendor"] = value
        if (value := self.observer_product) is not None:
            out["observer.product"] = value
        if (value := self.file_name) is not None:
            out["file.name"] = value
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SecurityEvent:
        values = dict(data)
        for name in ("occurred_at", "ingested_at"):
            values[name] = datetime.fromisoformat(values[name])
        for name in ("breach_types", "data_categories", "tags"):
            values[name] = tuple(values.get(name) or ())
        return cls(**values)


def rule_field_names() -> frozenset[str]:
    """Every name ``SecurityEvent.fields()`` can give: what rules and fingerprints may name."""
    epoch = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
    base = SecurityEvent(event_id="x", source_format="x", title="x", occurred_at=epoch, ingested_at=epoch, asset="x")
    optional: dict[str, Any] = {name: "x" for name, f in base.__dataclass_fields__.items() if f.default is None}
    every = replace(base, **optional)
    return frozenset(every.fields())


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """What an incident keeps of a signal: facts and a reference, no personal data.

    Users and IP addresses stay in the raw record (``raw_ref``); the incident log is retained
    for years as the Art. 33(5) register's source, so it holds only what the register needs.
    """

    event_id: str
    title: str
    occurred_at: datetime
    ingested_at: datetime
    asset: str
    system: str | None
    severity: int
    category: str | None
    source_format: str
    breach_types: tuple[str, ...]
    data_categories: tuple[str, ...]
    records: int | None
    confirms_breach: bool
    raw_ref: str | None
    reason: str  # why this signal joined the incident, in one sentence
    # Volumes and where they came from (issue 15): what re-assessing a known breach reads.
    bytes_out: int | None = None
    data_store: str | None = None  # a table or bucket name, never its content
    # The controller's system declaring that store (resolved when attached, so the record says
    # which system was involved even if the profile changes later); None: no store, or nobody's.
    store_system: str | None = None
    # ``reason`` as codes and parameters (incident/reasons.py), for readers in other languages;
    # empty in evidence recorded before them.
    why: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def of(cls, event: SecurityEvent, reason: str, why: tuple[tuple[str, ...], ...] = ()) -> Evidence:
        return cls(
            event_id=event.event_id, title=event.title, occurred_at=event.occurred_at,
            ingested_at=event.ingested_at, asset=event.asset, system=event.system, severity=event.severity,
            category=event.category, source_format=event.source_format, breach_types=event.breach_types,
            data_categories=event.data_categories, records=event.records, confirms_breach=event.confirms_breach,
            raw_ref=event.raw_ref, reason=reason, bytes_out=event.bytes_out, data_store=event.data_store, why=why,
        )
