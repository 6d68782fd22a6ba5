"""The correlator's table value: a compact JSON form of ``incident.correlation.Window``.

A controller's window holds tens of thousands of small entries and is written once per batch,
so the generic envelope (a dict per dataclass, ISO strings) costs more than correlating. Here
entries are arrays and times epoch microseconds; a held signal's Evidence (the one large part) is
encoded once and its text reused while it stays held. ``{"type": "WindowV2", ...}`` keeps it
apart from the generic envelope, which is still read.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

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


class WindowCodec:
    def __init__(self) -> None:
        self._evidence: dict[str, dict[str, str]] = {}  # key -> event id -> encoded Evidence of a held signal

    def encode(self, window: Window) -> bytes:
        head = json.dumps({
            "type": TYPE, "key": window.key, "version": window.version, "incident_id": window.incident_id,
            "watermark": _t(window.watermark) if window.watermark else None,
            "incidents": [[o.incident_id, o.entities, _t(o.first_at), _t(o.last_at), o.merged_into]
                          for o in window.incidents],
            "seen": [[s.event_id, s.fingerprint, _t(s.at)] for s in window.seen],
            "hits": [[_t(h.at), h.correlation, h.rule, h.group, h.value, h.sources] for h in window.hits],
            "fired": [[f.correlation, f.group, _t(f.first_at), _t(f.last_at)] for f in window.fired],
            "held": [[h.entities, h.rules, h.fingerprint] for h in window.held],
        }, separators=(",", ":"))
        fragments = []
        cache: dict[str, str] = {}
        known = self._evidence.get(window.key, {})
        for held in window.held:
            event_id = held.evidence.event_id
            text = known.get(event_id)
            if text is None:
                text = json.dumps(codec.to_jsonable(held.evidence), separators=(",", ":"), ensure_ascii=False)
            cache[event_id] = text
            fragments.append(text)
        self._evidence[window.key] = cache  # released and expired signals leave the cache with the window
        return f'{head[:-1]},"evidence":[{",".join(fragments)}]}}'.encode()

    @staticmethod
    def decode(raw: bytes) -> Window | None:
        """The window, or None for a value of another form (an older version: start afresh)."""
        try:
            data: dict[str, Any] = json.loads(raw)
        except (UnicodeDecodeError, ValueError):
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
