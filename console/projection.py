"""Feeds a ReadModel from the broker: every partition of incident-events and the DLQ, from
the beginning, without a consumer group (each console holds the whole read model)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from console.read_model import ReadModel
from streams.kafka import audit_chain
from streams.kafka.partitions import current_partitions
from streams.kafka.topics import DEAD_LETTER_TOPICS, INCIDENT_EVENTS
from streams.stopping import finish

log = structlog.get_logger("breach.console.projection")
RESCAN_SECONDS = 1.0


def where(tp: TopicPartition, offset: int) -> str:
    """Where a record was read, as the audit chain's reports name it: topic/partition@offset."""
    return f"{tp.topic}/{tp.partition}@{offset}"


class Projection:
    def __init__(self, bootstrap_servers: str, model: ReadModel, **security: Any) -> None:
        # ``security``: Kafka TLS/SASL options (streams.kafka.kafka_security.client_options), the same as the workers'.
        self.bootstrap_servers, self.model, self.security = bootstrap_servers, model, security
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap_servers, enable_auto_commit=False,
                                          auto_offset_reset="earliest", group_id=None, **self.security)
        await self._consumer.start()
        self._task = asyncio.create_task(self._run(self._consumer), name="console-projection")

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        assigned: set[TopicPartition] = set()
        checked_at = 0.0
        wanted: set[TopicPartition] = set()
        while True:
            # Topics appear when the worker first writes to them: look for new partitions now and then.
            if time.monotonic() - checked_at > RESCAN_SECONDS:
                checked_at = time.monotonic()
                try:
                    wanted = await current_partitions(consumer, (INCIDENT_EVENTS, *DEAD_LETTER_TOPICS))
                except KafkaError as exc:
                    # A broker restart or a slow answer: keep what is assigned, look again at the
                    # next rescan. Ending here would freeze the console's read model for good.
                    log.warning("projection.metadata_unavailable", error=type(exc).__name__)
            if wanted - assigned:
                assigned = wanted
                consumer.assign(sorted(assigned))
                await consumer.seek_to_beginning()  # fresh read model: replay everything
                self.model.reset()
            if not assigned:
                await asyncio.sleep(RESCAN_SECONDS)  # nothing to read yet
                continue
            batches = await consumer.getmany(timeout_ms=500)
            for tp, records in batches.items():
                for record in records:
                    if tp.topic in DEAD_LETTER_TOPICS:
                        self.model.apply_dead_letter(record.value or b"", tp.topic)
                        continue
                    try:
                        self.model.apply(*audit_chain.decode(record.value or b"", where(tp, record.offset)))
                    except Exception as exc:  # a bad record must not blind the console
                        log.error("projection.skipped", topic=tp.topic, partition=tp.partition,
                                  offset=record.offset, error=type(exc).__name__)

    def failure(self) -> str | None:
        """Why the read model stopped following the broker on its own (None while it follows)."""
        if self._task is None or not self._task.done() or self._task.cancelled():
            return None
        error = self._task.exception()
        return type(error).__name__ if error else "ended"

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer:
            # To its end even if we are cancelled meanwhile; and aiokafka's fetcher, closed with a
            # fetch in flight (a broker slow under load), lets out the CancelledError of the fetch
            # it cancelled itself: a clean stop, not ours to re-raise.
            await finish(self._consumer.stop())


async def read_all(bootstrap_servers: str, **security: Any) -> ReadModel:
    """The read model as of now: every record of incident-events and the DLQ, then stop.
    ``security``: Kafka TLS/SASL options (streams.kafka.kafka_security.client_options)."""
    model = ReadModel()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None,
                                auto_offset_reset="earliest", **security)
    await consumer.start()
    try:
        partitions = await current_partitions(consumer, (INCIDENT_EVENTS, *DEAD_LETTER_TOPICS))
        if not partitions:
            return model
        consumer.assign(sorted(partitions))
        await consumer.seek_to_beginning()
        ends = await consumer.end_offsets(sorted(partitions))
        async def behind() -> bool:
            return any([await consumer.position(tp) < end for tp, end in ends.items()])

        while await behind():
            for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                for record in records:
                    if tp.topic in DEAD_LETTER_TOPICS:
                        model.apply_dead_letter(record.value or b"", tp.topic)
                    else:
                        model.apply(*audit_chain.decode(record.value or b"", where(tp, record.offset)))
    finally:
        await consumer.stop()
    return model
