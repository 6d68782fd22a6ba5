"""incident-commands → decide/evolve → incidents table → incident-events. The only writer.

Commands are taken in batches, in order. Each is decided against the state its incident has
after the previous commands of the batch; then every event of the batch is sent and flushed
once, then the states are saved, then the batch is acknowledged (by taking the next one):

- events before states: a crash in between replays the batch against the old states and
  re-publishes the same versioned events (readers skip versions they have), where the other
  order would save states whose events were never sent;
- states before the acknowledgement: a crash in between replays commands the saved state
  already holds, and decide() ignores what an incident already has (event ids, versions).
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from typing import Any

import faust
import structlog
from faust.streams import _current_event

from incident.decide import decide
from incident.errors import CommandRejected as Rejected
from incident.events import CommandRejected, Event
from incident.model import Incident, fold
from incident.reminders import next_tick_at
from streams import codec, metrics
from streams.deps import Deps
from streams.dlq import dead_letter
from streams.topics import Tables, Topics

log = structlog.get_logger("breach.incident")


@contextlib.contextmanager
def _as_of(record: Any) -> Iterator[None]:
    """Table reads and writes for this record's partition: faust takes the partition (the
    changelog's, and the RocksDB store's) from "the current event", which a batch does not have."""
    token = _current_event.set(weakref.ref(record))
    try:
        yield
    finally:
        _current_event.reset(token)


def register(app: faust.App, topics: Topics, tables: Tables, deps: Deps) -> None:
    @app.agent(topics.commands, name="incident", concurrency=1)
    async def handle(stream: Any) -> None:
        async for batch in stream.take_events(deps.batch_size, within=deps.batch_seconds):
            await handle_batch(batch)

    async def handle_batch(batch: list[Any]) -> None:
        states: dict[str, Incident | None] = {}  # incident id -> its state after this batch's commands so far
        changed: dict[str, Any] = {}  # incident id -> the last record that changed it (its partition)
        touched: dict[str, Any] = {}  # incident id -> its last record: its due time is given back to the clock
        for record in batch:
            key, msg = record.key, record.message
            incident_id = key.decode() if key else ""
            try:
                command = codec.decode(record.value)
            except codec.DecodeError as exc:
                # The console and the CLI write here too: a bad record must not stop the incidents.
                ref = f"{msg.topic}:{msg.partition}:{msg.offset}"
                await topics.commands_dlq.send(key=key, value=dead_letter(record.value, str(exc), ref, deps.clock()))
                metrics.dead_letter(msg.topic + ".dlq", str(exc))
                log.error("command.undecodable", source=ref, reason=str(exc))
                continue
            if incident_id not in states:
                with _as_of(record):
                    stored = tables.incidents.get(incident_id)
                states[incident_id] = codec.decode(stored) if stored else None
            state = states[incident_id]
            now = deps.clock()
            events: list[Event]
            try:
                if command.incident_id != incident_id:
                    # The key picks the partition and the state: a mismatch would decide on the wrong one.
                    raise Rejected(f"command for {command.incident_id} arrived keyed {incident_id!r}")
                events = decide(command, state, now=now, rules=deps.rules)
            except Rejected as exc:
                rejected = CommandRejected(incident_id=incident_id, at=now, command=type(command).__name__,
                                           reason=exc.reason)
                await topics.events.send(key=key, value=codec.encode(rejected))
                metrics.INCIDENT_EVENTS_OUT.labels(type="CommandRejected").inc()
                log.warning("command.rejected", incident_id=incident_id, command=type(command).__name__,
                            reason=exc.reason)
                continue
            for domain_event in events:
                await topics.events.send(key=key, value=codec.encode(domain_event))
                metrics.INCIDENT_EVENTS_OUT.labels(type=type(domain_event).__name__).inc()
            if events:
                states[incident_id] = fold(state, events)
                changed[incident_id] = record
            if state is not None or events:
                touched[incident_id] = record
            log.info("command.handled", incident_id=incident_id, command=type(command).__name__,
                     partition=msg.partition, offset=msg.offset, emitted=[type(e).__name__ for e in events])
        if changed:
            # Sends and table writes are buffered separately: the events must be on the broker
            # before a state that includes them (a worker killed in between lost incidents).
            await app.producer.flush()
        for incident_id, record in changed.items():
            new_state = states[incident_id]
            assert new_state is not None
            with _as_of(record):
                tables.incidents[incident_id] = codec.as_table_value(new_state)
                # Same key, same partition: whoever owns an incident owns its clocks.
                due = next_tick_at(new_state, deps.triage_window)
                if due is not None:
                    tables.schedule[incident_id] = due.timestamp()
                elif incident_id in tables.schedule:
                    del tables.schedule[incident_id]
        for incident_id, record in touched.items():
            # The clock agent popped this incident when it sent the Tick: give it back its time.
            with _as_of(record):
                deps.due_index.set(incident_id, tables.schedule.get(incident_id))
