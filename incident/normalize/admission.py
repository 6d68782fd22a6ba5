"""What the domain admits of a normalised event: text it can carry and times it can count with.

Adapters check shapes; this checks what a shape cannot say, once for every format, before an
event reaches correlation. Each was a lost breach (issue 14):

- a lone UTF-16 surrogate (``"x\\ud800"`` in JSON) is a Python ``str`` but no UTF-8 text: the
  signal encoder raised on it and took the whole batch, valid breaches included, down with it;
- an event dated year 1 or 9999 overflowed the window arithmetic (``OverflowError``) in the
  correlator, and a year-1 event alone opened an incident "first seen" in year 1;
- an integer past 2**53 cannot cross JSON readers intact, and past 2**64 not our encoder at all.

So: text must be valid Unicode, identifiers hold no control characters (they become Kafka keys,
Message-IDs and log fields), text is bounded (MAX_TEXT for free text, MAX_IDENTIFIER for names),
times lie in [EARLIEST, LATEST) (incident.normalize._fields, where adapters read them) and at
most FUTURE_SKEW after the event was received, counts are JSON-safe integers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from operator import attrgetter

from incident.errors import InvalidEvent
from incident.normalize._fields import MAX_TEXT, in_range
from incident.signals import SecurityEvent

FUTURE_SKEW = timedelta(hours=24)  # a sensor's clock or zone may be off by hours, not by days
MAX_IDENTIFIER = 1_024  # characters of an id, host, user, address…
MAX_COUNT = 2**53 - 1  # the largest integer every JSON reader keeps exact

# Fields that name things (keys, headers, lookups): no control characters at all. The others are
# free text, where only NUL is refused (a C string's end in whatever reads it next).
_FREE_TEXT = frozenset({"title"})
_COUNTS = ("severity", "records", "bytes_out", "class_uid", "source_port", "destination_port")
_NAMES = tuple(SecurityEvent.__dataclass_fields__)
_values = attrgetter(*_NAMES)  # every field's value in one call, in declaration order


def admit(event: SecurityEvent, received_at: datetime) -> SecurityEvent:
    """The event unchanged, or InvalidEvent naming the first field the domain cannot take."""
    for name, value in zip(_NAMES, _values(event), strict=True):
        if isinstance(value, str):
            if not _plain(value):
                _check_text(name, value)
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, str) and not _plain(item):
                    _check_text(name, item)
    for name in _COUNTS:
        value = getattr(event, name)
        if value is not None and not 0 <= value <= MAX_COUNT:
            raise InvalidEvent(f"field {name!r} is {value}: expected 0 to {MAX_COUNT}")
    # Adapters check the range where they read a time (naming their field); this holds for all.
    in_range(event.occurred_at, "occurred_at")
    if event.occurred_at - received_at > FUTURE_SKEW:
        raise InvalidEvent(f"field 'occurred_at' (the event's time) {event.occurred_at.isoformat()} is more than "
                           f"{FUTURE_SKEW.total_seconds() / 3600:g} h after it was received "
                           f"({received_at.isoformat()}): check the sender's clock and time zone")
    return event


def _plain(value: str) -> bool:
    """Short printable ASCII, the common case: it passes every check of ``_check_text``."""
    return value.isascii() and value.isprintable() and len(value) <= MAX_IDENTIFIER


def _check_text(name: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidEvent(f"field {name!r} is not valid Unicode text (it holds a lone UTF-16 surrogate)") from None
    limit = MAX_TEXT if name in _FREE_TEXT else MAX_IDENTIFIER
    if len(value) > limit:
        raise InvalidEvent(f"field {name!r} is {len(value):,} characters long: at most {limit:,}")
    if name in _FREE_TEXT:
        if "\x00" in value:
            raise InvalidEvent(f"field {name!r} holds a NUL character")
    elif not value.isprintable() and any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in value):
        raise InvalidEvent(f"field {name!r} holds a control character")
