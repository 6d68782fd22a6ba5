"""Times in the forms the specs allow (issue 15): CEF rt/end/start in every format of the CEF
implementation standard, epoch numbers told apart by magnitude."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from incident.errors import InvalidEvent
from incident.normalize import normalize_all
from incident.normalize.cef_time import UTC_ASSUMED, cef_time
from incident.normalize.epoch import epoch
from incident.signals import SecurityEvent

RECEIVED = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected", "assumed"), [
    ("1767348000000", datetime(2026, 1, 2, 10, 0, tzinfo=UTC), False),
    ("Jan 02 2026 09:58:01", datetime(2026, 1, 2, 9, 58, 1, tzinfo=UTC), True),
    ("Jan 02 2026 09:58:01.250", datetime(2026, 1, 2, 9, 58, 1, 250000, tzinfo=UTC), True),
    ("Jan 02 2026 09:58:01 UTC", datetime(2026, 1, 2, 9, 58, 1, tzinfo=UTC), False),
    ("Jan 02 2026 09:58:01.5 GMT+01:00", datetime(2026, 1, 2, 8, 58, 1, 500000, tzinfo=UTC), False),
    ("Jan 02 2026 10:58:01 +0100", datetime(2026, 1, 2, 9, 58, 1, tzinfo=UTC), False),
    ("Jan 02 2026 10:58:01 Europe/Paris", datetime(2026, 1, 2, 9, 58, 1, tzinfo=UTC), False),
    ("Jan  2 09:58:01", datetime(2026, 1, 2, 9, 58, 1, tzinfo=UTC), True),
    ("Jan 02 09:58:01.125 UTC", datetime(2026, 1, 2, 9, 58, 1, 125000, tzinfo=UTC), False),
    ("Dec 31 23:59:59 UTC", datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC), False),  # last year's, received now
    ("2026-01-02T09:58:01+00:00", datetime(2026, 1, 2, 9, 58, 1, tzinfo=UTC), False),
])
def test_cef_times_in_every_format_of_the_standard(text: str, expected: datetime, assumed: bool) -> None:
    when, was_assumed = cef_time(text, "rt", RECEIVED, None)
    assert when == expected and when.utcoffset() is not None
    assert was_assumed is assumed


def test_a_cef_time_without_zone_takes_the_device_zone_from_dtz() -> None:
    when, assumed = cef_time("Jul 16 2025 18:19:50", "rt", RECEIVED, "Europe/Prague")
    assert when == datetime(2025, 7, 16, 16, 19, 50, tzinfo=UTC) and not assumed


@pytest.mark.parametrize("text", ["Jan 02 2026 09:58:01 Mars/Olympus", "Feb 30 2026 10:00:00", "yesterday",
                                  "Jan 02 2026 09:58:01 +2500"])
def test_a_cef_time_that_is_not_one_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidEvent, match="'end'"):
        cef_time(text, "end", RECEIVED, None)


def test_an_assumed_zone_is_said_on_the_event() -> None:
    (event,) = normalize_all("CEF:0|V|P|1|7|Login|5|dvchost=fw-1 rt=Jan 02 2026 09:58:01 suser=n/a", RECEIVED)
    assert isinstance(event, SecurityEvent)
    assert UTC_ASSUMED in event.tags and event.user is None  # "n/a" is no user


@pytest.mark.parametrize(("value", "expected"), [
    (1_767_348_000, datetime(2026, 1, 2, 10, 0, tzinfo=UTC)),  # seconds
    (1_767_348_000_123, datetime(2026, 1, 2, 10, 0, 0, 123000, tzinfo=UTC)),  # milliseconds
    (1_767_348_000_123_456, datetime(2026, 1, 2, 10, 0, 0, 123456, tzinfo=UTC)),  # microseconds
    (1_767_348_000_123_456_000, datetime(2026, 1, 2, 10, 0, 0, 123456, tzinfo=UTC)),  # nanoseconds
    ("1767348000", datetime(2026, 1, 2, 10, 0, tzinfo=UTC)),
    (1_767_348_000.5, datetime(2026, 1, 2, 10, 0, 0, 500000, tzinfo=UTC)),
])
def test_epoch_unit_is_told_by_magnitude(value: object, expected: datetime) -> None:
    assert epoch(value, "time") - expected < timedelta(microseconds=1)


@pytest.mark.parametrize("value", [-1, True, "soon", 10**21, float("nan")])
def test_an_epoch_that_is_not_one_is_refused(value: object) -> None:
    with pytest.raises(InvalidEvent, match="'time'"):
        epoch(value, "time")


def test_outbound_cef_without_device_is_attributed_to_the_internal_side() -> None:
    line = "CEF:0|V|IDS|1|2|Beacon|8|src=10.1.2.3 dst=81.2.69.143 rt=1767348000000"
    (event,) = normalize_all(line, RECEIVED)
    assert isinstance(event, SecurityEvent) and event.asset == "10.1.2.3"
    (inbound,) = normalize_all(line.replace("src=10.1.2.3 dst=81.2.69.143", "src=81.2.69.143 dst=10.1.2.3"), RECEIVED)
    assert isinstance(inbound, SecurityEvent) and inbound.asset == "10.1.2.3"


def test_an_ecs_event_without_action_is_titled_by_what_happened() -> None:
    base = {"@timestamp": "2026-01-02T09:00:00Z", "host": {"hostname": "web-1"}, "process": {"name": "sudo"}}
    (sudo,) = normalize_all(json.dumps(
        {**base, "system": {"auth": {"sudo": {"command": "/bin/ls", "error": "user NOT in sudoers"}}}}), RECEIVED)
    assert isinstance(sudo, SecurityEvent)
    assert (sudo.title, sudo.outcome) == ("sudo: /bin/ls: user NOT in sudoers", "failure")
    (bare,) = normalize_all(json.dumps({"@timestamp": "2026-01-02T09:00:00Z", "host.name": "web-1"}),
                            RECEIVED)
    assert isinstance(bare, InvalidEvent) and "nothing says what happened" in bare.reason
