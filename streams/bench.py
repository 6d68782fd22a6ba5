"""`make bench`: the skeleton's figures, each beside the raw limit measured in the same run.

1. raw aiokafka produce and consume rates on the embedded broker (the limit);
2. the service: canonical events → signals → incidents, events/s and ingest→incident latency
   percentiles (broker timestamp of the record → time the incident recorded the signal);
3. worker memory (peak RSS of this process, which runs the worker in-process);
4. the clocks (streams/bench_clocks.py) and mass delivery (streams/bench_delivery.py);
5. ingest + normalise + correlate alone, on a fresh broker, as a ratio of that broker's raw
   consume rate, and produce → incident command latency at half that rate (streams/bench_correlate.py).
Writes .data/bench.json. Loopback only; bounded in count and time.
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from console.projection import current_partitions
from incident.events import SignalAttached
from streams import codec
from streams.bench_clocks import INTERVAL, SPREAD, bench_clocks
from streams.bench_correlate import bench_correlation
from streams.bench_delivery import bench_delivery
from streams.bench_delivery import report as delivery_report
from streams.deps import Deps
from streams.embedded import Broker, free_port
from streams.logging import configure_logging
from streams.mailer import RecordingMailer
from streams.profiles_loader import load_directory
from streams.render import NoticeRenderer
from streams.settings import ROOT, load_settings
from streams.worker import running

RAW_N = 20_000
SERVICE_N = 2_000
ASSETS = ("ampere-crm-db", "ampere-web-01", "ama-app-01", "atometrics-atometrix-db", "publisher-2018-db-01")


async def raw_rates(bootstrap: str) -> tuple[float, float]:
    payload = b"x" * 1000
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=10, max_batch_size=512 * 1024)
    await producer.start()
    started = time.perf_counter()
    futures = [await producer.send("bench-raw", payload) for _ in range(RAW_N)]
    await asyncio.gather(*futures)
    produce = RAW_N / (time.perf_counter() - started)
    await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    consumer.assign(sorted(await current_partitions(consumer, ("bench-raw",))))
    await consumer.seek_to_beginning()
    seen, started = 0, time.perf_counter()
    while seen < RAW_N:
        seen += sum(len(b) for b in (await consumer.getmany(timeout_ms=1000, max_records=5000)).values())
    consume = RAW_N / (time.perf_counter() - started)
    await consumer.stop()
    return produce, consume


async def service_rate(bootstrap: str, data_dir: Path) -> dict[str, float]:
    settings = load_settings({}, broker_url=f"kafka://{bootstrap}", data_dir=data_dir, session_timeout=2.0,
                             heartbeat_interval=0.5)
    deps = Deps(directory=load_directory(settings.profiles_dir), mailer=RecordingMailer(),
                renderer=NoticeRenderer(settings.templates_dir / "notices"))
    async with running(settings, deps):
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
        await consumer.start()
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
        await producer.start()
        t0 = datetime.now(UTC)
        started = time.perf_counter()
        for i in range(SERVICE_N):
            record = {"id": f"bench-{i}", "time": (t0 + timedelta(seconds=i)).isoformat(), "title": "Bench signal",
                      "host": ASSETS[i % len(ASSETS)], "severity": "low"}
            await producer.send("security-events", json.dumps(record).encode())
        await producer.flush()
        latencies: list[float] = []
        deadline = time.monotonic() + 600
        while len(latencies) < SERVICE_N and time.monotonic() < deadline:
            consumer.assign(sorted(await current_partitions(consumer, ("incident-events",))) or [])
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for message in batch:
                    event = codec.decode(message.value)
                    if isinstance(event, SignalAttached):
                        latencies.append((event.at - event.evidence.ingested_at).total_seconds() * 1000)
        elapsed = time.perf_counter() - started
        await producer.stop()
        await consumer.stop()
    q = statistics.quantiles(latencies, n=100)
    return {"events": len(latencies), "events_per_s": len(latencies) / elapsed, "p50_ms": q[49], "p99_ms": q[98]}


async def main() -> None:
    configure_logging(load_settings({}, log_level="warning"))  # one line per event would be the bench
    broker = Broker(port=free_port())
    broker.start()
    try:
        produce, consume = await raw_rates(broker.bootstrap)
        with tempfile.TemporaryDirectory() as tmp:
            service = await service_rate(broker.bootstrap, Path(tmp))
        # Before the clock bench, whose million-entry index would count as the worker's.
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        clocks = await bench_clocks(broker.bootstrap)
        delivery = await bench_delivery(broker.bootstrap)
    finally:
        broker.stop()
    # A fresh broker (the one above holds a million Ticks), with its own raw consume rate.
    broker = Broker(port=free_port())
    broker.start()
    try:
        _, corr_consume = await raw_rates(broker.bootstrap)
        with tempfile.TemporaryDirectory() as tmp:
            corr = await bench_correlation(broker.bootstrap, Path(tmp))
    finally:
        broker.stop()
    corr["raw_consume_per_s"] = corr_consume
    corr["ratio_to_raw_consume"] = corr["events_per_s"] / corr_consume
    limit = min(produce, consume)
    figures: dict[str, Any] = {
        "at": datetime.now(UTC).isoformat(), "raw_produce_per_s": produce, "raw_consume_per_s": consume,
        **service, "ratio_to_raw_limit": service["events_per_s"] / limit, "worker_peak_rss_mb": rss_mb,
        "clocks": clocks, "delivery": delivery, "correlation": corr,
    }
    idle, p99 = clocks["cpu_per_idle_tick_ms"], clocks["tick_lag_p99_s"]
    size, ratio, load = corr["avg_record_bytes"], corr["ratio_to_raw_consume"], corr["latency_load_per_s"]
    out = ROOT / ".data" / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    print(f"""
breach-response bench (one worker, embedded broker, this machine)
  raw aiokafka produce      {produce:10,.0f} msg/s   (limit)
  raw aiokafka consume      {consume:10,.0f} msg/s   (limit)
  ingest -> incident        {service['events_per_s']:10,.0f} events/s = {figures['ratio_to_raw_limit']:.1%} of limit
  latency p50 / p99         {service['p50_ms']:10,.0f} / {service['p99_ms']:,.0f} ms
                            (record -> signal on its incident; {SERVICE_N:,} sent at once: queueing included)
  worker peak RSS           {rss_mb:10,.0f} MB
  {clocks['clocks']:,} scheduled clocks on one worker (due over {SPREAD:g} s, tick every {INTERVAL:g} s):
    due-index memory        {clocks['index_mb']:10,.0f} MB
    CPU per tick            {clocks['cpu_per_tick_ms']:10,.1f} ms with Ticks to send, {idle:.2f} ms idle
    due -> Tick on broker   p50 {clocks['tick_lag_p50_s']:.2f} s / p99 {p99:.2f} s (target p99 < 1 s)
  ingest + normalise + correlate, one worker, {corr['events']:,} records of ~{size:,.0f} B (fresh broker):
    raw aiokafka consume    {corr['raw_consume_per_s']:10,.0f} msg/s
    worker                  {corr['events_per_s']:10,.0f} events/s = {ratio:.1%} of raw consume (target >= 20 %)
    produce -> command      p50 {corr['p50_ms']:,.0f} ms / p99 {corr['p99_ms']:,.0f} ms at {load:,.0f} events/s \
(half the max; target p99 < 250 ms)
{delivery_report(delivery)}  written to {out}
""")


if __name__ == "__main__":
    asyncio.run(main())
