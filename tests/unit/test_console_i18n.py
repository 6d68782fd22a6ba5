"""Refusals in the reader's language: every reason the domain can give has a French wording."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from console import i18n

ROOT = Path(__file__).resolve().parents[2]


def _sample(node: ast.expr) -> str | None:
    """The reason a ``raise CommandRejected(...)`` builds, with each {placeholder} as a made-up value."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "SOME-VALUE" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _sample(node.left), _sample(node.right)
        return None if left is None else left + (right if right is not None else "SOME-VALUE")
    return None


def domain_reasons() -> list[str]:
    reasons = []
    for path in sorted((ROOT / "incident").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) \
                    and getattr(node.exc.func, "id", None) == "CommandRejected" and node.exc.args:
                sample = _sample(node.exc.args[0])
                assert sample is not None, f"{path.name}:{node.lineno}: a reason this test cannot read"
                reasons.append(sample)
    return reasons


def test_the_domain_raises_refusals_this_test_can_see() -> None:
    assert len(domain_reasons()) >= 30


@pytest.mark.parametrize("reason", domain_reasons())
def test_every_refusal_of_the_domain_reads_in_french(reason: str) -> None:
    french = i18n.refusal(reason, "fr")
    assert french != reason, f"no French wording for {reason!r}"
    assert "SOME-VALUE" in french or "SOME-VALUE" not in reason  # the variable parts are carried over
    assert i18n.refusal(reason, "en") == reason


def test_a_refusal_keeps_its_values_and_an_unknown_one_is_left_as_it_is() -> None:
    assert i18n.refusal("cannot approve: the obligation is submitted", "fr") == \
        "approbation impossible : l'obligation est submitted"
    assert i18n.refusal("the viewer role may read, not act", "fr") == "le rôle viewer permet de lire, pas d'agir"
    assert i18n.refusal("something new", "fr") == "something new"
