"""Mass delivery to 100,000 people (benchmarks/_delivery.py) against the raw rate of a pool of
aiosmtplib connections sending pre-built messages to the same local server (target ≥ 60 %)."""

from __future__ import annotations

from benchmarks import Context, Figure, measurement
from benchmarks._delivery import bench_delivery
from streams.embedded.services import Broker, free_port


@measurement(order=55)
async def delivery(ctx: Context) -> list[Figure]:
    # Its own broker: on the shared one, the ingest measurement's records and committed offsets
    # (same app id) are there first, and its confirmed breach joins an earlier incident.
    broker = Broker(port=free_port())
    broker.start()
    try:
        d = await bench_delivery(broker.bootstrap)
    finally:
        broker.stop()
    ctx.extra["delivery"] = d
    return [Figure("raw_pool_per_s", f"raw aiosmtplib pool of {d['pool']} (pre-built messages)", d["raw_pool_per_s"],
                   "msg/s", note="limit"),
            Figure("delivery_per_s", f"notice to {d['recipients']:,} people, end to end", d["emails_per_s"],
                   "msg/s", limit="raw_pool_per_s",
                   note=f"{d['duplicates']} duplicates, {d['failed']} failed, {d['in_doubt']} in doubt; "
                        "target >= 60 %")]
