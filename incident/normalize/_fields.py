"""Field readers shared by the adapters: each failure names the field.

SIEM records reach us in three shapes, often mixed in one document: nested objects
(``{"host": {"name": …}}``), flattened dotted keys (``"kibana.alert.rule.name"``) and,
from Elasticsearch's ``fields`` API, one-element arrays (``"host.name": ["db-1"]``).
``lookup`` reads a dotted path through all three, so the adapters name ECS/OCSF paths only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from incident.errors import InvalidEvent

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)  # before any SIEM; epoch seconds read as millis land here
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

# Beyond this a field is not a value a responder reads but a payload (or an attack on us):
# refused with its name, so a huge field never reaches a topic, a log or a table.
MAX_TEXT = 4096


def text(record: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = record.get(name)
    if type(value) is str and 0 < len(value) <= MAX_TEXT:
        return value  # the common case, which every check below lets through unchanged
    if value is None or value == "":
        if required:
            raise InvalidEvent(f"missing field '{name}'")
        return None
    return _string(value, name)


def _string(value: object, name: str) -> str:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise InvalidEvent(f"field '{name}' must be a string")
    out = str(value) if isinstance(value, str) else _int_text(value, name)
    if len(out) > MAX_TEXT:
        raise InvalidEvent(f"field '{name}' is longer than {MAX_TEXT} characters")
    return out


def _int_text(value: int, name: str) -> str:
    try:
        return str(value)
    except ValueError:  # more digits than Python will print: no identifier looks like that
        raise InvalidEvent(f"field '{name}' is a number too large to be an identifier") from None


def lookup(record: object, path: str) -> Any:
    """The value at a dotted path, read through flattened keys and nested objects alike."""
    # ``type() is dict`` first: JSON gives dicts, and the ABC check costs several times more.
    if type(record) is not dict and not isinstance(record, Mapping):
        return None
    if path in record:
        return record[path]
    for head, rest in _cuts(path):
        inner = record.get(head)
        if inner is not None and (type(inner) is dict or isinstance(inner, Mapping)):
            found = lookup(inner, rest)
            if found is not None:
                return found
    return None


@lru_cache(maxsize=4096)
def _cuts(path: str) -> tuple[tuple[str, str], ...]:
    """Each way to split a dotted path in two, shortest head first: the adapters name a few
    hundred paths, read per record, and splitting and joining them again was half of lookup."""
    parts = path.split(".")
    return tuple((".".join(parts[:cut]), ".".join(parts[cut:])) for cut in range(1, len(parts)))


def one(value: object) -> object:
    """A scalar from a value that may be a one-element array (Elasticsearch ``fields`` API)."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def text_at(record: object, *paths: str, required: bool = False) -> str | None:
    """The first of ``paths`` that holds a value, as text; a wrong type names its path."""
    for path in paths:
        value = one(lookup(record, path))
        if value is None or value == "":
            continue
        return _string(value, path)
    if required:
        raise InvalidEvent(f"missing field '{paths[0]}'" + (f" (nor {', '.join(paths[1:])})" if paths[1:] else ""))
    return None


def int_at(record: object, path: str, *, low: int = 0, high: int | None = None) -> int | None:
    value = one(lookup(record, path))
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit() and len(value) < 20:
        value = int(value)  # CEF and syslog carry numbers as text
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f"{low}-{high}" if high is not None else f"≥ {low}"
        raise InvalidEvent(f"field '{path}' must be an integer {bound}")
    return value


def strings_at(record: object, path: str) -> tuple[str, ...]:
    """A list of short strings (or one string) at ``path``; anything else names the path."""
    value = lookup(record, path)
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) and len(v) <= MAX_TEXT for v in items):
        raise InvalidEvent(f"field '{path}' must be a string or a list of strings")
    return tuple(dict.fromkeys(v for v in items if v))


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
    return in_range(parsed, name)


def in_range(when: datetime, name: str) -> datetime:
    """A time the windows can count with (incident.normalize.admission says why)."""
    try:
        ok = EARLIEST <= when < LATEST
    except OverflowError:  # a UTC offset that pushes year 1 / 9999 out of range when compared
        ok = False
    if not ok:
        raise InvalidEvent(f"field '{name}' is {when.isoformat()}: outside "
                           f"{EARLIEST.date().isoformat()} – {LATEST.date().isoformat()}")
    return when


def epoch_millis(value: object, name: str) -> datetime:
    """OCSF ``timestamp_t`` and CEF ``rt``: milliseconds since the Unix epoch, UTC."""
    if isinstance(value, str) and value.isdigit() and len(value) < 20:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidEvent(f"field '{name}' must be milliseconds since the epoch (an integer)")
    try:
        when = datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidEvent(f"field '{name}' is out of range for a time") from None
    return in_range(when, name)


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
            raise InvalidEvent(f"field '{name}' has unknown values {unknown[:5]}; allowed: {list(allowed)}")
    return tuple(dict.fromkeys(value))


def fingerprint(fmt: str, record: object) -> str:
    """A deterministic id for a record whose source gives none: the same record (a redelivery,
    a re-sent batch) gets the same id, so correlation's dedup by event id still works."""
    try:
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    except (TypeError, ValueError):  # a number with more digits than Python prints
        raise InvalidEvent("record has no id and holds a value too large to fingerprint") from None
    except RecursionError:
        raise InvalidEvent("record has no id and is nested too deeply to fingerprint") from None
    return f"{fmt}-{hashlib.sha256(canonical.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}"
