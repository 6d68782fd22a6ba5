"""The Calendar port's adapter: IANA zones from the system database, public holidays from the
`holidays` package (per jurisdiction and year, cached)."""

from __future__ import annotations

from datetime import date, tzinfo
from functools import cache
from zoneinfo import ZoneInfo

import holidays


class HolidaysCalendar:
    @staticmethod
    @cache
    def zone(name: str) -> tzinfo:
        return ZoneInfo(name)

    @staticmethod
    @cache
    def _holidays(jurisdiction: str, year: int) -> frozenset[date]:
        return frozenset(holidays.country_holidays(jurisdiction, years=year))

    def is_public_holiday(self, jurisdiction: str, day: date) -> bool:
        return day in self._holidays(jurisdiction, day.year)
