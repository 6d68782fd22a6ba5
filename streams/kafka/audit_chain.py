"""The audit chain on the wire: a ``chain`` field in each versioned event's envelope, and the
head kept in the incident's table value. The rule itself (links, verdicts) is incident/chain.py.

A chained record reads ``{"type": ..., "v": 1, "data": {...}, "chain": {"prev": <hex>, "hash": <hex>}}``.
In the envelope rather than in a Kafka header: it is then part of the value every reader, dump,
mirror or backup of the topic already keeps, and readers that do not know it ignore it (codec
reads only ``type`` and ``data``). The hash covers the canonical bytes of the envelope without
``chain``: its JSON with sorted keys and no spaces, rebuilt from the parsed record on both sides,
so a copy re-serialised by another tool (key order, spacing) still verifies, and any change to a
value does not.

Deterministic by construction: a link depends only on the head saved with the state and on the
event's bytes, so a crash replay deciding the same commands against the same saved state and head
publishes the same hashes for the same events (if the clock moved in between, the events differ,
and so do their hashes: a fork, see incident/chain.py). The head is written with the state (after the events are on the
broker, as the state is): a worker taking a partition over continues from it.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from incident.chain import GENESIS as GENESIS  # the agent starts new chains from it
from incident.chain import Link, link
from streams.kafka import codec

CHAIN = "chain"  # the envelope's field
HEAD = "chain_head"  # the table value's field: the hash of the incident's latest event


def parse(raw: bytes) -> dict[str, Any]:
    try:
        tree: dict[str, Any] = orjson.loads(raw)
    except orjson.JSONDecodeError:
        tree = json.loads(raw)  # what orjson does not read (an int beyond 64 bits) but json does
    return tree


def canonical(tree: dict[str, Any]) -> bytes:
    """The bytes hashed: the envelope without its chain, keys sorted, compact."""
    body = {k: v for k, v in tree.items() if k != CHAIN}
    try:
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # an int beyond 64 bits: the plain way, the same on every side for the same tree
        return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def stamp(encoded: bytes, prev: str) -> tuple[bytes, str]:
    """An encoded event with its chain field added, and its hash (the incident's new head)."""
    digest = link(prev, canonical(parse(encoded)))
    # The envelope is a JSON object: its closing brace becomes the chain field and a brace.
    chained = encoded[:-1] + b',"' + CHAIN.encode() + b'":' + orjson.dumps({"prev": prev, "hash": digest}) + b"}"
    return chained, digest


def head_of(stored: Any) -> str:
    """The head saved with an incident's state; GENESIS when there is none (a new incident, or
    one last saved before chaining: its next event starts the chain)."""
    head = stored.get(HEAD) if isinstance(stored, dict) else None
    return head if isinstance(head, str) else GENESIS


def with_head(value: dict[str, Any], head: str) -> dict[str, Any]:
    """A table value (an envelope dict) carrying the head; codec.decode ignores the extra field."""
    value[HEAD] = head
    return value


def link_of(tree: dict[str, Any], where: str) -> Link | None:
    """The link of a parsed event record; None for records outside any chain (CommandRejected has
    no version) or that are not envelopes."""
    data = tree.get("data")
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, int) or isinstance(version, bool):
        return None
    chain = tree.get(CHAIN)
    prev = chain.get("prev") if isinstance(chain, dict) else None
    digest = chain.get("hash") if isinstance(chain, dict) else None
    return Link(version=version, kind=str(tree.get("type", "?")), where=where, body=canonical(tree),
                prev=prev if isinstance(prev, str) else None, hash=digest if isinstance(digest, str) else None)


def decode(raw: bytes, where: str) -> tuple[Any, Link | None]:
    """An incident-events record read once: the event (codec.decode) and its link (None outside
    any chain). Raises codec.DecodeError as codec.decode does."""
    try:
        tree = parse(raw)
    except ValueError as exc:
        raise codec.DecodeError(f"not a valid envelope: {type(exc).__name__}: {exc}") from None
    event = codec.decode(tree)
    return event, link_of(tree, where) if isinstance(tree, dict) else None
