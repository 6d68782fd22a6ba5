"""Mass delivery of the notice to the people affected: fan-out, then sending with a ledger.

1. Fan-out (called by the notify agent on ``SubjectNoticeRequested``): the approved notice is
   rendered once per language and published on ``notice-bodies``; then one record per
   recipient goes to ``notice-deliveries``, keyed by address, so every worker takes a share.
2. Sending (this module's task, one per worker): a consumer group on ``notice-deliveries``
   takes batches, and a pool of ``BREACH_SMTP_POOL`` long-lived SMTP connections sends them.
   The message was serialised once per (notice, language); a recipient only adds To and
   Message-ID (deterministic per notice and recipient).
3. The ledger (``notice-ledger``, compacted, keyed by Message-ID, written to the partition of
   the delivery, loaded when a partition is assigned) makes restarts safe:
   - before a message is handed to the relay, ``sending`` is written and acknowledged;
   - after the relay's answer, ``sent`` or ``failed``, flushed before the offsets are committed;
   - a delivery found ``sent``/``failed``/``bounced`` is skipped (a replay never mails twice);
   - a delivery found ``sending`` means a worker died between the relay and the ledger: it is
     marked ``in_doubt`` and NOT sent again (nobody gets the notice twice; ``breach notices
     status`` shows how many are in doubt: at most pool size × INTENT_GROUP plus the outcomes
     not yet flushed when the worker died).
4. Progress: absolute counts per (notice, partition), rebuilt from the ledger, sent as
   ``RecordDeliveryProgress`` every ``BREACH_PROGRESS_SECONDS`` — never one command per email.
5. Bounces (``breach notices bounces``) travel on ``notice-deliveries`` too, keyed by the same
   address, so the worker that holds the recipient's ledger entry marks it ``bounced``; so do
   resends (``breach notices resend --in-doubt``), which only reach recipients still in doubt.

Logs carry notice ids, partitions and counts; never an address, a name or a body.
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import faust
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, IllegalStateError

from incident.commands import RecordDeliveryProgress
from incident.events import SubjectNoticeRequested
from streams import metrics
from streams.deps import Deps
from streams.kafka import codec
from streams.kafka.dlq import dead_letter, letter_key
from streams.kafka.kafka_security import client_options, security_options
from streams.kafka.topics import (
    AFFECTED_SUBJECTS,
    INCIDENT_COMMANDS,
    NOTICE_BODIES,
    NOTICE_DELIVERIES,
    NOTICE_DELIVERIES_DLQ,
    NOTICE_LEDGER,
)
from streams.mail.mailer import (
    Disposition,
    DkimSigner,
    MailError,
    PreparedNotice,
    RateLimiter,
    SmtpConnection,
    message_id_for,
    prepare,
)
from streams.mail.render import NoticeRenderer, RenderedNotice, TemplateMissing
from streams.settings import Settings
from streams.stopping import client_running, finish

log = structlog.get_logger("breach.deliver")

FINAL = ("sent", "failed", "bounced", "in_doubt")
CHUNK = 500  # recipients per affected-subjects record (~50 KB, under the 1 MB request limit)
MAX_BACKOFF = 30.0
# Messages whose intents are written together before one connection sends them: fewer broker
# round trips; a crash leaves at most pool size x this many messages in doubt.
INTENT_GROUP = 8


def subject_chunks(incident_id: str, list_id: str, recipients: list[dict[str, str]]) -> list[bytes]:
    """The records `breach subjects import` publishes for one list (keyed by incident id)."""
    parts = [recipients[i:i + CHUNK] for i in range(0, len(recipients), CHUNK)] or [[]]
    return [json.dumps({"incident_id": incident_id, "list_id": list_id, "chunk": n, "chunks": len(parts),
                        "recipients": part}, ensure_ascii=False).encode() for n, part in enumerate(parts)]


def delivery_key(address: str) -> bytes:
    return address.strip().lower().encode()


def body_key(notice_id: str, locale: str) -> str:
    return f"{notice_id}|{locale}"


def body_locale(renderer: NoticeRenderer, regime: str, kind: str, wanted: str, default: str) -> str:
    """The recipient's language if the notice exists in it, else the controller's."""
    try:
        renderer.template_name(regime=regime, locale=wanted, kind=kind, part="txt")
        return wanted
    except (TemplateMissing, ValueError):
        return default


@dataclass
class Counts:
    incident_id: str
    accepted: int = 0
    failed: int = 0
    bounced: int = 0
    in_doubt: int = 0

    def add(self, status: str, sign: int) -> None:
        if status in ("sent", "bounced"):
            self.accepted += sign
        if status == "failed":
            self.failed += sign
        if status == "bounced":
            self.bounced += sign
        if status == "in_doubt":
            self.in_doubt += sign


async def read_subjects(bootstrap: str, incident_id: str, list_id: str, within: float = 120.0,
                        **security: Any) -> list[dict[str, str]]:
    """Every recipient of one imported list, from affected-subjects (all partitions, from the start).
    ``security``: Kafka TLS/SASL options (streams.kafka.kafka_security.security_options)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_partition_fetch_bytes=8 * 1024 * 1024, **security)
    await consumer.start()
    chunks: dict[int, list[dict[str, str]]] = {}
    expected: int | None = None
    try:
        partitions = consumer.partitions_for_topic(AFFECTED_SUBJECTS) or set()
        if not partitions:
            await consumer.topics()  # refresh metadata once
            partitions = consumer.partitions_for_topic(AFFECTED_SUBJECTS) or set()
        consumer.assign([TopicPartition(AFFECTED_SUBJECTS, p) for p in sorted(partitions)])
        await consumer.seek_to_beginning()
        deadline = time.monotonic() + within
        while expected is None or len(chunks) < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"list {list_id}: {len(chunks)} of {expected or '?'} chunk(s) found")
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    data = json.loads(record.value or b"{}")
                    if data.get("incident_id") == incident_id and data.get("list_id") == list_id:
                        chunks[int(data["chunk"])] = data["recipients"]
                        expected = int(data["chunks"])
    finally:
        await consumer.stop()
    return [r for n in sorted(chunks) for r in chunks[n]]


class DeliveryService:
    def __init__(self, settings: Settings, deps: Deps, topics: Iterable[Any] = ()) -> None:
        self.settings, self.deps = settings, deps
        self.topics = list(topics)  # faust Topic objects, declared (created) before use
        self.signer = DkimSigner.from_settings(settings)
        self.limiter = RateLimiter(settings.smtp_rate)
        self.connections = [SmtpConnection(settings, timeout=settings.smtp_timeout)
                            for _ in range(settings.smtp_pool)]
        self.ledger: dict[int, dict[str, tuple[str, str, str]]] = {}  # partition -> mid -> (notice, incident, status)
        self.counts: dict[tuple[int, str], Counts] = {}
        self.dirty: set[tuple[int, str]] = set()
        self.bodies: dict[str, PreparedNotice] = {}
        self.body_arrived = asyncio.Event()
        self.ready = asyncio.Event()
        self.producer: AIOKafkaProducer | None = None
        self.last_report = 0.0
        self.owned: set[int] = set()  # partitions of notice-deliveries this worker holds now
        self.consumer: AIOKafkaConsumer | None = None

    # --- fan-out ----------------------------------------------------------------------------------

    async def fan_out(self, event: SubjectNoticeRequested) -> int:
        """Render the approved notice per language, publish it, then one delivery per recipient."""
        await self.ready.wait()
        assert self.producer is not None
        recipients = await read_subjects(self.settings.bootstrap_servers, event.incident_id, event.list_id,
                                         **security_options(self.settings))
        renderer = self.deps.renderer
        locales = {locale: body_locale(renderer, event.regime, event.kind, locale, event.default_locale)
                   for locale in {r["locale"] for r in recipients} | {event.default_locale}}
        for locale in sorted(set(locales.values())):
            rendered = renderer.render(regime=event.regime, locale=locale, kind=event.kind, context=event.context)
            body = {"notice_id": event.notice_id, "incident_id": event.incident_id, "locale": locale,
                    "date": event.at.isoformat(), "subject": rendered.subject, "text": rendered.text,
                    "html": rendered.html}
            await (await self.producer.send(NOTICE_BODIES, key=body_key(event.notice_id, locale).encode(),
                                            value=json.dumps(body, ensure_ascii=False).encode()))
        futures = []
        for r in recipients:
            record = {"type": "delivery", "incident_id": event.incident_id, "notice_id": event.notice_id,
                      "locale": locales[r["locale"]], "address": r["address"], "name": r["name"]}
            futures.append(await self.producer.send(NOTICE_DELIVERIES, key=delivery_key(r["address"]),
                                                    value=json.dumps(record, ensure_ascii=False).encode()))
        await asyncio.gather(*futures)
        log.info("notice.fanned_out", incident_id=event.incident_id, notice_id=event.notice_id,
                 recipients=len(recipients), locales=sorted(set(locales.values())))
        return len(recipients)

    # --- the sending loop -------------------------------------------------------------------------

    async def run(self) -> None:
        s = self.settings
        for topic in self.topics:
            await topic.maybe_declare()
        # Plain aiokafka clients beside faust's: the same Kafka TLS/SASL settings (BREACH_KAFKA_*).
        self.producer = AIOKafkaProducer(linger_ms=2, max_request_size=4 * 1024 * 1024, **client_options(s))
        consumer = AIOKafkaConsumer(
            **client_options(s), group_id=f"{s.app_id}-deliver", enable_auto_commit=False,
            auto_offset_reset="earliest", session_timeout_ms=int(s.session_timeout * 1000),
            heartbeat_interval_ms=int(s.heartbeat_interval * 1000),
            rebalance_timeout_ms=int(s.session_timeout * 1000), max_poll_records=s.delivery_batch)
        bodies: asyncio.Future[None] | None = None
        try:
            await self.producer.start()
            await consumer.start()
            self.consumer = consumer
            consumer.subscribe([NOTICE_DELIVERIES], listener=_Listener(self))
            bodies = asyncio.ensure_future(self._read_bodies())
            self.ready.set()
            while True:
                batches = await consumer.getmany(timeout_ms=200, max_records=s.delivery_batch)
                for tp, records in batches.items():
                    if tp.partition not in self.owned:
                        # Its ledger did not load when it was assigned: sending without it could
                        # repeat a notice. Read these records again once the ledger is in.
                        consumer.seek(tp, records[0].offset)
                        await self.load([tp.partition])
                        continue
                    await self._process(tp.partition, records)
                    if not self._owns(tp.partition):
                        continue  # not ours any more: the new owner replays what we did not settle
                    try:
                        await consumer.commit({tp: records[-1].offset + 1})
                    except (CommitFailedError, IllegalStateError) as exc:
                        log.warning("delivery.commit_failed", partition=tp.partition, error=type(exc).__name__)
                await self._report(force=not batches)
        finally:
            if bodies is not None:
                bodies.cancel()
            # Stopped to the end even when cancelled again meanwhile (a client stop cut short
            # leaves its tasks running: streams/stopping.py).
            await finish(*(c.close() for c in self.connections), consumer.stop(), self.producer.stop())

    async def _process(self, partition: int, records: list[Any]) -> None:
        ledger = self.ledger.setdefault(partition, {})
        todo: dict[str, dict[str, str]] = {}
        outcomes: list[asyncio.Future[Any]] = []
        for record in records:
            try:
                item = _delivery(record.value)
            except (ValueError, KeyError, TypeError) as exc:
                # This record's failure alone: the batch's other recipients are still sent to.
                await self._dead_letter(record, f"not a delivery record: {type(exc).__name__}")
                continue
            mid = message_id_for(item["notice_id"], item["address"])
            entry = ledger.get(mid)
            if item["type"] == "bounce":
                if entry is not None and entry[2] == "sent":
                    outcomes.append(await self._record(partition, mid, item, "bounced", item.get("reason", "")))
            elif entry is None:
                todo.setdefault(mid, item)  # the same recipient twice in a batch (a replayed fan-out): once
            elif entry[2] == "sending":
                log.warning("delivery.in_doubt", notice_id=item["notice_id"], partition=partition)
                outcomes.append(await self._record(partition, mid, item, "in_doubt", "worker stopped mid-send"))
            elif entry[2] == "in_doubt" and item["type"] == "resend":
                todo.setdefault(mid, item)  # the DPO chose to send again to those in doubt
        queue = collections.deque(todo.items())

        async def sender(connection: SmtpConnection) -> None:
            while queue:
                if not self._owns(partition):
                    # Processing outlived our membership (e.g. a long relay outage exceeded
                    # max.poll.interval): another worker owns these now; sending on could duplicate.
                    log.warning("delivery.partition_lost", partition=partition, left=len(queue))
                    queue.clear()
                    return
                group = [queue.popleft() for _ in range(min(INTENT_GROUP, len(queue)))]
                outcomes.extend(await self._deliver(connection, partition, group))

        await asyncio.gather(*(sender(c) for c in self.connections))
        await asyncio.gather(*outcomes)  # outcomes durable before the offsets are committed

    async def _dead_letter(self, record: Any, reason: str) -> None:
        ref = f"{record.topic}:{record.partition}:{record.offset}"
        assert self.producer is not None
        await self.producer.send_and_wait(NOTICE_DELIVERIES_DLQ, dead_letter(
            record.value or b"", reason, ref, self.deps.clock(), stage="deliver"), key=letter_key(record.key))
        metrics.dead_letter(NOTICE_DELIVERIES_DLQ, reason)
        log.error("delivery.unreadable", source=ref, reason=reason)  # never the record: it holds an address

    async def _deliver(self, connection: SmtpConnection, partition: int,
                       group: list[tuple[str, dict[str, str]]]) -> list[asyncio.Future[Any]]:
        """A few messages on one connection: their intents written and acknowledged together
        BEFORE the relay sees any of them (a crash from there on leaves ``sending``, which a
        restart treats as in doubt instead of sending again), then each sent and its outcome recorded."""
        outcomes: list[asyncio.Future[Any]] = []
        ready: list[tuple[str, dict[str, str], bytes]] = []
        for mid, item in group:
            body = await self._body(item["notice_id"], item["locale"])
            try:
                data = body.for_recipient(address=item["address"], name=item.get("name", ""), message_id=mid)
                if self.signer is not None:
                    data = self.signer.sign(data)
            except MailError as exc:
                outcomes.append(await self._record(partition, mid, item, "failed", exc.reason))
                continue
            ready.append((mid, item, data))
        await asyncio.gather(*[await self._record(partition, mid, item, "sending", "") for mid, item, _ in ready])
        for mid, item, data in ready:
            reason = await self._send(connection, item, data)
            outcomes.append(await self._record(partition, mid, item, "sent" if reason is None else "failed",
                                               reason or "accepted by the SMTP relay"))
        return outcomes

    async def _send(self, connection: SmtpConnection, item: dict[str, str], data: bytes) -> str | None:
        deadline = time.monotonic() + self.settings.delivery_retry_seconds
        delay, attempt = 0.2, 0
        while True:
            attempt += 1
            await self.limiter.acquire()
            try:
                await connection.send(item["address"], data)
                return None
            except MailError as exc:
                if exc.disposition is Disposition.PERMANENT:
                    return f"{exc.reason} (permanent)"
                if time.monotonic() + delay > deadline:
                    return f"{exc.reason} (transient; gave up after {attempt} attempts)"
                log.warning("delivery.retry", notice_id=item["notice_id"], attempt=attempt, reason=exc.reason)
                await asyncio.sleep(delay)  # back-off before the next attempt, not a wait for a result
                delay = min(delay * 2, MAX_BACKOFF)

    async def _record(self, partition: int, mid: str, item: dict[str, str], status: str,
                      reason: str) -> asyncio.Future[Any]:
        assert self.producer is not None
        self._apply(partition, mid, (item["notice_id"], item["incident_id"], status))
        if status != "sending":  # an outcome, not the intent written before the relay sees it
            metrics.NOTICES.labels(kind=metrics.MASS_SUBJECT_NOTICE, outcome=status).inc()
        value = {"n": item["notice_id"], "i": item["incident_id"], "s": status, "r": reason}
        future: asyncio.Future[Any] = await self.producer.send(
            NOTICE_LEDGER, key=mid.encode(), value=json.dumps(value).encode(), partition=partition)
        return future

    def _apply(self, partition: int, mid: str, entry: tuple[str, str, str]) -> None:
        ledger = self.ledger.setdefault(partition, {})
        old = ledger.get(mid)
        notice_id, incident_id, status = entry
        counts = self.counts.setdefault((partition, notice_id), Counts(incident_id))
        if old is not None:
            counts.add(old[2], -1)
        counts.add(status, +1)
        ledger[mid] = entry
        self.dirty.add((partition, notice_id))

    async def _report(self, *, force: bool = False, partitions: set[int] | None = None) -> None:
        now = time.monotonic()
        if not self.dirty or (not force and now - self.last_report < self.settings.progress_seconds):
            return
        assert self.producer is not None
        self.last_report = now
        keys = {k for k in self.dirty if partitions is None or k[0] in partitions}
        for partition, notice_id in sorted(keys):
            c = self.counts[(partition, notice_id)]
            command = RecordDeliveryProgress(incident_id=c.incident_id, notice_id=notice_id, partition=partition,
                                             accepted=c.accepted, failed=c.failed, bounced=c.bounced,
                                             in_doubt=c.in_doubt)
            await self.producer.send(INCIDENT_COMMANDS, key=c.incident_id.encode(), value=codec.encode(command))
            log.info("delivery.progress", notice_id=notice_id, partition=partition, accepted=c.accepted,
                     failed=c.failed, bounced=c.bounced, in_doubt=c.in_doubt)
        self.dirty -= keys
        await self.producer.flush()

    # --- partitions come and go -------------------------------------------------------------------

    async def load(self, partitions: list[int]) -> None:
        """The ledger of newly assigned partitions, read to the end. A partition is ours to send
        from only once its ledger is in: on failure it stays unowned (its records are read again
        and the load retried by the sending loop), never sent from with an empty ledger."""
        if not partitions:
            return
        try:
            await self._read_ledger(partitions)
        except Exception as exc:  # whatever the cause, the partition must not be sent from
            for p in partitions:
                self._forget(p)
            log.error("delivery.ledger_unavailable", partitions=partitions, error=type(exc).__name__)
            await asyncio.sleep(1.0)  # back-off before the loop asks again, not a wait for a result
            return
        self.owned |= set(partitions)
        log.info("delivery.ledger_loaded", partitions=partitions,
                 entries=sum(len(self.ledger.get(p, {})) for p in partitions))

    async def _read_ledger(self, partitions: list[int]) -> None:
        """Read to the Fetch high-water mark (the embedded broker's end_offsets is wrong after
        multi-record batches)."""
        for p in partitions:
            self._forget(p)  # a reload starts from nothing: _apply counts every entry it meets
        reader = AIOKafkaConsumer(group_id=None, enable_auto_commit=False, **client_options(self.settings))
        async with client_running(reader):
            tps = [TopicPartition(NOTICE_LEDGER, p) for p in partitions]
            reader.assign(tps)
            await reader.seek_to_beginning(*tps)
            deadline = time.monotonic() + 120
            while True:
                for tp, records in (await reader.getmany(*tps, timeout_ms=200)).items():
                    for record in records:
                        v = json.loads(record.value)
                        self._apply(tp.partition, record.key.decode(), (v["n"], v["i"], v["s"]))
                marks = [(reader.highwater(tp), await reader.position(tp)) for tp in tps]
                if all(hw is not None and pos >= hw for hw, pos in marks):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"ledger partitions {partitions} not read to the end")

    def _owns(self, partition: int) -> bool:
        assignment = self.consumer.assignment() if self.consumer is not None else set()
        return partition in self.owned and TopicPartition(NOTICE_DELIVERIES, partition) in assignment

    async def revoke(self, partitions: list[int]) -> None:
        self.owned -= set(partitions)
        await self._report(force=True, partitions=set(partitions))
        for p in partitions:
            self._forget(p)

    def _forget(self, partition: int) -> None:
        self.ledger.pop(partition, None)
        for key in [k for k in self.counts if k[0] == partition]:
            del self.counts[key]
        self.dirty -= {k for k in self.dirty if k[0] == partition}

    # --- notice bodies, read by every worker -----------------------------------------------------

    async def _read_bodies(self) -> None:
        reader = AIOKafkaConsumer(group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",
                                  max_partition_fetch_bytes=8 * 1024 * 1024, **client_options(self.settings))
        async with client_running(reader):
            partitions = reader.partitions_for_topic(NOTICE_BODIES) or set()
            while not partitions:
                await reader.topics()
                partitions = reader.partitions_for_topic(NOTICE_BODIES) or set()
            reader.assign([TopicPartition(NOTICE_BODIES, p) for p in sorted(partitions)])
            await reader.seek_to_beginning()
            while True:
                for records in (await reader.getmany(timeout_ms=500)).values():
                    for record in records:
                        b = json.loads(record.value)
                        rendered = RenderedNotice(subject=b["subject"], text=b["text"], html=b["html"])
                        self.bodies[body_key(b["notice_id"], b["locale"])] = prepare(
                            b["notice_id"], rendered, sender=self.settings.mail_from,
                            date=datetime.fromisoformat(b["date"]))
                        self.body_arrived.set()

    async def _body(self, notice_id: str, locale: str) -> PreparedNotice:
        """The prepared notice; published before its deliveries, so it is here or on its way."""
        key = body_key(notice_id, locale)
        waited = 0.0
        while key not in self.bodies:
            self.body_arrived.clear()
            try:
                await asyncio.wait_for(self.body_arrived.wait(), 5)
            except TimeoutError:
                waited += 5
                log.warning("delivery.body_missing", notice_id=notice_id, locale=locale, waited_s=waited)
        return self.bodies[key]


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, service: DeliveryService) -> None:
        self.service = service

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self.service.revoke([tp.partition for tp in revoked])

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        await self.service.load([tp.partition for tp in assigned])


def _delivery(raw: bytes | None) -> dict[str, str]:
    """One notice-deliveries record, with what sending needs; raises on anything else."""
    item = json.loads(raw or b"")
    if not isinstance(item, dict):
        raise TypeError("not a JSON object")
    needed = ("notice_id", "address", "type") if item.get("type") == "bounce" else (
        "notice_id", "address", "type", "locale")
    if not all(isinstance(item[name], str) for name in needed):
        raise TypeError("a field is not text")
    return item


def delivery_topics(app: faust.App, settings: Settings) -> list[Any]:
    """The mass-delivery topics with their retention (personal data) or compaction; also what
    `breach topics create` makes (streams/kafka/topics_admin.py)."""
    retention = timedelta(days=settings.subjects_retention_days)

    def topic(name: str, **options: Any) -> Any:
        return app.topic(name, partitions=settings.partitions, key_serializer="raw", value_serializer="raw",
                         **options)

    return [topic(AFFECTED_SUBJECTS, retention=retention, deleting=True),
            topic(NOTICE_DELIVERIES, retention=retention, deleting=True),
            topic(NOTICE_DELIVERIES_DLQ, retention=retention, deleting=True),
            topic(NOTICE_LEDGER, compacting=True),
            topic(NOTICE_BODIES, compacting=True)]


def register(app: faust.App, settings: Settings, deps: Deps) -> DeliveryService:
    service = DeliveryService(settings, deps, topics=delivery_topics(app, settings))

    @app.task  # type: ignore[untyped-decorator]
    async def deliveries() -> None:
        await service.run()

    return service

