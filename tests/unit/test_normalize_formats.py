"""Real records from each vendor's public documentation or repositories (see the README beside
each fixture) normalise to the documented model; the published JSON Schema holds them all."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

from incident.errors import InvalidEvent
from incident.normalize import normalize, normalize_all
from incident.signals import SecurityEvent

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "formats"
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "security-event.schema.json").read_text())
RECEIVED = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def only(value: object, fmt: str = "auto") -> SecurityEvent:
    (result,) = normalize_all(value, RECEIVED, fmt)
    assert isinstance(result, SecurityEvent), result
    return result


def test_elastic_alert_reads_flattened_and_nested_fields_alike() -> None:
    e = only((FIXTURES / "ecs" / "kibana-8.1.0-threat-match-alert.json").read_bytes())
    assert e.source_format == "ecs" and e.class_uid == 2004
    assert e.event_id == "30a75fe46d3dbdfab55982036f77a8d60e2d1112e96f277c3b8c22f9bb57817a"  # kibana.alert.uuid
    # The rule's own uuid (kibana.alert.rule.uuid), not the prebuilt rule_id every copy shares.
    assert (e.title, e.rule_id) == ("threat-match-rule", "031d5c00-a72f-11ec-a8a3-7b1c8077fc3e")
    assert e.asset == "security-linux-1"  # nested host.name
    assert e.severity == 2  # kibana.alert.severity "low"
    # Event time is the source event's (original_time), not the rule run's @timestamp.
    assert e.occurred_at == datetime(2022, 3, 19, 2, 47, 57, 376000, tzinfo=UTC)
    assert e.ingested_at == RECEIVED


def test_plain_ecs_event_maps_entities_and_outcome() -> None:
    record = load("ecs/beats-system-auth-ssh-failure.json")
    with pytest.raises(InvalidEvent, match="missing field '@timestamp'"):
        normalize(record, RECEIVED)  # the golden file has no @timestamp: refused, not guessed
    e = normalize({**record, "@timestamp": "2019-03-01T10:11:12.000-02:00"}, RECEIVED)
    assert (e.asset, e.user, e.source_ip, e.source_port) == ("slave22", "root", "202.196.224.106", 1786)
    assert (e.action, e.outcome, e.category) == ("ssh_login", "failure", "authentication")
    assert e.title == "ssh_login failure" and e.class_uid is None  # the action and how it ended
    assert e.event_id.startswith("ecs-")  # no event.id: a fingerprint, the same on every redelivery
    assert normalize({**record, "@timestamp": "2019-03-01T10:11:12.000-02:00"}, RECEIVED).event_id == e.event_id


def test_elasticsearch_fields_api_arrays_become_scalars() -> None:
    e = normalize({"@timestamp": ["2024-01-01T00:00:00Z"], "host.name": ["db-1"], "event.action": ["export"],
                   "user.name": ["ana"], "source.bytes": [1200]}, RECEIVED)
    assert (e.asset, e.user, e.action, e.bytes_out) == ("db-1", "ana", "export", 1200)


def test_ocsf_detection_finding() -> None:
    e = only(load("ocsf/okta-detection-finding-1.3.0.json"))
    assert (e.class_uid, e.category, e.severity) == (2004, "intrusion_detection", 0)
    assert (e.title, e.event_id) == ("Login Failures", "dc9fd3c0-598c-11ef-8478-2b7584bf8d5a")
    assert e.source_ip == "10.0.0.1"  # from evidences[].src_endpoint
    assert e.occurred_at == datetime(2024, 8, 13, 15, 58, 20, tzinfo=UTC)  # `time` in seconds, read as seconds
    # The resource it targets, not the product that reported it (issue 15: attribution).
    assert (e.observer_vendor, e.asset) == ("Okta", "/app/office365/1111111111/sso/wsfed/active")


def test_ocsf_authentication() -> None:
    e = only(load("ocsf/okta-authentication-1.3.0.json"))
    assert (e.class_uid, e.category, e.action, e.outcome) == (3002, "authentication", "Logon", "success")
    assert (e.user, e.source_ip, e.severity) == ("John Doe", "10.0.0.1", 1)
    assert e.asset == "Mac15,6"  # OCSF device: where the event happened


def test_ocsf_api_activity() -> None:
    e = only(load("ocsf/aws-cloudtrail-api-activity-1.5.0.json"))
    assert (e.class_uid, e.category, e.action, e.outcome) == (6003, "api", "DescribeDirectConnectGateways", "success")
    # The controller's AWS account, not the AWS service that was called (issue 15: attribution).
    assert (e.user, e.source_ip, e.asset) == ("Level6", "205.8.181.128", "1111111111111")
    assert e.occurred_at == datetime(2023, 9, 21, 22, 22, 52, tzinfo=UTC)


def test_ocsf_datastore_activity_names_the_data_store() -> None:
    e = only(load("ocsf/datastore-activity-6005.json"))
    assert (e.class_uid, e.category, e.data_store, e.action) == (6005, "database", "crm.customers", "Query")
    assert (e.asset, e.user, e.destination_port) == ("crm-db-01", "report_svc", 5432)


def test_ocsf_time_in_epoch_milliseconds() -> None:
    record = {k: v for k, v in load("ocsf/datastore-activity-6005.json").items() if k != "time_dt"}
    assert normalize(record, RECEIVED).occurred_at == datetime(2025, 11, 22, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "ocsf").glob("*.json")))
def test_ocsf_fixtures_are_valid_ocsf(name: str) -> None:
    record = load(f"ocsf/{name}")
    schemas = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=record["metadata"]["version"]))
    schema = schemas.get_class_schema(schemas.lookup_class_name_from_uid(record["class_uid"]),
                                      record["metadata"].get("profiles", []))
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(record)]
    assert errors == []


def test_suricata_alert() -> None:
    e = only(load("suricata/eve-alert.json"))
    assert (e.title, e.rule_id, e.severity) == (
        "ET HUNTING GENERIC SUSPICIOUS POST to Dotted Quad with Fake Browser 1", "2018358", 3)
    assert (e.source_ip, e.source_port, e.destination_ip, e.destination_port) == (
        "192.168.2.14", 50096, "209.53.113.5", 80)
    assert (e.category, e.action, e.tags, e.class_uid) == ("intrusion_detection", "allowed",
                                                           ("Potentially Bad Traffic",), 2004)
    assert e.occurred_at == datetime(2017, 4, 7, 21, 24, 37, 251547, tzinfo=UTC)


def test_suricata_fileinfo_counts_the_bytes_the_source_sent() -> None:
    e = only(load("suricata/eve-fileinfo.json"))
    assert (e.category, e.file_name, e.bytes_out, e.source_ip) == ("file", "/sin.png", 369664, "5.188.168.49")


def test_suricata_flow_events_are_not_security_events() -> None:
    with pytest.raises(InvalidEvent, match="field 'event_type'"):
        normalize({**load("suricata/eve-alert.json"), "event_type": "flow"}, RECEIVED)


def cef_lines(name: str) -> list[str]:
    return (FIXTURES / "cef" / name).read_text().splitlines()


def test_cef_standard_examples_with_escapes() -> None:
    worm, pipe, backslash, equals = (normalize(line, RECEIVED) for line in cef_lines("arcsight-standard-examples.cef"))
    assert (worm.title, worm.rule_id, worm.severity, worm.asset) == ("worm successfully stopped", "100", 5, "host")
    assert (worm.source_ip, worm.destination_ip, worm.source_port) == ("10.0.0.1", "2.1.2.2", 1232)
    assert (pipe.title, pipe.action, pipe.destination_ip) == ("detected a | in message", "blocked a |", "1.1.1.1")
    assert (backslash.title, backslash.action) == ("detected a \\ in packet", "blocked a \\")
    assert (equals.title, equals.action) == ("detected a = in message", "blocked a =")
    # An RFC 3164 prefix has no year nor zone: the time is the arrival time, and says so.
    assert worm.occurred_at == RECEIVED and "time:received" in worm.tags
    assert (worm.observer_vendor, worm.observer_product) == ("security", "threatmanager")


def test_cef_vendor_line_keeps_an_unknown_escape_as_written() -> None:
    (line,) = cef_lines("carbon-black-app-control.cef")
    e = normalize(line, RECEIVED)
    assert (e.asset, e.user, e.destination_ip, e.severity) == ("server3.mycorp.local", "NTAUTHORITY\\SYSTEM",
                                                              "10.0.0.1", 3)
    assert (e.title, e.rule_id, e.observer_vendor) == ("Execution block (unapproved file)", "801",
                                                      "VMware Carbon Black")


def test_cef_rfc5424_prefix_gives_host_and_time() -> None:
    (line,) = cef_lines("rfc5424-prefixed.cef")
    e = normalize(line, RECEIVED)
    assert e.asset == "mymachine.example.com"
    assert e.occurred_at == datetime(2003, 10, 11, 22, 14, 15, 3000, tzinfo=UTC) and not e.tags


def test_wazuh_alerts_written_by_a_manager() -> None:
    e = only((FIXTURES / "wazuh" / "alert-5710-non-existent-user.json").read_bytes())
    assert (e.source_format, e.event_id, e.asset, e.rule_id) == ("wazuh", "1587082700.80945", "Ubuntu", "5710")
    assert e.occurred_at == datetime(2020, 4, 17, 0, 18, 20, 659000, tzinfo=UTC)
    assert (e.category, e.severity, e.user, e.source_ip) == ("authentication", 2, "admin", "123.20.109.89")
    assert e.title == "sshd: Attempt to login using a non-existent user" and not e.confirms_breach
    many = only((FIXTURES / "wazuh" / "alert-5720-multiple-authentication-failures.json").read_bytes())
    assert (many.asset, many.severity, many.user, many.source_ip) == ("Centos", 3, "root", "49.88.112.76")
    assert many.fields()["event.category"] == "authentication" and many.observer_vendor == "Wazuh"


def every_fixture_event() -> list[SecurityEvent]:
    events: list[SecurityEvent] = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix in (".json", ".cef"):
            raw = path.read_bytes()
            if path.name == "beats-system-auth-ssh-failure.json":
                raw = json.dumps({**json.loads(raw), "@timestamp": "2019-03-01T10:11:12Z"}).encode()
            events += [r for r in normalize_all(raw, RECEIVED) if isinstance(r, SecurityEvent)]
    return events


def test_every_fixture_normalises_and_validates_against_the_published_schema() -> None:
    events = every_fixture_event()
    assert {e.source_format for e in events} == {"ecs", "ocsf", "suricata", "cef", "wazuh"}
    assert len(events) >= 16
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    for event in events:
        assert list(validator.iter_errors(event.to_dict())) == [], event.event_id


def test_the_schema_lists_every_field_of_the_model() -> None:
    names = [f.name for f in fields(SecurityEvent)]
    assert list(SCHEMA["properties"]) == names
    assert SCHEMA["additionalProperties"] is False
    assert all(SCHEMA["properties"][n].get("description") for n in names)


def test_a_forced_format_refuses_other_records_by_name() -> None:
    (refused,) = normalize_all(json.dumps(load("suricata/eve-alert.json")), RECEIVED, "ocsf")
    assert isinstance(refused, InvalidEvent)
    assert refused.reason == ("this topic takes ocsf records only (BREACH_INGEST_FORMAT, BREACH_INGEST_TOPICS); "
                              "this one is suricata")
    assert only(json.dumps(load("suricata/eve-alert.json")), "suricata").source_format == "suricata"
    (cef_refused,) = normalize_all(cef_lines("rfc5424-prefixed.cef")[0], RECEIVED, "ecs")
    assert isinstance(cef_refused, InvalidEvent) and "this one is cef" in cef_refused.reason
    # An unrecognisable record under a forced format gets that adapter's own reason.
    (missing,) = normalize_all(b'{"class": 1}', RECEIVED, "ocsf")
    assert isinstance(missing, InvalidEvent) and missing.reason == "missing field 'class_uid'"
