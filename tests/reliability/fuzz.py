"""Malformed security-event records, many kinds, reproducible (seeded): bytes that are not
UTF-8, not JSON, JSON that is not an object, objects of no known format, and canonical or
Wazuh records broken one field at a time. Every one must be dead-lettered, none may crash."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Iterator

BASE_CANONICAL = {"id": "e-1", "time": "2026-11-22T10:00:00+01:00", "title": "Export", "host": "ampere-crm-db"}
BASE_WAZUH = {"rule": {"level": 10, "description": "x", "id": "5712"}, "agent": {"name": "ampere-web-01"},
              "timestamp": "2026-11-22T10:00:00.000+0100", "id": "1732270000.42"}
EXTREME_TIMES = ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00", "1969-12-31T23:59:59+00:00",
                 "2100-01-01T00:00:00+00:00", "0001-01-01T00:00:00+23:59"]
WEIRD = [None, True, -1, 1e308, "", "x" * 5000, [], {}, ["a"], {"a": 1}, "2026-13-45T99:00:00Z", "\u0000", "\ud800"]


def _text(rng: random.Random, n: int) -> str:
    return "".join(chr(rng.choice((rng.randrange(32, 127), rng.randrange(0x80, 0x2FFF)))) for _ in range(n))


def _broken_field(rng: random.Random, base: dict[str, object], fields: tuple[str, ...]) -> bytes:
    record = json.loads(json.dumps(base))
    name = rng.choice(fields)
    if rng.random() < 0.3:
        record.pop(name, None)
    else:
        record[name] = rng.choice(WEIRD)
    return json.dumps(record, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")


KINDS: dict[str, Callable[[random.Random], bytes]] = {
    "random bytes": lambda rng: rng.randbytes(rng.randrange(1, 300)),
    "not UTF-8": lambda rng: b'{"id": "' + bytes([0xC3, 0x28, 0xFF]) + b'"}',
    "truncated JSON": lambda rng: json.dumps(BASE_CANONICAL).encode()[: rng.randrange(1, 60)],
    "text": lambda rng: _text(rng, rng.randrange(1, 80)).encode(),
    "JSON scalar or list": lambda rng: json.dumps(rng.choice([1, "s", None, True, [1, 2], [BASE_CANONICAL]])).encode(),
    "object of no format": lambda rng: json.dumps({_text(rng, 5): _text(rng, 5) for _ in range(3)}).encode(),
    "canonical, one field broken": lambda rng: _broken_field(rng, BASE_CANONICAL, ("time", "title", "host")),
    "canonical, bad optional field": lambda rng: json.dumps({**BASE_CANONICAL, rng.choice(
        ["severity", "confirms_breach", "outcome", "data", "records", "bytes_out", "tags", "data_categories"]):
        rng.choice(WEIRD[:12])}).encode(),
    "wazuh, one field broken": lambda rng: _broken_field(rng, BASE_WAZUH, ("timestamp",)),
    "wazuh, bad rule level": lambda rng: json.dumps({**BASE_WAZUH, "rule": {**BASE_WAZUH["rule"],  # type: ignore[dict-item]
                                                     "level": rng.choice(["high", -3, 99, None, 2.5])}}).encode(),
    "unknown controller": lambda rng: json.dumps({**BASE_CANONICAL, "host": f"nowhere-{rng.randrange(10**6)}",
                                                  "controller": f"nobody-{rng.randrange(10**6)}"}).encode(),
    "deeply nested": lambda rng: b"[" * rng.randrange(1_500, 6_000) + b"]" * rng.randrange(0, 3),
    # What once passed normalisation and crashed a later stage for the whole batch (issue 14).
    "extreme time": lambda rng: json.dumps({**BASE_CANONICAL, "time": rng.choice(EXTREME_TIMES)}).encode(),
    "text that is not text": lambda rng: json.dumps({**BASE_CANONICAL, rng.choice(["title", "host", "user", "id"]):
                                                     rng.choice(["x\ud800", "\udfff", "db\x00", "a\x1b[2J"])}
                                                    ).encode(),
    "count past 64 bits": lambda rng: json.dumps({**BASE_CANONICAL, rng.choice(["records", "bytes_out"]):
                                                  rng.choice([2**64, 2**70, 10**30])}).encode(),
    "empty": lambda rng: b"",
}


def records(seed: int = 20261122) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(seed)
    names = sorted(KINDS)
    for n in itertools.count():
        kind = names[n % len(names)]
        yield kind, KINDS[kind](rng)


def malformed(count: int, is_valid: Callable[[bytes], bool], seed: int = 20261122) -> list[tuple[str, bytes]]:
    """``count`` fuzzed records that ``is_valid`` (the ingest agent's own check) rejects: a broken
    field can land on a value that happens to be allowed, and such records are not malformed."""
    return list(itertools.islice(((k, r) for k, r in records(seed) if not is_valid(r)), count))
