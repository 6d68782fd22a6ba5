"""`breach facts` by a responder that would lower the risk is a proposal; `breach settle` is the
DPO's: a responder is refused in one line, the DPO confirms and the facts are corrected in their
name. The world is test_cli_login's (a console on loopback; commands decided in process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from incident.decide import facts_lower_risk
from incident.notices import reference
from tests.integration.test_cli_login import World, breach, login, one_line, world  # noqa: F401 - the fixture
from tests.unit.builders import directory

CANDIDATES = ({"encrypted": True, "key_compromised": False}, {"subjects_count": 1, "data_categories": ["contact"]})


@pytest.mark.asyncio
async def test_the_dpo_settles_a_responders_proposal_from_the_cli(world: World,  # noqa: F811
                                                                  capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    w = world
    before = w.model.incidents[w.aware]
    lowering = next(c for c in CANDIDATES if facts_lower_risk(before, c, directory()))
    changes = tmp_path / "facts.json"
    changes.write_text(json.dumps(lowering))
    await login(w, capsys, monkeypatch, "rita")
    run = await breach(capsys, monkeypatch, "facts", reference(w.aware), str(changes), "--reason", "hashes only")
    assert run.code == 0, run.err
    (proposal,) = w.model.incidents[w.aware].proposals
    assert proposal.pending and w.model.incidents[w.aware].level == before.level
    refused = one_line(await breach(capsys, monkeypatch, "settle", reference(w.aware), str(proposal.number)))
    assert "only the DPO confirms or declines proposed facts" in refused
    await login(w, capsys, monkeypatch, "dora")
    assert "declining a proposal needs a reason" in one_line(await breach(
        capsys, monkeypatch, "settle", reference(w.aware), str(proposal.number), "--decline"))
    assert w.model.incidents[w.aware].proposals[0].pending
    run = await breach(capsys, monkeypatch, "settle", reference(w.aware), str(proposal.number))
    assert run.code == 0 and "confirmation sent" in run.out, run.err
    after = w.model.incidents[w.aware]
    assert after.proposals[0].outcome == "confirmed" and after.proposals[0].settled_by == "user:dora"
    assert after.level != before.level
