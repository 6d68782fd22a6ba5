"""detect()'s canonical fast path names the format the full detector names, for any record
made of canonical keys only (the values may look like any vendor's), and steps aside for any
record with one key more."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident.errors import InvalidEvent
from incident.normalize import _detect, canonical, detect

# Values shaped like what the other detectors look for: a Wazuh rule object, Kibana alert
# fields, vendor markers, ISO and epoch times.
LURES = st.sampled_from([
    {"level": 12, "description": "x"}, {"uuid": "u"}, {"kind": "signal"}, "signal", "aws.guardduty",
    "notable", "stash", "a.b", "2026-11-22T10:00:00Z", 1_700_000_000_000, "#microsoft.graph.security.alert",
    {"agent": {"name": "x"}}, ["x"], [], {"version": "8.11"}, "CEF:0|a|b|c|d|e|5|",
])
VALUES = st.none() | st.booleans() | st.integers() | st.text(max_size=12) | LURES
RECORDS = st.dictionaries(st.sampled_from(sorted(canonical.KEYS)), VALUES, max_size=len(canonical.KEYS))


def _name(detector: Any, record: object) -> str:
    try:
        return str(detector(record))
    except InvalidEvent as exc:
        return f"invalid: {exc.reason}"


@given(record=RECORDS, extra=st.sampled_from([None, "@timestamp", "rule.level", "agent", "class_uid", "event",
                                              "event_type", "ecs.version", "kibana.alert.uuid", "service"]))
def test_the_fast_path_agrees_with_the_full_detector(record: dict[str, Any], extra: str | None) -> None:
    record = {"id": "e-1", "time": "2026-11-22T10:00:00Z", **record}
    if extra is not None:
        record[extra] = {"level": 3} if extra == "rule.level" else {"name": "x"}
    assert _name(detect, record) == _name(_detect, record)


@pytest.mark.parametrize("extra", ["@timestamp", "class_uid", "ecs.version"])
def test_one_key_more_is_left_to_the_full_detector(extra: str) -> None:
    record = {"id": "e-1", "time": "2026-11-22T10:00:00Z", "title": "t", "host": "h", extra: "x"}
    assert detect(record) != "canonical"
    assert detect({key: value for key, value in record.items() if key != extra}) == "canonical"


class _Reads(dict[str, Any]):
    """A record that notes every key the adapter asks for."""

    asked: set[str]

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)


def test_the_keys_are_those_the_canonical_adapter_reads() -> None:
    record = _Reads(id="e-1", time="2026-11-22T10:00:00Z", title="t", host="h")
    record.asked = set()
    canonical.parse(record, datetime(2026, 11, 22, 11, tzinfo=UTC))
    assert record.asked == canonical.KEYS
