"""incident-commands → decide/evolve → incidents table → incident-events. The only writer."""

from __future__ import annotations

from typing import Any

import faust
import structlog

from incident.decide import decide, reactions
from incident.errors import CommandRejected as Rejected
from incident.events import CommandRejected
from incident.model import fold
from incident.reminders import next_tick_at
from streams import codec, metrics
from streams.deps import Deps
from streams.dlq import dead_letter
from streams.topics import Tables, Topics

log = structlog.get_logger("breach.incident")


def register(app: faust.App, topics: Topics, tables: Tables, deps: Deps) -> None:
    @app.agent(topics.commands, name="incident", concurrency=1)
    async def handle(stream: Any) -> None:
        async for record in stream.events():
            key, raw, msg = record.key, record.value, record.message
            incident_id = key.decode() if key else ""
            try:
                command = codec.decode(raw)
            except codec.DecodeError as exc:
                # The console and the CLI write here too: a bad record must not stop the incidents.
                ref = f"{msg.topic}:{msg.partition}:{msg.offset}"
                await topics.commands_dlq.send(key=key, value=dead_letter(raw, str(exc), ref, deps.clock()))
                metrics.dead_letter(msg.topic + ".dlq", str(exc))
                log.error("command.undecodable", source=ref, reason=str(exc))
                continue
            stored = tables.incidents.get(incident_id)
            state = codec.decode(stored) if stored else None
            now = deps.clock()
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
            # Publish before saving: a crash in between replays the command against the old
            # state and re-publishes the same versioned events (readers skip versions they
            # have), where the other order would save a state whose events were never sent.
            # "Before" means on the broker: sends and table writes are buffered separately, and
            # a worker killed with its events still buffered lost incidents (tests/reliability).
            for domain_event in events:
                await topics.events.send(key=key, value=codec.encode(domain_event))
                metrics.INCIDENT_EVENTS_OUT.labels(type=type(domain_event).__name__).inc()
            new_state = fold(state, events) if events else state
            # Commands for other incidents (a merged incident's evidence to the survivor): also on
            # the broker before the state that says they were sent.
            follow_ups = reactions(command, new_state, events)
            for follow_up in follow_ups:
                await topics.commands.send(key=follow_up.incident_id.encode(), value=codec.encode(follow_up))
            if events or follow_ups:
                await app.producer.flush()
            if events:
                assert new_state is not None
                tables.incidents[incident_id] = codec.as_table_value(new_state)
                # Same key, same partition: whoever owns an incident owns its clocks.
                due = next_tick_at(new_state, deps.triage_window)
                if due is not None:
                    tables.schedule[incident_id] = due.timestamp()
                elif incident_id in tables.schedule:
                    del tables.schedule[incident_id]
            if state is not None or events:
                # The clock agent popped this incident when it sent the Tick: give it back its time.
                current = tables.schedule.get(incident_id)
                deps.due_index.set(incident_id, current)
            log.info("command.handled", incident_id=incident_id, command=type(command).__name__,
                     partition=msg.partition, offset=msg.offset,
                     emitted=[type(e).__name__ for e in events])
