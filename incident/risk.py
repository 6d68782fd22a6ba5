"""Risk to the rights and freedoms of the people affected: ``assess(facts, profile)``.

Method "edpb-enisa-2", documented with its readings in docs/risk.md:

1. **Severity** (ENISA 2013): SE = DPC × EI + CB, banded low < 2 ≤ medium < 3 ≤ high < 4 ≤ very high.
2. **Level** (EDPB Guidelines 9/2022), decided by explicit rules, each named in the factor
   ``decision``: a breach is *unlikely to result in a risk* only on a stated ground (data
   unintelligible, trusted or contained recipient, brief restorable outage, a low severity
   without malice or sensitive data); it is *high* when special-category data is exposed or
   lost for long (damage presumed, ¶102), when vulnerable people's data is exposed, when
   fraud-enabling data reaches unknown hands through an attack, or when the severity is high
   (unless a mistake put only a few people's data in known hands: misuse is then not likely);
   otherwise it is a *risk*. Calibrated on EDPB Guidelines 01/2021's 18 cases
   (tests/unit/edpb_examples.py).
3. **Art. 34(3) exceptions** are found by asking what the level would be without the
   safeguard: high without the encryption → (a); high without the later measures → (b);
   high but the people cannot be reached → (c), public communication instead.

Pure and deterministic: the same facts and profile always give the same Assessment.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from incident.facts import EASE_OF_IDENTIFICATION, Facts
from incident.profiles import Profile

METHOD = "edpb-enisa-2"
LEVELS = ("unlikely", "risk", "high")

SPECIAL = ("health", "special_category", "criminal")
FRAUD_ENABLING = ("credentials", "financial", "payment_card", "official_id")
# ENISA basic DPC scores (simple 1, behavioural 2, financial 3, sensitive 4); see docs/risk.md for
# the placement of the categories ENISA does not name.
DPC_BASIC = {"contact": 1, "identity": 1, "technical": 1, "children": 1, "behavioural": 2, "location": 2,
             "communications": 2, "financial": 3, "official_id": 3, "payment_card": 4, "health": 4,
             "special_category": 4, "criminal": 4}
# A mistaken disclosure to known recipients of at most this many people's data is not high on the
# ENISA severity alone (docs/risk.md, rule 7): any number from the EDPB's 24 (Case 09) to its
# 60,000 (Case 14, high) fits its cases; 100 keeps to the few.
FEW_PEOPLE = 100
CONTAINING = ("recipient_confirmed_deletion", "data_recovered_and_deleted")
# Exposures under which no unauthorised party can use the data.
SAFE_EXPOSURES = ("none", "unintelligible", "trusted", "contained")

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
    # "financial" covers bank details as much as a business plan's figures: no card to block, and
    # statements to watch only if bank details were among them.
    "financial": ("watch_statements_if_bank_details",),
    "payment_card": ("contact_bank", "watch_statements"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Factor:
    """One element of the assessment. ``value`` and ``reason`` are English, for the console and
    the register; ``params`` holds the same facts as codes and numbers (JSON values), from which
    the notice templates write the factor in the reader's language."""

    name: str
    value: str
    reason: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Severity:
    dpc: float
    ei: float
    cb: float
    score: float
    band: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Exemption:
    article: str  # "34(3)(a)" | "34(3)(b)" | "34(3)(c)"
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyObligation:
    commitment: str
    audience: str
    within_hours: int | None
    applies: bool
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    level: str
    document_internally: bool
    notify_authority: bool
    notify_data_subjects: bool
    public_communication: bool
    exceptions: tuple[Exemption, ...]
    severity: Severity
    factors: tuple[Factor, ...]
    method_version: str
    policy_obligations: tuple[PolicyObligation, ...]
    breach_types: tuple[str, ...]
    data_categories: tuple[str, ...]
    subjects_estimate: int | None
    consequences: tuple[str, ...]
    advice: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Reading:
    """The facts read once, with the conservative default for each missing one."""

    facts: Facts
    confidentiality: bool
    integrity: bool
    availability: bool
    special: tuple[str, ...]
    fraud_enabling: tuple[str, ...]
    vulnerable: bool
    unintelligible: bool
    exposure: str  # none | unintelligible | trusted | contained | known | unknown | public
    outage: str | None  # brief | restorable | prolonged | permanent
    integrity_loss: str | None  # restorable | unrecoverable
    malicious: bool


def _read(f: Facts) -> _Reading:
    c, i, a = (t in f.breach_types for t in ("confidentiality", "integrity", "availability"))
    malicious = f.malicious is True
    unintelligible = f.encrypted is True and f.key_compromised is not True
    mitigations = set(f.mitigations)
    exposure = "none"
    if c:
        if unintelligible:
            exposure = "unintelligible"
        elif f.recipients is not None:
            exposure = f.recipients
        elif f.exfiltration == "none" or ("device_wiped_remotely" in mitigations and f.exfiltration is None):
            exposure = "none"
        else:
            exposure = "unknown"  # nobody can say who has the data: the careful reading
        if exposure == "trusted_known" and not malicious:
            exposure = "trusted"
        elif exposure in ("trusted_known", "known") and mitigations & set(CONTAINING) and not malicious:
            exposure = "contained"
        elif exposure == "trusted_known":
            exposure = "known"
    outage = None
    if a:
        hours = f.unavailability_hours
        if f.permanent_loss or (hours is None and f.backup_available is False):
            outage = "permanent"
        elif hours is not None and hours <= 24:
            outage = "brief"
        elif hours is None and (f.backup_available or "backup_restored" in mitigations):
            outage = "restorable"
        else:
            outage = "prolonged"
    integrity_loss = None
    if i:
        integrity_loss = "restorable" if f.backup_available or "backup_restored" in mitigations else "unrecoverable"
    return _Reading(
        facts=f, confidentiality=c, integrity=i, availability=a,
        special=tuple(x for x in f.data_categories if x in SPECIAL),
        fraud_enabling=tuple(x for x in f.data_categories if x in FRAUD_ENABLING),
        vulnerable=bool(f.vulnerable_subjects) or "children" in f.data_categories,
        unintelligible=unintelligible, exposure=exposure, outage=outage, integrity_loss=integrity_loss,
        malicious=malicious,
    )


def severity(r: _Reading) -> Severity:
    cats = r.facts.data_categories
    others = [DPC_BASIC[c] for c in cats if c in DPC_BASIC]
    dpc = max(others, default=1)
    if r.facts.publicly_available:
        # ENISA Table 1: behavioural −1, financial −2, sensitive −3 when the data was public
        # already or gives no substantial insight — each lands on 1.
        dpc = 1
    elif "credentials" in cats:
        # ENISA scores credentials by the data they open; people reuse passwords, so what they open
        # is never only the breached system: at least behavioural.
        dpc = max(dpc, 2)
    if r.vulnerable:
        dpc += 1
    if len([c for c in cats if c != "technical"]) >= 4:
        dpc += 1  # a combination of data about one person allows profiling (ENISA volume, EDPB factor 2)
    dpc = min(dpc, 4)
    ei = EASE_OF_IDENTIFICATION.get(r.facts.ease_of_identification or "maximum", 1.0)
    cb = {"none": 0.0, "unintelligible": 0.0, "trusted": 0.0, "contained": 0.0, "known": 0.25, "unknown": 0.5,
          "public": 0.5}[r.exposure]
    cb += {None: 0.0, "restorable": 0.25 if r.malicious else 0.0, "unrecoverable": 0.5}[r.integrity_loss]
    cb += {None: 0.0, "brief": 0.0, "restorable": 0.0, "prolonged": 0.25, "permanent": 0.5}[r.outage]
    cb += 0.5 if r.malicious else 0.0
    score = round(dpc * ei + cb, 4)
    band = "low" if score < 2 else "medium" if score < 3 else "high" if score < 4 else "very high"
    return Severity(dpc=float(dpc), ei=ei, cb=cb, score=score, band=band)


def _decide_level(r: _Reading, se: Severity) -> tuple[str, str, dict[str, Any]]:
    """(level, the rule that decided it in one sentence, that rule's code and facts for the notices)."""
    exposed = r.exposure in ("known", "unknown", "public")
    long_outage = r.outage in ("prolonged", "permanent")
    if r.special and (exposed or (r.availability and long_outage)):
        return "high", (f"Special-category or criminal data ({', '.join(r.special)}) "
                        + ("reached unauthorised hands" if exposed else "is unavailable for long")
                        + ": damage is presumed likely (EDPB 9/2022 ¶102) and severe."), {
            "rule": "special_exposed" if exposed else "special_unavailable", "categories": list(r.special)}
    if r.vulnerable and exposed:
        return "high", "Data of vulnerable people (children, patients…) reached unauthorised hands.", {
            "rule": "vulnerable_exposed"}
    if r.exposure in ("unknown", "public") and r.fraud_enabling and r.facts.malicious is not False:
        return "high", (f"Fraud-enabling data ({', '.join(r.fraud_enabling)}) is in unknown hands, and nothing "
                        "shows it was an innocent mistake: identity theft, fraud or account takeover are likely."), {
            "rule": "fraud_enabling_unknown_hands", "categories": list(r.fraud_enabling)}
    # Grounds that take the data out of unauthorised hands come before the severity score: ENISA
    # weighs unintelligibility outside its formula, and the EDPB calls a stolen encrypted laptop
    # or a trusted recipient's deletion "unlikely" whatever the data.
    # Neither safeguard repairs a long outage or altered data that cannot be restored.
    repaired = not long_outage and r.integrity_loss != "unrecoverable"
    if r.confidentiality and r.exposure == "unintelligible" and repaired:
        return "unlikely", "The data is unintelligible to whoever has it and its key is safe.", {
            "rule": "unintelligible"}
    if r.confidentiality and r.exposure in ("trusted", "contained") and repaired:
        return "unlikely", ("The data went to a known, trusted recipient or was recovered/deleted before any misuse, "
                            "without malice."), {"rule": "trusted_or_contained"}
    if r.malicious and r.exposure in ("unknown", "public") and r.facts.ease_of_identification not in (
            "negligible", "limited"):
        # EDPB 01/2021: every exfiltration or theft by an attacker of data that identifies people
        # (ransomware with exfiltration, stolen laptops, credential stuffing, e-mail takeover…) is high.
        return "high", ("An attacker holds data that identifies the people: misuse (phishing, fraud, identity "
                        "theft) is likely."), {"rule": "attacker_holds_identifying_data"}
    if se.band in ("high", "very high") and r.exposure == "known" and r.facts.malicious is False \
            and r.facts.subjects_count is not None and r.facts.subjects_count <= FEW_PEOPLE and repaired:
        # Severity measures the harm if the data is misused; high risk also needs misuse to be
        # likely. A mistake that put a few people's data in identified hands (a letter in the wrong
        # envelope, EDPB 01/2021 Case 16) can be undone by asking for it back: notify the
        # authority, not the people. Special categories and vulnerable people were decided above.
        return "risk", (f"A mistake disclosed the data of few people ({r.facts.subjects_count}) to known "
                        "recipients, who can be asked to return or delete it: misuse is not likely enough for a "
                        f"high risk, even with an ENISA severity of {se.score:g} ({se.band})."), {
            "rule": "mistake_few_known_recipients", "count": r.facts.subjects_count, "score": se.score,
            "band": se.band}
    if se.band in ("high", "very high"):
        return "high", f"ENISA severity {se.score:g} is {se.band}: consequences may be significant or irreversible.", {
            "rule": "severity_high", "score": se.score, "band": se.band}
    if r.exposure in SAFE_EXPOSURES and not r.special and r.outage in (None, "brief", "restorable") \
            and r.integrity_loss != "unrecoverable" and (r.availability or r.integrity):
        return "unlikely", "No one else saw the data and it was restored quickly from backup.", {
            "rule": "restored_unseen"}
    if se.band == "low" and not r.malicious and r.exposure in (*SAFE_EXPOSURES, "known") and not r.special \
            and not r.vulnerable and not r.fraud_enabling and r.facts.data_categories:
        return "unlikely", (f"ENISA severity {se.score:g} is low, without malice, sensitive data or a wide "
                            "disclosure."), {"rule": "severity_low", "score": se.score}
    return "risk", (f"Personal data was breached ({', '.join(r.facts.breach_types)}) and no ground shows the risk "
                    "unlikely; nothing makes it high (ENISA severity " + f"{se.score:g}, {se.band})."), {
        "rule": "risk_otherwise", "breach_types": list(r.facts.breach_types), "score": se.score, "band": se.band}


def _level(facts: Facts) -> str:
    r = _read(facts)
    return _decide_level(r, severity(r))[0]


def assess(facts: Facts, profile: Profile | None = None) -> Assessment:
    r = _read(facts)
    se = severity(r)
    level, decision, decided_by = _decide_level(r, se)
    exceptions: list[Exemption] = []
    if level != "high" and r.unintelligible and _level(replace(facts, encrypted=False)) == "high":
        exceptions.append(Exemption(article="34(3)(a)", reason="Without the encryption this breach would be high "
                                    "risk; the data is unintelligible and the key was not compromised."))
    if level != "high" and facts.mitigations and _level(replace(facts, mitigations=())) == "high":
        exceptions.append(Exemption(article="34(3)(b)", reason="Without the measures taken since ("
                                    + ", ".join(facts.mitigations) + ") this breach would be high risk."))
    communicate = level == "high"
    public = False
    if communicate and facts.subjects_contactable is False:
        communicate, public = False, True
        exceptions.append(Exemption(article="34(3)(c)", reason="The people affected cannot be reached individually "
                                    "without disproportionate effort: a public communication replaces it."))
    categories = facts.data_categories
    # "Unlikely" means the assessment found no likely harm: naming what the data could enable
    # elsewhere (identity theft, fraud…) would contradict the level it gives (issue 16).
    consequences = ("loss_of_control",) if level == "unlikely" else tuple(dict.fromkeys(
        c for cat in categories for c in _CONSEQUENCES.get(cat, ()))) or ("loss_of_control",)
    advice = tuple(dict.fromkeys([a for cat in categories for a in _ADVICE.get(cat, ())] + ["contact_dpo"]))
    return Assessment(
        level=level, document_internally=True, notify_authority=level != "unlikely",
        notify_data_subjects=communicate, public_communication=public, exceptions=tuple(exceptions),
        severity=se, factors=(*_factors(r, se, profile), Factor(name="decision", value=level, reason=decision,
                                                                  params={"level": level, **decided_by})),
        method_version=METHOD, policy_obligations=_obligations(level, profile), breach_types=facts.breach_types,
        data_categories=categories, subjects_estimate=facts.subjects_count, consequences=consequences,
        advice=advice,
    )


def _factors(r: _Reading, se: Severity, profile: Profile | None) -> list[Factor]:
    f = r.facts
    vulnerable = list(f.vulnerable_subjects or ()) or (["children"] if "children" in f.data_categories else [])
    sensitive_activities = sorted({c for s in profile.systems for c in s.data_categories if c in SPECIAL}) if profile \
        else []
    out = [
        Factor(name="type_of_breach", value=", ".join(f.breach_types),
               reason="Confidentiality, integrity and availability losses harm people differently (EDPB factor 1).",
               params={"breach_types": list(f.breach_types)}),
        Factor(name="nature_sensitivity_volume", value=", ".join(f.data_categories) or "unknown",
               reason=(f"ENISA data-processing context {se.dpc:g}/4"
                       + (f"; special categories: {', '.join(r.special)}" if r.special else "")
                       + ("" if f.data_categories else "; the data involved is not known yet: scored as simple data, "
                          "and the breach cannot be called unlikely on that ground") + "."),
               params={"categories": list(f.data_categories), "dpc": se.dpc, "special": list(r.special),
                       "publicly_available": f.publicly_available is True}),
        Factor(name="ease_of_identification", value=f.ease_of_identification or "maximum (assumed)",
               reason=f"ENISA multiplier {se.ei:g}" + ("" if f.ease_of_identification else
                                                       ": nothing shows the people are hard to identify") + ".",
               params={"ease": f.ease_of_identification or "maximum", "assumed": f.ease_of_identification is None,
                       "ei": se.ei}),
        Factor(name="severity_of_consequences", value=f"exposure {r.exposure}"
               + (f", outage {r.outage}" if r.outage else "") + (", malicious" if r.malicious else ""),
               reason=f"ENISA circumstances of the breach add {se.cb:g}: who may hold the data, whether it can be "
                      "restored, and intent.",
               params={"exposure": r.exposure, "outage": r.outage, "integrity_loss": r.integrity_loss,
                       "malicious": r.malicious, "cb": se.cb}),
        Factor(name="special_characteristics_of_individuals", value=", ".join(vulnerable) or "none stated",
               reason="Children and other vulnerable people are more exposed to harm (EDPB factor 5).",
               params={"groups": vulnerable}),
        Factor(name="special_characteristics_of_controller", value=profile.name if profile else "no profile",
               reason=("Sensitive activities of the controller raise the stakes: " + ", ".join(sensitive_activities)
                       if sensitive_activities else "The controller's activities add no particular sensitivity."),
               params={"sensitive_categories": sensitive_activities}),
        Factor(name="number_of_individuals", value=str(f.subjects_count) if f.subjects_count is not None else "unknown",
               reason="More people means more impact; a small number does not lower the level on its own.",
               params={"count": f.subjects_count}),
        Factor(name="severity_score", value=f"{se.score:g} ({se.band})",
               reason=f"ENISA SE = DPC × EI + CB = {se.dpc:g} × {se.ei:g} + {se.cb:g}.",
               params={"score": se.score, "band": se.band, "dpc": se.dpc, "ei": se.ei, "cb": se.cb}),
    ]
    if f.encrypted is not None:
        out.append(Factor(name="unintelligibility", value="yes" if r.unintelligible else "no",
                          reason="Encrypted, and the key is safe." if r.unintelligible else
                          "Not encrypted, or the key was compromised too.",
                          params={"unintelligible": r.unintelligible}))
    if f.mitigations:
        out.append(Factor(name="mitigations", value=", ".join(f.mitigations),
                          reason="Measures taken since the breach, counted only where they remove a harm.",
                          params={"mitigations": list(f.mitigations)}))
    return out


def _obligations(level: str, profile: Profile | None) -> tuple[PolicyObligation, ...]:
    """The controller's own promises: they add to the law, never remove from it."""
    if profile is None:
        return ()
    out = []
    for c in profile.commitments:
        applies = c.trigger == "any_breach" or (c.trigger == "risk" and level != "unlikely") or (
            c.trigger == "high_risk" and level == "high")
        out.append(PolicyObligation(commitment=c.id, audience=c.audience, within_hours=c.within_hours,
                                    applies=applies, reason=f"{c.text} (applies to: {c.trigger.replace('_', ' ')})"))
    return tuple(out)
