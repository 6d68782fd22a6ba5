"""EDPB Guidelines 01/2021's 18 cases through the real risk method (tests/unit/edpb_examples.py):
the project agrees with the EDPB on notifying the authority and the people, except where
``KNOWN_DIFFERENCES`` says why not; docs/risk.md's table is what the method computes today."""

from __future__ import annotations

import pytest

from tests.unit.edpb_examples import (
    DOC,
    EXAMPLES,
    KNOWN_DIFFERENCES,
    SOURCES,
    Example,
    answer,
    doc_block,
    render_block,
)


def test_every_case_of_the_guidelines_is_there_once() -> None:
    assert [ex.number for ex in EXAMPLES] == list(range(1, 19))


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"case-{ex.number:02d}" for ex in EXAMPLES])
def test_the_project_answers_as_the_edpb(example: Example) -> None:
    got = answer(example)
    project = (got.notify_authority, got.notify_data_subjects)
    edpb = (example.notify_authority, example.notify_people)
    if example.number in KNOWN_DIFFERENCES:
        assert project != edpb, f"{example.cite}: agrees now; drop it from KNOWN_DIFFERENCES and docs/risk.md"
    else:
        assert project == edpb, (f"{example.cite}: EDPB says authority/people {edpb}, the method {project} "
                                 f"({got.level}: {got.factors[-1].reason})")


def test_every_case_says_what_its_edpb_side_was_checked_against() -> None:
    # docs/risk.md shows it beside the case: a reader must see which answers rest on the text.
    assert all(ex.source in SOURCES for ex in EXAMPLES)


def test_every_known_difference_names_a_case_and_says_why() -> None:
    assert set(KNOWN_DIFFERENCES) <= {ex.number for ex in EXAMPLES}
    assert all(len(why.split()) >= 8 for why in KNOWN_DIFFERENCES.values())


def test_docs_risk_md_shows_what_the_method_computes() -> None:
    """The table in docs/risk.md cannot drift from the method: regenerate it with
    `python -m tests.unit.edpb_examples --write` after changing either."""
    assert doc_block(DOC.read_text()) == render_block()
