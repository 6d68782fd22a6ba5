"""A change of level settles or creates the obligations it implies, recorded (issue 16).

Lowered by the DPO (override, or facts only the DPO may correct down): the Art. 33 obligation the
level no longer calls for is withdrawn by that decision, with the level and the reason: its clock
stops reminding, and the register says why nothing was notified. Raised again: it comes back as
it stood. Raised to high after awareness: Art. 34 starts from that decision, as at awareness."""

from __future__ import annotations

from datetime import timedelta

from incident.commands import CorrectFacts, OverrideRisk
from incident.deadlines import due_reminders
from incident.decide import decide
from incident.events import ClockStarted, ObligationActed
from incident.register import entry
from tests.unit.builders import T0, aware_incident
from tests.unit.test_obligations import ART33
from tests.unit.test_register import RULES, apply

ART34 = "GDPR:art34_data_subjects@1"


def override(level: str, why: str = "The DPO weighed the facts again today.") -> OverrideRisk:
    return OverrideRisk(incident_id=aware_incident().id, level=level, by="user:dora", role="dpo", justification=why)


def test_lowered_to_unlikely_the_authority_notification_is_withdrawn_with_the_reason() -> None:
    start = aware_incident()
    assert start.level == "risk" and start.obligation(ART33).status == "running"
    events = decide(override("unlikely"), start, now=T0 + timedelta(hours=2), rules=RULES)
    (withdrawal,) = [e for e in events if isinstance(e, ObligationActed)]
    assert (withdrawal.obligation, withdrawal.action, withdrawal.by) == (ART33, "withdraw", "user:dora")
    assert "(unlikely)" in withdrawal.text and "The DPO weighed" in withdrawal.text
    state = apply(start, override("unlikely"), timedelta(hours=2))
    assert state.obligation(ART33).status == "withdrawn"
    # No reminder of a notification nobody owes, even past the deadline.
    assert not due_reminders(state.clocks, state.reminded, T0 + timedelta(hours=80), level=state.level,
                             settled=state.settled_obligations)
    e = entry(state)
    assert not e["authority_notified"] and e["not_notified_because"] == "assessed unlikely to result in a risk"
    assert not any("not required" in r for r in e["remedial_action"])


def test_raised_again_the_withdrawn_obligation_comes_back_as_it_stood() -> None:
    state = apply(aware_incident(), override("unlikely"), timedelta(hours=2))
    state = apply(state, override("risk", "New logs show the data was read."), timedelta(hours=5))
    assert state.obligation(ART33).status == "running"
    clock = next(c for c in state.clocks if c.rule_ref == ART33)
    assert clock.deadline == aware_incident().awareness.aware_at + timedelta(hours=72)  # from awareness, still
    assert due_reminders(state.clocks, state.reminded, T0 + timedelta(hours=80), level=state.level,
                         settled=state.settled_obligations)


def test_a_withdrawal_the_dpo_made_for_another_reason_is_not_undone_by_a_level() -> None:
    from incident.commands import ActOnObligation

    state = apply(aware_incident(), ActOnObligation(incident_id=aware_incident().id, obligation=ART33,
                                                    action="withdraw", by="user:dora", role="dpo",
                                                    at=T0 + timedelta(hours=1), text="Duplicate of INC-7"),
                  timedelta(hours=1))
    state = apply(state, override("high", "Card numbers were in the export."), timedelta(hours=2))
    assert state.obligation(ART33).status == "withdrawn"


def test_raised_to_high_after_awareness_art34_starts_from_that_decision() -> None:
    start = aware_incident()
    assert ART34 not in {c.rule_ref for c in start.clocks}
    events = decide(override("high", "Card numbers were in the export."), start, now=T0 + timedelta(hours=3),
                    rules=RULES)
    (started,) = [e.clock for e in events if isinstance(e, ClockStarted)]
    assert started.rule_ref == ART34 and started.anchor_at == T0 + timedelta(hours=3)


def test_facts_the_dpo_corrects_down_settle_the_same_way() -> None:
    start = aware_incident()
    correction = CorrectFacts(incident_id=start.id, changes={"mitigations": ["data_recovered_and_deleted"],
                                                             "recipients": "known", "malicious": False},
                              by="user:dora", reason="laptop found unopened", role="dpo")
    state = apply(start, correction, timedelta(hours=2))
    assert state.level == "unlikely" and state.obligation(ART33).status == "withdrawn"
    assert "laptop found unopened" in state.obligation(ART33).closing_reason
