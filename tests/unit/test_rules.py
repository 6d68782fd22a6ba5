"""The pure evaluator: Sigma's matching semantics on plain rule data, and the four
correlation types with group-by, timespan and conditions."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta

import pytest

from incident.rules import (
    AllOf,
    AnyOf,
    Compare,
    CorrelationRule,
    Equals,
    Exists,
    FieldIs,
    Hit,
    InNetwork,
    IsNull,
    Keyword,
    Not,
    Pattern,
    RuleError,
    RulePack,
    compile_node,
    evaluate,
    fires,
)
from tests.unit.builders import T0

EVENT = {"event.action": "Export-Table", "user.name": "alice", "source.ip": "10.1.2.3", "tags": ["dlp", "Email"],
         "source.bytes": 2048, "breach.confirmed": False}


@pytest.mark.parametrize(("node", "expected"), [
    (FieldIs("event.action", Equals("export-table")), True),  # case-insensitive, as Sigma
    (FieldIs("event.action", Equals("export")), False),
    (FieldIs("event.action", Pattern(re.compile("port", re.I))), True),  # contains
    (FieldIs("event.action", Pattern(re.compile("^table", re.I))), False),  # startswith
    (FieldIs("event.action", Pattern(re.compile("table\\Z", re.I))), True),  # endswith
    (FieldIs("source.ip", InNetwork(ipaddress.ip_network("10.0.0.0/8"))), True),
    (FieldIs("source.ip", InNetwork(ipaddress.ip_network("192.168.0.0/16"))), False),
    (FieldIs("user.name", InNetwork(ipaddress.ip_network("10.0.0.0/8"))), False),  # not an address: no match
    (FieldIs("source.bytes", Compare("gte", 2048)), True),
    (FieldIs("source.bytes", Compare("gt", 2048)), False),
    (FieldIs("user.name", Compare("gt", 1)), False),  # not a number: no match, no error
    (FieldIs("destination.ip", Exists(False)), True),
    (FieldIs("user.name", Exists(True)), True),
    (FieldIs("destination.ip", IsNull()), True),
    (FieldIs("tags", Equals("email")), True),  # a list matches when any element does
    (AllOf((FieldIs("tags", Equals("dlp")), FieldIs("tags", Equals("email")))), True),  # |all
    (AllOf((FieldIs("tags", Equals("dlp")), FieldIs("tags", Equals("usb")))), False),
    (AnyOf((FieldIs("tags", Equals("usb")), FieldIs("user.name", Equals("ALICE")))), True),
    (Not(FieldIs("user.name", Equals("alice"))), False),
    (Keyword(Pattern(re.compile("alic", re.I))), True),
    (FieldIs("breach.confirmed", Equals(False)), True),
    (FieldIs("breach.confirmed", Equals("false")), False),  # a string never equals a boolean
])
def test_detection_semantics(node, expected) -> None:  # type: ignore[no-untyped-def]
    assert evaluate(node, EVENT) is expected
    assert compile_node(node)(EVENT) is expected  # the compiled form the pack runs agrees


def rule(kind: str, *, rules: tuple[str, ...] = ("a",), op: str = "gte", n: float = 3, field: str | None = None,
         span: timedelta = timedelta(minutes=10)) -> CorrelationRule:
    return CorrelationRule(id="c", name="c", title="c", level="high", type=kind, rules=rules, group_by=("user.name",),
                           timespan=span, condition=((op, n),), field=field)


def hits(*items: tuple[int, str, str | None]) -> list[Hit]:
    return [Hit(at=T0 + timedelta(minutes=m), correlation="c", rule=r, group="g", value=v, sources=(f"e{i}",))
            for i, (m, r, v) in enumerate(items)]


def test_event_count_fires_at_the_threshold_within_the_sliding_timespan() -> None:
    assert fires(rule("event_count"), hits((0, "a", None), (4, "a", None))) == ()
    assert len(fires(rule("event_count"), hits((0, "a", None), (4, "a", None), (9, "a", None)))) == 3
    # Not restricted to boundaries: the window ends at the newest hit, so 0 is out at minute 11.
    assert fires(rule("event_count"), hits((0, "a", None), (4, "a", None), (11, "a", None))) == ()


def test_value_count_counts_distinct_values() -> None:
    r = rule("value_count", field="user.name")
    assert fires(r, hits((0, "a", "u1"), (1, "a", "u1"), (2, "a", "u2"))) == ()
    assert len(fires(r, hits((0, "a", "u1"), (1, "a", "u2"), (2, "a", "u3")))) == 3


def test_temporal_needs_every_rule_in_any_order_and_lt_or_eq_conditions_work() -> None:
    r = rule("temporal", rules=("a", "b"), n=2)
    assert fires(r, hits((0, "b", None), (1, "a", None)))
    assert not fires(r, hits((0, "a", None), (1, "a", None)))
    assert fires(rule("event_count", op="lt", n=3), hits((0, "a", None), (1, "a", None)))
    assert fires(rule("event_count", op="eq", n=2), hits((0, "a", None), (1, "a", None)))


def test_temporal_ordered_needs_the_declared_order() -> None:
    r = rule("temporal_ordered", rules=("a", "b"), n=2)
    assert fires(r, hits((0, "a", None), (3, "b", None)))
    assert not fires(r, hits((0, "b", None), (3, "a", None)))
    assert not fires(r, hits((0, "a", None), (30, "b", None)))  # outside the timespan


def test_an_unknown_correlation_type_is_refused() -> None:
    with pytest.raises(RuleError, match="unknown correlation type"):
        fires(rule("value_sum"), hits((0, "a", None)))


def test_the_pack_orders_chained_correlations_and_holds_rules_that_only_feed_them() -> None:
    from incident.rules import DetectionRule

    detect = [DetectionRule(id=i, name=i, title=i, level="low", condition=FieldIs("x", Exists(True)), source="t")
              for i in ("a", "b", "alone")]
    outer = CorrelationRule(id="outer", name="outer", title="o", level="high", type="temporal_ordered",
                            rules=("inner", "b"), group_by=("u",), timespan=timedelta(hours=1), condition=(("gte", 2),))
    inner = rule("event_count")
    inner = CorrelationRule(**{**{f: getattr(inner, f) for f in inner.__dataclass_fields__}, "id": "inner"})
    pack = RulePack.of(detect, [outer, inner])
    assert [c.id for c in pack.correlations] == ["inner", "outer"]
    assert pack.held == frozenset({"a", "b"})
    cycle = CorrelationRule(**{**{f: getattr(inner, f) for f in inner.__dataclass_fields__}, "rules": ("outer",)})
    with pytest.raises(RuleError, match="cycle"):
        RulePack.of(detect, [outer, cycle])
