"""Agent crashes: counted, logged without what the record held, and reported by /readyz until
the agent takes a record again.

What faust-streaming 0.15.3 does when an agent's code raises (faust/agents/agent.py
``_execute_actor``): the app does not crash. The actor is marked crashed (mode's
``Service.crash``; the agent's supervisor is set, so the crash is not walked up to the app) and
the agent's ``OneForOneSupervisor`` starts a replacement on the same stream — at once, or at its
next look five seconds later when the wake-up is missed (seen: up to 5 s without the agent). The
record that raised is not handed to the agent again (seen: one crash per bad record). Only more
than 100 restarts within one second make the supervisor raise SystemExit, which crashes the app
(/healthz then answers 503 ``crashed``). A crash was visible only as mode's ``Crashed reason=%r`` line
with its traceback: the exception's message, which may quote the record (a DecodeError quotes
the key it did not know). That line is dropped here; ours names the agent and the exception's
type, nothing else.

"Runs again" means the restarted agent took a record from its stream (faust's sensor hook
``on_stream_event_in``): a restart alone proves nothing, a record taken does. An agent that gets
no record after its crash stays reported; the crash is in /metrics and the log meanwhile.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

import faust
import structlog
from faust.sensors import Sensor
from prometheus_client import Counter

from streams.metrics import REGISTRY

log = structlog.get_logger("breach.agents")

AGENT_CRASHES = Counter("breach_agent_crashes", "Agent crashes (its code raised; faust restarts it), by agent",
                        ["agent"], registry=REGISTRY)

_health: weakref.WeakKeyDictionary[Any, AgentHealth] = weakref.WeakKeyDictionary()


class AgentHealth(Sensor):
    """The agents of one app that crashed and have not taken a record since."""

    logger = logging.getLogger("faust.sensors.breach")  # mode's lifecycle lines, at faust's level

    def __init__(self) -> None:
        super().__init__()
        self.down: dict[str, str] = {}  # agent name -> type of the exception that crashed it

    async def agent_crashed(self, agent: Any, exc: BaseException) -> None:
        self.stage_crashed(str(agent.name), exc)

    def stage_crashed(self, name: str, exc: BaseException) -> None:
        """An agent's crash, or a batch stage's (streams/kafka/batch_in.py): the same count and line."""
        error = type(exc).__name__
        AGENT_CRASHES.labels(agent=name).inc()
        self.down[name] = error
        log.error("agent.crashed", agent=name, error=error)

    def stage_running(self, name: str) -> None:
        """A batch stage took a batch through: running again, if it had crashed."""
        if name in self.down:
            log.info("agent.running_again", agent=name, crashed_with=self.down.pop(name))

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> None:
        if self.down:  # called for every record: nothing more to do while no agent is down
            name = getattr(stream, "prefix", None)  # an agent's stream has its name (faust's Agent.stream)
            if name in self.down:
                log.info("agent.running_again", agent=name, crashed_with=self.down.pop(name))

    def problem(self) -> str | None:
        """What /readyz says while an agent is down, e.g. ``agent notify crashed (DecodeError)``."""
        return "; ".join(f"agent {name} crashed ({error})" for name, error in sorted(self.down.items())) or None


class Agent(faust.Agent):
    """faust's agent, whose crashes its app's AgentHealth hears of first (faust's ``on_error``
    hook, called with the exception before the actor is restarted), then the handler faust gives
    (``App._on_agent_error``: the consumer commits what was processed)."""

    logger = logging.getLogger("faust.agents.breach")  # mode's lifecycle lines, at faust's level

    def __init__(self, fun: Any, *, on_error: Any = None, **kwargs: Any) -> None:
        super().__init__(fun, on_error=_counting(on_error), **kwargs)


def _counting(then: Any) -> Any:
    if getattr(then, "counts_crashes", False):  # a clone of an agent: its handler already counts
        return then

    async def on_error(agent: Any, exc: BaseException) -> None:
        health = _health.get(agent.app)
        if health is not None:
            await health.agent_crashed(agent, exc)
        if then is not None:
            await then(agent, exc)

    on_error.counts_crashes = True  # type: ignore[attr-defined]
    return on_error


class _NoCrashReasons(logging.Filter):
    """Drops mode's ``Crashed reason=%r`` lines of agent actors and its supervisor's ``Restarting
    dead %r! Last crash reason: %r`` (both quote the exception; see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return "Crashed reason=" not in message and "Last crash reason:" not in message


def install(app: faust.App) -> AgentHealth:
    """Watch ``app``'s agents (it must have been created with ``Agent=Agent``)."""
    health = AgentHealth()
    app.sensors.add(health)
    _health[app] = health
    for name in ("faust.agents.actor", "mode.supervisors"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoCrashReasons) for f in logger.filters):
            logger.addFilter(_NoCrashReasons())
    return health


def of(app: Any) -> AgentHealth | None:
    return _health.get(app)
