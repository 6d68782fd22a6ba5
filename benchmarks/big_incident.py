"""CPU per attached signal as one incident grows (issue 14): attaching must cost the same in a
20,000-signal incident as in a 400-signal one (target: at most 1.25 times). In process, no
broker: what the incident agent does per signal (decide, fold) and per batch (the state saved)."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import orjson

from benchmarks import Context, Figure, measurement
from incident.commands import AttachSignal
from incident.decide import Rules, decide
from incident.model import Incident, fold
from incident.profiles import Directory
from incident.signals import Evidence
from streams.calendars import HolidaysCalendar
from streams.kafka import codec

SMALL, LARGE = 400, 20_000
TIMED = 400  # the last signals attached, timed
BATCH = 50  # signals per agent batch: the state is saved after each
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
BASE = Evidence(event_id="", title="Failed logon", occurred_at=T0, ingested_at=T0, asset="auth-1", system=None,
                severity=3, category="authentication", source_format="canonical", breach_types=(),
                data_categories=(), records=None, confirms_breach=False, raw_ref=None, reason="bench")


def cpu_per_signal_us(size: int) -> float:
    """Microseconds of CPU per signal for the last TIMED signals of an incident of ``size``."""
    rules = Rules(directory=Directory.of([]), calendar=HolidaysCalendar())
    incident_id = str(uuid.uuid4())
    state: Incident | None = None
    started = 0.0
    for n in range(size):
        if n == size - TIMED:
            started = time.process_time()
        at = T0 + timedelta(milliseconds=n)
        evidence = replace(BASE, event_id=f"bench-{n}", occurred_at=at, ingested_at=at)
        command = AttachSignal(incident_id=incident_id, controller=None, correlation_key="bench", evidence=evidence)
        state = fold(state, decide(command, state, now=at, rules=rules))
        if n % BATCH == BATCH - 1:
            orjson.dumps(codec.as_table_value(state))
    return (time.process_time() - started) / TIMED * 1e6


@measurement(order=70)
async def big_incident(ctx: Context) -> list[Figure]:
    small, large = cpu_per_signal_us(SMALL), cpu_per_signal_us(LARGE)
    ctx.extra["big_incident"] = {"small": SMALL, "large": LARGE, "small_us": small, "large_us": large}
    return [Figure("attach_cpu_400_us", f"CPU per attached signal, incident of {SMALL:,}", small, "µs"),
            Figure("attach_cpu_20000_us", f"CPU per attached signal, incident of {LARGE:,}", large, "µs",
                   note=f"{large / small:.2f}x the {SMALL:,}-signal figure; target <= 1.25x")]
