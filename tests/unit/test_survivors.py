"""The incident stage follows incident/survivors.py's rule (issue 19): a merged incident told to
merge elsewhere joins its two survivors, the greater by rank into the lesser, so any order of the
same merges ends with the component's least incident holding every signal; an attach to an
absorbed incident is forwarded along the chain. Without ranks a second merge is ignored, as before."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from incident.commands import AbsorbIncident, AttachSignal, Command, MergeIncident
from incident.correlation import correlate
from incident.decide import Rules, decide, reactions
from incident.events import IncidentMerged
from incident.model import Incident, fold
from incident.stage_messages import Merge, Rank
from tests.unit.builders import T0, FakeCalendar, directory, event

NOW = T0 + timedelta(minutes=30)
RULES = Rules(directory(), FakeCalendar())
IDS = "abcdef"
# Ranks in an order that is not the ids' (the bucket first): e < c < a < f < b < d.
RANKS: dict[str, Rank] = {i: (T0 + timedelta(hours=h), i) for i, h in zip(IDS, (2, 4, 1, 5, 0, 3), strict=True)}


class Stage:
    """The incident stage without the broker: one queue per incident (its partition's order), the
    queues taken in an order the caller's random picks, reactions queued to their incident."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self.states: dict[str, Incident] = {}
        self.queues: dict[str, list[Command]] = {}

    def send(self, *commands: Command) -> None:
        for command in commands:
            self.queues.setdefault(command.incident_id, []).append(command)

    def run(self) -> None:
        while any(self.queues.values()):
            incident_id = self.rnd.choice(sorted(i for i, q in self.queues.items() if q))
            command = self.queues[incident_id].pop(0)
            state = self.states.get(incident_id)
            events = decide(command, state, now=NOW, rules=RULES)
            new = fold(state, events) if events else state
            if new is not None:
                self.states[incident_id] = new
            self.send(*reactions(command, new, events))

    def survivor(self, incident_id: str) -> str:
        while (into := self.states[incident_id].merged_into) is not None:
            incident_id = into
        return incident_id


def opened(stage: Stage, ids: str = IDS) -> None:
    """One signal per incident, named after it."""
    for i in ids:
        _, (attach,) = correlate(None, event(f"sig-{i}", asset="acme-crm-db", at=T0))
        assert isinstance(attach, AttachSignal)
        stage.send(replace(attach, incident_id=i))
    stage.run()


def merge(absorbed: str, into: str) -> MergeIncident:
    return Merge(absorbed=absorbed, into=into, into_rank=RANKS[into], absorbed_rank=RANKS[absorbed],
                 reason=f"shares user.name#{absorbed}{into}").command()


def components(edges: list[tuple[str, str]]) -> dict[str, str]:
    """Each incident's least incident by rank among those the edges join to it."""
    root = {i: i for i in IDS}

    def find(i: str) -> str:
        while root[i] != i:
            i = root[i]
        return i

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            lesser, greater = sorted((ra, rb), key=RANKS.__getitem__)
            root[greater] = lesser
    return {i: find(i) for i in IDS}


def test_the_rank_travels_with_the_merge_and_is_remembered_by_the_absorbed() -> None:
    command = merge("b", "a")
    assert command.rank == RANKS["b"] and command.into_rank == RANKS["a"]
    stage = Stage(random.Random(0))
    opened(stage, "ab")
    stage.send(command)
    stage.run()
    assert stage.states["b"].merged_into == "a" and stage.states["b"].merged_into_bucket == RANKS["a"][0]


def test_a_second_merge_joins_the_two_survivors_the_greater_into_the_lesser() -> None:
    # b (rank 5) merged into a (rank 3); told to merge into c (rank 1): a merges into c.
    stage = Stage(random.Random(0))
    opened(stage, "abc")
    stage.send(merge("b", "a"))
    stage.run()
    stage.send(merge("b", "c"))
    stage.run()
    assert stage.states["b"].merged_into == "a"  # it stays with its first survivor
    assert stage.states["a"].merged_into == "c"
    assert stage.states["a"].merge_reason == "both took incident b: shares user.name#bc"
    assert stage.states["c"].merged_into is None
    assert all(stage.states["c"].has_signal(f"sig-{i}") for i in "abc") and stage.states["c"].signal_count == 3


def test_a_second_merge_into_a_greater_incident_brings_that_one_in() -> None:
    # b merged into e (the least of all); told to merge into a: a merges into e.
    stage = Stage(random.Random(0))
    opened(stage, "abe")
    stage.send(merge("b", "e"), merge("b", "a"))
    stage.run()
    assert stage.states["a"].merged_into == "e" and stage.states["e"].signal_count == 3


def test_a_merge_read_twice_sends_nothing() -> None:
    stage = Stage(random.Random(0))
    opened(stage, "ab")
    stage.send(merge("b", "a"))
    stage.run()
    again = merge("b", "a")
    assert decide(again, stage.states["b"], now=NOW, rules=RULES) == []
    assert reactions(again, stage.states["b"], []) == []


def test_without_ranks_a_second_merge_is_ignored_as_before() -> None:
    # The one-worker correlator's and a person's merges carry no rank: the direction is not known.
    stage = Stage(random.Random(0))
    opened(stage, "abc")
    stage.send(MergeIncident(incident_id="b", into="a", reason="r"))
    stage.run()
    for second in (MergeIncident(incident_id="b", into="c", reason="r"), merge("b", "c")):
        assert decide(second, stage.states["b"], now=NOW, rules=RULES) == []
        assert reactions(second, stage.states["b"], []) == []


def test_an_old_merge_record_without_ranks_still_decodes() -> None:
    import orjson

    from streams.kafka import codec, hot_wire

    old = b'{"type":"MergeIncident","v":1,"data":{"incident_id":"b","into":"a","reason":"r"}}'
    assert codec.decode(old) == MergeIncident(incident_id="b", into="a", reason="r")
    event_before = {"type": "IncidentMerged", "v": 1, "data": {"incident_id": "b", "version": 2,
                                                               "at": NOW.isoformat(), "into": "a", "reason": "r"}}
    decoded = codec.decode(event_before)
    assert isinstance(decoded, IncidentMerged) and decoded.into_bucket is None
    ranked = merge("b", "a")
    assert codec.decode(codec.encode(ranked)) == ranked
    # The strict reader of the workers' commands reads both too (not the lenient path's fallback).
    assert hot_wire.command(old) == MergeIncident(incident_id="b", into="a", reason="r")
    assert hot_wire.command(codec.encode(ranked)) == ranked
    assert codec.from_jsonable(MergeIncident, orjson.loads(codec.encode(ranked))["data"]) == ranked


def test_an_attach_to_an_absorbed_incident_is_forwarded_along_the_chain() -> None:
    stage = Stage(random.Random(0))
    opened(stage, "abc")
    stage.send(merge("b", "a"), merge("b", "c"))  # b -> a -> c
    stage.run()
    _, (late,) = correlate(None, event("late", asset="acme-crm-db", at=T0 + timedelta(minutes=5)))
    assert isinstance(late, AttachSignal)
    stage.send(replace(late, incident_id="b"))
    stage.run()
    assert stage.states["c"].has_signal("late") and not stage.states["a"].has_signal("late")
    assert stage.states["c"].signal_count == 4


def test_an_absorb_handed_to_an_incident_merged_on_meanwhile_goes_on() -> None:
    stage = Stage(random.Random(0))
    opened(stage, "abc")
    stage.send(merge("a", "c"))
    stage.run()
    evidence = stage.states["b"].evidence
    stage.send(AbsorbIncident(incident_id="a", absorbed="b", controller="acme", correlation_key="acme",
                              reason="r", evidence=evidence))
    stage.run()
    assert stage.states["c"].has_signal("sig-b")


PAIRS = [(a, b) for a in IDS for b in IDS if RANKS[a] > RANKS[b]]  # every merge a linker may send: greater -> lesser


@settings(max_examples=150, deadline=None)
@given(edges=st.lists(st.sampled_from(PAIRS), min_size=1, max_size=10), seed=st.integers(0, 2**32 - 1),
       twice=st.floats(0, 0.3))
def test_any_order_of_the_same_merges_ends_with_the_same_survivor_and_the_same_signals(
        edges: list[tuple[str, str]], seed: int, twice: float) -> None:
    rnd = random.Random(seed)
    stage = Stage(rnd)
    opened(stage)
    records = [merge(a, b) for a, b in edges]
    rnd.shuffle(records)
    records += [r for r in records if rnd.random() < twice]  # redelivered after a crash
    stage.send(*records)
    stage.run()
    expected = components(edges)
    for i in IDS:
        assert stage.survivor(i) == expected[i], (i, edges)
    for least in set(expected.values()):
        members = [i for i in IDS if expected[i] == least]
        state = stage.states[least]
        assert state.merged_into is None
        assert state.signal_count == len(members), (least, members, edges)
        assert all(state.has_signal(f"sig-{i}") for i in members)
    # Every merge goes from a greater incident to a lesser one: no cycle, whatever the order.
    for i in IDS:
        into = stage.states[i].merged_into
        assert into is None or RANKS[into] < RANKS[i]
