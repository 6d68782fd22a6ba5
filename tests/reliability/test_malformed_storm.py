"""A storm of malformed records on real worker processes: 100,000 fuzzed records
(tests/reliability/fuzz.py) → no worker crashes, every record in security-events.dlq with a
reason and its bytes intact, nothing published as a signal."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams.deps import Deps
from streams.embedded.cluster import WorkerProcess, all_ready, spawn_workers
from streams.embedded.services import Broker
from streams.kafka.partitions import current_partitions
from streams.kafka.topics_admin import create_topics
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.pipeline.ingest import normalise
from streams.profiles_loader import load_directory
from streams.settings import ROOT, load_settings
from tests.reliability.fuzz import malformed

STORM = 100_000
PARTITIONS = 4
WORKERS = 2
BATCH = 5_000  # records sent per flush


DEPS = Deps(directory=load_directory(ROOT / "deploy" / "profiles"),
            renderer=NoticeRenderer(ROOT / "templates" / "notices"), mailer=RecordingMailer())


def _is_valid(raw: bytes) -> bool:
    """The ingest agent's own check, with the profiles the workers load."""
    try:
        results = normalise(raw, datetime.now(UTC), "fuzz:0:0", DEPS)
    except Exception:  # what would crash the agent: malformed, to be dead-lettered
        return False
    return all(not isinstance(r, Exception) for _, r in results)


async def _produce(bootstrap: str, records: list[tuple[str, bytes]]) -> dict[str, bytes]:
    """Send in batches; the broker's reference (topic:partition:offset) of each record → its bytes."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=512 * 1024,
                                max_request_size=4 * 1024 * 1024)
    await producer.start()
    sent: dict[str, bytes] = {}
    try:
        for start in range(0, len(records), BATCH):
            chunk = records[start:start + BATCH]
            futures = [await producer.send("security-events", raw) for _, raw in chunk]
            for (_, raw), meta in zip(chunk, await asyncio.gather(*futures), strict=True):
                sent[f"security-events:{meta.partition}:{meta.offset}"] = raw
    finally:
        await producer.stop()
    return sent


async def _until_dead_lettered(workers: list[WorkerProcess], count: int, within: float) -> None:
    """Until the workers' own dead-letter counters reach ``count``; each must stay alive."""
    deadline = time.monotonic() + within
    done = 0.0
    while done < count:
        assert all(w.alive() for w in workers), f"a worker died: see {[str(w.log) for w in workers]}"
        assert time.monotonic() < deadline, f"{done:,.0f} of {count:,} dead-lettered before the deadline"
        await asyncio.sleep(0.5)  # polling the workers' counters, not waiting for a result
        done = sum(await asyncio.to_thread(
            lambda: [w.metric("breach_dead_letters_total", topic="security-events.dlq") for w in workers]))


def _uncovered(letters: dict[str, dict[str, str]], sent: dict[str, bytes]) -> set[str]:
    """Records with no dead letter: neither under their own source, nor (a batch taken apart by
    the envelope reader) under ``source#index`` of their elements."""
    return set(sent) - {source.split("#")[0] for source in letters}


async def _dead_letters(bootstrap: str, sent: dict[str, bytes], within: float = 120.0) -> dict[str, dict[str, str]]:
    """Every dead letter by source, read once the workers are done (a reader racing the
    embedded broker's appends can stall), until every sent record is covered or the deadline."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    letters: dict[str, dict[str, str]] = {}
    try:
        consumer.assign(sorted(await current_partitions(consumer, ("security-events.dlq",))))
        await consumer.seek_to_beginning()
        deadline = time.monotonic() + within
        while _uncovered(letters, sent) and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500, max_records=10_000)).values():
                for record in batch:
                    letter = json.loads(record.value)
                    letters[letter["source"]] = letter
    finally:
        await consumer.stop()
    return letters


async def _topic_size(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        partitions = sorted(await current_partitions(consumer, (topic,)))
        return sum((await consumer.end_offsets(partitions)).values()) if partitions else 0
    finally:
        await consumer.stop()


@pytest.mark.asyncio
@pytest.mark.timeout(1200)  # 100,000 records: ~4 min on two loaded cores, past the 300 s default
async def test_a_storm_of_malformed_records_is_dead_lettered_without_a_crash(broker: Broker, tmp_path: Path) -> None:
    records = malformed(STORM, _is_valid)
    kinds = Counter(kind for kind, _ in records)
    assert len(records) == STORM and len(kinds) >= 12 and kinds["deeply nested"] > 1000

    await create_topics(load_settings({}, broker_url=f"kafka://{broker.bootstrap}", partitions=PARTITIONS))
    workers = spawn_workers(WORKERS, broker.bootstrap, tmp_path, PARTITIONS,
                            # Batched producers, as on Apache Kafka: one-record batches only protect table
                            # recovery on the embedded broker, and nothing restarts here.
                            {"BREACH_PROFILES_DIR": str(ROOT / "deploy" / "profiles"),
                             "BREACH_ONE_RECORD_BATCHES": "false"})
    try:
        await all_ready(workers)
        sent = await _produce(broker.bootstrap, records)
        await _until_dead_lettered(workers, STORM, within=900)
        assert all(w.alive() for w in workers)
        letters = await _dead_letters(broker.bootstrap, sent)
    finally:
        for w in workers:
            w.stop()

    assert not _uncovered(letters, sent)  # every record, under its own offset (or its elements')
    for source, letter in letters.items():
        assert letter["reason"], source
        if "#" in source:
            continue  # one element of a batch: the letter keeps that element, not the whole record
        original = sent[source]
        kept = bytes.fromhex(letter["record"]) if letter["encoding"] == "hex" else letter["record"].encode()
        assert kept == original, source  # nothing lost or altered
    assert await _topic_size(broker.bootstrap, "signals") == 0
    assert sum(1 for w in workers for line in w.log.read_text().splitlines() if '"level": "error"' in line) == 0
