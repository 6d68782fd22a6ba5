"""What the domain admits of a normalised event (incident.normalize.admission): each refusal was
a lost breach, by crashing the encoder or the correlator for the whole batch (issue 14)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from incident.errors import InvalidEvent
from incident.normalize import ADAPTERS, normalize, normalize_all
from incident.signals import SecurityEvent

RECEIVED = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
EVENT = {"id": "e-1", "time": "2026-11-22T10:00:00+01:00", "title": "Table exported", "host": "ama-crm-db",
         "confirms_breach": True}


def refusal(**changes: object) -> str:
    with pytest.raises(InvalidEvent) as caught:
        normalize({**EVENT, **changes}, RECEIVED)
    return caught.value.reason


def test_a_valid_event_is_admitted_unchanged() -> None:
    event = normalize(EVENT, RECEIVED)
    assert isinstance(event, SecurityEvent) and event.title == "Table exported"


def test_a_lone_surrogate_is_refused_where_json_escapes_carry_it() -> None:
    # json.loads turns the escape into a lone surrogate: a Python str, but no UTF-8 text.
    (result,) = normalize_all(json.dumps({**EVENT, "title": "x\ud800"}).encode(), RECEIVED)
    assert isinstance(result, InvalidEvent)
    assert result.reason == "field 'title' is not valid Unicode text (it holds a lone UTF-16 surrogate)"


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("host", "db\x00-1", "field 'asset' holds a control character"),
    ("user", "alice\x1b[31m", "field 'user' holds a control character"),
    ("title", "Export\x00", "field 'title' holds a NUL character"),
    ("host", "h" * 1_025, "field 'asset' is 1,025 characters long: at most 1,024"),
    ("user", "u" * 2_000, "field 'user' is 2,000 characters long: at most 1,024"),
])
def test_text_that_cannot_be_a_key_or_a_header_is_refused(field: str, value: str, reason: str) -> None:
    assert refusal(**{field: value}) == reason


def test_free_text_keeps_its_line_breaks_and_any_script() -> None:
    title = "Connexion refusée\n\tdétails: 管理者 \u202e"
    assert normalize({**EVENT, "title": title}, RECEIVED).title == title


@pytest.mark.parametrize("time", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00",
                                  "1969-12-31T23:59:59+00:00", "2100-01-01T00:00:00+00:00"])
def test_times_the_windows_cannot_count_with_are_refused(time: str) -> None:
    assert refusal(time=time).startswith(f"field 'time' is {datetime.fromisoformat(time).isoformat()}: outside "
                                         "1970-01-01 – 2100-01-01")


def test_an_extreme_offset_on_an_extreme_date_is_refused_not_crashed() -> None:
    assert "outside" in refusal(time="0001-01-01T00:00:00+23:59")


def test_a_time_far_ahead_of_its_receipt_is_refused_a_few_hours_is_not() -> None:
    assert refusal(time="2026-11-23T11:00:00+00:00").startswith("field 'occurred_at' (the event's time)")
    assert normalize({**EVENT, "time": "2026-11-22T21:00:00+00:00"}, RECEIVED).occurred_at.hour == 21


def test_a_count_past_what_json_keeps_exact_is_refused() -> None:
    assert refusal(records=2**64) == f"field 'records' is {2**64}: expected 0 to {2**53 - 1}"


def test_an_adapter_fault_on_an_unforeseen_shape_is_that_record_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(record: object, received_at: datetime) -> SecurityEvent:
        raise TypeError("a record field quoted here must not reach the reason")

    monkeypatch.setitem(ADAPTERS, "canonical", broken)
    first, second = normalize_all(json.dumps([EVENT, EVENT]).encode(), RECEIVED)
    assert isinstance(first, InvalidEvent) and first.reason == "could not be read: TypeError in the adapter"
    assert isinstance(second, InvalidEvent) and first.record is not None
