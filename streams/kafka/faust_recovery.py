"""A table recovery that receives nothing is nudged once, then the worker gives up and exits.

What happens (faust-streaming 0.15.3, seen once in 18 runs of
tests/reliability/test_worker_crash.py): a surviving worker takes over the killed one's
partitions and starts recovering their tables from the changelogs; aiokafka keeps sending fetch
requests (faust's own check of the event path stays quiet), yet not one changelog record reaches
the tables, for any of the twelve partitions, until the test gives up two minutes later. faust
only warns ("No event received for active tp … since recovery start") and waits for ever; the
worker holds the partitions, so no other worker takes them, and the incidents they carry are
neither correlated nor notified: a breach delayed without end, and no one told.

The cause lies inside faust's fetch path during recovery (not found; the logs do not say), so
the remedy is one that does not depend on it. Every few seconds this watch looks at the recovery:
- once it has received nothing for STALL_SECONDS with records still to read, the changelog
  partitions are resumed, the flow resumed and the fetcher restarted if it had stopped (what
  faust itself does when recovery starts), with a log line saying what it saw;
- if still nothing arrives within GIVE_UP_SECONDS after that, the app is crashed: /healthz
  answers 503, the worker process exits with status 1 (streams/worker.py), its partitions go to
  the other workers, and the supervisor (``make up``) or the orchestrator starts it again, to
  recover from scratch. Nothing is lost: the records are in Kafka and no offset moved.
A recovery that moves, however slowly (a large changelog), is never touched.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Literal

import structlog
from prometheus_client import Counter

from streams.metrics import REGISTRY

log = structlog.get_logger("breach.recovery")

CHECK_SECONDS = 5.0
STALL_SECONDS = 30.0  # faust's own warning starts at 30 s (Recovery.event_timeout_secs)
GIVE_UP_SECONDS = 30.0  # after the nudge

RECOVERY_STALLS = Counter(
    "breach_recovery_stalls", "Table recoveries that received nothing: nudged, or given up (the worker exits)",
    ["outcome"], registry=REGISTRY)

Verdict = Literal["moving", "nudge", "give_up"]


class RecoveryStuck(RuntimeError):
    """The worker's table recovery received nothing, even after a nudge: restart the worker."""


@dataclass
class Watch:
    nudged_at: float | None = None
    recovery_started_at: float | None = None


def verdict(now: float, *, started_at: float, last_event_at: float | None, remaining: int,
            nudged_at: float | None) -> Verdict:
    """What to do about a recovery in progress (times: one monotonic clock)."""
    if remaining <= 0:
        return "moving"  # nothing left to read: faust is finishing
    quiet_since = max(t for t in (started_at, last_event_at, nudged_at) if t is not None)
    if nudged_at is not None and (last_event_at is None or last_event_at < nudged_at):
        return "give_up" if now - nudged_at >= GIVE_UP_SECONDS else "moving"
    return "nudge" if now - quiet_since >= STALL_SECONDS else "moving"


async def watching(app: Any) -> None:
    """Runs beside ``app`` until cancelled (streams/worker.py starts it before the app: a faust
    timer would only start once the first recovery is over)."""
    watch = Watch()
    while True:
        await asyncio.sleep(CHECK_SECONDS)
        try:
            await check(app, watch, time.monotonic())
        except Exception as exc:  # faust's internals moved (an upgrade): say so, keep the worker
            log.error("recovery.watch_failed", error=type(exc).__name__)
            return


async def check(app: Any, watch: Watch, now: float) -> None:
    recovery = app.tables.recovery
    started_at = recovery._recovery_started_at
    if not recovery.in_recovery or started_at is None:
        watch.nudged_at = None
        return
    if watch.recovery_started_at != started_at:  # a new recovery (after another rebalance)
        watch.recovery_started_at, watch.nudged_at = started_at, None
    received = recovery._active_events_received_at.values()
    last_event_at = max(received, default=None)
    remaining = int(recovery.active_remaining_total())
    action = verdict(now, started_at=started_at, last_event_at=last_event_at, remaining=remaining,
                     nudged_at=watch.nudged_at)
    if action == "moving":
        return
    consumer = app.consumer
    active_tps = set(recovery.active_tps)
    seen = {"remaining": remaining, "partitions": len(active_tps),
            "partitions_heard_from": len(recovery._active_events_received_at),
            "seconds_since_start": round(now - started_at, 1), "flow_active": bool(consumer.flow_active),
            "paused": len(active_tps & set(consumer._paused_partitions)),
            "fetcher_running": not app._fetcher.should_stop}
    if action == "nudge":
        RECOVERY_STALLS.labels(outcome="nudged").inc()
        log.warning("recovery.stalled", **seen)
        watch.nudged_at = now
        consumer.resume_partitions(active_tps)
        app.flow_control.resume()
        consumer.resume_flow()
        await app._fetcher.maybe_start()
        return
    RECOVERY_STALLS.labels(outcome="given_up").inc()
    log.error("recovery.stuck", **seen)
    await app.crash(RecoveryStuck(f"table recovery received nothing for {now - started_at:.0f} s"))
