"""A pack's guards (the fields a rule cannot match without) never change what it matches: for
any rule tree and any event, ``RulePack.matching`` gives what walking the trees gives."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from incident.rules import (
    AllOf,
    AnyOf,
    Compare,
    DetectionRule,
    Equals,
    Exists,
    FieldIs,
    InNetwork,
    IsNull,
    Keyword,
    Node,
    Not,
    Pattern,
    RulePack,
    evaluate,
    guard,
)

NAMES = ["event.action", "user.name", "source.ip", "tags", "source.bytes", "breach.confirmed"]
TESTS = st.sampled_from([
    Equals("export"), Equals("10.1.2.3"), Equals(5), Equals(False), Pattern(re.compile("port", re.I)),
    InNetwork(ipaddress.ip_network("10.0.0.0/8")), Compare("gte", 5), Exists(True), Exists(False), IsNull(),
])
LEAVES = st.builds(FieldIs, st.sampled_from(NAMES), TESTS) | st.builds(Keyword, TESTS)
NODES: st.SearchStrategy[Node] = st.recursive(LEAVES, lambda inner: (
    st.builds(AllOf, st.lists(inner, max_size=4).map(tuple)) | st.builds(AnyOf, st.lists(inner, max_size=4).map(tuple))
    | st.builds(Not, inner)), max_leaves=12)
VALUES = st.sampled_from([None, "", "export", "Export-Table", "10.1.2.3", "alice", 5, 7, 0, False, True, [],
                          ["dlp", "export"], ["10.9.9.9"], [""]])
EVENTS = st.dictionaries(st.sampled_from(NAMES), VALUES)


@given(nodes=st.lists(NODES, min_size=1, max_size=4), event=EVENTS)
def test_the_guarded_pack_matches_what_the_trees_match(nodes: list[Node], event: dict[str, Any]) -> None:
    rules = [DetectionRule(id=f"r{n}", name=None, title="t", level="high", condition=node, source="x")
             for n, node in enumerate(nodes)]
    pack = RulePack.of(rules, [])
    assert pack.matching(event) == tuple(r.id for r in rules if evaluate(r.condition, event))


def test_a_rule_on_values_skips_events_without_them() -> None:
    login = AllOf((FieldIs("event.category", Equals("authentication")), FieldIs("tags", Pattern(re.compile("x")))))
    assert guard(login) == ((frozenset(), frozenset({"event.category", "tags"})),)
    either = AnyOf((FieldIs("event.action", Equals("lost")), FieldIs("tags", Equals("stolen"))))
    assert guard(either) == ((frozenset(), frozenset({"event.action"})), (frozenset(), frozenset({"tags"})))
    assert guard(Not(FieldIs("user.name", Equals("x")))) is None  # holds without any field
    assert guard(AllOf((FieldIs("data_store.name", Exists(True)), Keyword(Equals("x"))))) == (
        (frozenset({"data_store.name"}), frozenset()),)


def test_titles_are_read_from_the_pack_as_the_scan_gives_them() -> None:
    from datetime import timedelta

    from incident.rules import CorrelationRule

    first = DetectionRule(id="d", name=None, title="First", level="high", condition=Keyword(Equals("x")), source="x")
    named = DetectionRule(id="n", name="named", title="Titled", level="high", condition=Keyword(Equals("x")),
                          source="x")
    again = DetectionRule(id="d", name=None, title="Second", level="high", condition=Keyword(Equals("x")), source="x")
    correlation = CorrelationRule(id="c", name=None, title="Brute force", level="high", type="event_count",
                                  rules=("d",), group_by=("user.name",), timespan=timedelta(minutes=5),
                                  condition=(("gte", 3),))
    same_id = CorrelationRule(id="n", name=None, title="Shadowed", level="high", type="event_count", rules=("d",),
                              group_by=("user.name",), timespan=timedelta(minutes=5), condition=(("gte", 3),))
    pack = RulePack.of([first, named, again], [correlation, same_id])
    scanned = RulePack(detections=pack.detections, correlations=pack.correlations)  # no derived lookups
    for rule_id in ("d", "n", "c", "unknown"):
        assert pack.title_of(rule_id) == scanned.title_of(rule_id)
    assert [pack.title_of(i) for i in ("d", "n", "c", "unknown")] == ["First", "named", "Brute force", "unknown"]
