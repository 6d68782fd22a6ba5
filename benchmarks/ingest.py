"""The service in-process, one worker: canonical events → signals → incidents; events/s and
record → signal-on-its-incident latency (queueing included: all records are sent at once)."""

from __future__ import annotations

import resource
import time
from datetime import UTC, datetime

from benchmarks import Context, Figure, measurement
from benchmarks._support import attached_in_process, canonical, percentiles, produce, read_events, until_counted
from incident.events import SignalAttached
from streams.deps import Deps
from streams.kafka.command_signing import new_key
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.profiles_loader import load_directory
from streams.settings import load_settings
from streams.worker import running

N = 2_000
ASSETS = ("ampere-crm-db", "ampere-web-01", "ama-app-01", "atometrics-atometrix-db", "publisher-2018-db-01")


@measurement(order=30)
async def ingest_one_worker(ctx: Context) -> list[Figure]:
    settings = load_settings({}, broker_url=f"kafka://{ctx.bootstrap}", data_dir=ctx.scratch / "ingest",
                             session_timeout=2.0, heartbeat_interval=0.5, command_keys=new_key("bench"))
    deps = Deps(directory=load_directory(settings.profiles_dir), mailer=RecordingMailer(),
                renderer=NoticeRenderer(settings.templates_dir / "notices"))
    async with running(settings, deps):
        before = attached_in_process()
        t0 = datetime.now(UTC)
        started = time.perf_counter()
        await produce(ctx.bootstrap, [canonical(i, ASSETS[i % len(ASSETS)], t0) for i in range(N)])

        async def count() -> float:
            return attached_in_process() - before

        elapsed = time.perf_counter() - started + await until_counted(count, N)
    attached = await read_events(ctx.bootstrap, SignalAttached, N)
    latencies = [(e.at - e.evidence.ingested_at).total_seconds() * 1000 for e in attached]
    p50, p99 = percentiles(latencies)
    # This process ran the worker: its peak RSS (before the clock bench's million-entry index).
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [Figure("ingest_per_s", "ingest → incident, 1 worker in-process, 5 assets", N / elapsed,
                   "events/s", limit="raw_kafka_per_s"),
            Figure("ingest_p50_ms", "latency p50 (record → signal on incident)", p50, "ms",
                   note=f"{N:,} records sent at once"),
            Figure("ingest_p99_ms", "latency p99", p99, "ms"),
            Figure("ingest_peak_rss_mb", "peak RSS, bench process with the worker", rss, "MB")]
