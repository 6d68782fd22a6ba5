"""The rule stage (issue 19): one correlation counted for one group from hits of several
partitions, in any order, with the current rules' evaluation; watermarks combined as the least."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from itertools import permutations

from incident.rule_stage import RuleStage, Watermarks
from incident.rules import AllOf, CorrelationRule, DetectionRule, Equals, FieldIs, RulePack
from incident.stage_messages import Contributor, FiredAsk, Release, RuleHit
from tests.unit.builders import T0

FAIL = DetectionRule(id="fail", name="failed_logon", title="Failed", level="low",
                     condition=AllOf((FieldIs("event.action", Equals("logon-failed")),)), source="t")
SUCCESS = DetectionRule(id="success", name="successful_logon", title="Success", level="low",
                        condition=AllOf((FieldIs("event.action", Equals("logon")),)), source="t")
MANY = CorrelationRule(id="many", name="many_failed_logons", title="Many", level="medium", type="event_count",
                       rules=("fail",), group_by=("user.name",), timespan=timedelta(minutes=10),
                       condition=(("gte", 3),))
CHAIN = CorrelationRule(id="chain", name="brute_force_then_success", title="Brute", level="high",
                        type="temporal_ordered", rules=("many", "success"), group_by=("user.name",),
                        timespan=timedelta(hours=1), condition=(("gte", 2),))
PACK = RulePack.of([FAIL, SUCCESS], [MANY, CHAIN])


def hit(n: int, minutes: float, *, rule: str = "fail", correlation: str = "many", partition: int = 0,
        held: bool = True) -> RuleHit:
    at = T0 + timedelta(minutes=minutes)
    return RuleHit(controller="acme", correlation=correlation, group="g", rule=rule, key=f"{rule}:e{n}", at=at,
                   value=None, sources=(Contributor(event_id=f"e{n}", host=f"host{n % 2}", at=at, held=held),),
                   outer=(("chain", "g"),), partition=partition, watermark=at)


def stage(rule: CorrelationRule = MANY) -> RuleStage:
    return RuleStage("acme", rule, "g", pack=PACK)


def released(records: Sequence[object]) -> dict[str, object]:
    return {r.event_id: r.at for r in records if isinstance(r, Release) and r.link is None}


def test_an_inner_correlation_that_fires_is_a_hit_of_the_outer_one() -> None:
    s = stage()
    assert s.hit(hit(1, 0)) == [] and s.hit(hit(2, 1)) == []
    (outer,) = s.hit(hit(3, 2))
    assert isinstance(outer, RuleHit)
    assert (outer.correlation, outer.group, outer.rule, outer.at) == ("chain", "g", "many", T0 + timedelta(minutes=2))
    assert {c.event_id for c in outer.sources} == {"e1", "e2", "e3"}


def test_an_outermost_firing_releases_its_held_signals_at_the_time_it_fired() -> None:
    s = stage(CHAIN)
    many = RuleHit(controller="acme", correlation="chain", group="g", rule="many", key="many/g/fail:e3",
                   at=T0 + timedelta(minutes=2), value=None,
                   sources=tuple(Contributor(event_id=f"e{n}", host="h", at=T0 + timedelta(minutes=n - 1), held=True)
                                 for n in (1, 2, 3)))
    assert s.hit(many) == []
    out = s.hit(hit(4, 5, rule="success", correlation="chain"))
    assert released(out) == {f"e{n}": T0 + timedelta(minutes=5) for n in (1, 2, 3, 4)}
    assert all(isinstance(r, Release) and r.why.startswith("correlation brute_force_then_success fired (temporal_"
                                                            "ordered of many_failed_logons, successful_logon")
               for r in out)


def test_hits_in_any_order_fire_as_in_event_time_order() -> None:
    hits = [hit(1, 0), hit(2, 1), hit(3, 2), hit(4, 30), hit(5, 31), hit(6, 32)]
    expected = None
    for order in permutations(hits):
        s, out = stage(), []
        for h in order:
            out.extend(s.hit(h))
        fired = {(r.at, frozenset(c.event_id for c in r.sources)) for r in out if isinstance(r, RuleHit)}
        # The largest window sent for each end: what one worker reading in order counts.
        ends = {at: max((f for a, f in fired if a == at), key=len) for at, _ in fired}
        if expected is None:
            expected = ends
        assert ends == expected
    assert expected == {T0 + timedelta(minutes=2): frozenset({"e1", "e2", "e3"}),
                        T0 + timedelta(minutes=32): frozenset({"e4", "e5", "e6"})}


def test_a_window_that_grows_replaces_its_hit_in_the_outer_correlation() -> None:
    # Counting the same inner window twice would make an event_count of 2 fire on one firing.
    twice = CorrelationRule(id="chain", name="twice", title="Twice", level="high", type="event_count",
                            rules=("many",), group_by=("user.name",), timespan=timedelta(hours=1),
                            condition=(("gte", 2),))
    s = RuleStage("acme", twice, "g", pack=RulePack.of([FAIL], [MANY, twice]))
    small = RuleHit(controller="acme", correlation="chain", group="g", rule="many", key="many/g/fail:e3",
                    at=T0, value=None, sources=(Contributor(event_id="e1", host="h", at=T0, held=True),))
    grown = RuleHit(controller="acme", correlation="chain", group="g", rule="many", key="many/g/fail:e3",
                    at=T0, value=None, sources=(*small.sources, Contributor(event_id="e2", host="h", at=T0, held=True)))
    assert s.hit(small) == [] and s.hit(grown) == [] and len(s.hits) == 1


def test_a_hit_read_twice_changes_nothing() -> None:
    s = stage()
    for n in (1, 2, 3):
        s.hit(hit(n, n))
    size, sent = s.size, dict(s.sent)
    assert s.hit(hit(3, 3)) == [] and s.hit(hit(1, 1)) == []
    assert (s.size, s.sent) == (size, sent)


def test_a_held_signal_after_a_firing_within_its_timespan_joins_it() -> None:
    s = stage(CHAIN)
    many = RuleHit(controller="acme", correlation="chain", group="g", rule="many", key="k", at=T0, value=None,
                   sources=(Contributor(event_id="e1", host="h", at=T0, held=True),))
    s.hit(many)
    s.hit(hit(2, 5, rule="success", correlation="chain"))
    near = FiredAsk(controller="acme", correlation="chain", group="g", host="h", event_id="late-fail",
                    at=T0 + timedelta(minutes=50))
    far = FiredAsk(controller="acme", correlation="chain", group="g", host="h", event_id="far",
                   at=T0 + timedelta(hours=3))
    assert released(s.ask(near)) == {"late-fail": T0 + timedelta(minutes=50)}
    assert s.ask(far) == [] and s.ask(near) == []


def test_a_firing_links_its_signals_once_the_lateness_bound_passed() -> None:
    s = stage(CHAIN)
    s.hit(RuleHit(controller="acme", correlation="chain", group="g", rule="many", key="k", at=T0, value=None,
                  sources=(Contributor(event_id="e1", host="h1", at=T0, held=True),), partition=0, watermark=T0))
    s.hit(hit(2, 5, rule="success", correlation="chain", partition=0))
    assert s.settle() == []  # the watermark is 5 min: an earlier firing could still show up
    s.hit(hit(9, 70, rule="fail", correlation="chain", partition=0))
    links = s.settle()
    assert {(r.event_id, r.host) for r in links} == {("e1", "h1"), ("e2", "host0")}
    assert len({r.link for r in links}) == 1 and all(r.link and r.link.startswith("firing#") for r in links)
    assert s.settle() == []


def test_the_watermark_is_the_least_of_the_partitions() -> None:
    marks = Watermarks()
    marks.see(0, T0 + timedelta(hours=5))
    marks.see(1, T0)
    marks.see(1, T0 - timedelta(hours=1))  # a partition's watermark never goes back
    assert marks.combined == T0
    two = Watermarks(partitions=2)
    two.see(0, T0)
    assert two.combined is None  # partition 1 may still hold older signals
    two.see(1, T0 + timedelta(hours=1))
    assert two.combined == T0
    s = stage()
    s.hit(hit(1, 0, partition=0))
    s.hit(hit(2, 200, partition=0))
    s.hit(hit(3, 1, partition=1))  # partition 1 is behind: its hits are not judged late
    s.expire()
    assert {h.sources for h in s.hits} == {("e1",), ("e2",), ("e3",)}
    s.hit(hit(4, 300, partition=1))
    s.expire()  # both partitions past 3 h 20: the hits of the first minutes are gone
    assert {h.sources for h in s.hits} == {("e2",), ("e4",)}


def test_a_signal_released_by_a_later_firing_joins_an_earlier_one_from_its_own_time() -> None:
    # Three failures fire at 2 min; one at 11.5 min does not fire (two in its 10 minutes) but is
    # within the first firing's timespan: one worker reading in order attaches it at 11.5 min.
    # Two more fire at 14 min with it; its question, read after that, still moves it to 11.5 min.
    count = CorrelationRule(id="count", name="count", title="Count", level="high", type="event_count",
                            rules=("fail",), group_by=("user.name",), timespan=timedelta(minutes=10),
                            condition=(("gte", 3),))
    s = RuleStage("acme", count, "g", pack=RulePack.of([FAIL], [count]))
    for n, minutes in enumerate((0, 1, 2, 11.5, 13, 14)):
        s.hit(hit(n, minutes, correlation="count"))
    assert s.released["e3"][0] == T0 + timedelta(minutes=14)
    ask = FiredAsk(controller="acme", correlation="count", group="g", host="host1", event_id="e3",
                   at=T0 + timedelta(minutes=11.5))
    assert released(s.ask(ask)) == {"e3": T0 + timedelta(minutes=11.5)}
    assert s.ask(ask) == []


def test_expiry_keeps_the_signals_behind_the_hits_it_keeps() -> None:
    # An outer hit at 100 min stands for a failure at 0 min: kept while the hit is, even once
    # the watermark puts that failure behind the horizon.
    s = stage(CHAIN)
    old = Contributor(event_id="e1", host="h", at=T0, held=True)
    s.hit(RuleHit(controller="acme", correlation="chain", group="g", rule="many", key="k",
                  at=T0 + timedelta(minutes=100), value=None, sources=(old,), watermark=T0 + timedelta(minutes=100)))
    s.hit(hit(2, 135, rule="other", correlation="chain"))  # watermark 135 min: horizon 135 − 60 − 60 = 15 min
    s.expire()
    assert len(s.hits) == 2 and s.contributor["e1"] == old
    out = s.hit(hit(3, 136, rule="success", correlation="chain"))
    assert set(released(out)) == {"e1", "e2", "e3"}
