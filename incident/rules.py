"""Detection and correlation rules as plain data, and their evaluation.

The shell (``streams/rules_loader.py``) parses Sigma files with pySigma and translates them
into these frozen dataclasses; nothing here knows YAML or Sigma's classes. Rules match on
``SecurityEvent.fields()`` (ECS dotted names). Matching follows Sigma: strings compare
case-insensitively, a list-valued field matches when any element does, regular expressions
and networks are compiled once when the rule is built, never per event.

Correlation types (Sigma v2): ``event_count`` (hits of the base rules), ``value_count``
(distinct values of one field), ``temporal`` (distinct base rules) and ``temporal_ordered``
(the base rules in their declared order), all per ``group-by`` tuple within a sliding
``timespan`` that ends at the newest hit. A correlation may reference another correlation
(chaining): when it fires it counts as a hit of its own id.
"""

from __future__ import annotations

import ipaddress
import re
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
CORRELATION_TYPES = ("event_count", "value_count", "temporal", "temporal_ordered")
OPERATORS = ("gt", "gte", "lt", "lte", "eq")


# -- detection ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Equals:
    """Case-insensitive equality (Sigma's plain string), or exact equality for numbers and booleans."""
    value: str | int | float | bool


@dataclass(frozen=True, slots=True)
class Pattern:
    """A compiled regular expression: Sigma wildcards (contains/startswith/endswith) or ``|re``."""
    regex: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class InNetwork:
    network: Network


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # gt gte lt lte
    number: float


@dataclass(frozen=True, slots=True)
class Exists:
    present: bool


@dataclass(frozen=True, slots=True)
class IsNull:
    pass


Test = Equals | Pattern | InNetwork | Compare | Exists | IsNull


@dataclass(frozen=True, slots=True)
class FieldIs:
    """One field against one test (``|all`` is an ``AllOf`` of several)."""
    name: str
    test: Test


@dataclass(frozen=True, slots=True)
class Keyword:
    """A value searched in every field (Sigma keyword lists)."""
    test: Test


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


Node = FieldIs | Keyword | AllOf | AnyOf | Not


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectionRule:
    id: str
    name: str | None
    title: str
    level: str
    condition: Node
    source: str  # "file:line", for messages


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrelationRule:
    id: str
    name: str | None
    title: str
    level: str
    type: str  # one of CORRELATION_TYPES
    rules: tuple[str, ...]  # ids of the referenced rules (detections or correlations), in order
    group_by: tuple[str, ...]
    timespan: timedelta
    condition: tuple[tuple[str, float], ...]  # (operator, number), AND-combined
    field: str | None = None  # value_count: the field whose distinct values are counted
    generate: bool = False  # do the referenced rules' matches stand alone as alerts?
    source: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RulePack:
    detections: tuple[DetectionRule, ...] = ()
    correlations: tuple[CorrelationRule, ...] = ()  # ordered so that a referenced one comes first
    # Derived once: which rule ids only feed correlations (their matches wait for the correlation).
    held: frozenset[str] = field(default=frozenset())
    # Derived once: each detection compiled to a closure (the tree walk costs several times more),
    # behind the fields it cannot match without (``Guard``).
    matchers: tuple[tuple[str, Guard | None, Predicate], ...] = field(default=(), compare=False, repr=False)
    # Derived once: each rule id's name for reasons (read several times per matched signal).
    titles: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, detections: Sequence[DetectionRule], correlations: Sequence[CorrelationRule]) -> RulePack:
        ordered = _dependency_order(correlations)
        referenced = {r for c in ordered for r in c.rules}
        standalone = {r for c in ordered if c.generate for r in c.rules}
        held = frozenset(d.id for d in detections if d.id in referenced and d.id not in standalone)
        titles: dict[str, str] = {}
        every: list[DetectionRule | CorrelationRule] = [*detections, *ordered]
        for rule in every:
            titles.setdefault(rule.id, rule.name or rule.title)  # the first of an id, as title_of's scan
        return cls(detections=tuple(detections), correlations=ordered, held=held,
                   matchers=tuple((d.id, guard(d.condition), compile_node(d.condition)) for d in detections),
                   titles=titles)

    @property
    def max_timespan(self) -> timedelta:
        return max((c.timespan for c in self.correlations), default=timedelta(0))

    def matching(self, fields: Mapping[str, object]) -> tuple[str, ...]:
        """Ids of the detection rules this event matches, in pack order."""
        if len(self.matchers) != len(self.detections):  # built without of(): walk the trees
            return tuple(rule.id for rule in self.detections if evaluate(rule.condition, fields))
        keys = fields.keys()
        usable: set[str] | None = None  # the fields with a value a test can match: once per event
        out: list[str] = []
        for rule_id, needs, matches in self.matchers:
            if needs is not None:
                if usable is None:
                    usable = {k for k, v in fields.items() if v is not None and v != [] and v != ()}
                for present, valued in needs:
                    if keys >= present and usable >= valued:
                        break
                else:
                    continue
            if matches(fields):
                out.append(rule_id)
        return tuple(out)

    def title_of(self, rule_id: str) -> str:
        found = self.titles.get(rule_id)
        if found is not None:
            return found
        for rule in self.detections:  # built without of(), or an id the pack does not hold
            if rule.id == rule_id:
                return rule.name or rule.title
        for correlation in self.correlations:
            if correlation.id == rule_id:
                return correlation.name or correlation.title
        return rule_id


class RuleError(ValueError):
    """A rule that cannot be used; the message names the rule (the loader adds file and line)."""


def _dependency_order(correlations: Sequence[CorrelationRule]) -> tuple[CorrelationRule, ...]:
    by_id = {c.id: c for c in correlations}
    done: list[CorrelationRule] = []
    visiting: set[str] = set()

    def visit(c: CorrelationRule) -> None:
        if c in done:
            return
        if c.id in visiting:
            raise RuleError(f"correlation {c.id} references itself through a cycle")
        visiting.add(c.id)
        for ref in c.rules:
            if ref in by_id:
                visit(by_id[ref])
        visiting.discard(c.id)
        done.append(c)

    for c in correlations:
        visit(c)
    return tuple(done)


Predicate = Callable[[Mapping[str, object]], bool]


def compile_node(node: Node) -> Predicate:
    """The same semantics as :func:`evaluate`, as closures built once per rule."""
    match node:
        case FieldIs(name, Exists(present)):
            return lambda fields: (name in fields) == present
        case FieldIs(name, Equals(str() as expected)):
            folded = expected.casefold()

            def equals(fields: Mapping[str, object]) -> bool:
                value = fields.get(name)
                if isinstance(value, str):
                    return value.casefold() == folded
                return value is not None and _test(Equals(expected), value, True)
            return equals
        case FieldIs(name, Pattern(regex)):
            search = regex.search

            def matches(fields: Mapping[str, object]) -> bool:
                value = fields.get(name)
                if isinstance(value, str):
                    return search(value) is not None
                return value is not None and _test(Pattern(regex), value, True)
            return matches
        case FieldIs(name, test):
            return lambda fields: _test(test, fields.get(name), True)
        case Keyword(test):
            return lambda fields: any(_test(test, v, True) for v in fields.values())
        case AllOf(items):
            parts = tuple(compile_node(i) for i in items)

            def all_of(fields: Mapping[str, object]) -> bool:
                for part in parts:  # noqa: SIM110 - a loop, not all(generator): half the cost per node
                    if not part(fields):
                        return False
                return True
            return all_of
        case AnyOf(items):
            parts = tuple(compile_node(i) for i in items)

            def any_of(fields: Mapping[str, object]) -> bool:
                for part in parts:  # noqa: SIM110
                    if part(fields):
                        return True
                return False
            return any_of
        case Not(item):
            inner = compile_node(item)
            return lambda fields: not inner(fields)
    raise TypeError(f"not a rule node: {node!r}")  # pragma: no cover - the union is closed


# What a rule cannot match without, as alternatives (any one may hold): each the fields that
# must be present, and those that must hold a value a test can match (not None, not an empty
# list). Most events lack them all (a login rule on an e-mail alert): two set tests per rule
# instead of its closures, which was most of the cost of matching a pack.
Need = tuple[frozenset[str], frozenset[str]]
Guard = tuple[Need, ...]
MAX_ALTERNATIVES = 16  # past this, the alternatives are merged into what they all need
_NOTHING: Need = (frozenset(), frozenset())


def guard(node: Node) -> Guard | None:
    """The alternatives ``node`` needs one of, or None when it may hold for any event."""
    needs = _needs(node)
    return None if _NOTHING in needs else tuple(needs)


def _needs(node: Node) -> list[Need]:
    match node:
        case FieldIs(name, Exists(True)):
            return [(frozenset({name}), frozenset())]
        case FieldIs(name, Equals() | Pattern() | Compare() | InNetwork()):
            return [(frozenset(), frozenset({name}))]  # None or [] never passes these tests
        case AllOf(items):
            out = [_NOTHING]
            for item in items:
                out = _few([(p | q, v | w) for p, v in out for q, w in _needs(item)])
            return out
        case AnyOf(items):
            return _few([need for item in items for need in _needs(item)])
    return [_NOTHING]  # Keyword, Not, IsNull, Exists(False): no field is needed


def _few(needs: list[Need]) -> list[Need]:
    unique = list(dict.fromkeys(needs))
    if len(unique) <= MAX_ALTERNATIVES:
        return unique
    present, valued = unique[0]
    for p, v in unique[1:]:
        present, valued = present & p, valued & v
    return [(present, valued)]  # weaker, still sound: every alternative needs these


def evaluate(node: Node, fields: Mapping[str, object]) -> bool:
    match node:
        case FieldIs(name, test):
            return _test(test, fields.get(name), name in fields)
        case Keyword(test):
            return any(_test(test, v, True) for v in fields.values())
        case AllOf(items):
            return all(evaluate(i, fields) for i in items)
        case AnyOf(items):
            return any(evaluate(i, fields) for i in items)
        case Not(item):
            return not evaluate(item, fields)
    raise TypeError(f"not a rule node: {node!r}")  # pragma: no cover - the union is closed


def _test(test: Test, value: object, present: bool) -> bool:
    if isinstance(test, Exists):
        return present == test.present
    if isinstance(test, IsNull):
        return value is None or value == ""
    if isinstance(value, (list, tuple)):
        return any(_scalar(test, v) for v in value)
    return value is not None and _scalar(test, value)


def _scalar(test: Test, value: object) -> bool:
    match test:
        case Equals(expected):
            if isinstance(expected, str):
                return (isinstance(value, str) and value.casefold() == expected.casefold()) or (
                    not isinstance(value, (str, bool)) and str(value) == expected)
            if isinstance(value, str):
                return value == str(expected)
            return bool(value == expected)
        case Pattern(regex):
            return regex.search(value if isinstance(value, str) else str(value)) is not None
        case InNetwork(network):
            try:
                return ipaddress.ip_address(str(value)) in network
            except ValueError:
                return False
        case Compare(op, number):
            try:
                n = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return False
            return _compare(op, n, number)
    return False


def _compare(op: str, left: float, right: float) -> bool:
    match op:
        case "gt":
            return left > right
        case "gte":
            return left >= right
        case "lt":
            return left < right
        case "lte":
            return left <= right
        case "eq":
            return left == right
    raise RuleError(f"unknown operator {op!r}")


# -- correlation ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class Hit:
    """A base-rule match remembered for a correlation: hashed group and value, never the data."""
    at: datetime
    correlation: str  # the correlation rule this hit counts for
    rule: str  # the referenced rule that matched (a detection, or an inner correlation that fired)
    group: str  # keyed hash of the group-by values
    value: str | None  # value_count: keyed hash of the counted field's value
    sources: tuple[str, ...]  # ids of the signals behind the hit (several for an inner correlation)


def hit_order(hit: Hit) -> tuple[datetime, tuple[str, ...]]:
    """The order ``fires`` reads hits in: event time, then the signals behind them."""
    return (hit.at, hit.sources)


def fires(rule: CorrelationRule, hits: Sequence[Hit]) -> tuple[Hit, ...]:
    """The hits that make ``rule`` fire, if its condition holds over the sliding timespan that ends
    at the newest hit, else ``()``. ``hits`` are this rule's hits for one group, in any order."""
    return fires_ordered(rule, sorted(hits, key=hit_order))


def fires_ordered(rule: CorrelationRule, ordered: Sequence[Hit]) -> tuple[Hit, ...]:
    """``fires`` for hits already in ``hit_order``: the correlator keeps each group's hits sorted,
    since sorting them per hit made a busy group quadratic."""
    if not ordered:
        return ()
    end = ordered[-1].at
    window = ordered[bisect_left(ordered, end - rule.timespan, key=_at):]
    match rule.type:
        case "event_count":
            measure = float(len(window))
        case "value_count":
            measure = float(len({h.value for h in window if h.value is not None}))
        case "temporal":
            measure = float(len({h.rule for h in window}))
        case "temporal_ordered":
            return tuple(window) if _in_order(rule.rules, window) and _holds(rule, len(rule.rules)) else ()
        case _:
            raise RuleError(f"unknown correlation type {rule.type!r}")
    return tuple(window) if _holds(rule, measure) else ()


def _at(hit: Hit) -> datetime:
    return hit.at


def _holds(rule: CorrelationRule, measure: float) -> bool:
    return all(_compare(op, measure, n) for op, n in rule.condition)


def _in_order(sequence: Sequence[str], hits: Sequence[Hit]) -> bool:
    """True when the hits contain the rules of ``sequence`` as an ordered subsequence by time."""
    position = 0
    for hit in hits:
        if position < len(sequence) and hit.rule == sequence[position]:
            position += 1
    return position == len(sequence)
