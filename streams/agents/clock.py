"""The clock agent: turns wall-clock time into Tick commands. It decides nothing and writes
no table; what is due is incident.deadlines.due_reminders(), run by the incident agent."""

from __future__ import annotations

import faust
import structlog

from incident.commands import Tick
from streams import codec
from streams.deps import Deps
from streams.topics import Tables, Topics

log = structlog.get_logger("breach.clock")


def register(app: faust.App, topics: Topics, tables: Tables, deps: Deps, interval: float) -> None:
    @app.timer(interval=interval, name="clock")  # type: ignore[untyped-decorator]
    async def tick() -> None:
        now = deps.clock()
        # The schedule table holds only this worker's partitions: a worker that takes over
        # partitions takes over their clocks. A Tick sent twice is harmless (decide is idempotent).
        due = [key for key, at in list(tables.schedule.items()) if at is not None and at <= now.timestamp()]
        for incident_id in due:
            await topics.commands.send(key=incident_id.encode(), value=codec.encode(Tick(incident_id=incident_id,
                                                                                          at=now)))
        if due:
            log.info("clock.ticked", incidents=len(due))
