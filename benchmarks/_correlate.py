"""`make bench`, correlation part: one worker running only ingest + correlate (the shipped
profiles and rule pack), against the raw aiokafka consume rate on the same broker.

1. Throughput, and the window state written per input byte: N ~1 KB records (canonical; a mix
   of plain alerts, credential-stuffing failures that the rules hold and then release, and
   data-store reads that stay held) are produced first; the worker starts; the clock runs from
   "worker ready" to the broker timestamp of the last AttachSignal command on incident-commands
   (start-up excluded).
2. Latency at half that rate: plain alerts produced at max/2 for a few seconds; latency is the
   AttachSignal record's broker timestamp minus the input record's (both this machine's clock).
The worker runs in this process, so the producer and the reading consumer share its core.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams import metrics
from streams.app import create_app
from streams.deps import Deps
from streams.kafka.partitions import current_partitions
from streams.kafka.topics import INCIDENT_COMMANDS, SECURITY_EVENTS, declare
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.pipeline import correlate, ingest
from streams.profiles_loader import load_directory
from streams.rules_loader import load_rules
from streams.settings import Settings, load_settings
from streams.worker import started

THROUGHPUT_N = 30_000
LATENCY_SECONDS = 8.0
HOSTS = ("ampere-web-01", "ampere-crm-db", "ama-app-01", "ama-web-01", "atometrics-atometrix-db",
         "atometrics-atometrix-app", "publisher-2018-db-01", "ampere-web-02")
PAD = "x" * 560  # brings a record to ~1 KB, the size the raw rate is measured with


def record(i: int, t0: datetime, *, plain_only: bool = False) -> dict[str, Any]:
    host = HOSTS[i % len(HOSTS)]
    base = {"id": f"bench-{i}", "time": (t0 + timedelta(milliseconds=50 * i)).isoformat(), "host": host,
            "severity": "low", "title": f"Bench alert {i % 97} {PAD}", "user": f"user{i % 500}@example.org",
            "source_ip": f"198.51.{(i // 250) % 250}.{i % 250}"}
    kind = 0 if plain_only else i % 10
    if kind in (7, 8):  # credential stuffing from one source per host: held, then released
        return {**base, "category": "authentication", "outcome": "failure", "source_ip": f"203.0.113.{i % 8}"}
    if kind == 9:  # a read of a data store: held, and (one account, few reads) never released
        return {**base, "action": "select", "data_store": "crm.contacts"}
    return base


@contextlib.asynccontextmanager
async def ingest_and_correlate(settings: Settings, deps: Deps) -> AsyncIterator[None]:
    app = create_app(settings, app_id="bench-correlate")
    topics, tables = declare(app, settings.partitions)
    ingest.register(app, topics, tables, deps)
    correlate.register(app, topics, tables, deps)
    async with started(app, stop_timeout=settings.stop_timeout):
        yield


async def _commands(consumer: AIOKafkaConsumer, seen: dict[str, float], quiet: float, first: float = 120.0) -> None:
    """Read AttachSignal commands into ``seen`` (event id -> broker timestamp, s) until none came for
    ``quiet`` s; the first may take up to ``first`` s (a worker's first batch on a busy machine)."""
    before = len(seen)
    last = time.monotonic()
    while time.monotonic() - last < (quiet if len(seen) > before else first):
        if not consumer.assignment():
            consumer.assign(sorted(await current_partitions(consumer, (INCIDENT_COMMANDS,))) or [])
        for batch in (await consumer.getmany(timeout_ms=200, max_records=10_000)).values():
            for message in batch:
                # json, not codec.decode: the reader shares the worker's core and must stay cheap.
                command = json.loads(message.value)
                if command.get("type") != "AttachSignal":  # merges and the like carry no evidence
                    continue
                seen.setdefault(command["data"]["evidence"]["event_id"], message.timestamp / 1000)
                last = time.monotonic()


async def bench_correlation(bootstrap: str, data_dir: Path) -> dict[str, Any]:
    settings = load_settings({}, broker_url=f"kafka://{bootstrap}", data_dir=data_dir, session_timeout=2.0,
                             heartbeat_interval=0.5)
    deps = Deps(directory=load_directory(settings.profiles_dir), mailer=RecordingMailer(),
                renderer=NoticeRenderer(settings.templates_dir / "notices"), rule_pack=load_rules(settings.rules_dir),
                batch_size=settings.batch_size, batch_seconds=settings.batch_seconds)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=10, max_batch_size=512 * 1024)
    await producer.start()
    t0 = datetime.now(UTC) - timedelta(hours=1)
    size = 0
    for i in range(THROUGHPUT_N):
        line = json.dumps(record(i, t0)).encode()
        size += len(line)
        await producer.send(SECURITY_EVENTS, line)
    await producer.flush()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    seen: dict[str, float] = {}
    try:
        async with ingest_and_correlate(settings, deps):
            ready = time.time()
            written = metrics.window_bytes_written()
            await _commands(consumer, seen, quiet=10.0)  # a loaded machine pauses a worker for seconds
            written = metrics.window_bytes_written() - written
            attached = len(seen)
            rate = THROUGHPUT_N / (max(seen.values()) - ready)
            # Latency at half the measured rate: plain alerts only, each attached at once.
            target = rate / 2
            sent: dict[str, Any] = {}  # event id -> the send future (its metadata has the timestamp)
            start, n = time.time(), THROUGHPUT_N
            while time.time() - start < LATENCY_SECONDS:
                due = int((time.time() - start) * target) - len(sent)
                for _ in range(max(due, 0)):
                    item = record(n, datetime.now(UTC), plain_only=True)
                    future = await producer.send(SECURITY_EVENTS, json.dumps(item).encode())
                    sent[item["id"]] = future
                    n += 1
                await asyncio.sleep(0.005)
            await producer.flush()
            created = {event_id: (await future).timestamp / 1000 for event_id, future in sent.items()}
            await _commands(consumer, seen, quiet=3.0)
    finally:
        await consumer.stop()
        await producer.stop()
    latencies = sorted((seen[i] - created[i]) * 1000 for i in created if i in seen)
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {"events": THROUGHPUT_N, "avg_record_bytes": size / THROUGHPUT_N, "attached": attached,
            "window_bytes_per_input_byte": written / size,
            "events_per_s": rate, "latency_load_per_s": target, "latency_events": len(latencies),
            "latency_lost": len(created) - len(latencies), "p50_ms": q[49], "p99_ms": q[98]}
