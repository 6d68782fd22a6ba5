"""Scale-out: 1, 2 and 3 `breach worker` processes in one consumer group, each run on a fresh
broker with pre-created topics (6 partitions: 1, 2 and 3 workers get equal shares), records
spread over 300 assets. Throughput to the last signal on its incident, latency, and each
worker's peak RSS. The machine's cores are shared by the broker, this client and the workers."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from benchmarks import Context, Figure, measurement
from benchmarks._support import attached_by, canonical, percentiles, produce, read_events, until_counted
from incident.events import SignalAttached
from streams.embedded.cluster import all_ready, spawn_workers
from streams.embedded.services import Broker, free_port
from streams.kafka.topics_admin import create_topics
from streams.settings import load_settings

N = 3_000
PARTITIONS = 6
ASSETS = 300
WORKER_COUNTS = (1, 2, 3)


async def _run(processes: int, ctx: Context) -> dict[str, float]:
    broker = Broker(port=free_port())
    broker.start()
    workers = []
    try:
        await create_topics(load_settings({}, broker_url=f"kafka://{broker.bootstrap}", partitions=PARTITIONS))
        workers = spawn_workers(processes, broker.bootstrap, ctx.scratch / f"scaleout-{processes}", PARTITIONS,
                                {"BREACH_SMTP_HOST": ctx.smtp_host, "BREACH_SMTP_PORT": str(ctx.smtp_port)})
        await all_ready(workers)
        t0 = datetime.now(UTC)
        started = time.perf_counter()
        await produce(broker.bootstrap, [canonical(i, f"bench-host-{i % ASSETS:03d}", t0) for i in range(N)])

        async def attached() -> float:
            return await asyncio.to_thread(attached_by, workers)

        elapsed = time.perf_counter() - started + await until_counted(attached, N)
        events = await read_events(broker.bootstrap, SignalAttached, N)
        rss = max(w.peak_rss_mb() for w in workers)
    finally:
        for w in workers:
            w.stop()
        broker.stop()
    latencies = [(e.at - e.evidence.ingested_at).total_seconds() * 1000 for e in events]
    p50, p99 = percentiles(latencies)
    return {"events_per_s": N / elapsed,
            "p50_ms": p50, "p99_ms": p99, "peak_rss_mb_per_worker": rss}


@measurement(order=40)
async def scale_out(ctx: Context) -> list[Figure]:
    runs = {n: await _run(n, ctx) for n in WORKER_COUNTS}
    ctx.extra["scaleout"] = {str(n): r for n, r in runs.items()}
    figures = []
    for n, r in runs.items():
        figures.append(Figure(f"workers_{n}_per_s", f"ingest → incident, {n} worker process(es), {ASSETS} assets",
                              r["events_per_s"], "events/s", limit="raw_kafka_per_s",
                              note=f"p50 {r['p50_ms']:,.0f} ms / p99 {r['p99_ms']:,.0f} ms"))
    figures.append(Figure("worker_peak_rss_mb", "peak RSS per worker process (max)",
                          max(r["peak_rss_mb_per_worker"] for r in runs.values()), "MB"))
    figures.append(Figure("scaleout_3_vs_1", "speed-up, 3 workers vs 1", runs[3]["events_per_s"]
                          / runs[1]["events_per_s"], "x"))
    return figures
