"""signals (keyed by correlation key) → correlate → incident-commands (keyed by incident id).

The ingest agent keys every signal by its correlation key, so this agent's window table is
co-partitioned with its input: one key's window is always on the worker that sees its signals.
"""

from __future__ import annotations

from typing import Any

import faust
import structlog

from incident.correlation import correlate
from streams import codec
from streams.deps import Deps
from streams.topics import Tables, Topics

log = structlog.get_logger("breach.correlate")


def register(app: faust.App, topics: Topics, tables: Tables, deps: Deps) -> None:
    @app.agent(topics.signals, name="correlate", concurrency=1)
    async def correlate_signals(stream: Any) -> None:
        async for key, raw in stream.items():
            signal, window_key = codec.decode(raw), key.decode()
            stored = tables.windows.get(window_key)
            window, commands = correlate(codec.decode(stored) if stored else None, signal,
                                         span=deps.correlation_span)
            tables.windows[window_key] = codec.as_table_value(window)
            for command in commands:
                await topics.commands.send(key=command.incident_id.encode(), value=codec.encode(command))
            log.info("signal.correlated", event_id=signal.event_id, incident_id=window.incident_id,
                     duplicate=not commands)
