"""The holidays-backed calendar: real public holidays, for working-day deadlines."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from incident.deadlines import deadline_for
from incident.regimes import REGIMES
from streams.calendars import HolidaysCalendar


def test_french_and_brazilian_public_holidays() -> None:
    calendar = HolidaysCalendar()
    assert calendar.is_public_holiday("FR", date(2026, 7, 14))
    assert calendar.is_public_holiday("FR", date(2026, 5, 14))  # Ascension, a moving feast
    assert not calendar.is_public_holiday("FR", date(2026, 7, 15))
    assert calendar.is_public_holiday("BR", date(2026, 9, 7))  # Independence Day


def test_lgpd_three_working_days_over_carnival() -> None:
    calendar = HolidaysCalendar()
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    anpd = REGIMES["lgpd"][0]
    # Aware on Friday 13 Feb 2026; Carnival is Mon 16 / Tue 17 Feb (optional holidays the
    # `holidays` package lists or not depending on its version): count what it says.
    aware = datetime(2026, 2, 13, 10, 0, tzinfo=sao_paulo)
    deadline = deadline_for(anpd, aware, sao_paulo, calendar)
    assert deadline is not None
    local = deadline.astimezone(sao_paulo).date()
    counted = [d for d in (date(2026, 2, day) for day in range(16, local.day + 1))
               if d.weekday() < 5 and not calendar.is_public_holiday("BR", d)]
    assert len(counted) == 3 and local == counted[-1]
