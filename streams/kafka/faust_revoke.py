"""faust's rebalance waits for ever on a record that two agents read and one already finished.

What happens (faust-streaming 0.15.3 and mode, seen in tests/reliability/test_worker_crash.py):
incident-events is read by two agents, notify and page. faust hands each record to both agents'
buffers and counts it twice (``Message.refcount``). When a rebalance starts, faust empties the
agents' buffers (``flow_control.clear()``: "make sure agents will not start processing them")
and then waits until no record is left unacknowledged (``Consumer.wait_empty``). A dropped copy
is never acknowledged; faust counts on the record being garbage-collected (the set of
unacknowledged records is weak). But when page had taken the record already (acknowledged,
refcount 2 → 1) while notify was still busy with earlier ones (the copy in its buffer dropped),
page's stream keeps a reference to its latest event until it gets the next one, which it never
gets while the flow is stopped: the record stays, the wait never ends, the worker never rejoins
its group and the partitions it is given stay unread. The embedded broker (Tansu) also keeps
such a member, still heartbeating, in the group and may hold the others' rebalance for it:
events stayed unattached, clocks silent, for minutes (``wait_empty: Waiting for tasks [(1,
<ConsumerMessage: … incident-events …>)]``, ~270 "Heartbeat failed … rebalancing").
The faster the stages before notify, the more notices are in flight when a worker dies (the
faster incident step of issue 19 made it frequent on this machine; a batch ingest stage more so).

The fix: the copies faust drops from the agents' buffers are counted per record; the wait stops
waiting for a record once every count it has left is a dropped copy, i.e. no agent holds it in
hand. It is not acknowledged for that: its offset is not committed (streams/kafka/faust_offsets.py
commits only past acknowledged records), so the partition's owner after the rebalance reads it
again, and the agent that dropped it acts on it then (page's repeat is a no-op: the ledger).
"""

from __future__ import annotations

import weakref
from typing import Any

import structlog
from faust.transport.consumer import Consumer
from faust.types.tuples import Message
from mode.utils.queues import FlowControlEvent

log = structlog.get_logger("breach.offsets")

# record → copies of it dropped from agents' buffers (records are weakly referenced: faust's own
# bookkeeping of unacknowledged records is a weak set too).
_dropped: weakref.WeakKeyDictionary[Message, int] = weakref.WeakKeyDictionary()


def install() -> None:
    """Idempotent: patch faust's flow control and Consumer once per process."""
    if getattr(FlowControlEvent, "_breach_revoke", False):
        return
    original_clear = FlowControlEvent.clear
    original_clean = Consumer._clean_unacked_messages

    def clear(self: Any) -> None:
        for queue in self._queues:
            count_dropped(list(getattr(queue, "_queue", ())))
        original_clear(self)

    def clean_unacked_messages(self: Any) -> None:
        original_clean(self)
        dropped = {m for m in self._unacked_messages if only_dropped(m)}
        if dropped:
            self._unacked_messages -= dropped
            # Read again by the partitions' next owner: not committed.
            log.info("rebalance.dropped_not_waited_for", records=len(dropped),
                     partitions=sorted({f"{m.topic}:{m.partition}" for m in dropped}))

    FlowControlEvent.clear = clear  # type: ignore[method-assign]
    Consumer._clean_unacked_messages = clean_unacked_messages  # type: ignore[method-assign]
    FlowControlEvent._breach_revoke = True  # type: ignore[attr-defined]


def count_dropped(items: list[Any]) -> None:
    """Count the records of the events about to be dropped from a buffer."""
    for item in items:
        message = getattr(item, "message", None)
        if isinstance(message, Message):
            _dropped[message] = _dropped.get(message, 0) + 1


def only_dropped(message: Message) -> bool:
    """True when no agent holds ``message`` in hand: what is left of its count is dropped copies."""
    return not message.acked and 0 < message.refcount <= _dropped.get(message, 0)
