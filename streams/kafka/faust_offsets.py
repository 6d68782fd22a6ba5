"""faust commits offsets past records no agent processed; this makes it commit only what was.

What happens (faust-streaming 0.15.3, seen in tests/reliability/test_worker_crash.py: with one
worker of three SIGKILLed mid-stream, runs lost 1 to 12 events, at any stage: ingest, correlate,
incident):

1. During a rebalance faust stops the flow while its fetch loop is handing a record to the
   agents: the hand-over is cancelled, the record is dropped, but the partition's read offset
   still moves past it. Records fetched before the rebalance keep arriving after faust seeks
   back to the committed offset, move the read offset further, and the record, fetched again,
   is then discarded as "already read" (upstream issues #216, #221).
2. The commit logic then steps over the hole: ``Consumer._new_offset`` commits the first run of
   acknowledged offsets unless it starts *more than one* past the committed offset, and checks
   nothing at all while a partition has no committed offset yet (upstream #312, #606). A
   "gap" it invents when the read offset jumps (meant for compacted or transactional topics)
   is committed over the same way.

The worker logs showed it: `security-events` partition 3, offsets 5 and 7-13 normalised, 6
never; commits 6, then 14. The lost record's incident never existed, though every stage
flushed before acknowledging.

3. A record dropped that way at the *tail* of a partition leaves no hole (no later record is
   acknowledged), and a partition taken over after a rebalance can stay unread: faust reports it
   active and not paused, the broker holds records past the committed offset, and nothing
   arrives (a killed worker's partition sat unread for minutes, 11 events lost).

The fix: an offset is committed only when every record from the committed offset up to it was
acknowledged (for a partition with no commit yet, from its first offset). Gaps are not
trusted: none of our stream topics is compacted or written in transactions, so every offset
holds a record. When a hole stays at the head (a record was dropped), the partition is sought
back to it and the records are handed over again; a partition with records to read, none in
flight and none acknowledged for STALL_SECONDS is resumed and sought back to its committed
offset. Agents are idempotent (versions, event ids, the delivery ledger), so the few records
seen twice change nothing.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from faust.transport.consumer import Consumer

log = structlog.get_logger("breach.offsets")

RESEEK_SECONDS = 5.0  # a hole older than this at the head of a partition is sought back to
STALL_SECONDS = 15.0  # a partition with records to read and none read for this long is restarted


def install() -> None:
    """Idempotent: patch faust's Consumer once per process."""
    if getattr(Consumer, "_breach_offsets", False):
        return
    original_seek = Consumer.perform_seek
    original_commit = Consumer.force_commit

    async def perform_seek(self: Any) -> None:
        await original_seek(self)
        # Where processing starts again: the committed offset, or the log start if none.
        assignment = self.assignment()
        fresh = [tp for tp in assignment if self._committed_offset[tp] is None and self.app.topics.acks_enabled_for(
            tp.topic)]
        try:
            starts = await self.earliest_offsets(*fresh) if fresh else {}
        except Exception as exc:  # the next seek asks again; until then nothing is committed there
            log.warning("offsets.start_unknown", partitions=len(fresh), error=type(exc).__name__)
            starts = {}
        bases = _bases(self)
        bases.clear()
        for tp in assignment:
            committed = self._committed_offset[tp]
            base = committed if committed is not None else starts.get(tp)
            if base is not None:
                bases[tp] = base
        # Where each partition starts again after a rebalance: what to read first when a record
        # goes missing around one.
        log.info("offsets.sought", partitions=sorted(f"{tp.topic}:{tp.partition}@{bases.get(tp)}" for tp in assignment))

    def new_offset(self: Any, tp: Any) -> int | None:
        acked = self._acked[tp]
        self._gap.pop(tp, None)  # see the module docstring: never committed over
        if not acked:
            return None
        acked.sort()
        known = [b for b in (self._committed_offset[tp], _bases(self).get(tp)) if b is not None]
        base = max(known) if known else None
        if base is None:
            return None  # where the partition starts is not known yet: commit nothing
        if acked[0] < base:  # acknowledged again after a seek back: already committed
            del acked[:sum(1 for offset in acked if offset < base)]
            if not acked:
                return None
        if acked[0] != base:
            _holes(self).setdefault(tp, (base, time.monotonic()))
            return None
        _holes(self).pop(tp, None)
        end = 1
        while end < len(acked) and acked[end] == acked[end - 1] + 1:
            end += 1
        run = acked[:end]
        del acked[:end]
        self._acked_index[tp].difference_update(run)
        return int(run[-1]) + 1

    async def force_commit(self: Any, topics: Any = None, start_new_transaction: bool = True) -> bool:
        done = await original_commit(self, topics, start_new_transaction=start_new_transaction)
        now = time.monotonic()
        assignment = self.assignment()
        for tp, (base, since) in list(_holes(self).items()):
            if tp not in assignment:
                del _holes(self)[tp]
            elif now - since >= RESEEK_SECONDS and not self.app.rebalancing:
                try:
                    start = (await self.earliest_offsets(tp)).get(tp)
                except Exception as exc:  # ask again at the next commit
                    log.warning("offsets.start_unknown", partitions=1, error=type(exc).__name__)
                    continue
                if start is not None and start > base:
                    # Retention deleted the records from the hole on (the group was away longer
                    # than the topic keeps them): nothing will fill it; count from the log start.
                    log.warning("offsets.log_start_moved", topic=tp.topic, partition=tp.partition,
                                committed=base, log_start=start)
                    _bases(self)[tp] = start
                    del _holes(self)[tp]
                    continue
                log.warning("offsets.reseek", topic=tp.topic, partition=tp.partition, offset=base)
                _holes(self)[tp] = (base, now)
                await self.seek(tp, base)
        await _restart_stalled(self, assignment, now)
        return bool(done)

    Consumer.perform_seek = perform_seek  # type: ignore[method-assign]
    Consumer._new_offset = new_offset  # type: ignore[method-assign]
    Consumer.force_commit = force_commit  # type: ignore[method-assign]
    Consumer._breach_offsets = True  # type: ignore[attr-defined]


async def _restart_stalled(consumer: Any, assignment: Any, now: float) -> None:
    """A partition that faust was handed after a rebalance but never reads from again.

    Seen in tests/reliability/test_worker_crash.py: a worker took over a partition the killed
    one had read but never committed, sought it to offset 0, and then got nothing from it for
    minutes while its other partitions flowed: nothing was acknowledged there, so no hole showed
    (a hole needs a later record acknowledged). Such a partition (nothing in flight, nothing
    acknowledged since its base, records on the broker past it, for STALL_SECONDS) is resumed
    and sought back to its base; the records are handed over again."""
    if consumer.app.rebalancing or consumer.app.in_recovery:
        _stalls(consumer).clear()
        return
    in_flight = {(m.topic, m.partition) for m in list(consumer._unacked_messages)}
    bases, stalls, acks_enabled_for = _bases(consumer), _stalls(consumer), consumer.app.topics.acks_enabled_for
    watched = {tp for tp in assignment if tp in bases and acks_enabled_for(tp.topic)}
    for tp in list(stalls):
        if tp not in watched:
            del stalls[tp]
    due = []
    for tp in watched:
        base = max(b for b in (consumer._committed_offset[tp], bases[tp]) if b is not None)
        if consumer._acked[tp] or (tp.topic, tp.partition) in in_flight or tp in consumer._buffered_partitions:
            stalls.pop(tp, None)  # moving, or held back on purpose by faust's flow control
            continue
        first = stalls.get(tp)
        if first is None or first[0] != base:
            stalls[tp] = (base, now)
        elif now - first[1] >= STALL_SECONDS:
            due.append((tp, base))
    if not due:
        return
    try:
        ends = await consumer.highwaters(*(tp for tp, _ in due))
    except Exception as exc:  # ask again at the next commit
        log.warning("offsets.end_unknown", partitions=len(due), error=type(exc).__name__)
        return
    for tp, base in due:
        end = ends.get(tp)
        stalls[tp] = (base, now)
        if end is None or end <= base:
            continue  # nothing to read: idle, not stalled
        active = tp in consumer._get_active_partitions()
        log.warning("offsets.stalled", topic=tp.topic, partition=tp.partition, offset=base, end=end,
                    active=active, paused=tp in consumer._paused_partitions,
                    read_offset=consumer._read_offset.get(tp))
        consumer.resume_partitions({tp})
        await consumer.seek(tp, base)


def _stalls(consumer: Any) -> dict[Any, tuple[int, float]]:
    if not hasattr(consumer, "_breach_stalls"):
        consumer._breach_stalls = {}
    return consumer._breach_stalls  # type: ignore[no-any-return]


def _bases(consumer: Any) -> dict[Any, int]:
    if not hasattr(consumer, "_breach_bases"):
        consumer._breach_bases = {}
    return consumer._breach_bases  # type: ignore[no-any-return]


def _holes(consumer: Any) -> dict[Any, tuple[int, float]]:
    if not hasattr(consumer, "_breach_holes"):
        consumer._breach_holes = {}
    return consumer._breach_holes  # type: ignore[no-any-return]
