"""The risk method as a specification: ENISA severity rows, EDPB factors and rules, the
Art. 34(3) exceptions, the controller's own promises, and properties that must always hold."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident.facts import MITIGATIONS, FactsError, parse_facts
from incident.profiles import DATA_CATEGORIES, parse_profile
from incident.risk import LEVELS, assess
from tests.unit.builders import PROFILE


def run(**facts: Any):  # type: ignore[no-untyped-def]
    facts.setdefault("breach_types", ["confidentiality"])
    return assess(parse_facts(facts))


# --- ENISA: data processing context (basic scores and adjustments) -------------------------------

@pytest.mark.parametrize(("categories", "dpc"), [
    (["contact"], 1), (["identity", "technical"], 1),            # simple data
    (["behavioural"], 2), (["location"], 2),                      # behavioural
    (["financial"], 3), (["official_id"], 3),                     # financial (ID documents enable fraud too)
    (["payment_card"], 4),                                        # full financial data: +1
    (["health"], 4), (["special_category"], 4), (["criminal"], 4),  # sensitive
    (["credentials"], 2),                                         # alone: scored as the accounts they open
    (["credentials", "financial"], 3),                            # ... or as the data they open
    (["contact", "children"], 2),                                 # vulnerable individuals: +1
    (["contact", "identity", "location", "behavioural"], 3),      # a combination allows profiling: +1
    (["health", "children"], 4),                                  # never above 4
])
def test_dpc_rows(categories: list[str], dpc: float) -> None:
    assert run(data_categories=categories, recipients="none").severity.dpc == dpc


@pytest.mark.parametrize(("categories", "dpc"), [
    (["behavioural"], 1), (["financial"], 1), (["health"], 1),    # ENISA decreases: −1, −2, −3
    (["contact", "children"], 2),                                  # vulnerable people still count
])
def test_dpc_of_data_that_was_public_already(categories: list[str], dpc: float) -> None:
    assert run(data_categories=categories, recipients="none", publicly_available=True).severity.dpc == dpc


@pytest.mark.parametrize(("ease", "ei"), [("negligible", 0.25), ("limited", 0.5), ("significant", 0.75),
                                          ("maximum", 1.0), (None, 1.0)])
def test_ease_of_identification_rows(ease: str | None, ei: float) -> None:
    facts = {"data_categories": ["contact"]} | ({"ease_of_identification": ease} if ease else {})
    assessment = run(**facts)
    assert assessment.severity.ei == ei
    factor = next(f for f in assessment.factors if f.name == "ease_of_identification")
    assert ("assumed" in factor.value) == (ease is None)


@pytest.mark.parametrize(("facts", "cb"), [
    ({"recipients": "none"}, 0.0),
    ({"encrypted": True, "key_compromised": False, "recipients": "unknown"}, 0.0),
    ({"recipients": "known"}, 0.25),
    ({"recipients": "unknown"}, 0.5),
    ({"recipients": "public"}, 0.5),
    ({}, 0.5),                                           # nobody can say who holds it: unknown
    ({"exfiltration": "none"}, 0.0),
    ({"recipients": "none", "malicious": True}, 0.5),
    ({"breach_types": ["integrity"], "backup_available": True}, 0.0),
    ({"breach_types": ["integrity"], "backup_available": False}, 0.5),
    ({"breach_types": ["availability"], "backup_available": True, "unavailability_hours": 4}, 0.0),
    ({"breach_types": ["availability"], "backup_available": True, "unavailability_hours": 72}, 0.25),
    ({"breach_types": ["availability"], "unavailability_hours": None}, 0.5),
    ({"breach_types": ["availability"], "backup_available": False}, 0.5),
])
def test_circumstances_of_the_breach_rows(facts: dict[str, Any], cb: float) -> None:
    assert run(data_categories=["contact"], **facts).severity.cb == cb


@pytest.mark.parametrize(("facts", "score", "band"), [
    ({"data_categories": ["contact"], "recipients": "known"}, 1.25, "low"),
    ({"data_categories": ["contact"], "recipients": "unknown", "malicious": True}, 2.0, "medium"),
    ({"data_categories": ["financial"], "recipients": "none"}, 3.0, "high"),
    ({"data_categories": ["health"], "recipients": "unknown"}, 4.5, "very high"),
    ({"data_categories": ["health"], "recipients": "unknown", "ease_of_identification": "negligible"}, 1.5, "low"),
])
def test_severity_score_and_band(facts: dict[str, Any], score: float, band: str) -> None:
    severity = run(**facts).severity
    assert (severity.score, severity.band) == (score, band)
    assert severity.score == severity.dpc * severity.ei + severity.cb


# --- EDPB factors and the level ---------------------------------------------------------------------

def test_every_edpb_factor_is_stated_with_a_reason() -> None:
    assessment = run(data_categories=["contact"])
    names = [f.name for f in assessment.factors]
    assert names[:7] == ["type_of_breach", "nature_sensitivity_volume", "ease_of_identification",
                         "severity_of_consequences", "special_characteristics_of_individuals",
                         "special_characteristics_of_controller", "number_of_individuals"]
    assert names[-1] == "decision" and all(f.reason.strip() for f in assessment.factors)
    assert assessment.method_version == "edpb-enisa-2" and assessment.document_internally


def test_special_categories_in_unauthorised_hands_are_high_damage_presumed() -> None:
    a = run(data_categories=["health"], recipients="known", malicious=False, ease_of_identification="limited")
    assert (a.level, a.notify_authority, a.notify_data_subjects) == ("high", True, True)
    assert "¶102" in a.factors[-1].reason


def test_long_unavailability_of_health_data_is_high_even_with_a_backup() -> None:
    a = run(breach_types=["availability"], data_categories=["health"], backup_available=True,
            unavailability_hours=48, exfiltration="none")
    assert a.level == "high"


def test_vulnerable_peoples_data_in_known_hands_is_high() -> None:
    assert run(data_categories=["contact"], vulnerable_subjects=["children"], recipients="known").level == "high"
    assert run(data_categories=["contact"], vulnerable_subjects=True, recipients="known").level == "high"


def test_fraud_enabling_data_in_unknown_hands_is_high_unless_known_to_be_a_mistake() -> None:
    assert run(data_categories=["contact", "credentials"], recipients="unknown", malicious=True).level == "high"
    assert run(data_categories=["contact", "credentials"], recipients="unknown").level == "high"
    assert run(data_categories=["contact", "credentials"], recipients="unknown", malicious=False).level == "risk"
    # ID document numbers score high on ENISA's scale whatever the intent.
    assert run(data_categories=["contact", "official_id"], recipients="unknown", malicious=False).level == "high"


def test_resetting_passwords_does_not_lower_the_level_people_reuse_them() -> None:
    facts = {"data_categories": ["contact", "credentials"], "recipients": "unknown", "malicious": True}
    assert run(**facts, mitigations=["credentials_reset"]).level == run(**facts).level == "high"


def test_identifying_data_held_by_an_attacker_is_high() -> None:
    a = run(data_categories=["contact"], recipients="unknown", malicious=True)
    assert (a.level, a.notify_authority, a.notify_data_subjects) == ("high", True, True)
    assert "attacker" in a.factors[-1].reason
    # ... unless the people are hard to identify from it, or it went astray by mistake.
    assert run(data_categories=["contact"], recipients="unknown", malicious=True,
               ease_of_identification="limited").level == "risk"
    assert run(data_categories=["contact"], recipients="unknown", malicious=False).level == "risk"


def test_an_insider_handing_data_to_a_known_party_is_notified_but_not_high() -> None:
    a = run(data_categories=["contact", "identity"], recipients="known", malicious=True,
            exfiltration="confirmed")
    assert (a.level, a.notify_authority, a.notify_data_subjects) == ("risk", True, False)


def test_a_letter_in_the_wrong_envelope_is_notified_but_not_high() -> None:
    """A mistake that put a few people's bank or insurance data in identified hands: the ENISA
    severity is high (3.25), misuse is not likely (EDPB 01/2021 Case 16). Many people, a possible
    attack, or sensitive data keep it high."""
    letter = {"data_categories": ["identity", "contact", "financial"], "recipients": "known", "malicious": False}
    a = run(**letter, subjects_count=1)
    assert (a.severity.band, a.level, a.notify_authority, a.notify_data_subjects) == ("high", "risk", True, False)
    assert a.factors[-1].params["rule"] == "mistake_few_known_recipients"
    assert run(**letter, subjects_count=100).level == "risk"
    assert run(**letter, subjects_count=101).level == "high"
    assert run(**letter).level == "high"  # how many people is not known yet
    assert run(**{**letter, "malicious": None}, subjects_count=1).level == "high"  # nothing shows a mistake
    assert run(**{**letter, "data_categories": ["health"]}, subjects_count=1).level == "high"


def test_unknown_data_is_never_unlikely() -> None:
    assert run(recipients="known", malicious=False).level == "risk"
    assert run(breach_types=["availability"], backup_available=True, unavailability_hours=1).level in ("unlikely",)


@pytest.mark.parametrize(("facts", "why"), [
    ({"encrypted": True, "key_compromised": False, "recipients": "unknown", "malicious": True}, "unintelligible"),
    ({"recipients": "trusted_known", "malicious": False}, "trusted recipient"),
    ({"recipients": "known", "malicious": False, "mitigations": ["recipient_confirmed_deletion"]}, "deleted"),
    ({"breach_types": ["availability"], "backup_available": True, "unavailability_hours": 6, "malicious": True,
      "exfiltration": "none"}, "restored quickly"),
    ({"recipients": "known", "malicious": False}, "low"),
])
def test_grounds_for_unlikely(facts: dict[str, Any], why: str) -> None:
    a = run(data_categories=["contact", "identity"], **facts)
    assert (a.level, a.notify_authority, a.notify_data_subjects) == ("unlikely", False, False)
    assert a.document_internally
    assert why.split()[0] in a.factors[-1].reason


def test_a_long_outage_without_backup_after_an_attack_must_be_notified() -> None:
    a = run(breach_types=["availability"], data_categories=["contact", "identity"], backup_available=False,
            unavailability_hours=120, malicious=True, exfiltration="none")
    assert (a.level, a.notify_authority, a.notify_data_subjects) == ("risk", True, False)


# --- Art. 34(3) exceptions ------------------------------------------------------------------------------

def test_exception_a_encrypted_sensitive_data_with_a_safe_key() -> None:
    a = run(data_categories=["health"], encrypted=True, key_compromised=False, recipients="unknown", malicious=True)
    assert (a.level, a.notify_data_subjects) == ("unlikely", False)
    assert [e.article for e in a.exceptions] == ["34(3)(a)"]
    leaked_key = run(data_categories=["health"], encrypted=True, key_compromised=True, recipients="unknown")
    assert leaked_key.level == "high" and leaked_key.exceptions == ()


def test_exception_b_measures_that_remove_the_high_risk() -> None:
    a = run(data_categories=["health"], recipients="known", malicious=False,
            mitigations=["recipient_confirmed_deletion"])
    assert (a.level, a.notify_data_subjects) == ("unlikely", False)
    assert [e.article for e in a.exceptions] == ["34(3)(b)"]


def test_exception_c_public_communication_when_people_cannot_be_reached() -> None:
    a = run(data_categories=["health"], recipients="public", subjects_contactable=False)
    assert (a.level, a.notify_authority, a.notify_data_subjects, a.public_communication) == ("high", True, False,
                                                                                              True)
    assert [e.article for e in a.exceptions] == ["34(3)(c)"]


# --- the controller's own promises ----------------------------------------------------------------------

def test_policy_obligations_follow_each_commitment_trigger() -> None:
    doc = {**PROFILE, "commitments": [
        {"id": "email-everyone", "audience": "data_subjects", "within_hours": 72, "condition": "any leak",
         "text": "E-mail every person within 72 h.", "trigger": "any_breach", "anchor": "discovery",
         "channel": "email", "source_quote": "We e-mail you within 72 hours."},
        {"id": "tell-cnil", "audience": "authority", "condition": "risk", "text": "Notify.", "trigger": "risk"},
    ]}
    profile = parse_profile(doc, source="acme.toml")
    a = assess(parse_facts({"breach_types": ["confidentiality"], "data_categories": ["contact"],
                            "recipients": "trusted_known", "malicious": False}), profile)
    assert a.level == "unlikely"
    assert [(o.commitment, o.applies, o.within_hours) for o in a.policy_obligations] == [
        ("email-everyone", True, 72), ("tell-cnil", False, None)]


# --- facts files -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("facts", "field"), [
    ({}, "breach_types"),
    ({"breach_types": []}, "breach_types"),
    ({"breach_types": ["leak"]}, "breach_types[0]"),
    ({"breach_types": ["availability"], "unavailability_hours": -1}, "unavailability_hours"),
    ({"breach_types": ["availability"], "recipients": "everyone"}, "recipients"),
    ({"breach_types": ["availability"], "encrypted": "yes"}, "encrypted"),
    ({"breach_types": ["availability"], "colour": "red"}, "colour"),
    ({"breach_types": ["availability"], "subjects_count": 1.5}, "subjects_count"),
])
def test_invalid_facts_name_the_field(facts: dict[str, Any], field: str) -> None:
    with pytest.raises(FactsError) as caught:
        parse_facts(facts)
    assert caught.value.field == field


# --- properties ------------------------------------------------------------------------------------------

facts_strategy = st.fixed_dictionaries({
    "breach_types": st.lists(st.sampled_from(["confidentiality", "integrity", "availability"]), min_size=1,
                             unique=True),
}, optional={
    "data_categories": st.lists(st.sampled_from(DATA_CATEGORIES), unique=True),
    "subjects_count": st.integers(0, 10**7),
    "vulnerable_subjects": st.booleans(),
    "ease_of_identification": st.sampled_from(["negligible", "limited", "significant", "maximum"]),
    "backup_available": st.booleans(),
    "unavailability_hours": st.one_of(st.none(), st.floats(0, 10_000)),
    "exfiltration": st.sampled_from(["none", "suspected", "confirmed"]),
    "recipients": st.sampled_from(["none", "trusted_known", "known", "unknown", "public"]),
    "malicious": st.booleans(),
    "mitigations": st.lists(st.sampled_from(MITIGATIONS), unique=True),
})
RANK = {level: i for i, level in enumerate(LEVELS)}


@given(facts_strategy, st.sampled_from(["health", "special_category", "criminal", "financial", "payment_card"]))
def test_more_sensitive_data_never_lowers_the_level(facts: dict[str, Any], extra: str) -> None:
    before = assess(parse_facts(facts)).level
    after = assess(parse_facts({**facts, "data_categories": [*facts.get("data_categories", []), extra]})).level
    if extra not in facts.get("data_categories", []):
        assert RANK[after] >= RANK[before]


@given(facts_strategy, st.integers(1, 10**6))
def test_more_people_never_lowers_the_level(facts: dict[str, Any], more: int) -> None:
    base = facts.get("subjects_count", 0)
    bigger = assess(parse_facts({**facts, "subjects_count": base + more})).level
    assert RANK[bigger] >= RANK[assess(parse_facts({**facts, "subjects_count": base})).level]


@given(facts_strategy)
def test_encryption_with_a_safe_key_never_raises_the_level(facts: dict[str, Any]) -> None:
    plain = assess(parse_facts({**facts, "encrypted": False})).level
    encrypted = assess(parse_facts({**facts, "encrypted": True, "key_compromised": False})).level
    assert RANK[encrypted] <= RANK[plain]


@given(facts_strategy)
def test_the_same_facts_always_give_the_same_assessment(facts: dict[str, Any]) -> None:
    assert assess(parse_facts(facts)) == assess(parse_facts(facts))


def test_financial_data_is_not_advised_as_a_payment_card() -> None:
    """"financial" may be a business plan's figures (Atometrics): no card to block; statements to
    watch only if bank details were among it. A card's exposure is advised as such."""
    financial = assess(parse_facts({"breach_types": ["confidentiality"], "data_categories": ["financial"]}))
    card = assess(parse_facts({"breach_types": ["confidentiality"], "data_categories": ["payment_card"]}))
    assert "contact_bank" not in financial.advice and "watch_statements_if_bank_details" in financial.advice
    assert {"contact_bank", "watch_statements"} <= set(card.advice)


@pytest.mark.parametrize("categories", [["identity", "official_id"], ["financial", "payment_card"], ["contact"]])
def test_a_breach_rated_unlikely_names_no_harm_the_assessment_ruled_out(categories: list[str]) -> None:
    """Issue 16: the consequences agree with the level — no identity theft or fraud where the risk is unlikely."""
    unlikely = run(data_categories=categories, encrypted=True, key_compromised=False, recipients="unknown")
    assert unlikely.level == "unlikely"
    assert unlikely.consequences == ("loss_of_control",)
    risky = run(data_categories=categories, recipients="unknown", malicious=True)
    assert risky.level != "unlikely" and set(risky.consequences) - {"loss_of_control"}
