"""The times a CEF extension may carry (``rt``, ``end``, ``start``), in every format the
ArcSight CEF implementation standard allows:

    milliseconds since the epoch
    MMM dd yyyy HH:mm:ss[.SSS][ zzz]
    MMM dd HH:mm:ss[.SSS][ zzz]        (no year: the year the record reached us)

and the ISO 8601 some vendors write instead. ``zzz`` may be UTC/GMT/Z, an offset (``+02:00``,
``GMT+01:00``) or an IANA zone name. Without a zone the device's ``dtz`` extension says it; when
that is missing too the time is read as UTC and the event is tagged ``time:utc-assumed``, so a
reader knows it was not stated.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import timezone as fixed
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from incident.errors import InvalidEvent
from incident.normalize._fields import in_range, instant
from incident.normalize.epoch import epoch

UTC_ASSUMED = "time:utc-assumed"
_TEXT = re.compile(r"(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2})(?: (?P<year>\d{4}))? "
                   r"(?P<clock>\d\d:\d\d:\d\d)(?:\.(?P<frac>\d{1,6}))?(?: (?P<zone>\S+))?")
_OFFSET = re.compile(r"(?:GMT|UTC)?(?P<sign>[+-])(?P<h>\d\d):?(?P<m>\d\d)")
_UTC_NAMES = frozenset({"UTC", "GMT", "Z", "UT"})
# A record dated more than this after its receipt was written last year (no year in the text).
_CLOCK_SKEW = timedelta(days=2)


def _zone(name: str | None, field: str) -> tzinfo | None:
    if name is None:
        return None
    if name.upper() in _UTC_NAMES:
        return UTC
    offset = _OFFSET.fullmatch(name)
    if offset:
        minutes = int(offset["h"]) * 60 + int(offset["m"])
        if minutes >= 24 * 60:
            raise InvalidEvent(f"CEF extension '{field}' has an impossible UTC offset: {name[:12]!r}")
        return fixed(timedelta(minutes=-minutes if offset["sign"] == "-" else minutes))
    try:
        return ZoneInfo(name) if "/" in name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def cef_time(value: str, field: str, received_at: datetime, device_zone: str | None) -> tuple[datetime, bool]:
    """The time in ``value`` and whether its zone was assumed (UTC) rather than stated."""
    value = value.strip()
    if value.isdigit():
        return epoch(value, field), False
    text = _TEXT.fullmatch(value)
    if text is None:
        return instant(value, field), False
    zone = _zone(text["zone"], field)
    if text["zone"] is not None and zone is None:
        raise InvalidEvent(f"CEF extension '{field}' has an unknown time zone: {text['zone'][:40]!r}")
    assumed = False
    if zone is None:
        zone = _zone(device_zone, "dtz") if device_zone else None
        if zone is None:
            zone, assumed = UTC, True
    year = int(text["year"]) if text["year"] else received_at.astimezone(zone).year
    stamp = f"{text['mon']} {int(text['day']):02d} {year} {text['clock']}.{(text['frac'] or '0').ljust(6, '0')}"
    try:
        # Parsed as UTC, then given its own zone: the wall-clock fields are what the text says.
        when = datetime.strptime(f"{stamp} +0000", "%b %d %Y %H:%M:%S.%f %z").replace(tzinfo=zone)
    except ValueError:
        raise InvalidEvent(f"CEF extension '{field}' is not a valid time: {value[:40]!r}") from None
    if not text["year"] and when - received_at > _CLOCK_SKEW:
        try:
            when = when.replace(year=year - 1)  # "Dec 31 23:59:59" received on 1 January
        except ValueError:  # 29 February of a year that had none: the text was never a real date
            raise InvalidEvent(f"CEF extension '{field}' is not a valid time: {value[:40]!r}") from None
    return in_range(when, field), assumed
