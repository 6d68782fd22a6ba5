"""Risk v1: each outcome has its reason; the careful reading when facts are missing."""

from __future__ import annotations

from incident.risk import Facts, assess


def facts(types: tuple[str, ...] = ("confidentiality",), categories: tuple[str, ...] = (),
          subjects: int | None = None) -> Facts:
    return Facts(breach_types=types, data_categories=categories, subjects_estimate=subjects, unmapped_assets=())


def test_disclosed_credentials_are_high_risk_with_advice() -> None:
    a = assess(facts(categories=("contact", "credentials")))
    assert a.level == "high" and a.communicate_to_subjects and a.notify_authority
    assert {"change_password", "watch_phishing", "contact_dpo"} <= set(a.advice)
    assert "account_takeover" in a.consequences
    assert next(f for f in a.factors if f.name == "data_sensitivity").value == "credentials"


def test_contact_data_alone_is_a_risk_not_high() -> None:
    a = assess(facts(categories=("contact",)))
    assert a.level == "risk" and a.notify_authority and not a.communicate_to_subjects


def test_availability_only_without_sensitive_data_is_unlikely() -> None:
    assert assess(facts(types=("availability",), categories=("contact",))).level == "unlikely"


def test_unknown_data_and_type_assume_the_worse_reading() -> None:
    a = assess(facts(types=(), categories=()))
    assert a.level == "risk"
    assert a.breach_types == ("confidentiality",)
    assert "most harmful" in a.factors[0].reason
    assert all(f.reason for f in a.factors)
