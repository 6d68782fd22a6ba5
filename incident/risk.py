"""Risk to the rights and freedoms of the people affected (v1, "skeleton-1").

A deliberately small first method, deepened by the ENISA/EDPB engine later: it names each
factor with its value and a one-sentence reason, so the DPO can see why and override.
Readings chosen where the law leaves a choice (the careful DPO's reading):
- an unknown breach type is assessed as a loss of confidentiality, the most harmful one;
- an asset no profile declares, or a system with no known data, is assumed to hold
  personal data: "risk" until someone shows otherwise;
- a loss of confidentiality of data that enables fraud, identity theft, account takeover
  or discrimination (credentials, financial, card, ID documents, health, special
  categories, criminal data, children's data) is "high".
"""

from __future__ import annotations

from dataclasses import dataclass

METHOD = "skeleton-1"
LEVELS = ("unlikely", "risk", "high")

SENSITIVE = ("credentials", "financial", "payment_card", "official_id", "health", "special_category",
             "criminal", "children")

_CONSEQUENCES = {
    "credentials": ("account_takeover", "phishing"),
    "contact": ("phishing",),
    "identity": ("identity_theft",),
    "official_id": ("identity_theft", "fraud"),
    "financial": ("fraud", "financial_loss"),
    "payment_card": ("fraud", "financial_loss"),
    "health": ("discrimination", "distress"),
    "special_category": ("discrimination", "distress"),
    "criminal": ("reputational_damage", "discrimination"),
    "location": ("physical_harm",),
    "children": ("distress",),
    "communications": ("reputational_damage",),
}
_ADVICE = {
    "credentials": ("change_password", "enable_mfa"),
    "contact": ("watch_phishing",),
    "identity": ("be_careful_with_calls",),
    "official_id": ("renew_document",),
    "financial": ("contact_bank", "watch_statements"),
    "payment_card": ("contact_bank", "watch_statements"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """The breach facts an assessment reads (documented in docs/risk.md)."""

    breach_types: tuple[str, ...]
    data_categories: tuple[str, ...]
    subjects_estimate: int | None
    unmapped_assets: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Factor:
    name: str
    value: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    level: str
    method: str
    factors: tuple[Factor, ...]
    breach_types: tuple[str, ...]
    data_categories: tuple[str, ...]
    subjects_estimate: int | None
    consequences: tuple[str, ...]
    advice: tuple[str, ...]

    @property
    def notify_authority(self) -> bool:
        return self.level != "unlikely"

    @property
    def communicate_to_subjects(self) -> bool:
        return self.level == "high"


def assess(facts: Facts) -> Assessment:
    factors: list[Factor] = []
    types = facts.breach_types or ("confidentiality",)
    factors.append(Factor(
        name="breach_type", value=", ".join(types),
        reason="Breach types reported by the signals." if facts.breach_types
        else "No breach type reported: assessed as a loss of confidentiality, the most harmful case.",
    ))
    sensitive = tuple(c for c in facts.data_categories if c in SENSITIVE)
    if not facts.data_categories:
        level = "risk"
        factors.append(Factor(name="data_sensitivity", value="unknown",
                              reason="The data involved is not known yet: personal data is assumed until shown "
                                     "otherwise."))
    elif sensitive and "confidentiality" in types:
        level = "high"
        factors.append(Factor(name="data_sensitivity", value=", ".join(sensitive),
                              reason="Disclosure of these categories can lead to fraud, identity theft, account "
                                     "takeover or discrimination."))
    elif types == ("availability",) and not sensitive:
        level = "unlikely"
        factors.append(Factor(name="data_sensitivity", value=", ".join(facts.data_categories),
                              reason="Only availability is affected and no sensitive category is involved."))
    else:
        level = "risk"
        factors.append(Factor(name="data_sensitivity", value=", ".join(facts.data_categories),
                              reason="Personal data is involved but no category that makes severe consequences "
                                     "likely."))
    if facts.unmapped_assets:
        factors.append(Factor(name="unmapped_assets", value=", ".join(facts.unmapped_assets),
                              reason="These assets are declared by no controller profile: their data is unknown."))
    factors.append(Factor(
        name="number_of_people",
        value="unknown" if facts.subjects_estimate is None else str(facts.subjects_estimate),
        reason="Estimated from the records the signals report or the systems' declared population."
        if facts.subjects_estimate is not None else "No estimate yet; it does not lower the level.",
    ))
    categories = facts.data_categories
    consequences = tuple(dict.fromkeys(c for cat in categories for c in _CONSEQUENCES.get(cat, ()))) or (
        "loss_of_control",)
    advice = tuple(dict.fromkeys([a for cat in categories for a in _ADVICE.get(cat, ())] + ["contact_dpo"]))
    return Assessment(level=level, method=METHOD, factors=tuple(factors), breach_types=types,
                      data_categories=categories, subjects_estimate=facts.subjects_estimate,
                      consequences=consequences, advice=advice)
