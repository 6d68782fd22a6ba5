"""Decisions only the DPO takes, refused by the incident itself whoever sends them (issue 18): no
notification at all (withdrawing a legal obligation) and a lower risk, whether by an override or
by facts that lower it (an override in all but name: a responder's are a proposal the DPO confirms
or declines). Facts that keep or raise it are anyone's."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from incident.commands import ActOnObligation, CorrectFacts, SettleProposal
from incident.decide import Rules, decide, facts_lower_risk
from incident.errors import CommandRejected
from incident.events import FactsCorrected, FactsProposed, ObligationActed, ProposalSettled
from incident.model import Incident, fold
from tests.unit.builders import T0, FakeCalendar, aware_incident, directory

RULES = Rules(directory(), FakeCalendar())
ART33 = "GDPR:art33_authority@1"
NOW = T0 + timedelta(hours=1)
LOWERING = {"encrypted": True, "key_compromised": False}
RAISING = {"data_categories": ["health"], "subjects_count": 50_000}


def correct(state: Incident, changes: dict[str, Any], role: str) -> Incident:
    command = CorrectFacts(incident_id=state.id, changes=changes, by=f"user:{role}", reason="what we found", role=role)
    new = fold(state, decide(command, state, now=NOW, rules=RULES))
    assert new is not None
    return new


def withdraw(state: Incident, role: str) -> list[Any]:
    return decide(ActOnObligation(incident_id=state.id, obligation=ART33, action="withdraw", by=f"user:{role}",
                                  role=role, at=NOW, text="no personal data after all"), state, now=NOW, rules=RULES)


def test_only_the_dpo_withdraws_a_legal_obligation() -> None:
    state = aware_incident()
    for role in ("responder", "admin", ""):
        with pytest.raises(CommandRejected, match="only the DPO may withdraw a legal obligation"):
            withdraw(state, role)
    (acted,) = withdraw(state, "dpo")
    assert isinstance(acted, ObligationActed) and acted.action == "withdraw" and acted.by == "user:dpo"


def test_only_the_dpo_closes_a_legal_obligation() -> None:
    state = aware_incident()
    for action in ("approve", "submit"):
        state = fold(state, decide(ActOnObligation(incident_id=state.id, obligation=ART33, action=action,
                                                   by="user:dpo", role="dpo", at=NOW, channel="portal",
                                                   reference="CNIL-1"), state, now=NOW, rules=RULES))
    assert state is not None and state.obligation(ART33).status == "submitted"  # type: ignore[union-attr]
    close = ActOnObligation(incident_id=state.id, obligation=ART33, action="close", by="user:rita",
                            role="responder", at=NOW, text="acknowledged")
    with pytest.raises(CommandRejected, match="only the DPO may close a legal obligation"):
        decide(close, state, now=NOW, rules=RULES)
    (closed,) = decide(replace(close, by="user:dora", role="dpo"), state, now=NOW, rules=RULES)
    assert isinstance(closed, ObligationActed) and closed.action == "close"


def test_facts_that_lower_the_risk_are_the_dpos_to_decide() -> None:
    state = aware_incident()
    assert state.level == "risk" and facts_lower_risk(state, LOWERING, RULES.directory)
    proposed = correct(state, LOWERING, "responder")
    assert proposed.level == "risk" and not proposed.corrections  # nothing changed: a proposal
    (proposal,) = proposed.proposals
    assert (proposal.pending, proposal.by, proposal.level, proposal.changes) == (True, "user:responder", "unlikely",
                                                                                 LOWERING)
    # A command from before roles were carried is a proposal too.
    (event,) = decide(CorrectFacts(incident_id=state.id, changes=LOWERING, by="user:x", reason="r"), state,
                      now=NOW, rules=RULES)
    assert isinstance(event, FactsProposed)
    lowered = correct(state, LOWERING, "dpo")
    assert lowered.level == "unlikely" and not lowered.proposals


def settle(state: Incident, number: int, confirm: bool, role: str = "dpo", reason: str = "") -> list[Any]:
    return decide(SettleProposal(incident_id=state.id, proposal=number, confirm=confirm, reason=reason,
                                 by=f"user:{role}", role=role), state, now=NOW, rules=RULES)


def test_the_dpo_confirms_a_proposal_and_the_facts_are_corrected_in_their_name() -> None:
    proposed = correct(aware_incident(), LOWERING, "responder")
    number = proposed.proposals[0].number
    for role in ("responder", "admin", ""):
        with pytest.raises(CommandRejected, match="only the DPO confirms or declines"):
            settle(proposed, number, True, role)
    with pytest.raises(CommandRejected, match="no proposal 999"):
        settle(proposed, 999, True)
    events = settle(proposed, number, True)
    assert isinstance(events[0], ProposalSettled) and events[0].confirmed
    corrected = next(e for e in events if isinstance(e, FactsCorrected))
    assert corrected.by == "user:dpo" and "user:responder's proposal confirmed" in corrected.reason
    after = fold(proposed, events)
    assert after is not None and after.level == "unlikely" and after.proposals[0].outcome == "confirmed"
    with pytest.raises(CommandRejected, match="already confirmed"):
        settle(after, number, False, reason="changed my mind")


def test_a_declined_proposal_changes_nothing_and_needs_a_reason() -> None:
    proposed = correct(aware_incident(), LOWERING, "responder")
    number = proposed.proposals[0].number
    with pytest.raises(CommandRejected, match="needs a reason"):
        settle(proposed, number, False)
    after = fold(proposed, settle(proposed, number, False, reason="the key was on the same server"))
    assert after is not None and after.level == "risk" and not after.corrections
    assert (after.proposals[0].outcome, after.proposals[0].settle_reason) == ("declined",
                                                                              "the key was on the same server")


def test_facts_that_keep_or_raise_the_risk_are_anyones() -> None:
    state = aware_incident()
    assert not facts_lower_risk(state, RAISING, RULES.directory)
    raised = correct(state, RAISING, "responder")
    assert raised.level == "high"
    assert not facts_lower_risk(state, {"subjects_count": "many"}, RULES.directory)  # invalid: refused as such
    events = decide(CorrectFacts(incident_id=state.id, changes={"subjects_count": 12}, by="user:rita",
                                 reason="counted", role="responder"), state, now=NOW, rules=RULES)
    assert isinstance(events[0], FactsCorrected)
