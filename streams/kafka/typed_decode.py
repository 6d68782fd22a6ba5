"""The strict decoders of the hot path's records: signals and the workers' own commands, read by
msgspec straight from the bytes into the domain's dataclasses, one call per record (a signals
record is a key's whole batch).

They read the same envelopes as ``codec.decode`` and nothing else: a record they refuse (a value
of another type than its field's hint, a time RFC 3339 does not allow but ``fromisoformat``
does, an unknown envelope type, broken JSON) gives ``None``, and the caller takes the lenient
path (codec's converter compiled per type), which gives what it always gave, the dead letter's
reason included. So only records the lenient path would read the same way are read here; the
few documented exceptions are in CHANGELOG (issue 19) and pinned by
tests/unit/test_typed_decode.py.

A person's commands are left to the lenient path on purpose: a few per incident, and
``CorrectFacts`` carries free JSON, which msgspec and orjson read differently past 64-bit ints.
"""

from __future__ import annotations

from typing import Any

import msgspec

from incident.commands import AbsorbIncident, AttachSignal, MergeIncident, RecordDelivery, RecordDeliveryProgress, Tick
from incident.signals import SecurityEvent

# What the pipeline writes for each signal (correlate → incident) or per incident (the clock,
# delivery): the commands worth a decoder of their own.
MACHINE_COMMANDS: tuple[type, ...] = (AttachSignal, MergeIncident, AbsorbIncident, Tick, RecordDelivery,
                                      RecordDeliveryProgress)


class _Signal(msgspec.Struct):
    type: str
    data: SecurityEvent


# Every writer puts the type first (codec.encode): ``{"type":"AttachSignal","v":1,"data":{...}}``.
# Reading the name there picks the decoder without parsing anything else, so the other records
# (events, a person's commands) cost a prefix test, not a parse. A record laid out otherwise (a
# tool that re-serialised it) is read by the lenient path: just as well, more slowly.
_PREFIX = b'{"type":"'
_LONGEST = len(_PREFIX) + max(len(cls.__name__) for cls in MACHINE_COMMANDS) + 1


def _envelope_decoder(cls: type) -> msgspec.json.Decoder[Any]:
    """``{"type": <name>, "data": <cls>}`` in one call (``v`` and an audit ``chain`` are not
    read: codec.decode does not read them either)."""
    return msgspec.json.Decoder(msgspec.defstruct(f"{cls.__name__}Envelope", [("type", str), ("data", cls)]))


_COMMANDS = {cls.__name__.encode(): _envelope_decoder(cls) for cls in MACHINE_COMMANDS}
# A signals record is a list of envelopes; older workers wrote a single one.
_SIGNALS = msgspec.json.Decoder(list[_Signal] | _Signal)


def command(raw: bytes) -> Any | None:
    """The machine command in ``raw``, or None for anything else (the lenient path decides)."""
    if not raw.startswith(_PREFIX):
        return None
    end = raw.find(b'"', len(_PREFIX), _LONGEST)
    decoder = _COMMANDS.get(raw[len(_PREFIX):end]) if end > 0 else None
    if decoder is None:
        return None
    try:
        envelope = decoder.decode(raw)
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
