"""The signals record: a list of envelopes, split to stay under a size."""

from __future__ import annotations

import pytest

from streams.kafka import codec
from streams.pipeline.signal_batches import decode_signals, encode_signals
from tests.unit.builders import event


def test_signals_round_trip_and_split_by_size() -> None:
    signals = [event(f"e{i}") for i in range(10)]
    one = len(codec.encode(signals[0]))
    records = encode_signals(signals, limit=3 * one + 10)
    assert len(records) == 4 and all(len(r) <= 3 * one + 10 for r in records)
    assert [s for r in records for s in decode_signals(r)] == signals
    assert encode_signals(signals[:1], limit=10) == [b"[" + codec.encode(signals[0]) + b"]"]  # too big alone: alone


def test_a_single_envelope_is_read_and_garbage_is_a_decode_error() -> None:
    assert decode_signals(codec.encode(event("a"))) == [event("a")]
    for bad in (b"{nope", b'[{"type": "Tick", "v": 1, "data": {}}]', b"\xff"):
        with pytest.raises(codec.DecodeError):
            decode_signals(bad)
