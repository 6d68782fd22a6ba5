"""The wire format: explicit JSON envelopes, never class paths or pickle.

Commands, events and signals travel as ``{"type": <name>, "v": 1, "data": {...}}``; the
data is the dataclass's fields, datetimes as ISO-8601 with their offset. Decoding
rebuilds nested dataclasses from the type hints, so adding a field with a default keeps
old records readable.

Every signal and command crosses this module twice, so it is built for speed: orjson writes
dataclasses and datetimes itself (the same text as ``to_jsonable`` + ``json.dumps``: fields in
order, ISO-8601 with the offset), and decoding runs a converter compiled once per type. The
records of the hot path (signals, the workers' commands) are written by msgspec and first read by
it straight into the dataclasses (hot_wire.py: UTC written "Z"); the converter takes whatever
that strict reader refuses.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

import orjson

from incident.commands import COMMANDS
from incident.correlation import Window
from incident.events import EVENTS
from incident.model import Incident
from incident.signals import SecurityEvent
from streams.kafka import hot_wire

VERSION = 1
REGISTRY: dict[str, type] = {cls.__name__: cls for cls in (*COMMANDS, *EVENTS, SecurityEvent, Window, Incident)}


class DecodeError(ValueError):
    """A record that is not a valid envelope of a known type."""


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        if all(type(v) is str for v in value):  # an incident's remembered ids: thousands, saved every batch
            return list(value)
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_jsonable(tp: Any, value: Any) -> Any:
    return _converter(tp)(value)


def _identity(value: Any) -> Any:
    return value


@cache
def _converter(tp: Any) -> Callable[[Any], Any]:
    """The JSON value → ``tp`` function, built once per type from its hints."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(options) != 1:
            return _identity
        inner = _converter(options[0])
        return _identity if inner is _identity else lambda value: None if value is None else inner(value)
    if origin is tuple:
        (item, *_) = typing.get_args(tp)
        each = _converter(item)
        return tuple if each is _identity else lambda value: tuple(each(v) for v in value)
    if tp is datetime:
        return datetime.fromisoformat
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        names = frozenset(f.name for f in dataclasses.fields(tp))
        converting = tuple((name, convert) for name in sorted(names)
                           if (convert := _converter(hints[name])) is not _identity)

        def build(value: Any) -> Any:
            # Unknown keys (a newer writer's fields) are dropped; only fields that need it are converted.
            data = dict(value) if value.keys() <= names else {k: v for k, v in value.items() if k in names}
            for name, convert in converting:
                if name in data:
                    data[name] = convert(data[name])
            return tp(**data)
        return build
    return _identity


def envelope(obj: Any) -> dict[str, Any]:
    return {"type": type(obj).__name__, "v": VERSION, "data": to_jsonable(obj)}


def encode(obj: Any) -> bytes:
    if (hot := hot_wire.encode(obj)) is not None:
        return hot  # a signal or a worker's command: msgspec, UTC as "Z"
    try:
        return orjson.dumps({"type": type(obj).__name__, "v": VERSION, "data": obj}, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # something orjson does not write (an int beyond 64 bits, say): the plain way
        return json.dumps(envelope(obj), ensure_ascii=False, separators=(",", ":")).encode()


def decode(raw: bytes | str | dict[str, Any]) -> Any:
    if isinstance(raw, bytes) and (command := hot_wire.command(raw)) is not None:
        return command  # the hot path's own commands, read strictly in one call
    try:
        envelope = raw if isinstance(raw, dict) else orjson.loads(raw)
        cls = REGISTRY[envelope["type"]]
        return from_jsonable(cls, envelope["data"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DecodeError(f"not a valid envelope: {type(exc).__name__}: {exc}") from None


def as_table_value(obj: Any) -> dict[str, Any]:
    """Tables hold the envelope as a JSON object (faust's json serializer writes it). orjson
    writes it and reads it back six times faster than ``to_jsonable`` walks the dataclasses (an
    incident with its latest 200 items: 0.6 against 4 ms), and this runs for every incident a
    batch changed."""
    value: dict[str, Any] = orjson.loads(encode(obj))
    return value
