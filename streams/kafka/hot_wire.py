"""The hot path's records on the wire, by msgspec: signals (ingest → correlate) and the workers' own
commands (correlate, the clock and delivery → the incident agent), written from and read straight
into the domain's dataclasses, one call per record (a signals record is a key's whole batch).

Same envelopes as codec's, ``{"type": ..., "v": 1, "data": {...}}``, and only two differences:

- Written: msgspec spells UTC ``Z`` where orjson writes ``+00:00`` (every reader, codec's lenient
  one too, reads both as the same time in ``timezone.utc``); everything else is byte for byte what
  codec wrote. Nothing of these records is signed or hashed (a person's commands, which are
  signed, and the incident's events, which are chained, keep codec's writer).
- Read strictly: a record msgspec refuses (a value of another type than its field's hint, a time
  RFC 3339 does not allow but ``fromisoformat`` does, an unknown envelope type, broken JSON) gives
  ``None``, and the caller takes codec's lenient converter, which gives what it always gave, the
  dead letter's reason included. The few records the two read differently, none of which a writer
  of ours makes, are in CHANGELOG (issue 19) and pinned by tests/unit/test_hot_wire.py.

A person's commands are left to codec on purpose: a few per incident, signed as codec's bytes,
and ``CorrectFacts`` carries free JSON, which msgspec and orjson read differently past 64 bits.
"""

from __future__ import annotations

from typing import Any

import msgspec

from incident.commands import AbsorbIncident, AttachSignal, MergeIncident, RecordDelivery, RecordDeliveryProgress, Tick
from incident.signals import SecurityEvent

VERSION = 1  # codec.VERSION: the envelope did not change
# What the pipeline writes for each signal (correlate → incident) or per incident (the clock,
# delivery): the commands worth a reader of their own.
MACHINE_COMMANDS: tuple[type, ...] = (AttachSignal, MergeIncident, AbsorbIncident, Tick, RecordDelivery,
                                      RecordDeliveryProgress)
HOT: frozenset[type] = frozenset((SecurityEvent, *MACHINE_COMMANDS))

_ENCODER = msgspec.json.Encoder()
_HEADS = {cls: b'{"type":"' + cls.__name__.encode() + b'","v":%d,"data":' % VERSION for cls in HOT}


def encode(obj: Any) -> bytes | None:
    """The envelope of a hot record; None for another type, or a value msgspec cannot write (a
    lone surrogate): codec writes those its own way, and fails as it always did."""
    head = _HEADS.get(type(obj))
    if head is None:
        return None
    try:
        return head + _ENCODER.encode(obj) + b"}"
    except (msgspec.EncodeError, TypeError, ValueError, OverflowError):  # UnicodeEncodeError is a ValueError
        return None


class _Signal(msgspec.Struct):
    type: str
    data: SecurityEvent


def _envelope_reader(cls: type) -> msgspec.json.Decoder[Any]:
    """``{"type": <name>, "data": <cls>}`` in one call (``v`` and an audit ``chain`` are not
    read: codec.decode does not read them either)."""
    return msgspec.json.Decoder(msgspec.defstruct(f"{cls.__name__}Envelope", [("type", str), ("data", cls)]))


# Every writer puts the type first: ``{"type":"AttachSignal","v":1,"data":{...}}``. Reading the
# name there picks the reader without parsing anything else, so the other records (events, a
# person's commands) cost a prefix test, not a parse. A record laid out otherwise (a tool that
# re-serialised it) is read by the lenient path: just as well, more slowly.
_PREFIX = b'{"type":"'
_LONGEST = len(_PREFIX) + max(len(cls.__name__) for cls in MACHINE_COMMANDS) + 1
_COMMANDS = {cls.__name__.encode(): _envelope_reader(cls) for cls in MACHINE_COMMANDS}
# A signals record is a list of envelopes; older workers wrote a single one.
_SIGNALS = msgspec.json.Decoder(list[_Signal] | _Signal)


def command(raw: bytes) -> Any | None:
    """The machine command in ``raw``, or None for anything else (the lenient path decides)."""
    if not raw.startswith(_PREFIX):
        return None
    end = raw.find(b'"', len(_PREFIX), _LONGEST)
    reader = _COMMANDS.get(raw[len(_PREFIX):end]) if end > 0 else None
    if reader is None:
        return None
    try:
        envelope = reader.decode(raw)
    except msgspec.DecodeError:  # ValidationError (a value of the wrong type) is one
        return None
    # A second "type" later in the object wins in every JSON reader: then it is not this type.
    return envelope.data if envelope.type.encode() == raw[len(_PREFIX):end] else None


def signals(raw: bytes | str) -> list[SecurityEvent] | None:
    """The SecurityEvents of a signals record, or None if it holds anything else."""
    try:
        decoded = _SIGNALS.decode(raw)
    except msgspec.DecodeError:  # ValidationError (a value of the wrong type) is one
        return None
    items = decoded if isinstance(decoded, list) else [decoded]
    if any(item.type != "SecurityEvent" for item in items):
        return None
    return [item.data for item in items]
