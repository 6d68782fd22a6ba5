"""The risk factors on a French console page: written from each factor's code and parameters with
the French notices' labels (templates/notices/gdpr/fr/_labels.j2), so the page and the authority
notification explain a factor in the same words (issue 17, item 8)."""

from __future__ import annotations

from console.domain_text import exception_reason, factor_rows
from incident.facts import Facts
from incident.risk import assess
from streams.kafka.codec import to_jsonable
from streams.mail.render import NoticeRenderer
from streams.settings import ROOT


def test_risk_factors_read_in_french_from_their_codes_and_old_ones_keep_their_english() -> None:
    renderer = NoticeRenderer(ROOT / "templates" / "notices")
    facts = Facts(breach_types=("confidentiality",), data_categories=("credentials",), malicious=True,
                  subjects_count=1200)
    factors = to_jsonable(assess(facts)).get("factors")
    rows = factor_rows(renderer, factors, "fr")
    decision = rows[-1]
    assert decision["code"] == "decision" and decision["name"] == "Conclusion" and decision["value"] == "risque élevé"
    assert "usurpation d'identité" in decision["reason"] and "likely" not in decision["reason"]
    assert [r["reason"] for r in factor_rows(renderer, factors, "en")] == [f["reason"] for f in factors]
    # An assessment recorded before factors carried params: its own words, never an error.
    old = [{"name": "severity_score", "value": "3 (high)", "reason": "ENISA SE = 2 × 1 + 1.", "params": {}}]
    assert factor_rows(renderer, old, "fr")[0]["reason"] == "ENISA SE = 2 × 1 + 1."
    assert exception_reason("34(3)(b)", "Without the measures taken since (credentials_reset) this breach would be "
                            "high risk.", "fr") == ("Sans les mesures prises depuis (identifiants réinitialisés), "
                                                    "cette violation présenterait un risque élevé.")


def test_a_factor_the_labels_cannot_read_keeps_the_domains_english() -> None:
    renderer = NoticeRenderer(ROOT / "templates" / "notices")
    odd = [{"name": "severity_score", "value": "3 (high)", "reason": "ENISA SE = 2 × 1 + 1.",
            "params": {"score": "not a number", "band": "high", "dpc": 2, "ei": 1, "cb": 1}}]
    assert factor_rows(renderer, odd, "fr")[0]["reason"] == "ENISA SE = 2 × 1 + 1."
