"""Shipper envelopes come off before the format is read; one bad element of a batch never
hides the good ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from incident.errors import InvalidEvent
from incident.normalize import normalize_all
from incident.normalize.cef import decode
from incident.signals import SecurityEvent

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "formats"
RECEIVED = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
EVE = (FIXTURES / "suricata" / "eve-alert.json").read_text()
CEF = (FIXTURES / "cef" / "rfc5424-prefixed.cef").read_text().strip()
OCSF = json.loads((FIXTURES / "ocsf" / "okta-authentication-1.3.0.json").read_text())


def formats(results: list[SecurityEvent | InvalidEvent]) -> list[str]:
    return [r.source_format if isinstance(r, SecurityEvent) else f"invalid: {r.reason}" for r in results]


def test_filebeat_message_holding_json_or_cef_is_unwrapped() -> None:
    # Filebeat's Kafka output: the line in `message`, beside @metadata, agent, log, input.
    beat = {"@timestamp": "2026-11-22T09:00:00.000Z", "@metadata": {"beat": "filebeat", "type": "_doc"},
            "agent": {"type": "filebeat", "name": "ids-1"}, "log": {"file": {"path": "/var/log/suricata/eve.json"}},
            "input": {"type": "filestream"}, "message": json.dumps(json.loads(EVE))}
    assert formats(normalize_all(json.dumps(beat).encode(), RECEIVED)) == ["suricata"]
    assert formats(normalize_all(json.dumps({**beat, "message": CEF}), RECEIVED)) == ["cef"]


def test_an_ecs_document_with_a_plain_message_is_not_unwrapped() -> None:
    alert = (FIXTURES / "ecs" / "kibana-8.1.0-threat-match-alert.json").read_bytes()
    assert formats(normalize_all(alert, RECEIVED)) == ["ecs"]  # its message is "Status message."


def test_splunk_hec_events_concatenated_in_one_body() -> None:
    body = (json.dumps({"time": 1763802000, "host": "ids-1", "sourcetype": "suricata", "event": json.loads(EVE)})
            + json.dumps({"event": CEF}) + "\n" + json.dumps({"time": 1, "index": "main", "event": OCSF}))
    assert formats(normalize_all(body.encode(), RECEIVED)) == ["suricata", "cef", "ocsf"]


def test_a_batch_keeps_its_good_elements_and_names_the_bad_one() -> None:
    bad = {**OCSF, "severity_id": "high"}
    results = normalize_all(json.dumps([OCSF, bad, json.loads(EVE)]).encode(), RECEIVED)
    assert formats(results) == ["ocsf", "invalid: field 'severity_id' must be an OCSF severity 0-6 or 99", "suricata"]
    rejected = results[1]
    assert isinstance(rejected, InvalidEvent) and json.loads(rejected.record or b"") == bad  # the element, not all


def test_a_broken_tail_loses_only_the_tail() -> None:
    body = json.dumps({"event": json.loads(EVE)}) + '{"event": {"truncat'
    results = normalize_all(body.encode(), RECEIVED)
    assert formats(results)[0] == "suricata"
    assert isinstance(results[1], InvalidEvent) and results[1].reason.startswith("not JSON")


def test_event_hubs_records_array_and_cef_lines_in_one_text_record() -> None:
    assert formats(normalize_all(json.dumps({"records": [OCSF, OCSF]}), RECEIVED)) == ["ocsf", "ocsf"]
    lines = (FIXTURES / "cef" / "arcsight-standard-examples.cef").read_bytes()
    assert formats(normalize_all(lines, RECEIVED)) == ["cef"] * 4


def test_what_a_record_is_not_is_said() -> None:
    assert formats(normalize_all(b"\xff\xfe{", RECEIVED)) == ["invalid: not UTF-8 text: invalid byte at position 0"]
    assert formats(normalize_all(b"hello", RECEIVED)) == [
        "invalid: not JSON: Expecting value: line 1 column 1 (char 0)"]
    assert formats(normalize_all(b"  ", RECEIVED)) == ["invalid: empty record: no JSON value and no CEF line"]
    assert formats(normalize_all(b"[]", RECEIVED)) == ["invalid: empty record: no JSON value and no CEF line"]
    assert formats(normalize_all(b"42", RECEIVED)) == ["invalid: expected a JSON object, got int"]
    assert formats(normalize_all(b"[" * 5000, RECEIVED))[0].startswith("invalid: not JSON")


def test_cef_decoder_parts() -> None:
    cef = decode(r"<13>Jan  5 01:02:03 fw-1 CEF:0|Acme|FW\|X|1.0|42|a\\b|Very-High|cs1Label=Reason cs1=bad  "
                 r"request=https://x/y?a\=1 msg=line1\nline2")
    assert (cef.syslog_host, cef.syslog_rfc) == ("fw-1", 3164)
    assert cef.header["device_product"] == "FW|X" and cef.header["name"] == "a\\b"
    assert cef.extension["request"] == "https://x/y?a=1" and cef.extension["msg"] == "line1\nline2"
    assert cef.extension["Reason"] == "bad"  # custom labels become names


def test_cef_header_and_time_errors_name_the_field() -> None:
    for line, reason in [("CEF:0|a|b|c|d|e", "CEF header has 5 of its 7 fields"),
                         ("CEF:x|a|b|c|d|e|5|", "CEF header field 'version'"),
                         ("CEF:0|a|b|c|d|e|11|dvc=h", "CEF header field 'severity'"),
                         ("CEF:0|a|b|c|d|e|5|dvc=h rt=yesterday", "field 'rt'"),
                         ("CEF:0|a|b|c|d|e|5|src=1.2.3.4", "missing field 'dvchost'")]:
        (result,) = normalize_all(line, RECEIVED)
        assert isinstance(result, InvalidEvent) and reason in result.reason, (line, result)


def test_cef_receipt_time_in_millis_and_text() -> None:
    (millis,) = normalize_all("CEF:0|a|b|c|d|e|5|dvc=h rt=1763802000000 outcome=/Failure", RECEIVED)
    (text,) = normalize_all("CEF:0|a|b|c|d|e|5|dvc=h rt=Mar 09 2015 17:05:21 GMT+01:00", RECEIVED)
    assert isinstance(millis, SecurityEvent) and isinstance(text, SecurityEvent)
    assert millis.occurred_at == datetime(2025, 11, 22, 9, 0, tzinfo=UTC) and millis.outcome == "failure"
    assert text.occurred_at == datetime(2015, 3, 9, 16, 5, 21, tzinfo=UTC)
