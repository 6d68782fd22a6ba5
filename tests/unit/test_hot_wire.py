"""msgspec's writer and strict reader of signals and the workers' commands against codec's writer and
the lenient converter they sit in front of: the same bytes but for UTC spelt "Z"; for anything
written, the same values of the same types read either way; for what the strict reader refuses, the
lenient path's answer, errors included; the few records they read differently are pinned at the
end (CHANGELOG, issue 19)."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incident.commands import COMMANDS, AttachSignal, Tick
from incident.signals import Evidence, SecurityEvent
from streams.kafka import codec, hot_wire
from streams.kafka.command_signing import HUMAN_DECISIONS
from streams.pipeline.signal_batches import decode_signals, encode_signals
from tests.unit.builders import event

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)  # a lone surrogate is not encodable
INTS = st.integers(-(2**63), 2**64 - 1)  # what orjson writes; beyond, see the pinned differences
# Offsets in whole minutes, naive times too. (orjson writes an offset with seconds, +00:09:21, as
# +00:09, so no reader gets it back: it is not a value the wire carries. The strict reader refuses
# the full text, which the lenient path reads, below.)
ZONES = st.sampled_from([UTC, timezone(timedelta(0), "GMT"), timezone(timedelta(hours=1)),
                         timezone(timedelta(hours=-9, minutes=-30)), timezone(timedelta(hours=14)), None])
JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | INTS | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8)


def strategy(tp: Any) -> st.SearchStrategy[Any]:
    """Any value of ``tp`` the domain's dataclasses may hold, built from the hints (so a field
    added later is covered without touching this test)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(strategy(a) for a in args))
    if origin is tuple:
        return st.lists(strategy(args[0]), max_size=3).map(tuple)
    if origin is dict:
        return st.dictionaries(strategy(args[0]), strategy(args[1]), max_size=3)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return st.builds(tp, **{f.name: strategy(hints[f.name]) for f in dataclasses.fields(tp) if f.init})
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: TEXT, int: INTS, bool: st.booleans(), type(None): st.none(), Any: JSON,
        datetime: st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES)}
    return simple[tp]


def same(a: Any, b: Any) -> bool:
    """Equal, of the same types all the way down, times with the same offset (``==`` alone takes
    ``1 == True``, ``(1,) != [1]`` silently, and two offsets of one instant as equal)."""
    if type(a) is not type(b):
        return False
    if dataclasses.is_dataclass(a):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, datetime):
        return a == b and a.utcoffset() == b.utcoffset() and a.replace(tzinfo=None) == b.replace(tzinfo=None)
    return bool(a == b)


def plain(value: Any) -> bytes:
    """What codec wrote before msgspec: orjson, else json (an int beyond 64 bits). For a hot
    record (no float, no free JSON in it) its own definition, to_jsonable + json.dumps, with the one
    difference: a time at offset zero ends in "Z", not "+00:00"."""
    if type(value) not in hot_wire.HOT:
        try:
            return orjson.dumps({"type": type(value).__name__, "v": 1, "data": value}, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:
            return json.dumps(codec.envelope(value), ensure_ascii=False, separators=(",", ":")).encode()

    def z(node: Any) -> Any:
        if isinstance(node, datetime):
            zero = node.utcoffset() == timedelta(0)
            return node.replace(tzinfo=None).isoformat() + "Z" if zero else node.isoformat()
        if dataclasses.is_dataclass(node) and not isinstance(node, type):
            return {f.name: z(getattr(node, f.name)) for f in dataclasses.fields(node)}
        if isinstance(node, (list, tuple)):
            return [z(v) for v in node]
        return {k: z(v) for k, v in node.items()} if isinstance(node, dict) else node

    return json.dumps({"type": type(value).__name__, "v": 1, "data": z(value)}, ensure_ascii=False,
                      separators=(",", ":")).encode()


def lenient(raw: bytes) -> Any:
    """What codec.decode gave before the strict reader: the converter compiled per type."""
    envelope = orjson.loads(raw)
    return codec.from_jsonable(codec.REGISTRY[envelope["type"]], envelope["data"])


def reason(call: Any) -> str:
    with pytest.raises(codec.DecodeError) as caught:
        call()
    return str(caught.value)


@settings(max_examples=100, deadline=None)
@given(st.lists(strategy(SecurityEvent), min_size=1, max_size=5))
def test_a_signals_record_reads_back_the_signals_as_the_lenient_path_reads_them(signals: list[SecurityEvent]) -> None:
    (record,) = encode_signals(signals, limit=10_000_000)
    decoded = decode_signals(record)
    assert decoded == signals
    assert same(decoded, [lenient(item) for item in map(codec.encode, signals)])
    assert all(codec.encode(s) == plain(s) for s in signals)


@settings(max_examples=25, deadline=None)
@given(st.data())
@pytest.mark.parametrize("cls", COMMANDS, ids=lambda cls: cls.__name__)
def test_every_command_reads_back_as_the_lenient_path_reads_it(cls: type, data: st.DataObject) -> None:
    command = data.draw(strategy(cls))
    raw = codec.encode(command)
    assert raw == plain(command)  # a person's command (signed as its bytes): byte for byte what codec wrote
    decoded = codec.decode(raw)
    assert decoded == command and same(decoded, lenient(raw))


def test_the_hot_path_is_read_strictly_and_a_persons_command_is_not() -> None:
    signals = [event("a", confirms=True), replace(event("b"), tags=("x",), records=12, source_port=443)]
    (record,) = encode_signals(signals, limit=1_000_000)
    assert hot_wire.signals(record) == signals
    attach = AttachSignal(incident_id="i-1", controller="acme", correlation_key="acme",
                          evidence=Evidence.of(signals[0], reason="test"))
    for command in (attach, Tick(incident_id="i-1", at=datetime(2026, 11, 22, 10, tzinfo=UTC))):
        assert hot_wire.command(codec.encode(command)) == command
    assert hot_wire.VERSION == codec.VERSION and not set(hot_wire.MACHINE_COMMANDS) & set(HUMAN_DECISIONS)
    assert set(hot_wire.MACHINE_COMMANDS) | set(HUMAN_DECISIONS) == set(COMMANDS)  # a new one: decide which
    human = next(c for c in HUMAN_DECISIONS if c.__name__ == "StartTriage")(
        incident_id="i-1", by="dpo", at=datetime(2026, 11, 22, 10, tzinfo=UTC))
    assert hot_wire.command(codec.encode(human)) is None and codec.decode(codec.encode(human)) == human


def test_what_the_strict_reader_refuses_reads_as_before_and_fails_with_the_same_reasons() -> None:
    good = b'{"type":"Tick","v":1,"data":{"incident_id":"i-1","at":"2026-11-22T10:00:00+00:00"}}'  # codec's, before
    assert hot_wire.command(good) == Tick(incident_id="i-1", at=datetime(2026, 11, 22, 10, tzinfo=UTC))
    odd = [
        good.replace(b'"i-1"', b"7"),  # a number for a text: the lenient path keeps it as it is
        good.replace(b"+00:00", b"+00:00:30"),  # an offset with seconds: fromisoformat reads it
        b'{ "type": "Tick", "data": {"incident_id": "i-1", "at": "2026-11-22T10:00:00+00:00"}}',  # spaced
        good[:-1] + b',"type":"StartTriage"}',  # a second type: the last one wins, as in every reader
    ]
    for raw in odd:
        assert hot_wire.command(raw) is None
        try:
            expected = lenient(raw)
        except (KeyError, TypeError, ValueError) as exc:  # the reason a dead letter gave before
            assert reason(lambda raw=raw: codec.decode(raw)) == f"not a valid envelope: {type(exc).__name__}: {exc}"
        else:
            assert same(codec.decode(raw), expected)
    signal = codec.encode(event("a"))
    for bad in (b"{nope", b"\xff", b"[" + signal + b',{"type":"Tick","v":1,"data":{}}]',
                signal.replace(b'"severity":0', b'"severity":"high"'), b'{"type":"AttachSignal","data":{}}'):
        assert hot_wire.signals(bad) is None and hot_wire.command(bad) is None
    assert reason(lambda: decode_signals(b'[{"type": "Tick", "v": 1, "data": {}}]')).startswith("not a valid envelope")
    assert reason(lambda: codec.decode(b'{"type":"AttachSignal","v":1,"data":{}}')) == (
        "not a valid envelope: TypeError: AttachSignal.__init__() missing 4 required keyword-only arguments: "
        "'incident_id', 'controller', 'correlation_key', and 'evidence'")
    assert reason(lambda: codec.decode(b'{"type":"DeleteEverything","v":1,"data":{}}')) == (
        "not a valid envelope: KeyError: 'DeleteEverything'")


def test_records_the_two_readers_read_differently() -> None:
    """No writer of ours makes these; each is read the strict reader's way now (CHANGELOG)."""
    signal = orjson.dumps({"type": "SecurityEvent", "v": 1, "data": replace(event("a"), records=7)})  # codec's, before
    # An integer beyond 64 bits (ingest refuses one; json, not orjson, writes it): exact, no longer a float.
    big = signal.replace(b'"records":7', b'"records":123456789012345678901234')
    assert lenient(big).records == 1.2345678901234568e23 and decode_signals(big)[0].records == 123456789012345678901234
    stamp = event("a").occurred_at.isoformat().encode()
    # More than six digits of a second: rounded to the microsecond, no longer truncated.
    seven = signal.replace(stamp, stamp.replace(b"+00:00", b".1234567+00:00"))
    assert lenient(seven).occurred_at.microsecond == 123456
    assert decode_signals(seven)[0].occurred_at.microsecond == 123457
    # A lower-case "t" or "z" (RFC 3339 allows them; fromisoformat does not): read, no longer refused.
    lower = signal.replace(stamp, stamp.replace(b"T", b"t").replace(b"+00:00", b"z"))
    with pytest.raises(ValueError):
        lenient(lower)
    assert decode_signals(lower)[0].occurred_at == event("a").occurred_at
