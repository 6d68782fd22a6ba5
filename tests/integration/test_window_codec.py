"""The correlator's compact table value round-trips exactly."""

from __future__ import annotations

from datetime import timedelta

from incident.correlation import correlate_batch
from streams import codec
from streams.rules_loader import load_rules
from streams.settings import ROOT
from streams.window_codec import WindowCodec
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
