"""Normalisation on real records (issue 15): every record of tests/corpus (Wazuh, Suricata, ECS,
OCSF, CEF… as their vendors and users published them), normalised as ingest does, in process:
records per second, against the raw Kafka consume rate measured in the same run (normalising must
keep up with what the broker hands a worker), CPU µs per record over the mix, and the slowest format's."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from benchmarks import Context, Figure, measurement
from incident.normalize import normalize_all
from streams.settings import ROOT

CORPUS = ROOT / "tests" / "corpus"
ROUNDS = 200  # passes over the corpus: a few hundred records each


def corpus() -> dict[str, list[bytes]]:
    """format -> its records, as the Kafka values a shipper would send."""
    found: dict[str, list[bytes]] = {}
    for path in sorted(CORPUS.glob("*/*")):
        if path.is_file() and not path.name.endswith(".expect.json"):
            found.setdefault(path.parent.name, []).append(path.read_bytes().strip())
    return found


def cpu_us_per_record(records: list[bytes], rounds: int) -> float:
    received = datetime.now(UTC)
    started = time.process_time()
    for _ in range(rounds):
        for value in records:
            normalize_all(value, received)
    return (time.process_time() - started) / (rounds * len(records)) * 1e6


@measurement(order=25)  # after the limits it is compared with
async def normalise_corpus(ctx: Context) -> list[Figure]:
    by_format = corpus()
    mix = [value for values in by_format.values() for value in values]
    wall = time.perf_counter()
    mix_us = cpu_us_per_record(mix, ROUNDS)
    rate = ROUNDS * len(mix) / (time.perf_counter() - wall)
    per_format = {fmt: cpu_us_per_record(values, ROUNDS // 4) for fmt, values in by_format.items()}
    slowest = max(per_format, key=per_format.__getitem__)
    ctx.extra["normalise_corpus"] = {"records": len(mix), "formats": {f: len(v) for f, v in by_format.items()},
                                     "cpu_us": per_format}
    return [Figure("normalise_corpus_per_s", f"normalise the real-record corpus ({len(mix)} records, "
                   f"{len(by_format)} formats), one core", rate, "records/s",
                   limit="raw_consume_per_s"),
            Figure("normalise_corpus_cpu_us", "CPU per real record, the mix", mix_us, "µs",
                   note=f"slowest format: {slowest} at {per_format[slowest]:.0f} µs"),
            ]


