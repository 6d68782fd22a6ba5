"""The clock agent: turns wall-clock time into Tick commands. It decides nothing and writes
no table; what is due is incident.deadlines.due_reminders(), run by the incident agent."""

from __future__ import annotations

import faust
import structlog

from incident.commands import Tick
from streams.deps import Deps
from streams.kafka import codec
from streams.kafka.topics import Tables, Topics

log = structlog.get_logger("breach.clock")


REBUILD_SECONDS = 30.0  # how often the index is re-read from the schedule table


def register(app: faust.App, topics: Topics, tables: Tables, deps: Deps, interval: float) -> None:
    index = deps.due_index
    last_rebuild: list[object] = [float("-inf"), None]

    @app.timer(interval=interval, name="clock")  # type: ignore[untyped-decorator]
    async def tick() -> None:
        now = deps.clock()
        # The schedule table holds only this worker's partitions: it is re-read when they change
        # (a rebalance, the end of a table recovery), so a worker that takes over partitions fires
        # their clocks at once; and now and then, in case a change slipped between two ticks.
        state = (app.rebalancing, app.in_recovery, frozenset(app.assignor.assigned_actives()))
        stale = now.timestamp() - float(last_rebuild[0]) >= REBUILD_SECONDS  # type: ignore[arg-type]
        if stale or state != last_rebuild[1]:
            index.rebuild(list(tables.schedule.items()))
            last_rebuild[:] = [now.timestamp(), state]
        due = [incident_id for incident_id, _ in index.pop_due(now.timestamp())]
        # A Tick sent twice is harmless: decide() emits each reminder step once.
        for incident_id in due:
            await topics.commands.send(key=incident_id.encode(), value=codec.encode(Tick(incident_id=incident_id,
                                                                                          at=now)))
        if due:
            log.info("clock.ticked", incidents=len(due))
