"""Epoch numbers in seconds, milliseconds, microseconds or nanoseconds, told apart by magnitude.

Producers disagree on the unit (OCSF says milliseconds; Security Lake and OCSF generators write
microseconds, some CEF and Okta-derived samples write seconds). Read in the wrong unit a time
lands in 1970 or far in the future, so the unit is taken from the number's size: every unit is
read over the years 1973–5138, which covers any real event, and the ranges never overlap.
"""

from __future__ import annotations

from datetime import UTC, datetime

from incident.errors import InvalidEvent
from incident.normalize._fields import in_range

# Upper bounds (exclusive) of each unit: 1e11 seconds is the year 5138, and so on down.
_UNITS = ((10**11, 1), (10**14, 10**3), (10**17, 10**6), (10**20, 10**9))


def epoch(value: object, name: str) -> datetime:
    """A UTC time from an epoch number (int, float or digits), its unit told by its magnitude."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 21:
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or value < 0:
        raise InvalidEvent(f"field '{name}' must be a time since the epoch (a non-negative number)")
    for bound, per_second in _UNITS:
        if value < bound:
            try:
                when = datetime.fromtimestamp(value / per_second, UTC)
            except (OverflowError, OSError, ValueError):
                break
            return in_range(when, name)
    raise InvalidEvent(f"field '{name}' is out of range for a time")
