"""Field readers shared by the adapters: each failure names the field."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent


def text(record: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = record.get(name)
    if value is None or value == "":
        if required:
            raise InvalidEvent(f"missing field '{name}'")
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise InvalidEvent(f"field '{name}' must be a string")
    return str(value)


def instant(value: object, name: str) -> datetime:
    """An ISO-8601 time with its UTC offset; a time without one is refused, never guessed."""
    if not isinstance(value, str):
        raise InvalidEvent(f"field '{name}' must be an ISO-8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidEvent(f"field '{name}' is not an ISO-8601 time: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise InvalidEvent(f"field '{name}' has no UTC offset")
    return parsed


def count(value: object, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidEvent(f"field '{name}' must be a non-negative integer")
    return value


def codes(value: object, name: str, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidEvent(f"field '{name}' must be a list of strings")
    if allowed is not None:
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise InvalidEvent(f"field '{name}' has unknown values {unknown}; allowed: {list(allowed)}")
    return tuple(dict.fromkeys(value))
