"""Worked breach cases (tests/unit/cases/*.json): each file's facts through assess() must give
the published answer on notifying the authority and the people affected. Each file says where
its facts and answer come from, and how sure that is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from incident.facts import parse_facts
from incident.risk import assess

CASES = sorted((Path(__file__).parent / "cases").glob("*.json"))


def test_the_case_set_is_there() -> None:
    assert len(CASES) >= 17


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_worked_case(path: Path) -> None:
    case: dict[str, Any] = json.loads(path.read_text())
    assessment = assess(parse_facts(case["facts"]))
    got = {"notify_authority": assessment.notify_authority,
           "notify_data_subjects": assessment.notify_data_subjects}
    assert got == case["expected"], f"{case['source']}\n{assessment.factors[-1].reason}"
