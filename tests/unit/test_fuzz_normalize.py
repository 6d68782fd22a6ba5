"""Fuzzing every adapter, the envelope unwrapping and the detector: whatever arrives, the only
exception is InvalidEvent, and its reason names a field or says what the record is not."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident.errors import InvalidEvent
from incident.normalize import ADAPTERS, detect, normalize, normalize_all
from incident.normalize.envelope import unwrap
from incident.signals import SecurityEvent

RECEIVED = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "formats"
SAMPLES: list[bytes] = [p.read_bytes() for p in sorted(FIXTURES.rglob("*")) if p.suffix in (".json", ".cef")]

# A reason either quotes the field it is about, or says what the record is not / what it holds.
NAMES_A_FIELD = re.compile(r"field '[^']+'|CEF (header|extension|line)|not JSON|not UTF-8|expected a|"
                           r"unrecognised format|empty record|this topic takes|nested|batch holds|too large")

KEYS = st.sampled_from(["id", "time", "title", "host", "rule", "agent", "level", "timestamp", "@timestamp",
                        "class_uid", "metadata", "uid", "time_dt", "severity_id", "event_type", "src_ip", "alert",
                        "signature", "kibana.alert.uuid", "kibana.alert.rule.name", "host.name", "event", "message",
                        "@metadata", "records", "fileinfo", "event.kind", "status_id", "actor", "user", "name",
                        # the vendor formats' own keys (issue 15)
                        "schemaVersion", "type", "service", "resource", "accountId", "detail", "source", "Records",
                        "eventVersion", "eventSource", "eventName", "eventTime", "userIdentity", "published",
                        "eventType", "outcome", "target", "output", "priority", "output_fields", "created_at",
                        "action", "org", "repo", "evidence", "alertCreationTime", "machineId", "kind", "properties",
                        "@odata.type", "value"])
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
           | st.sampled_from(["2026-11-22T10:00:00Z", "2026-11-22T10:00:00", "signal", "alert", "high", "CEF:0|a|b"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS | st.text(max_size=8),
                                                                                         inner, max_size=6),
                    max_leaves=25)


def check(result: object) -> None:
    if isinstance(result, InvalidEvent):
        assert NAMES_A_FIELD.search(result.reason), result.reason
    else:
        assert isinstance(result, SecurityEvent)
        assert result.event_id and result.title and result.asset
        assert result.occurred_at.tzinfo is not None and 0 <= result.severity <= 6


def attempt(call: Any, *args: object) -> None:
    try:
        check(call(*args))
    except InvalidEvent as exc:
        check(exc)


@given(st.sampled_from(sorted(ADAPTERS)), JSON)
def test_every_adapter_takes_arbitrary_json(fmt: str, value: Any) -> None:
    attempt(ADAPTERS[fmt], value, RECEIVED)


@given(JSON)
def test_the_detector_and_normalize_take_arbitrary_json(value: Any) -> None:
    try:
        assert detect(value) in ADAPTERS
    except InvalidEvent as exc:
        check(exc)
    attempt(normalize, value, RECEIVED)


@given(st.binary(max_size=300))
def test_unwrapping_takes_arbitrary_bytes(raw: bytes) -> None:
    for result in normalize_all(raw, RECEIVED):
        check(result)


@given(st.sampled_from(SAMPLES), st.data())
def test_truncated_real_records(sample: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(sample)))
    for result in normalize_all(sample[:cut], RECEIVED):
        check(result)


@given(st.sampled_from(SAMPLES), st.data())
def test_real_records_with_a_field_of_the_wrong_type(sample: bytes, data: st.DataObject) -> None:
    records = [item for item in unwrap(sample) if isinstance(item, dict)]
    if not records:
        return
    record = dict(records[0])
    key = data.draw(st.sampled_from(sorted(record)))
    record[key] = data.draw(SCALARS | st.lists(SCALARS, max_size=2) | st.dictionaries(st.text(max_size=3), SCALARS))
    for result in normalize_all(json.dumps(record), RECEIVED):
        check(result)


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.sampled_from(["x" * 100_000, "9" * 5_000]))
def test_huge_fields_are_refused_by_name(sample: bytes, huge: str) -> None:
    records = [item for item in unwrap(sample) if isinstance(item, dict)]
    for record in records:
        for key in list(record)[:8]:
            for result in normalize_all(json.dumps({**record, key: huge}), RECEIVED):
                check(result)
    assert all(isinstance(r, InvalidEvent) for r in normalize_all(b"9" * 5_000, RECEIVED))


@given(st.sampled_from(SAMPLES), st.binary(min_size=1, max_size=4))
def test_invalid_utf8_anywhere(sample: bytes, junk: bytes) -> None:
    for result in normalize_all(sample[: len(sample) // 2] + b"\xff" + junk + sample[len(sample) // 2:], RECEIVED):
        check(result)


@given(st.text(max_size=200))
def test_cef_lines_of_arbitrary_text(tail: str) -> None:
    for line in (f"CEF:0|{tail}", f"CEF:0|v|p|1|sig|name|5|{tail}", f"<13>Jan  1 00:00:00 h CEF:{tail}"):
        attempt(ADAPTERS["cef"], line, RECEIVED)


@given(JSON)
def test_unwrapping_takes_arbitrary_json_documents(value: Any) -> None:
    for result in normalize_all(json.dumps(value).encode(), RECEIVED):
        check(result)
    for fmt in ("ocsf", "cef"):
        for result in normalize_all(json.dumps({"event": value, "host": "x"}), RECEIVED, fmt):
            check(result)
