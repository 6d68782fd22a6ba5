"""`make bench`, clocks part: one worker's due-index holding 1,000,000 scheduled clocks.

Measures the index's memory, the CPU of one clock tick, and the lag between each clock's due
time and its Tick command reaching the broker — the clock agent's whole job: pop what is due,
produce a Tick per incident. Due times are spread over SPREAD seconds of real time.
"""

from __future__ import annotations

import asyncio
import gc
import random
import resource
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer

from incident.commands import Tick
from streams.agents.due_index import DueIndex
from streams.kafka import codec

CLOCKS = 1_000_000
SPREAD = 120.0  # seconds over which the clocks fall due
INTERVAL = 0.25  # the clock agent's tick


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


async def bench_clocks(bootstrap: str) -> dict[str, Any]:
    rng = random.Random(42)  # noqa: S311 - spreading due times, not secrets
    gc.collect()
    before = _rss_mb()
    index = DueIndex()
    start = time.time() + 2.0
    for n in range(CLOCKS):
        index.set(f"incident-{n:07d}", start + rng.random() * SPREAD)
    memory = _rss_mb() - before
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=512 * 1024)
    await producer.start()
    lags: list[float] = []
    busy_cpu: list[float] = []
    idle_cpu: list[float] = []
    try:
        while len(index):
            cpu0, now = time.process_time(), time.time()
            due = index.pop_due(now)
            for incident_id, _ in due:
                tick = Tick(incident_id=incident_id, at=datetime.now(UTC))
                await producer.send("incident-commands", codec.encode(tick), key=incident_id.encode())
            if due:
                await producer.flush()
                delivered = time.time()
                lags.extend(delivered - at for _, at in due)
            (busy_cpu if due else idle_cpu).append(time.process_time() - cpu0)
            await asyncio.sleep(max(0.0, INTERVAL - (time.time() - now)))  # the timer's interval
    finally:
        await producer.stop()
    q = statistics.quantiles(lags, n=100)
    return {"clocks": CLOCKS, "index_mb": memory, "ticks_with_work": len(busy_cpu),
            "cpu_per_tick_ms": statistics.mean(busy_cpu) * 1000,
            "cpu_per_idle_tick_ms": statistics.mean(idle_cpu) * 1000 if idle_cpu else 0.0,
            "tick_lag_p50_s": q[49], "tick_lag_p99_s": q[98]}
