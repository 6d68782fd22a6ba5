"""The correlator's table value: a compact JSON form of ``incident.correlation.Window``.

A controller's window holds tens of thousands of small entries and is written once per batch,
so the generic envelope (a dict per dataclass, ISO strings) costs more than correlating. Here
entries are arrays and times epoch microseconds; a held signal's Evidence (the one large part) is
encoded once and its text reused while it stays held. ``{"type": "WindowV2", ...}`` keeps it
apart from the generic envelope, which is still read.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from incident.correlation import Fired, Held, OpenIncident, Seen, Window
from incident.rules import Hit
from incident.signals import Evidence
from streams import codec

TYPE = "WindowV2"


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
            "incidents": [[o.incident_id, o.entities, _t(o.first_at), _t(o.last_at), o.merged_into]
                          for o in window.incidents],
            "fired": [[f.correlation, f.group, _t(f.first_at), _t(f.last_at)] for f in window.fired],
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
        held = [Held(evidence=codec.from_jsonable(Evidence, evidence), entities=tuple(entities), rules=tuple(rules),
                     fingerprint=fingerprint)
                for (entities, rules, fingerprint), evidence in zip(data["held"], data["evidence"], strict=True)]
        return Window(
            key=data["key"], version=data["version"], incident_id=data["incident_id"],
            watermark=_d(data["watermark"]) if data["watermark"] is not None else None,
            incidents=tuple(OpenIncident(incident_id=i, entities=tuple(e), first_at=_d(a), last_at=_d(b), merged_into=m)
                            for i, e, a, b, m in data["incidents"]),
            seen=tuple(Seen(event_id=i, fingerprint=f, at=_d(a)) for i, f, a in data["seen"]),
            hits=tuple(Hit(at=_d(a), correlation=c, rule=r, group=g, value=v, sources=tuple(s))
                       for a, c, r, g, v, s in data["hits"]),
            fired=tuple(Fired(correlation=c, group=g, first_at=_d(a), last_at=_d(b)) for c, g, a, b in data["fired"]),
            held=tuple(held),
        )
