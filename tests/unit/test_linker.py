"""The entity linker and the survivors' map (issue 19): merges of incidents sharing an entity,
the least (bucket start, id) surviving, whatever order the records arrive in, read twice or not."""

from __future__ import annotations

from datetime import timedelta
from itertools import permutations

from hypothesis import given, settings
from hypothesis import strategies as st

from incident.linker import Linker
from incident.stage_messages import EntitySeen, HeldAsk, Merge, Rank, Release
from incident.survivors import Survivors
from tests.unit.builders import T0

ENTITY = "user.name#3fa2"
DAY = T0.replace(hour=0)


def seen(incident: str, minutes: float, *, rank: Rank | None = None, attached: float | None = None,
         event: str | None = None) -> EntitySeen:
    at = T0 + timedelta(minutes=minutes)
    return EntitySeen(controller="acme", entity=ENTITY, incident_id=incident, rank=rank or (DAY, incident), at=at,
                      attached_at=T0 + timedelta(minutes=attached) if attached is not None else at,
                      event_id=event or f"{incident}-{minutes}")


def ask(event: str, minutes: float) -> HeldAsk:
    return HeldAsk(controller="acme", entity=ENTITY, host="acme-crm-db", event_id=event,
                   at=T0 + timedelta(minutes=minutes))


def merges(records: list[Merge | Release]) -> list[Merge]:
    return [r for r in records if isinstance(r, Merge)]


def test_two_incidents_seen_with_the_entity_within_the_window_merge_into_the_least() -> None:
    linker = Linker("acme", ENTITY)
    assert linker.seen(seen("b", 0)) == []
    (merge,) = merges(linker.seen(seen("a", 30, event="c")))
    assert (merge.absorbed, merge.into) == ("b", "a")
    assert merge.reason == f"signal c shares {ENTITY} with it and with incident a within 24 h"
    assert merge.command().incident_id == "b" and merge.command().into == "a"


def test_the_survivor_is_the_earliest_bucket_before_the_smallest_id() -> None:
    linker = Linker("acme", ENTITY)
    linker.seen(seen("a", 0, rank=(DAY, "a")))
    (merge,) = merges(linker.seen(seen("z", 10, rank=(DAY - timedelta(days=1), "z"))))
    assert (merge.absorbed, merge.into) == ("a", "z")


def test_the_window_is_measured_between_occurrences_of_the_entity() -> None:
    # "a" holds the entity at 0 h and 60 h: one worker measures from a's first and last signal
    # and would join "b" at 30 h; no occurrence of the entity with "a" is within 24 h of it.
    linker = Linker("acme", ENTITY)
    linker.seen(seen("a", 0))
    linker.seen(seen("a", 60 * 60))
    assert linker.seen(seen("b", 30 * 60)) == []
    assert [m.absorbed for m in merges(linker.seen(seen("b", 40 * 60)))] == ["b"]  # 20 h from a's second occurrence


@settings(max_examples=50, deadline=None)
@given(st.permutations(["a", "b", "c", "d"]))
def test_any_order_merges_every_incident_into_the_least_once(order: list[str]) -> None:
    linker, survivors, merges = Linker("acme", ENTITY), Survivors(), []
    for n, incident in enumerate(order):
        for record in linker.seen(seen(incident, n)):
            assert isinstance(record, Merge)
            merges.append(record)
            survivors.merge(record)
    assert {survivors.resolve(i) for i in "abcd"} == {"a"}
    assert len(merges) == len({m.absorbed for m in merges})  # each incident merged once from here
    assert all(m.into_rank < m.absorbed_rank for m in merges)


def test_a_record_read_twice_changes_nothing() -> None:
    linker = Linker("acme", ENTITY)
    linker.seen(seen("b", 0))
    first = linker.seen(seen("a", 5))
    size, into = linker.size, dict(linker.into)
    assert first and linker.seen(seen("a", 5)) == [] and linker.seen(seen("b", 0)) == []
    assert (linker.size, linker.into) == (size, into)
    assert linker.ask(ask("h", 10)) and linker.ask(ask("h", 10)) == []


def test_a_held_signal_joins_an_incident_that_held_the_entity_before_it() -> None:
    linker = Linker("acme", ENTITY)
    linker.seen(seen("a", 10))
    (release,) = linker.ask(ask("later", 20))
    assert (release.event_id, release.host, release.at, release.joined_by) == (
        "later", "acme-crm-db", T0 + timedelta(minutes=20), ENTITY)
    assert linker.ask(ask("earlier", 5)) == []  # the incident was not open yet at its time


def test_a_question_asked_before_the_incident_is_seen_is_answered_when_it_is() -> None:
    linker = Linker("acme", ENTITY)
    assert linker.ask(ask("held", 20)) == []
    assert linker.seen(seen("a", 30)) == []  # opened after the held signal: no
    out = linker.seen(seen("b", 10))
    assert [r.event_id for r in out if isinstance(r, Release)] == ["held"]
    assert [(m.absorbed, m.into) for m in out if isinstance(m, Merge)] == [("b", "a")]
    # Released later than its own time (a firing at 25 min) counts from when it was released.
    linker2 = Linker("acme", ENTITY)
    linker2.ask(ask("held", 20))
    assert linker2.seen(seen("a", 10, attached=25)) == []
    assert [r.event_id for r in linker2.seen(seen("a", 10, attached=15)) if isinstance(r, Release)] == ["held"]


def test_expired_occurrences_and_questions_are_forgotten() -> None:
    linker = Linker("acme", ENTITY)
    linker.seen(seen("a", 0))
    linker.seen(seen("b", 10))
    linker.ask(ask("held", -5))
    linker.expire(T0 + timedelta(minutes=5))
    assert set(linker.holders) == {"b"} and linker.into == {} and linker.asks == {}


def test_a_second_merge_elsewhere_merges_the_two_survivors() -> None:
    # One linker merges b into a, another b into c: a and c are one breach, the greater joins the lesser.
    def merge(absorbed: str, into: str) -> Merge:
        return Merge(absorbed=absorbed, into=into, into_rank=(DAY, into), absorbed_rank=(DAY, absorbed), reason="r")

    for order in permutations([merge("b", "a"), merge("b", "c"), merge("d", "c")]):
        survivors, queue = Survivors(), list(order)
        while queue:
            queue.extend(survivors.merge(queue.pop(0)))
        assert {survivors.resolve(i) for i in "abcd"} == {"a"}, order
    survivors = Survivors()
    survivors.merge(merge("b", "c"))
    (follow,) = survivors.merge(merge("b", "a"))
    assert (follow.absorbed, follow.into) == ("c", "a") and "both took incident b" in follow.reason
    assert survivors.merge(merge("b", "c")) == []  # read twice


def test_state_stays_bounded_on_an_endless_stream() -> None:
    linker, sizes = Linker("acme", ENTITY), []
    for n in range(2_000):
        minutes = n * 10  # two weeks: a new incident every 30 h, each seen a few times
        linker.seen(seen(f"i{n // 180}", minutes, rank=(DAY + timedelta(days=n // 180), f"i{n // 180}")))
        linker.ask(ask(f"h{n}", minutes + 1))
        linker.expire(T0 + timedelta(minutes=minutes) - timedelta(hours=25))
        sizes.append(linker.size)
    assert max(sizes[500:]) <= 3 * 25 * 6 and len(linker.holders) <= 2


def test_a_held_signal_needs_an_occurrence_near_it_that_had_joined_before_it() -> None:
    # "a" carried the entity at 0 min (joined then) and at 30 min (released only at 50 min). A
    # held signal at 35 min: the occurrence within 10 min of it had not joined yet, the one that
    # had is too far.
    linker = Linker("acme", ENTITY, span=timedelta(minutes=10))
    linker.seen(seen("a", 0))
    linker.seen(seen("a", 30, attached=50))
    assert linker.ask(ask("held", 35)) == []
    assert [r.event_id for r in linker.seen(seen("a", 30, attached=32)) if isinstance(r, Release)] == ["held"]
