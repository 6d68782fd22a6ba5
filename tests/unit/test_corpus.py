"""Real records published by others, mapped right (issue 15): tests/corpus/README.md.

One test per format: every record is normalised as the worker does (auto-detected) and compared
with what its sidecar says a correct mapping gives; the test prints every mismatch and fails when
fewer than 97 % of the format's records map right.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from incident.errors import InvalidEvent
from incident.normalize import normalize_all

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
THRESHOLD = 0.97
FORMATS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and any(p.glob("*.expect.json")))


def _record_file(sidecar: Path) -> Path:
    stem = sidecar.name.removesuffix(".expect.json")
    found = [p for p in sidecar.parent.glob(f"{stem}.*") if p != sidecar and not p.name.endswith(".expect.json")]
    assert len(found) == 1, f"{sidecar}: expected one record file named {stem}.<ext>, found {found}"
    return found[0]


def _value(path: Path) -> bytes:
    """The Kafka value a shipper would send: a JSON record as is, a text line as its bytes."""
    return path.read_bytes().strip()


def _received_at(spec: dict[str, Any]) -> datetime:
    if "received_at" in spec:
        return datetime.fromisoformat(spec["received_at"])
    occurred = spec.get("expect", {}).get("occurred_at")
    if occurred:
        return datetime.fromisoformat(occurred) + timedelta(days=1)
    return datetime(2026, 1, 1, tzinfo=UTC)


def _comparable(name: str, value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if name == "occurred_at" and isinstance(value, str):
        return datetime.fromisoformat(value).astimezone(UTC)
    if isinstance(value, tuple):
        return list(value)
    return value


def check(sidecar: Path) -> list[str]:
    """What is wrong with one record's mapping (empty when it maps right)."""
    spec = json.loads(sidecar.read_text())
    source = spec.get("source", {})
    if not source.get("repository") and not source.get("url"):
        return ["no provenance (source.repository or source.url)"]
    results = normalize_all(_value(_record_file(sidecar)), _received_at(spec))
    if len(results) != 1:
        return [f"one record expected, the value holds {len(results)}"]
    result = results[0]
    if "refused" in spec:
        if not isinstance(result, InvalidEvent):
            return [f"expected a refusal ({spec['refused']!r}), got an event titled {result.title!r}"]
        if spec["refused"].lower() not in result.reason.lower():
            return [f"refused for another reason: {result.reason!r}"]
        return []
    if isinstance(result, InvalidEvent):
        return [f"refused: {result.reason}"]
    wrong = []
    for name, want in spec["expect"].items():
        got = getattr(result, name)
        if _comparable(name, got) != _comparable(name, want):
            wrong.append(f"{name}: expected {want!r}, got {got!r}")
    return wrong


@pytest.mark.parametrize("fmt", FORMATS)
def test_real_records_map_right(fmt: str) -> None:
    sidecars = sorted((CORPUS / fmt).glob("*.expect.json"))
    failures = {p.name.removesuffix(".expect.json"): check(p) for p in sidecars}
    failures = {name: wrong for name, wrong in failures.items() if wrong}
    right = len(sidecars) - len(failures)
    report = "\n".join(f"  {name}: {'; '.join(wrong)}" for name, wrong in failures.items())
    print(f"{fmt}: {right}/{len(sidecars)} records map right\n{report}")
    assert right >= THRESHOLD * len(sidecars), f"{fmt}: {right}/{len(sidecars)} map right\n{report}"


def test_corpus_layout() -> None:
    """Every record has its sidecar and every sidecar its record: none is silently left out."""
    for fmt_dir in (p for p in CORPUS.iterdir() if p.is_dir()):
        for record in fmt_dir.iterdir():
            if record.name.endswith(".expect.json"):
                _record_file(record)
            else:
                stem = record.name.rsplit(".", 1)[0]
                assert (fmt_dir / f"{stem}.expect.json").exists(), f"{record} has no {stem}.expect.json"
