"""1,000,000 scheduled clocks on one worker's due-index (benchmarks/_clocks.py)."""

from __future__ import annotations

from benchmarks import Context, Figure, measurement
from benchmarks._clocks import INTERVAL, SPREAD, bench_clocks


@measurement(order=60)
async def clocks(ctx: Context) -> list[Figure]:
    c = await bench_clocks(ctx.bootstrap)
    ctx.extra["clocks"] = c
    note = f"{c['clocks']:,} clocks due over {SPREAD:g} s, tick every {INTERVAL:g} s"
    return [Figure("clock_lag_p50_s", "clock lag p50 (due → Tick on the broker)", c["tick_lag_p50_s"], "s",
                   note=note),
            Figure("clock_lag_p99_s", "clock lag p99 (target < 1 s)", c["tick_lag_p99_s"], "s"),
            Figure("clock_index_mb", "due-index memory", c["index_mb"], "MB"),
            Figure("clock_cpu_per_tick_ms", "CPU per tick with Ticks to send", c["cpu_per_tick_ms"], "ms")]
