"""The ``signals`` record: a JSON list of SecurityEvent envelopes of one partition key.

Ingest writes one record per key per batch, so the correlator pays faust's per-message cost
once per batch rather than once per signal. A single envelope (what older workers wrote) is
still read.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from incident.signals import SecurityEvent
from streams.kafka import codec, hot_wire


def encode_signals(signals: Sequence[SecurityEvent], *, limit: int) -> list[bytes]:
    """As few records as possible, each at most ``limit`` bytes (or one signal, if larger)."""
    return pack_signals([codec.encode(signal) for signal in signals], limit=limit)


def pack_signals(items: Sequence[bytes], *, limit: int) -> list[bytes]:
    """``encode_signals`` for signals already encoded one by one (ingest does, to dead-letter
    the one that cannot be encoded without losing its neighbours)."""
    records: list[bytes] = []
    current: list[bytes] = []
    size = 2
    for item in items:
        if current and size + len(item) + 1 > limit:
            records.append(b"[" + b",".join(current) + b"]")
            current, size = [], 2
        current.append(item)
        size += len(item) + 1
    if current:
        records.append(b"[" + b",".join(current) + b"]")
    return records


def decode_signals(raw: bytes) -> list[SecurityEvent]:
    if (strict := hot_wire.signals(raw)) is not None:
        return strict  # one msgspec call for the key's batch
    # What the strict reader refuses: the lenient codec gives what it always gave, errors included.
    try:
        data = orjson.loads(raw)
    except ValueError as exc:  # orjson's error is one (invalid UTF-8 included)
        raise codec.DecodeError(f"not JSON: {exc}") from None
    items = data if isinstance(data, list) else [data]
    out = [codec.decode(item) for item in items]
    if not all(isinstance(s, SecurityEvent) for s in out):
        raise codec.DecodeError("a signals record holds something other than SecurityEvent envelopes")
    return out
