"""Normalising SIEM records into SecurityEvent, and refusing bad ones with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from incident.errors import InvalidEvent
from incident.normalize import normalize

RECEIVED = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

CANONICAL = {
    "id": "evt-1", "time": "2026-11-22T09:58:00+01:00", "title": "Bulk export from CRM", "host": "acme-crm-db",
    "severity": "high", "category": "exfiltration", "records": 1200, "breach_types": ["confidentiality"],
    "data_categories": ["contact"], "confirms_breach": True,
}

# Shape of an alert in /var/ossec/logs/alerts/alerts.json (Wazuh documentation, "Alerts" section).
WAZUH = {
    "timestamp": "2026-11-22T08:01:02.123+0000",
    "rule": {"level": 10, "description": "sshd: brute force trying to get access to the system. Non existent user.",
             "id": "5712", "groups": ["syslog", "sshd", "authentication_failures"]},
    "agent": {"id": "003", "name": "acme-auth", "ip": "10.0.1.12"},
    "manager": {"name": "wazuh-manager"},
    "id": "1763798462.1234567",
    "full_log": "Nov 22 08:01:02 acme-auth sshd[1234]: Invalid user admin from 203.0.113.7 port 51234",
    "decoder": {"parent": "sshd", "name": "sshd"},
    "data": {"srcip": "203.0.113.7", "srcuser": "admin"},
    "location": "/var/log/auth.log",
}


def test_canonical_event_keeps_its_facts_and_both_times() -> None:
    e = normalize(CANONICAL, RECEIVED)
    assert (e.event_id, e.asset, e.severity, e.records) == ("evt-1", "acme-crm-db", 4, 1200)
    assert e.occurred_at == datetime(2026, 11, 22, 8, 58, tzinfo=UTC)
    assert e.ingested_at == RECEIVED
    assert e.breach_types == ("confidentiality",) and e.confirms_breach


def test_wazuh_alert_maps_agent_rule_and_level() -> None:
    e = normalize(WAZUH, RECEIVED)
    assert e.source_format == "wazuh"
    assert (e.event_id, e.asset, e.rule_id, e.category) == ("1763798462.1234567", "acme-auth", "5712",
                                                            "authentication")
    assert e.severity == 3 and not e.confirms_breach
    assert e.source_ip == "203.0.113.7" and e.user == "admin"


def test_wazuh_level_12_confirms_a_breach() -> None:
    alert = {**WAZUH, "rule": {**WAZUH["rule"], "level": 12}}
    assert normalize(alert, RECEIVED).confirms_breach


@pytest.mark.parametrize(("record", "reason"), [
    ([1, 2], "expected a JSON object"),
    ({"hello": "world"}, "unrecognised format"),
    ({**CANONICAL, "time": "2026-11-22T09:58:00"}, "no UTC offset"),
    ({**CANONICAL, "time": "yesterday"}, "not an ISO-8601 time"),
    ({k: v for k, v in CANONICAL.items() if k != "host"}, "missing field 'host'"),
    ({**CANONICAL, "severity": 9}, "severity"),
    ({**CANONICAL, "breach_types": ["leak"]}, "unknown values ['leak']"),
    ({**CANONICAL, "records": -3}, "non-negative integer"),
    ({**WAZUH, "rule": {**WAZUH["rule"], "level": "high"}}, "rule.level"),
])
def test_invalid_records_are_refused_with_a_reason(record: object, reason: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        normalize(record, RECEIVED)
    assert reason in caught.value.reason


def test_fields_give_ecs_names_and_leave_out_what_is_unknown() -> None:
    from datetime import UTC, datetime

    from incident.signals import SecurityEvent

    at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    event = SecurityEvent(event_id="e1", source_format="canonical", title="t", occurred_at=at, ingested_at=at,
                          asset="db-1", user="alice")
    fields = event.fields()
    assert fields["host.name"] == "db-1" and fields["user.name"] == "alice" and fields["event.id"] == "e1"
    assert "source.ip" not in fields


def test_canonical_entities_reach_the_rule_fields() -> None:
    from datetime import UTC, datetime

    from incident.normalize import normalize

    at = datetime(2026, 1, 2, tzinfo=UTC)
    event = normalize({"id": "x", "time": "2026-01-02T00:00:00+00:00", "title": "t", "host": "h",
                       "action": "logon", "outcome": "failure", "bytes_out": 10, "tags": ["a"]}, at)
    fields = event.fields()
    assert (fields["event.action"], fields["event.outcome"], fields["source.bytes"], fields["tags"]) == \
        ("logon", "failure", 10, ["a"])


def test_canonical_outcome_outside_the_ecs_values_is_refused() -> None:
    from datetime import UTC, datetime

    import pytest

    from incident.errors import InvalidEvent
    from incident.normalize import normalize

    with pytest.raises(InvalidEvent, match="outcome"):
        normalize({"id": "x", "time": "2026-01-02T00:00:00+00:00", "title": "t", "host": "h", "outcome": "ok"},
                  datetime(2026, 1, 2, tzinfo=UTC))
