"""Ingest + normalise + correlate alone (benchmarks/_correlate.py), on a fresh broker whose
raw consume rate is measured first: the issue's ratio (target ≥ 20 %) and produce → incident
command latency at half the measured maximum (target p99 < 250 ms)."""

from __future__ import annotations

from benchmarks import Context, Figure, measurement
from benchmarks._correlate import bench_correlation
from benchmarks.kafka_raw import raw_kafka
from streams.embedded.services import Broker, free_port


@measurement(order=35)
async def correlation(ctx: Context) -> list[Figure]:
    broker = Broker(port=free_port())  # its own: earlier measurements left records in security-events
    broker.start()
    try:
        own = Context(bootstrap=broker.bootstrap, smtp_host=ctx.smtp_host, smtp_port=ctx.smtp_port,
                      scratch=ctx.scratch)
        raw = {f.key: f.value for f in await raw_kafka(own)}["raw_consume_per_s"]
        c = await bench_correlation(broker.bootstrap, ctx.scratch / "correlation")
    finally:
        broker.stop()
    ctx.extra["correlation"] = c
    load = f"at {c['latency_load_per_s']:,.0f} events/s (half the max)"
    return [Figure("correlate_raw_consume_per_s", "raw aiokafka consume (correlation's broker)", raw, "msg/s",
                   note="limit"),
            Figure("correlate_events_per_s", "ingest + normalise + correlate, one worker", c["events_per_s"],
                   "events/s", limit="correlate_raw_consume_per_s",
                   note=f"{c['events']:,} records of ~{c['avg_record_bytes']:,.0f} B; target >= 20 %"),
            Figure("window_bytes_per_input_byte", "correlation state written per input byte (target <= 1.5)",
                   c["window_bytes_per_input_byte"], "B/B",
                   note="deltas + snapshots + tombstones of the windows table, over the records' bytes"),
            Figure("correlate_p50_ms", "produce → incident command p50", c["p50_ms"], "ms", note=load),
            Figure("correlate_p99_ms", "produce → incident command p99 (target < 250 ms)", c["p99_ms"], "ms",
                   note=load)]
