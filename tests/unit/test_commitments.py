"""The controller's own promises (profile [[commitments]]) as obligations like the law's: the
schema that declares them, and the clock, draft, reminders, workflow and register they bring."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from incident.commands import (
    ActOnObligation,
    CorrectFacts,
    RecordAwareness,
    RecordSubjects,
    SendSubjectNotice,
    Tick,
)
from incident.commitments import policy_obligations
from incident.correlation import correlate
from incident.decide import Rules, decide
from incident.errors import ProfileError
from incident.events import Event, ReminderDue
from incident.model import Incident, fold
from incident.notices import DATA_SUBJECT_NOTICE
from incident.notification_form import form_context
from incident.profiles import Directory, parse_profile
from incident.register import entry
from tests.unit.builders import PROFILE, T0, FakeCalendar, event, merge_after_awareness, profile_doc

QUOTE = "Nous envoyons un email, dans les 72h suivant la constatation, à la personne concernée"
PROMISE: dict[str, Any] = {
    "id": "email-subjects-72h", "audience": "data_subjects", "trigger": "any_breach", "within_hours": 72,
    "anchor": "discovery", "channel": "email", "condition": "a leak established", "text": "E-mail everyone in 72 h.",
    "source_quote": QUOTE,
}
POLICY = {"source": "seeds/x.txt", "title": "Politique de Confidentialité", "dated": "2019-11-21"}
RULE = "Policy:email-subjects-72h@1"


def promising(**changes: Any) -> dict[str, Any]:
    return profile_doc(policy=POLICY, commitments=[{**PROMISE, **changes}])


def without(key: str) -> dict[str, Any]:
    return profile_doc(commitments=[{k: v for k, v in PROMISE.items() if k != key}])


# --- the schema ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("doc", "key", "message"), [
    (without("anchor"), "commitments[0].anchor", "is required"),
    (without("channel"), "commitments[0].channel", "is required"),
    (without("source_quote"), "commitments[0].source_quote", "is required"),
    (promising(anchor="detection"), "commitments[0].anchor", "'detection' is not one of discovery, awareness"),
    (promising(channel="pigeon"), "commitments[0].channel", "'pigeon' is not one of"),
    (promising(trigger="always"), "commitments[0].trigger", "'always' is not one of"),
    (promising(audience="press"), "commitments[0].audience", "'press' is not one of"),
    (promising(within_hours=0), "commitments[0].within_hours", "at least 1"),
    (promising(within_hours="72h"), "commitments[0].within_hours", "non-negative integer"),
    (promising(deadline="72h"), "commitments[0].deadline", "unknown key"),
    (profile_doc(commitments=[PROMISE, PROMISE]), "commitments[1].id", "duplicate id"),
])
def test_a_commitment_error_names_its_key(doc: dict[str, Any], key: str, message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(doc, source="deploy/profiles/acme.toml")
    assert (caught.value.source, caught.value.key) == ("deploy/profiles/acme.toml", key)
    assert message in caught.value.message


def test_a_promise_kept_internally_needs_no_clock_keys() -> None:
    internal = {"id": "fix-it", "audience": "internal", "condition": "a leak", "text": "Analyse and fix."}
    profile = parse_profile(profile_doc(commitments=[internal]), source="acme.toml")
    assert not profile.commitments[0].binding and policy_obligations(profile) == ()


def test_a_promise_to_the_people_is_an_obligation_citing_the_policys_words() -> None:
    profile = parse_profile(promising(), source="acme.toml")
    (o,) = policy_obligations(profile)
    assert (o.rule_ref, o.recipient, o.anchor, o.amount, o.unit, o.trigger) == (
        RULE, "data_subjects", "discovery", 72, "hours", "breach")
    assert o.legal_ref == f"Politique de Confidentialité (2019-11-21): \u201c{QUOTE}\u201d"
    (asap,) = policy_obligations(parse_profile(promising(within_hours=None, anchor="awareness"), source="a.toml"))
    assert (asap.unit, asap.amount, asap.anchor) == ("asap", 0, "awareness")


# --- the obligation it makes ---------------------------------------------------------------------------------

def rules_for(doc: dict[str, Any]) -> Rules:
    return Rules(Directory.of([parse_profile(doc, source="acme.toml")]), FakeCalendar())


def run(state: Incident | None, command: Any, rules: Rules, at: timedelta = timedelta(0),
        ) -> tuple[Incident, list[Event]]:
    events = decide(command, state, now=T0 + at, rules=rules)
    new = fold(state, events) if events else state
    assert new is not None
    return new, events


def aware(rules: Rules) -> Incident:
    """Awareness of a breach on acme-crm-db at T0: assessed "risk", not high (no Art. 34)."""
    _, (command,) = correlate(None, event("a"))
    state, _ = run(None, command, rules)
    state, _ = run(state, RecordAwareness(incident_id=state.id, aware_at=T0, by="alice", evidence=()), rules)
    assert state.level == "risk"
    return state


def test_a_promise_whatever_the_risk_runs_its_clock_drafts_the_notice_and_reminds() -> None:
    rules = rules_for(promising())
    state = aware(rules)
    clock = next(c for c in state.clocks if c.rule_ref == RULE)
    assert (clock.recipient, clock.anchor, clock.anchor_at, clock.deadline) == (
        "data_subjects", "discovery", T0, T0 + timedelta(hours=72))
    assert clock.legal_ref.endswith(f"\u201c{QUOTE}\u201d")
    assert "GDPR:art34_data_subjects@1" not in [c.rule_ref for c in state.clocks]  # the law asks nothing here
    assert DATA_SUBJECT_NOTICE in [n.kind for n in state.notices]
    # The authority notification says the people will be told, and why (not Art. 34: the promise).
    profile = rules.directory.profiles["acme"]
    assert form_context(state, profile)["people_informed"] == {
        "status": "planned", "how": "email", "at": None, "count": None, "because": "promise", "within_hours": 72}
    state, events = run(state, Tick(incident_id=state.id, at=T0 + timedelta(hours=24)), rules, timedelta(hours=24))
    assert {(e.rule_ref, e.step) for e in events if isinstance(e, ReminderDue)} == {
        (RULE, "T-48h"), ("GDPR:art33_authority@1", "T-48h")}

    # The DPO finds the data was encrypted: unlikely to result in a risk. The law's clock stops
    # reminding; the promise, made whatever the risk, does not.
    lowered = CorrectFacts(incident_id=state.id, changes={"encrypted": True, "key_compromised": False},
                           by="user:dpo", reason="the disk was encrypted", role="dpo")
    state, _ = run(state, lowered, rules, timedelta(hours=25))
    assert state.level == "unlikely"
    state, events = run(state, Tick(incident_id=state.id, at=T0 + timedelta(hours=71)), rules, timedelta(hours=71))
    assert [(e.rule_ref, e.step) for e in events if isinstance(e, ReminderDue)] == [(RULE, "T-1h")]


def test_a_promise_goes_through_the_workflow_into_the_register() -> None:
    rules = rules_for(promising())
    state = aware(rules)
    for action, extra in (("approve", {}), ("submit", {"channel": "other", "reference": "CRM mailing 42"})):
        state, _ = run(state, ActOnObligation(incident_id=state.id, obligation=RULE, action=action, by="user:dpo",
                                              role="dpo", at=T0 + timedelta(hours=30), **extra), rules,
                       timedelta(hours=30))
    registered = next(o for o in entry(state)["obligations"] if o["obligation"] == RULE)
    assert (registered["recipient"], registered["status"], registered["deadline"], registered["late"]) == (
        "data_subjects", "submitted", (T0 + timedelta(hours=72)).isoformat(), False)
    assert QUOTE in registered["legal_ref"]


def test_a_promise_for_high_risk_only_waits_for_a_high_risk() -> None:
    rules = rules_for(promising(trigger="high_risk"))
    state = aware(rules)
    assert RULE not in [c.rule_ref for c in state.clocks]
    assert DATA_SUBJECT_NOTICE not in [n.kind for n in state.notices]


def test_without_a_promise_nothing_is_owed_to_the_people_below_high_risk() -> None:
    state = aware(rules_for(PROFILE))
    assert [c.recipient for c in state.clocks] == ["authority"]
    assert DATA_SUBJECT_NOTICE not in [n.kind for n in state.notices]


def test_a_promise_clock_moves_back_with_an_earlier_awareness_merged_in() -> None:
    """B knew the breach at once (a confirmed signal), A only 40 minutes later; B merges into A: A's
    clocks run from B's awareness, the promise's as the law's (the same 72 hours, from earlier)."""
    rules = rules_for(promising())
    states, older, _, _ = merge_after_awareness(rules, T0 + timedelta(hours=1), T0 + timedelta(minutes=40))
    survivor = states[older]
    assert survivor.awareness is not None and survivor.awareness.aware_at < T0 + timedelta(minutes=40)
    clock = next(c for c in survivor.clocks if c.rule_ref == RULE)
    assert clock.anchor_at == survivor.awareness.aware_at
    assert clock.deadline == survivor.awareness.aware_at + timedelta(hours=72)


def test_the_register_says_a_promise_is_still_owed_when_the_law_asks_nothing() -> None:
    rules = rules_for(promising())
    state = aware(rules)
    because = entry(state, profile=rules.directory.profiles["acme"])["not_communicated_because"]
    assert because.startswith("not yet communicated, though promised by the controller's policy "
                              "(Politique de Confidentialité (2019-11-21): \u201cNous envoyons")
    assert because.endswith("GDPR Art. 34(1) requires telling the people of a high risk only")


def test_the_dpo_keeps_the_promise_by_sending_the_notice_below_high_risk() -> None:
    rules = rules_for(promising())
    state = aware(rules)
    state, _ = run(state, RecordSubjects(incident_id=state.id, list_id="L1", count=3, invalid=0, by="cli"), rules,
                   timedelta(hours=2))
    state, _ = run(state, SendSubjectNotice(incident_id=state.id, list_id="L1", by="user:dpo", role="dpo",
                                            measures_taken=("Comptes bloqués",), measures_proposed=()), rules,
                   timedelta(hours=3))
    kept = state.obligation(RULE)
    assert kept is not None and (kept.status, kept.channel, kept.late) == ("submitted", "email", False)
    e = entry(state, profile=rules.directory.profiles["acme"])
    assert e["data_subjects_communicated"] is True and e["not_communicated_because"] is None
