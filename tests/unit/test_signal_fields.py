"""SecurityEvent.fields(): the ECS names rules match on, in one fixed order, only those that
hold a value (the lists always, possibly empty)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from incident.signals import SecurityEvent, rule_field_names

AT = datetime(2026, 3, 1, 9, tzinfo=UTC)
ORDER = ["event.id", "event.category", "event.severity", "event.module", "event.created", "@timestamp", "rule.id",
         "rule.name", "host.name", "user.name", "source.ip", "destination.ip", "destination.domain", "event.action",
         "event.outcome", "source.bytes", "tags", "data_store.name", "breach.records", "breach.types",
         "breach.data_categories", "breach.confirmed", "organization.id", "service.name", "ocsf.class_uid",
         "source.port", "destination.port", "observer.vendor", "observer.product", "file.name"]
BARE = SecurityEvent(event_id="e-1", source_format="ecs", title="Export", occurred_at=AT, ingested_at=AT, asset="db")


def test_an_event_without_optional_values_gives_only_what_it_has() -> None:
    assert BARE.fields() == {
        "event.id": "e-1", "event.severity": 0, "event.module": "ecs", "event.created": AT.isoformat(),
        "@timestamp": AT.isoformat(), "rule.name": "Export", "host.name": "db", "tags": [], "breach.types": [],
        "breach.data_categories": [], "breach.confirmed": False}


def test_every_name_in_its_order_each_with_its_own_value() -> None:
    full = replace(BARE, category="authentication", rule_id="r", controller="acme", system="crm", user="alice",
                   source_ip="10.0.0.1", destination_ip="10.0.0.2", data_store="customers", records=5, action="export",
                   outcome="success", bytes_out=7, destination_domain="x.example", tags=("dlp",), class_uid=2004,
                   source_port=1, destination_port=2, observer_vendor="V", observer_product="P", file_name="f",
                   breach_types=("confidentiality",), data_categories=("contact",), confirms_breach=True)
    fields = full.fields()
    assert list(fields) == ORDER and set(ORDER) == rule_field_names()
    assert (fields["user.name"], fields["source.port"], fields["destination.port"], fields["tags"],
            fields["breach.records"], fields["organization.id"], fields["service.name"]) == (
        "alice", 1, 2, ["dlp"], 5, "acme", "crm")
    fields["tags"].append("x")  # a fresh list each call: a rule cannot change the event
    assert full.tags == ("dlp",)
