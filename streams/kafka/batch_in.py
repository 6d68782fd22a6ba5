"""A stage off faust's per-record path: a plain aiokafka consumer in a group of its own, batches
in (``getmany``), output through one batched producer (streams/kafka/batch_out.py), then one offset
commit per batch.

Why: faust hands an agent one record at a time through its stream machinery, and that, not the
stage's own work, was most of what ingest cost (issue 19). Here a batch of records is one call.

At-least-once, as with the agents: a batch's offsets are committed only after everything it
produced has been flushed to the broker. A crash before the commit re-reads the batch (the
stages downstream are idempotent: event ids, versions), never loses it. A rebalance waits for
the batch in hand to be flushed and committed (the revoke callback takes the batch lock), so
partitions change hands between batches. The stage is a mode Service added to the faust app:
started once the app is (its tables recovered), stopped with it — the batch in hand finishes and
is committed, the consumer leaves its group — within STOP_SECONDS, after which it is cancelled
(nothing committed is lost; the uncommitted batch is re-read by the partitions' next owner).

What the stage's handler raises is its own business (ingest turns a bad record into a dead
letter); what escapes it, or a Kafka client's failure, restarts the stage's clients after a
pause (doubling up to RESTART_MAX_SECONDS): counted and shown by /readyz like an agent crash
(streams/agent_health.py) until a batch goes through again. Readiness also waits for the
stage's group: 503 ``stage ingest joining its group`` / ``… rebalancing`` meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CommitFailedError, IllegalStateError
from aiokafka.structs import ConsumerRecord
from mode import Service

from streams import agent_health
from streams.kafka.batch_out import BatchOut, bootstrap_of, security_of
from streams.kafka.faust_fetch import FETCH_WAIT_MS
from streams.stopping import client_running, finish

log = structlog.get_logger("breach.stages")

STOP_SECONDS = 10.0  # the batch in hand finishing, its commit and leaving the group
RESTART_SECONDS = 1.0  # first pause before a failed stage starts its clients again
RESTART_MAX_SECONDS = 30.0

Handler = Callable[[list[ConsumerRecord[bytes, bytes]], BatchOut], Awaitable[None]]

_stages: weakref.WeakKeyDictionary[Any, list[BatchStage]] = weakref.WeakKeyDictionary()


class BatchStage(Service):
    """``handle(records, out)`` for each batch of records read from ``topics``; what it sends on
    ``out`` is flushed, then the batch's offsets are committed."""

    def __init__(self, app: Any, name: str, topics: Sequence[str], handle: Handler, *,
                 batch_size: int, batch_seconds: float, max_request_size: int = 1_048_576,
                 declare: Sequence[Any] = (), carry_from: str | None = None) -> None:
        super().__init__(loop=None)
        self.app, self.name, self.topics, self.handle = app, name, tuple(topics), handle
        self.group_id = f"{app.conf.id}-{name}"
        self.batch_size, self.batch_seconds, self.max_request_size = batch_size, batch_seconds, max_request_size
        self._declare = tuple(declare)  # faust topics to create first (the consumer's and the outputs)
        self.carry_from = carry_from  # the group that read these topics before (see ``carry_offsets``)
        self._lock = asyncio.Lock()  # held from a batch's read to its commit; a revoke waits for it
        self._quit = asyncio.Event()
        self._task: asyncio.Future[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self.group_state = "starting"  # starting | joining | rebalancing | assigned
        self.in_group = asyncio.Event()  # set while partitions are assigned (none, possibly)
        self.next_offsets: dict[TopicPartition, int] = {}  # where reading goes on: for the lag gauge
        self.batches = 0  # taken through since the clients last (re)started
        _stages.setdefault(app, []).append(self)

    @property
    def label(self) -> str:
        return f"stage {self.name}"

    def problem(self) -> str | None:
        """What /readyz says while the stage cannot take records yet (a crash is agent_health's)."""
        if self.group_state == "assigned":
            return None
        doing = "rebalancing" if self.group_state == "rebalancing" else "joining its group"
        return f"stage {self.name} {doing}"

    def lag(self) -> list[tuple[str, int, int]]:
        """(topic, partition, records not yet read) of each assigned partition."""
        consumer = self._consumer
        if consumer is None or self.group_state != "assigned":
            return []
        out = []
        for tp in sorted(consumer.assignment()):
            highwater = consumer.highwater(tp)
            if highwater is not None and highwater >= 0:
                out.append((tp.topic, tp.partition, max(0, highwater - self.next_offsets.get(tp, 0))))
        return out

    async def on_start(self) -> None:
        self._task = asyncio.ensure_future(self._supervise())

    async def on_stop(self) -> None:
        self._quit.set()
        task = self._task
        if task is None or task.done():
            return
        if not (await asyncio.wait({task}, timeout=STOP_SECONDS))[0]:
            log.warning("stage.stop_forced", stage=self.name, seconds=STOP_SECONDS)
            task.cancel()
            await asyncio.wait({task}, timeout=STOP_SECONDS)

    async def _supervise(self) -> None:
        pause = RESTART_SECONDS
        while not self._quit.is_set():
            self.batches = 0
            try:
                await self._run()
                return
            except Exception as exc:  # the stage's clients fail, or the handler let out a fault
                if self.batches:  # it had run again since its last failure: a new failure, not a loop
                    pause = RESTART_SECONDS
                self.group_state = "starting"
                self.in_group.clear()
                health = agent_health.of(self.app)
                if health is not None:
                    health.stage_crashed(self.name, exc)
                log.warning("stage.restarting", stage=self.name, seconds=pause)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._quit.wait(), timeout=pause)
            pause = min(pause * 2, RESTART_MAX_SECONDS)

    async def _run(self) -> None:
        for topic in self._declare:
            await topic.maybe_declare()
        conf = self.app.conf
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_of(self.app), group_id=self.group_id, client_id=f"{conf.id}-{self.name}",
            enable_auto_commit=False, auto_offset_reset=conf.consumer_auto_offset_reset,
            max_partition_fetch_bytes=conf.consumer_max_fetch_size, fetch_max_wait_ms=FETCH_WAIT_MS,
            session_timeout_ms=int(conf.broker_session_timeout * 1000),
            heartbeat_interval_ms=int(conf.broker_heartbeat_interval * 1000),
            rebalance_timeout_ms=int(conf.broker_rebalance_timeout * 1000),
            request_timeout_ms=int(conf.broker_request_timeout * 1000),
            **security_of(self.app))
        consumer.subscribe(list(self.topics), listener=_Listener(self))
        self._consumer = consumer
        self.group_state = "joining"
        try:
            async with BatchOut(bootstrap_of(self.app), max_request_size=self.max_request_size) as out, \
                    client_running(consumer):
                while not self._quit.is_set():
                    await self._step(consumer, out)
        finally:
            self._consumer = None

    async def _step(self, consumer: AIOKafkaConsumer, out: BatchOut) -> None:
        fetched = await consumer.getmany(timeout_ms=int(max(self.batch_seconds, 0.05) * 1000),
                                         max_records=self.batch_size)
        if not fetched:
            return
        async with self._lock:
            records = [record for batch in fetched.values() for record in batch]
            await self.handle(records, out)
            await out.flush()  # before the commit: at-least-once
            offsets = {tp: batch[-1].offset + 1 for tp, batch in fetched.items() if batch}
            try:
                await consumer.commit(offsets)
            except (CommitFailedError, IllegalStateError) as exc:
                # The group moved on (this member was too slow, or left): the output is flushed, and
                # the partitions' next owner reads the batch again; the stages downstream are idempotent.
                log.warning("stage.commit_refused", stage=self.name, partitions=len(offsets),
                            error=type(exc).__name__)
            self.next_offsets.update(offsets)
            self.batches += 1
        health = agent_health.of(self.app)
        if health is not None:
            health.stage_running(self.name)

    async def revoked(self) -> None:
        async with self._lock:  # the batch in hand is flushed and committed before the partitions go
            self.group_state = "rebalancing"
            self.in_group.clear()

    async def carry_offsets(self, consumer: AIOKafkaConsumer, partitions: set[TopicPartition]) -> None:
        """Where a partition this group never committed starts: where ``carry_from`` (faust's
        group, which read security-events before this stage existed) committed, if it did, rather
        than the log start: an upgraded worker goes on where its agent stopped instead of reading
        the topic's whole retention again. Asked only for partitions without a commit of ours."""
        if self.carry_from is None or not partitions:
            return
        fresh = [tp for tp in sorted(partitions) if await consumer.committed(tp) is None]
        if not fresh:
            return
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_of(self.app), **security_of(self.app))
        try:
            await admin.start()
            theirs = await admin.list_consumer_group_offsets(self.carry_from, partitions=fresh)
        finally:
            await finish(admin.close())
        carried = {tp: meta.offset for tp, meta in theirs.items() if tp in partitions and meta.offset >= 0}
        for tp, offset in carried.items():
            consumer.seek(tp, offset)
        if carried:
            log.info("stage.offsets_carried", stage=self.name, group=self.carry_from,
                     partitions=sorted(f"{tp.topic}:{tp.partition}@{offset}" for tp, offset in carried.items()))

    def assigned(self, partitions: set[TopicPartition]) -> None:
        self.group_state = "assigned"
        self.in_group.set()
        self.next_offsets = {tp: offset for tp, offset in self.next_offsets.items() if tp in partitions}
        log.info("stage.assigned", stage=self.name,
                 partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in partitions))


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, stage: BatchStage) -> None:
        self.stage = stage

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.stage.revoked()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer = self.stage._consumer
        if consumer is not None and assigned:
            # Paused while asking: the stage's loop goes on meanwhile, and would read from the log start.
            consumer.pause(*assigned)
            try:
                await self.stage.carry_offsets(consumer, set(assigned))
            except Exception as exc:  # a broker that cannot say: the log start, as for a new group
                log.warning("stage.offsets_not_carried", stage=self.stage.name, error=type(exc).__name__)
            finally:
                consumer.resume(*assigned)
        self.stage.assigned(set(assigned))


def stages(app: Any) -> list[BatchStage]:
    """The batch stages added to ``app`` (for /readyz and the lag gauge)."""
    return list(_stages.get(app, ()))


async def joined(app: Any) -> None:
    """Until every batch stage of ``app`` is in its group (what a started worker waits for, as it
    waits for faust's own group: a test or a rollout that sees it ready sees its stages read)."""
    for stage in stages(app):
        await stage.in_group.wait()


def add(app: Any, stage: BatchStage) -> BatchStage:
    """Start ``stage`` with ``app`` (after its tables are recovered) and stop it with it."""
    app.service(stage)
    return stage
