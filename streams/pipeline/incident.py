"""incident-commands → decide/evolve → incidents table → incident-events. The only writer.

Commands are taken in batches (``deps.batch_size`` records or ``deps.batch_seconds``): each is
decided in order against its incident's state as the batch left it, the events of the whole batch
are put on the broker with one flush, and only then is each changed incident written to the table
once. An attack's hundreds of alerts are hundreds of AttachSignal commands for one incident: one
broker round trip and one table write per command made that agent the slowest step of the
pipeline. The decoded state is kept between batches while the table still holds what this worker
wrote (decoding an incident with hundreds of signals per command was the other cost).

A command carrying a person's decision is decided only if its signature verifies
(streams/kafka/command_signing.py): anyone able to write to the topic could otherwise act "as the DPO".
A refused one goes to the dead-letter topic, never to the incident's history.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import faust
import structlog

from incident.decide import decide, reactions
from incident.errors import CommandRejected as Rejected
from incident.events import CommandRejected, Event
from incident.model import Incident, fold
from incident.reminders import next_tick_at
from incident.settling import release_at
from streams import metrics
from streams.deps import Deps
from streams.kafka import audit_chain, codec
from streams.kafka.command_signing import HEADER, Keyring, Refused, needs_signature
from streams.kafka.dlq import dead_letter, letter_key
from streams.kafka.topics import Tables, Topics
from streams.pipeline import table_partition

log = structlog.get_logger("breach.incident")
CACHED_STATES = 1_000  # decoded incidents kept between batches: the busy ones, not every incident ever


@dataclass
class _Changed:
    """One incident touched by a batch: its state now, and where its records live."""

    state: Incident | None
    partition: int
    written: bool = False  # some command of the batch emitted events: the state must be saved
    chain_head: str = audit_chain.GENESIS  # the hash of its latest event (streams/kafka/audit_chain.py)
    handled: list[tuple[str, int, list[str]]] = field(default_factory=list)  # command, offset, event types


def register(app: faust.App, topics: Topics, tables: Tables, deps: Deps, *, keys: Keyring) -> None:
    decoded: dict[str, tuple[Any, Incident]] = {}  # incident id -> the table value this worker wrote, decoded

    def state_of(incident_id: str, partition: int) -> Incident | None:
        stored = table_partition.get(tables.incidents, incident_id, partition)
        if not stored:
            decoded.pop(incident_id, None)
            return None
        cached = decoded.get(incident_id)
        # The very object written (memory://) or an equal copy (RocksDB): no need to decode it again.
        if cached is not None and (cached[0] is stored or cached[0] == stored):
            return cached[1]
        state: Incident = codec.decode(stored)
        return state

    @app.agent(topics.commands, name="incident", concurrency=1)
    async def handle(stream: Any) -> None:
        async for batch in stream.take_events(deps.batch_size, within=deps.batch_seconds):
            await handle_batch(batch)

    async def handle_batch(batch: Any) -> None:
        changed: dict[str, _Changed] = {}
        now = deps.clock()
        sent = False
        for record in batch:
            key, raw, msg = record.key, record.value, record.message
            try:
                incident_id = key.decode() if key else ""
                command = codec.decode(raw)
            except (codec.DecodeError, UnicodeDecodeError) as exc:
                # The console and the CLI write here too: a bad record must not stop the incidents.
                reason = str(exc) if isinstance(exc, codec.DecodeError) else "the record's key is not UTF-8 text"
                await refuse(key, raw, msg, reason, "command.undecodable")
                sent = True  # the dead letter is flushed with the batch, before its offset counts as done
                continue
            headers = _headers(msg.headers)
            # A machine command may come unsigned; one that carries a signature is checked too.
            if needs_signature(command) or any(name == HEADER for name, _ in headers):
                try:
                    keys.verify(raw, headers)
                except Refused as exc:
                    await refuse(key, raw, msg, f"signature refused: {exc}", "command.refused",
                                 incident_id=incident_id[:64], command=type(command).__name__)
                    sent = True
                    continue
            if incident_id not in changed:
                changed[incident_id] = _Changed(state_of(incident_id, msg.partition), msg.partition,
                                                chain_head=audit_chain.head_of(table_partition.get(
                                                    tables.incidents, incident_id, msg.partition)))
            current = changed[incident_id]
            try:
                if command.incident_id != incident_id:
                    # The key picks the partition and the state: a mismatch would decide on the wrong one.
                    raise Rejected(f"command for {command.incident_id} arrived keyed {incident_id!r}")
                events: list[Event] = decide(command, current.state, now=now, rules=deps.rules)
                new_state = fold(current.state, events) if events else current.state
                # Commands for other incidents (a merged incident's evidence to the survivor).
                follow_ups = reactions(command, new_state, events)
                records = [codec.encode(e) for e in events]
                follow_up_records = [codec.encode(f) for f in follow_ups]
                _within_limit(events, records, follow_ups, follow_up_records, deps.max_state_bytes)
                if new_state is not None and sum(map(len, records)) > deps.max_state_bytes // 8:
                    # A big decision makes a big state too (the item and the notice quote it):
                    # past the limit, the table's changelog write would fail after the events went out.
                    size = len(json.dumps(codec.as_table_value(new_state)))
                    if size > deps.max_state_bytes:
                        raise TooLarge(f"the incident's state would be {size:,} bytes, over the "
                                       f"{deps.max_state_bytes:,}-byte limit of a record")
            except Rejected as exc:
                rejected = CommandRejected(incident_id=incident_id, at=now, command=type(command).__name__,
                                           reason=exc.reason)
                await topics.events.send(key=key, value=codec.encode(rejected))
                metrics.INCIDENT_EVENTS_OUT.labels(type="CommandRejected").inc()
                log.warning("command.rejected", incident_id=incident_id, command=type(command).__name__,
                            reason=exc.reason)
                continue
            except Exception as exc:  # this command's failure alone: the batch's others go on
                # Everything is computed before anything is sent, so a failure here leaves no
                # half-published decision. The incident keeps its state; the command waits in
                # incident-commands.dlq with its bytes for a fixed worker to replay.
                ref = f"{msg.topic}:{msg.partition}:{msg.offset}"
                reason = f"could not be decided: {exc}" if isinstance(exc, TooLarge) else (
                    f"could not be decided: {type(exc).__name__} in {type(command).__name__}")
                await topics.commands_dlq.send(key=letter_key(key), value=dead_letter(
                    raw, reason, ref, deps.clock(), stage="incident"))
                metrics.dead_letter(msg.topic + ".dlq", reason)
                log.error("command.failed", incident_id=incident_id, command=type(command).__name__, source=ref,
                          error=type(exc).__name__)
                continue
            # Publish before saving: a crash in between replays the commands against the old
            # state and re-publishes the same versioned events (readers skip versions they
            # have), where the other order would save a state whose events were never sent.
            for domain_event, record_value in zip(events, records, strict=True):
                value, current.chain_head = audit_chain.stamp(record_value, current.chain_head)
                await topics.events.send(key=key, value=value)
                metrics.INCIDENT_EVENTS_OUT.labels(type=type(domain_event).__name__).inc()
            # Follow-ups too reach the broker before the state that says they were sent (signed:
            # this worker holds the key).
            for follow_up, record_value in zip(follow_ups, follow_up_records, strict=True):
                await topics.commands.send(key=follow_up.incident_id.encode(), value=record_value,
                                           headers=keys.headers(record_value))
            sent = sent or bool(events or follow_ups)
            current.state = new_state
            current.written = current.written or bool(events)
            current.handled.append((type(command).__name__, msg.offset, [type(e).__name__ for e in events]))
        if sent:
            # "Before" means on the broker: sends and table writes are buffered separately, and a
            # worker killed with its events still buffered lost incidents (tests/reliability).
            await app.producer.flush()
        for incident_id, current in changed.items():
            save(incident_id, current)

    async def refuse(key: bytes | None, raw: bytes, msg: Any, reason: str, event: str, **ids: str) -> None:
        """Dead-letter a command that is not decided; the log has ids and the reason, never the body."""
        ref = f"{msg.topic}:{msg.partition}:{msg.offset}"
        await topics.commands_dlq.send(key=letter_key(key), value=dead_letter(raw, reason, ref, deps.clock(),
                                                                              stage="incident"))
        metrics.dead_letter(msg.topic + ".dlq", reason)
        log.error(event, source=ref, reason=reason, **ids)

    def save(incident_id: str, current: _Changed) -> None:
        partition = current.partition
        if current.written:
            assert current.state is not None
            value = audit_chain.with_head(codec.as_table_value(current.state), current.chain_head)
            table_partition.put(tables.incidents, incident_id, value, partition)
            decoded.pop(incident_id, None)  # re-inserted last: the oldest written go first
            decoded[incident_id] = (value, current.state)
            if len(decoded) > CACHED_STATES:
                del decoded[next(iter(decoded))]
            # Same key, same partition: whoever owns an incident owns its clocks.
            due = next_tick_at(current.state, deps.triage_window, held_until=release_at(current.state, deps.rules))
            if due is not None:
                table_partition.put(tables.schedule, incident_id, due.timestamp(), partition)
            elif table_partition.get(tables.schedule, incident_id, partition) is not None:
                table_partition.delete(tables.schedule, incident_id, partition)
        elif current.state is not None and table_partition.get(tables.schedule, incident_id, partition) is None:
            # A command seen again (a worker died before its offset was committed): the incident's
            # record may have reached its changelog and its schedule's not (SIGKILLed between the
            # two writes), and the incident would never tick again (its reminders lost).
            due = next_tick_at(current.state, deps.triage_window, held_until=release_at(current.state, deps.rules))
            if due is not None:
                table_partition.put(tables.schedule, incident_id, due.timestamp(), partition)
                log.warning("schedule.restored", incident_id=incident_id, partition=partition)
        if current.state is not None:
            # The clock agent popped this incident when it sent the Tick: give it back its time.
            deps.due_index.set(incident_id, table_partition.get(tables.schedule, incident_id, partition))
        for command, offset, emitted in current.handled:
            log.info("command.handled", incident_id=incident_id, command=command, partition=partition,
                     offset=offset, emitted=emitted)


class TooLarge(Exception):
    """A decision whose records the producer would refuse (past its request limit)."""


def _within_limit(events: list[Event], records: list[bytes], follow_ups: list[Any], follow_up_records: list[bytes],
                  limit: int) -> None:
    """Raise TooLarge when one record of a decision is past ``limit`` bytes.

    Sending it would fail inside the agent (MessageSizeTooLargeError) after the decision's
    earlier events were sent: faust restarted the agent past the command, which was lost. Only a
    command written straight to the topic gets here (admission bounds what SIEMs send), and the
    limit leaves room for the chain stamp under the producer's request limit (streams/app.py).
    """
    for kind, values, encoded in (("event", events, records), ("command", follow_ups, follow_up_records)):
        for value, record in zip(values, encoded, strict=True):
            if len(record) > limit:
                raise TooLarge(f"its {type(value).__name__} {kind} would be {len(record):,} bytes, over the "
                               f"{limit:,}-byte limit of a record")


def _headers(raw: Any) -> list[tuple[str, bytes]]:
    """A record's headers as (name, value) pairs (faust passes Kafka's list, or a mapping)."""
    if not raw:
        return []
    items = raw.items() if isinstance(raw, Mapping) else raw
    return [(str(k), bytes(v or b"")) for k, v in items]
