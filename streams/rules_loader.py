"""Read Sigma rule files (deploy/rules/**/*.yml) with pySigma and translate them into the
pure domain's ``incident.rules`` dataclasses.

pySigma does the Sigma work (YAML, condition grammar, modifiers such as ``contains|all``,
correlation objects); this module only maps its typed parse tree onto our small vocabulary
and refuses what the evaluator cannot run. Every error names the file and the line, so a
worker refuses to start with a message an operator can act on. Rules may reference rules of
other files by ``name`` or ``id``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from sigma import conditions as sc
from sigma import types as st
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationCondition, SigmaCorrelationConditionOperator, SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from incident.rules import (
    CORRELATION_TYPES,
    AllOf,
    AnyOf,
    Compare,
    CorrelationRule,
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
    RuleError,
    RulePack,
    Test,
)
from streams.settings import SettingsError

SUFFIXES = (".yml", ".yaml")
_QUOTED = re.compile(r"'([^']+)'")
_OPERATORS = {SigmaCorrelationConditionOperator.GT: "gt", SigmaCorrelationConditionOperator.GTE: "gte",
              SigmaCorrelationConditionOperator.LT: "lt", SigmaCorrelationConditionOperator.LTE: "lte",
              SigmaCorrelationConditionOperator.EQ: "eq"}
_COMPARE = {st.SigmaCompareExpression.CompareOperators.LT: "lt", st.SigmaCompareExpression.CompareOperators.LTE: "lte",
            st.SigmaCompareExpression.CompareOperators.GT: "gt", st.SigmaCompareExpression.CompareOperators.GTE: "gte"}


class RulesError(SettingsError):
    """A rule file that cannot be used: ``file:line: what is wrong``. A settings error, so the
    CLI reports it like any other bad configuration and the worker does not start."""

    def __init__(self, source: str, line: int, message: str) -> None:
        super().__init__(f"{source}:{line}: {message}")
        self.source, self.line, self.reason = source, line, message


@dataclass
class _Document:
    path: Path
    start: int  # 1-based line where the YAML document starts
    lines: list[str]

    def line_of(self, *tokens: str) -> int:
        """The first line of this document holding one of ``tokens`` (else its first line)."""
        for token in tokens:
            for offset, text in enumerate(self.lines):
                if token and token in text:
                    return self.start + offset
        return self.start

    def error(self, message: str, *tokens: str) -> RulesError:
        hints = [*tokens, *_QUOTED.findall(message)]
        return RulesError(str(self.path), self.line_of(*hints), message)


def load_rules(folder: Path) -> RulePack:
    """Every rule file under ``folder`` (recursively), validated; an empty folder is an empty pack."""
    if not folder.is_dir():
        raise RulesError(str(folder), 1, "no such rules folder")
    paths = sorted(p for p in folder.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    parsed: list[tuple[_Document, SigmaRule | SigmaCorrelationRule]] = []
    for path in paths:
        parsed += _parse_file(path)
    return _translate(parsed)


def _parse_file(path: Path) -> list[tuple[_Document, SigmaRule | SigmaCorrelationRule]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(str(path), 1, f"cannot be read: {exc}") from None
    try:
        loaded = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise RulesError(str(path), mark.line + 1 if mark else 1, f"not valid YAML: {problem}") from None
    count = len(loaded)
    documents = _documents(path, text)
    if len(documents) != count:  # a '---' inside a block scalar, say: fall back to the file's start
        documents = [_Document(path, 1, text.splitlines())] * count
    for document, data in zip(documents, loaded, strict=True):
        if not isinstance(data, dict):
            raise RulesError(str(path), document.start, f"a rule is a YAML mapping, not {type(data).__name__}")
    try:
        # References are resolved over all files together, by _translate, with their lines.
        collection = SigmaCollection.from_yaml(text, collect_errors=True, resolve_references=False)
    except Exception as exc:  # pySigma's own failures on odd input are not all SigmaErrors
        raise RulesError(str(path), 1, f"not a Sigma rule file: {type(exc).__name__}: {exc}") from None
    rules = [r for r in collection if isinstance(r, (SigmaRule, SigmaCorrelationRule))]
    if len(rules) != len(documents):
        raise RulesError(str(path), 1, f"{len(documents)} YAML documents but {len(rules)} Sigma rules "
                                       "(global/action documents are not supported)")
    for document, rule in zip(documents, rules, strict=True):
        for error in rule.errors:
            raise document.error(str(error))
        if not rule.id and not rule.name:
            raise document.error("a rule needs an id or a name", "title:")
    return list(zip(documents, rules, strict=True))


def _documents(path: Path, text: str) -> list[_Document]:
    out: list[_Document] = []
    current: list[str] = []
    start = 1
    for number, line in enumerate(text.splitlines(), start=1):
        if line.rstrip() == "---":
            if any(s.strip() and not s.lstrip().startswith("#") for s in current):
                out.append(_Document(path, start, current))
            current, start = [], number + 1
        else:
            current.append(line)
    if any(s.strip() and not s.lstrip().startswith("#") for s in current):
        out.append(_Document(path, start, current))
    return out


def _translate(parsed: list[tuple[_Document, SigmaRule | SigmaCorrelationRule]]) -> RulePack:
    names: dict[str, str] = {}  # name or id -> id
    for document, rule in parsed:
        rule_id = str(rule.id) if rule.id else str(rule.name)
        for alias in filter(None, (str(rule.id) if rule.id else None, rule.name)):
            if alias in names:
                raise document.error(f"rule id or name {alias!r} is used twice", alias)
            names[alias] = rule_id
    detections: list[DetectionRule] = []
    correlations: list[CorrelationRule] = []
    for document, rule in parsed:
        try:
            if isinstance(rule, SigmaCorrelationRule):
                correlations.append(_correlation(document, rule, names))
            else:
                detections.append(_detection(document, rule))
        except RulesError:
            raise
        except Exception as exc:  # pySigma fails on some odd rules with plain Python errors
            raise document.error(f"cannot be used: {type(exc).__name__}: {exc}") from None
    try:
        return RulePack.of(detections, correlations)
    except RuleError as exc:
        raise RulesError("(rule pack)", 1, str(exc)) from None


def _level(rule: SigmaRule | SigmaCorrelationRule) -> str:
    return str(rule.level.name).lower() if rule.level else "medium"


def _detection(document: _Document, rule: SigmaRule) -> DetectionRule:
    try:
        trees = [c.parsed for c in rule.detection.parsed_condition]
    except SigmaError as exc:
        raise document.error(f"condition: {exc}", "condition:") from None
    nodes = tuple(_node(document, tree) for tree in trees)
    condition = nodes[0] if len(nodes) == 1 else AnyOf(nodes)
    rule_id = str(rule.id) if rule.id else str(rule.name)
    return DetectionRule(id=rule_id, name=rule.name, title=rule.title, level=_level(rule), condition=condition,
                         source=f"{document.path}:{document.start}")


def _node(document: _Document, item: Any) -> Node:
    if isinstance(item, sc.ConditionAND):
        return AllOf(tuple(_node(document, a) for a in item.args))
    if isinstance(item, sc.ConditionOR):
        return AnyOf(tuple(_node(document, a) for a in item.args))
    if isinstance(item, sc.ConditionNOT):
        return Not(_node(document, item.args[0]))
    if isinstance(item, sc.ConditionFieldEqualsValueExpression):
        return _field(document, item.field, item.value)
    if isinstance(item, sc.ConditionValueExpression):
        if isinstance(item.value, st.SigmaExpansion):
            return AnyOf(tuple(Keyword(_test(document, "keywords", v)) for v in item.value.values))
        return Keyword(_test(document, "keywords", item.value))
    raise document.error(f"condition element {type(item).__name__} is not supported", "condition:")


def _field(document: _Document, name: str, value: Any) -> Node:
    if isinstance(value, st.SigmaExpansion):  # e.g. windash: any of the expanded values
        return AnyOf(tuple(_field(document, name, v) for v in value.values))
    return FieldIs(name, _test(document, name, value))


def _test(document: _Document, name: str, value: Any) -> Test:
    if isinstance(value, st.SigmaCasedString):
        return _string(value, flags=0)
    if isinstance(value, st.SigmaString):
        return _string(value, flags=re.IGNORECASE)
    if isinstance(value, st.SigmaRegularExpression):
        flags = 0
        for flag in value.flags:
            flags |= {st.SigmaRegularExpressionFlag.IGNORECASE: re.IGNORECASE,
                      st.SigmaRegularExpressionFlag.MULTILINE: re.MULTILINE,
                      st.SigmaRegularExpressionFlag.DOTALL: re.DOTALL}[flag]
        pattern = str(value.regexp)
        try:
            return Pattern(re.compile(pattern, flags))
        except re.error as exc:
            raise document.error(f"field {name}: bad regular expression: {exc}", name) from None
    if isinstance(value, st.SigmaCIDRExpression):
        return InNetwork(value.network)
    if isinstance(value, st.SigmaCompareExpression):
        if value.op not in _COMPARE:
            raise document.error(f"field {name}: comparison {value.op.name} is not supported", name)
        return Compare(_COMPARE[value.op], float(value.number.number))
    if isinstance(value, st.SigmaExists):
        return Exists(value.exists)
    if isinstance(value, st.SigmaNull):
        return IsNull()
    if isinstance(value, st.SigmaNumber):
        return Equals(value.number)
    if isinstance(value, st.SigmaBool):
        return Equals(value.boolean)
    raise document.error(f"field {name}: value type {type(value).__name__} is not supported", name)


def _string(value: st.SigmaString, *, flags: int) -> Test:
    parts = list(value.s)
    if not value.contains_special():
        plain = "".join(p for p in parts if isinstance(p, str))
        return Equals(plain) if flags & re.IGNORECASE else Pattern(re.compile(f"^{re.escape(plain)}\\Z"))
    # Sigma wildcards: * and ?. A leading or trailing * drops the anchor instead of adding ".*",
    # so contains/startswith/endswith cost one plain search.
    start, end = "^", "\\Z"
    if parts and parts[0] == st.SpecialChars.WILDCARD_MULTI:
        parts, start = parts[1:], ""
    if parts and parts[-1] == st.SpecialChars.WILDCARD_MULTI:
        parts, end = parts[:-1], ""
    body = "".join(re.escape(p) if isinstance(p, str) else
                   (".*" if p == st.SpecialChars.WILDCARD_MULTI else ".") for p in parts)
    return Pattern(re.compile(f"{start}{body}{end}", flags | re.DOTALL))


def _correlation(document: _Document, rule: SigmaCorrelationRule, names: dict[str, str]) -> CorrelationRule:
    kind = rule.type.name.lower()
    if kind not in CORRELATION_TYPES:
        raise document.error(f"correlation type {kind!r} is not supported (use one of "
                             f"{', '.join(CORRELATION_TYPES)})", "type:")
    refs: list[str] = []
    for reference in rule.rules or ():
        target = str(reference.reference)
        if target not in names:
            raise document.error(f"correlation references rule {target!r}, which no rule file defines", target)
        refs.append(names[target])
    condition = rule.condition
    if not isinstance(condition, SigmaCorrelationCondition):
        raise document.error("condition: boolean correlation conditions are not supported", "condition:")
    operator = _OPERATORS.get(condition.op)
    if operator is None:
        raise document.error("condition: expected one of gt, gte, lt, lte, eq with a number", "condition:")
    field = condition.fieldref if isinstance(condition.fieldref, str) else None
    if kind == "value_count" and not field:
        raise document.error("value_count needs condition.field", "condition:")
    if not rule.group_by:
        raise document.error("group-by is required (events are counted per entity)", "correlation:")
    rule_id = str(rule.id) if rule.id else str(rule.name)
    return CorrelationRule(
        id=rule_id, name=rule.name, title=rule.title, level=_level(rule), type=kind, rules=tuple(refs),
        group_by=tuple(rule.group_by), timespan=timedelta(seconds=rule.timespan.seconds),
        condition=((operator, float(condition.count)),), field=field, generate=bool(rule.generate),
        source=f"{document.path}:{document.start}")
