"""The correlator's compact table value round-trips exactly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from incident.correlation import Config, Correlator, Window, correlate_batch
from streams.kafka import codec
from streams.pipeline.window_codec import DeltaError, WindowCodec
from streams.rules_loader import load_rules
from streams.settings import ROOT
from tests.unit.builders import T0, event

PACK = load_rules(ROOT / "deploy" / "rules")


def test_a_window_with_every_kind_of_entry_round_trips() -> None:
    events = [event(f"f{i}", asset="acme-auth", at=T0 + timedelta(seconds=7 * i, microseconds=13), user=f"u{i}",
                    category="authentication", outcome="failure", source_ip="203.0.113.4") for i in range(25)]
    events += [event("r", action="select", data_store="crm", user="eve"), event("plain", user="bob")]
    window, _ = correlate_batch(None, events, pack=PACK)
    assert window.incidents and window.seen and window.hits and window.held and window.fired
    codec_ = WindowCodec()
    raw = codec_.encode(window)
    assert WindowCodec.decode(raw) == window
    assert codec_.encode(window) == raw  # the cached evidence text gives the same bytes


def test_older_or_foreign_values_decode_to_none_or_the_generic_envelope() -> None:
    window, _ = correlate_batch(None, [event("a")])
    assert WindowCodec.decode(codec.encode(window)) == window
    assert WindowCodec.decode(b"{not json") is None and WindowCodec.decode(b'{"type": "Other"}') is None
    v1 = b'{"type":"Window","v":1,"data":{"key":"acme|acme-crm-db","incident_id":"i","seen":["e1","e2"]}}'
    assert WindowCodec.decode(v1) is None  # the state of the previous version: start afresh


def _traffic(batch: int, size: int) -> list[Any]:
    """One batch of a controller's day: failed logons that fire and expire, reads held for a
    correlation, duplicates, plain signals; later batches move time on so entries expire."""
    at = T0 + timedelta(minutes=9 * batch)
    events = []
    for n in range(size):
        kind = (batch * size + n) % 5
        t = at + timedelta(seconds=n)
        if kind == 0:
            events.append(event(f"f{batch}-{n}", asset="acme-auth", at=t, user="u0", category="authentication",
                                outcome="failure", source_ip="203.0.113.4"))
        elif kind == 1:
            events.append(event(f"r{batch}-{n}", action="select", data_store="crm", user="eve", at=t))
        elif kind == 2 and batch:
            events.append(event(f"f{batch - 1}-{n}", asset="acme-auth", at=t))  # a re-sent duplicate
        elif kind == 3 and batch % 4 == 3:  # after the failures: brute force then success fires
            events.append(event(f"s{batch}-{n}", asset="acme-auth", at=t, user="u0", category="authentication",
                                outcome="success"))
        else:
            events.append(event(f"p{batch}-{n}", user=f"bob{n}", at=t))
    return events


def test_deltas_rebuild_every_state_exactly_and_are_small() -> None:
    """Each batch's delta over the state before gives the state after, entry for entry, as
    decoding would (the correlator keeps the same objects; the reader has decoded ones)."""
    correlator = Correlator(Window(key="acme"), pack=PACK, config=Config(max_seen=400))
    writer = WindowCodec()
    previous = correlator.snapshot()
    read_back = WindowCodec.decode(writer.encode_snapshot(previous, 0))
    assert read_back is not None
    deltas = snapshots = 0
    filled: set[str] = set()
    for batch in range(40):
        correlator.add(_traffic(batch, 25))
        window = correlator.snapshot()
        raw = writer.encode_delta(previous, window, batch + 1)
        read_back, seq = WindowCodec.apply_delta(read_back, raw)
        assert seq == batch + 1 and read_back == window, f"batch {batch}"
        deltas, snapshots = deltas + len(raw), snapshots + len(writer.encode_snapshot(window, seq))
        previous = window
        filled |= {name for name in ("seen", "hits", "held", "incidents", "fired") if getattr(window, name)}
    assert filled == {"seen", "hits", "held", "incidents", "fired"}  # every list, its entries coming and going
    assert deltas * 5 < snapshots  # a batch writes what it brought, not the whole window again


def test_a_delta_that_does_not_fit_its_base_is_refused() -> None:
    correlator = Correlator(Window(key="acme"), pack=PACK)
    correlator.add(_traffic(0, 10))
    base = correlator.snapshot()
    correlator.add(_traffic(1, 10))
    raw = WindowCodec().encode_delta(base, correlator.snapshot(), 1)
    with pytest.raises(DeltaError, match="outside the 0 entries"):
        WindowCodec.apply_delta(Window(key="acme"), raw)
    with pytest.raises(DeltaError, match="not a window delta"):
        WindowCodec.apply_delta(base, WindowCodec().encode_snapshot(base, 0))
