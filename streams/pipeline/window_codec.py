"""The correlator's table value: a compact JSON form of ``incident.correlation.Window``.

A controller's window holds tens of thousands of small entries and is written once per batch,
so the generic envelope (a dict per dataclass, ISO strings) costs more than correlating. Here
entries are arrays and times epoch microseconds; a held signal's Evidence (the one large part) is
encoded once and its text reused while it stays held. ``{"type": "WindowV2", ...}`` keeps it
apart from the generic envelope, which is still read.

Between two snapshots a window is persisted as deltas (streams/pipeline/window_store.py): each list as
runs that either keep a range of the previous state's entries (``[start, length]``) or add new
ones (``{"+": [rows]}``). Entries are immutable and the correlator keeps the same objects while
they stay, so what a batch changed is found by identity, and a delta is about the size of what
the batch brought, where re-encoding the whole window wrote ~8 KB per input signal.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from incident.correlation import Fired, Held, OpenIncident, Seen, Window
from incident.rules import Hit
from incident.signals import Evidence
from streams.kafka import codec

TYPE = "WindowV2"
DELTA = "WindowDeltaV1"
LISTS = ("incidents", "seen", "hits", "fired", "held")


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def _t(value: datetime) -> int:
    return (value - EPOCH) // MICROSECOND  # exact, where float seconds would drift by a microsecond


def _d(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def _seen_row(s: Seen) -> list[Any]:
    return [s.event_id, s.fingerprint, _t(s.at)]


def _hit_row(h: Hit) -> list[Any]:
    return [_t(h.at), h.correlation, h.rule, h.group, h.value, h.sources]


def _incident_row(o: OpenIncident) -> list[Any]:
    return [o.incident_id, o.entities, _t(o.first_at), _t(o.last_at), o.merged_into]


def _fired_row(f: Fired) -> list[Any]:
    return [f.correlation, f.group, _t(f.first_at), _t(f.last_at)]


def _seen_of(row: list[Any]) -> Seen:
    i, f, a = row
    return Seen(event_id=i, fingerprint=f, at=_d(a))


def _hit_of(row: list[Any]) -> Hit:
    a, c, r, g, v, s = row
    return Hit(at=_d(a), correlation=c, rule=r, group=g, value=v, sources=tuple(s))


def _incident_of(row: list[Any]) -> OpenIncident:
    i, e, a, b, m = row
    return OpenIncident(incident_id=i, entities=tuple(e), first_at=_d(a), last_at=_d(b), merged_into=m)


def _fired_of(row: list[Any]) -> Fired:
    c, g, a, b = row
    return Fired(correlation=c, group=g, first_at=_d(a), last_at=_d(b))


def _held_of(row: list[Any]) -> Held:
    entities, rules, fingerprint, evidence = row
    return Held(evidence=codec.from_jsonable(Evidence, evidence), entities=tuple(entities), rules=tuple(rules),
                fingerprint=fingerprint)


_ROW_OF = {"incidents": _incident_of, "seen": _seen_of, "hits": _hit_of, "fired": _fired_of, "held": _held_of}


class DeltaError(ValueError):
    """A delta that does not fit the state it is applied to (not of this form, or out of range)."""


class WindowCodec:
    """Encodes windows, remembering each entry's text: a key's window is written every second
    or so, and between two writes most entries (the same immutable objects) have not changed."""

    def __init__(self) -> None:
        self._evidence: dict[str, dict[str, bytes]] = {}  # key -> event id -> encoded Evidence of a held signal
        # (key, list) -> id(entry) -> (entry, its text); the entry is kept so that its id stays its own.
        self._rows: dict[tuple[str, str], dict[int, tuple[Any, bytes]]] = {}

    def _array(self, key: str, name: str, items: tuple[Any, ...], row: Any) -> bytes:
        known = self._rows.get((key, name), {})
        cache: dict[int, tuple[Any, bytes]] = {}
        parts = []
        for item in items:
            entry = known.get(id(item))
            if entry is None or entry[0] is not item:
                entry = (item, orjson.dumps(row(item)))
            cache[id(item)] = entry
            parts.append(entry[1])
        self._rows[(key, name)] = cache  # entries gone from the window leave the cache with it
        return b"[" + b",".join(parts) + b"]"

    def encode(self, window: Window) -> bytes:
        head = orjson.dumps({
            "type": TYPE, "key": window.key, "version": window.version, "incident_id": window.incident_id,
            "watermark": _t(window.watermark) if window.watermark else None,
            "incidents": [_incident_row(o) for o in window.incidents],
            "fired": [_fired_row(f) for f in window.fired],
            "held": [[h.entities, h.rules, h.fingerprint] for h in window.held],
        })
        fragments = []
        cache: dict[str, bytes] = {}
        known = self._evidence.get(window.key, {})
        for held in window.held:
            event_id = held.evidence.event_id
            text = known.get(event_id)
            if text is None:
                text = orjson.dumps(held.evidence)  # the same text as codec.to_jsonable + json.dumps
            cache[event_id] = text
            fragments.append(text)
        self._evidence[window.key] = cache  # released and expired signals leave the cache with the window
        return (head[:-1] + b',"seen":' + self._array(window.key, "seen", window.seen, _seen_row)
                + b',"hits":' + self._array(window.key, "hits", window.hits, _hit_row)
                + b',"evidence":[' + b",".join(fragments) + b"]}")

    def encode_snapshot(self, window: Window, seq: int) -> bytes:
        """The whole window, naming the delta sequence number it stands for."""
        raw = self.encode(window)
        return raw[:-1] + b',"seq":' + str(seq).encode() + b"}"

    def encode_delta(self, previous: Window, window: Window, seq: int) -> bytes:
        """What turns ``previous`` into ``window`` (whose unchanged entries are the same objects)."""
        head = orjson.dumps({"type": DELTA, "seq": seq, "key": window.key, "version": window.version,
                             "incident_id": window.incident_id,
                             "watermark": _t(window.watermark) if window.watermark else None})
        known = self._evidence.get(window.key, {})

        def held_row(h: Held) -> bytes:
            evidence = known.get(h.evidence.event_id) or orjson.dumps(h.evidence)
            return orjson.dumps([h.entities, h.rules, h.fingerprint])[:-1] + b"," + evidence + b"]"

        rows: dict[str, Any] = {
            "incidents": lambda o: orjson.dumps(_incident_row(o)), "seen": lambda s: orjson.dumps(_seen_row(s)),
            "hits": lambda h: orjson.dumps(_hit_row(h)), "fired": lambda f: orjson.dumps(_fired_row(f)),
            "held": held_row}
        parts = [head[:-1]]
        for name in LISTS:
            parts.append(b',"' + name.encode() + b'":' + _runs(getattr(previous, name), getattr(window, name),
                                                                rows[name]))
        return b"".join(parts) + b"}"

    @staticmethod
    def apply_delta(window: Window, raw: bytes) -> tuple[Window, int]:
        """``window`` with the delta applied, and the delta's sequence number; DeltaError if it does
        not apply (then the state stops at ``window``: the caller says so)."""
        try:
            data = orjson.loads(raw)
            if not isinstance(data, dict) or data.get("type") != DELTA:
                raise DeltaError("not a window delta")
            lists = {name: _apply_runs(getattr(window, name), data[name], _ROW_OF[name]) for name in LISTS}
            return Window(key=data["key"], version=data["version"], incident_id=data["incident_id"],
                          watermark=_d(data["watermark"]) if data["watermark"] is not None else None,
                          **lists), int(data["seq"])
        except DeltaError:
            raise
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise DeltaError(f"{type(exc).__name__}: {exc}") from None

    @staticmethod
    def sequence_of(raw: bytes) -> int:
        """The delta sequence number a snapshot stands for (0 for one written before deltas)."""
        try:
            data = orjson.loads(raw)
        except ValueError:
            return 0
        return int(data.get("seq", 0)) if isinstance(data, dict) else 0

    @staticmethod
    def decode(raw: bytes) -> Window | None:
        """The window, or None for a value of another form (an older version: start afresh)."""
        try:
            data: dict[str, Any] = orjson.loads(raw)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("type") != TYPE:
            decoded = None
            # An older window (v1: other fields) may not even fit the new dataclasses: start afresh.
            with contextlib.suppress(Exception):
                decoded = codec.decode(raw)
            return decoded if isinstance(decoded, Window) else None
        held = [_held_of([*row, evidence]) for row, evidence in zip(data["held"], data["evidence"], strict=True)]
        return Window(
            key=data["key"], version=data["version"], incident_id=data["incident_id"],
            watermark=_d(data["watermark"]) if data["watermark"] is not None else None,
            incidents=tuple(map(_incident_of, data["incidents"])), seen=tuple(map(_seen_of, data["seen"])),
            hits=tuple(map(_hit_of, data["hits"])), fired=tuple(map(_fired_of, data["fired"])), held=tuple(held),
        )


def _runs(previous: tuple[Any, ...], items: tuple[Any, ...], row: Any) -> bytes:
    """``items`` as runs over ``previous``: ``[start, length]`` keeps entries found there (the same
    objects), ``{"+": [rows]}`` adds the others, in order."""
    where = {id(item): n for n, item in enumerate(previous)}
    out: list[bytes] = []
    start = length = 0
    added: list[bytes] = []
    for item in items:
        n = where.get(id(item))
        if n is not None and previous[n] is item:
            if added:
                out.append(b'{"+":[' + b",".join(added) + b"]}")
                added = []
            if length and start + length == n:
                length += 1
                continue
            if length:
                out.append(b"[%d,%d]" % (start, length))
            start, length = n, 1
        else:
            if length:
                out.append(b"[%d,%d]" % (start, length))
                length = 0
            added.append(row(item))
    if length:
        out.append(b"[%d,%d]" % (start, length))
    if added:
        out.append(b'{"+":[' + b",".join(added) + b"]}")
    return b"[" + b",".join(out) + b"]"


def _apply_runs(previous: tuple[Any, ...], runs: list[Any], row_of: Any) -> tuple[Any, ...]:
    items: list[Any] = []
    for run in runs:
        if isinstance(run, dict):
            items.extend(row_of(r) for r in run["+"])
            continue
        start, length = run
        if start < 0 or length < 1 or start + length > len(previous):
            raise DeltaError(f"run {start}+{length} outside the {len(previous)} entries it applies to")
        items.extend(previous[start:start + length])
    return tuple(items)
