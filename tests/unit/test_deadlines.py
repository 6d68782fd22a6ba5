"""Deadline arithmetic: every unit, across DST, month ends, weekends and public holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from incident.deadlines import deadline_for, start_clock
from incident.regimes import GDPR_ART33, GDPR_ART34, REGIMES, Obligation
from tests.unit.builders import FakeCalendar

PARIS = ZoneInfo("Europe/Paris")


def obligation(amount: int, unit: str, jurisdiction: str | None = None) -> Obligation:
    return Obligation("T", "t", 1, "breach", "authority", "awareness", amount, unit, "test", jurisdiction)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def test_72_hours_are_72_real_hours_across_the_spring_dst_change() -> None:
    aware = paris(2026, 3, 28, 10, 0)  # the clocks go forward on 29 March 2026
    deadline = deadline_for(GDPR_ART33, aware, PARIS, FakeCalendar())
    assert deadline == aware.astimezone(UTC) + timedelta(hours=72)
    assert deadline.astimezone(PARIS).hour == 11  # 72 h later reads 11:00 on the wall clock


def test_72_hours_across_the_autumn_dst_change() -> None:
    aware = paris(2026, 10, 24, 10, 0)  # back on 25 October 2026
    deadline = deadline_for(GDPR_ART33, aware, PARIS, FakeCalendar())
    assert deadline is not None and deadline.astimezone(PARIS).hour == 9


def test_a_month_keeps_the_wall_time_and_clamps_to_the_month_end() -> None:
    assert deadline_for(obligation(1, "months"), paris(2026, 1, 31, 15, 0), PARIS, FakeCalendar()) \
        == paris(2026, 2, 28, 15, 0).astimezone(UTC)
    assert deadline_for(obligation(1, "months"), paris(2028, 1, 31, 15, 0), PARIS, FakeCalendar()) \
        == paris(2028, 2, 29, 15, 0).astimezone(UTC)  # leap year
    # 15:00 in winter to 15:00 in summer: one hour less in UTC terms.
    assert deadline_for(obligation(1, "months"), paris(2026, 3, 15, 15, 0), PARIS, FakeCalendar()) \
        == paris(2026, 4, 15, 15, 0).astimezone(UTC)


def test_calendar_days_end_at_the_end_of_the_local_day() -> None:
    deadline = deadline_for(obligation(60, "calendar_days"), paris(2026, 11, 22, 23, 30), PARIS, FakeCalendar())
    assert deadline is not None
    assert deadline.astimezone(PARIS).date() == date(2027, 1, 21)
    assert deadline.astimezone(PARIS).time().hour == 23


def test_working_days_skip_the_start_day_weekends_and_public_holidays() -> None:
    calendar = FakeCalendar({("FR", date(2026, 12, 25))})
    # Wednesday 23 Dec: Thu 24 (1), Fri 25 holiday, Mon 28 (2), Tue 29 (3).
    deadline = deadline_for(obligation(3, "working_days", "FR"), paris(2026, 12, 23, 9, 0), PARIS, calendar)
    assert deadline is not None and deadline.astimezone(PARIS).date() == date(2026, 12, 29)
    # Without the holiday it would be Monday 28.
    plain = deadline_for(obligation(3, "working_days", "FR"), paris(2026, 12, 23, 9, 0), PARIS, FakeCalendar())
    assert plain is not None and plain.astimezone(PARIS).date() == date(2026, 12, 28)


def test_obligations_without_a_fixed_delay_are_due_at_once_without_countdown_or_lateness() -> None:
    anchor = paris(2026, 1, 1, 0, 0)
    assert deadline_for(GDPR_ART34, anchor, PARIS, FakeCalendar()) is None
    clock = start_clock(GDPR_ART34, anchor, None, tz=PARIS, calendar=FakeCalendar())
    assert (clock.timed, clock.deadline, clock.reminder_times()) == (False, anchor, [])


def test_a_clock_records_its_rule_and_a_utc_deadline() -> None:
    clock = start_clock(GDPR_ART33, paris(2026, 11, 22, 10, 0), "acme@1", tz=PARIS, calendar=FakeCalendar())
    assert clock is not None and clock.rule_ref == "GDPR:art33_authority@1"
    assert clock.deadline.tzinfo is UTC and clock.anchor_at.tzinfo is UTC


def test_a_naive_anchor_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        deadline_for(GDPR_ART33, datetime(2026, 1, 1), PARIS, FakeCalendar())


def test_every_rule_is_well_formed() -> None:
    from incident.regimes import ANCHORS, UNITS

    ids = set()
    for rules in REGIMES.values():
        for rule in rules:
            assert rule.unit in UNITS and rule.anchor in ANCHORS and rule.legal_ref
            assert (rule.anchor == "submission") == (rule.after is not None)
            assert rule.unit != "working_days" or rule.jurisdiction, rule.rule_ref
            ids.add(rule.rule_ref)
    assert len(ids) == sum(len(r) for r in REGIMES.values())
