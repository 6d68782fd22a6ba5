"""Notification obligations as data, one tuple per regime (sources: research/regulatory.md §5).

Each obligation says what triggers it, to whom it is owed, what its clock runs from (the
anchor), how far (offset and unit), and its legal reference. A change here always gets a
CHANGELOG entry and a test. ``rule_ref`` (id@version) is stored in every clock started from
a rule, so a clock can always be traced to the exact rule that computed it.
"""

from __future__ import annotations

from dataclasses import dataclass

UNITS = ("hours", "calendar_days", "working_days", "months", "asap")
# What a clock can run from. Only the first three are known when awareness is recorded; the
# others arrive with later commands (classification as major, a previous submission).
ANCHORS = ("awareness", "detection", "discovery", "classification", "submission")


@dataclass(frozen=True, slots=True)
class Obligation:
    regime: str
    id: str
    version: int
    trigger: str  # "breach" | "risk" | "high_risk" | "significant_incident" | "major_incident"
    recipient: str
    anchor: str
    amount: int
    unit: str
    legal_ref: str
    jurisdiction: str | None = None  # whose public holidays count, for working days
    after: str | None = None  # for anchor "submission": the obligation whose submission starts it

    @property
    def rule_ref(self) -> str:
        return f"{self.regime}:{self.id}@{self.version}"


GDPR_ART33 = Obligation("GDPR", "art33_authority", 1, "risk", "authority", "awareness", 72, "hours",
                        "GDPR Art. 33(1)")
GDPR_ART34 = Obligation("GDPR", "art34_data_subjects", 1, "high_risk", "data_subjects", "awareness", 0, "asap",
                        "GDPR Art. 34(1)")
# A processor owes its controller every breach, whatever the risk: the controller assesses it.
GDPR_ART33_2 = Obligation("GDPR", "art33_2_controller", 1, "breach", "controller", "awareness", 0, "asap",
                          "GDPR Art. 33(2)")

REGIMES: dict[str, tuple[Obligation, ...]] = {
    "gdpr": (GDPR_ART33, GDPR_ART34, GDPR_ART33_2),
    "uk-gdpr": (
        Obligation("UK GDPR", "art33_ico", 1, "risk", "authority", "awareness", 72, "hours", "UK GDPR Art. 33(1)"),
        Obligation("UK GDPR", "art34_individuals", 1, "high_risk", "data_subjects", "awareness", 0, "asap",
                   "UK GDPR Art. 34(1)"),
        Obligation("UK GDPR", "art33_2_controller", 1, "breach", "controller", "awareness", 0, "asap",
                   "UK GDPR Art. 33(2)"),
    ),
    "eprivacy": (
        Obligation("ePrivacy", "611_authority", 1, "breach", "authority", "detection", 24, "hours",
                   "Commission Reg. (EU) 611/2013 Art. 2(2)"),
    ),
    # NIS2 runs "from becoming aware of the significant incident": the moment a person classifies
    # it significant, which may come after the breach awareness that starts the GDPR clock (v2;
    # v1 ran from breach awareness, even for incidents never found significant).
    "nis2": (
        Obligation("NIS2", "early_warning", 2, "significant_incident", "csirt", "classification", 24, "hours",
                   "Dir. (EU) 2022/2555 Art. 23(4)(a)"),
        Obligation("NIS2", "incident_notification", 2, "significant_incident", "csirt", "classification", 72,
                   "hours", "Dir. (EU) 2022/2555 Art. 23(4)(b)"),
        Obligation("NIS2", "final_report", 1, "significant_incident", "csirt", "submission", 1, "months",
                   "Dir. (EU) 2022/2555 Art. 23(4)(d)", after="incident_notification"),
    ),
    "dora": (
        Obligation("DORA", "initial_from_classification", 1, "major_incident", "authority", "classification", 4,
                   "hours", "Reg. (EU) 2025/301 Art. 5(1)(a)"),
        Obligation("DORA", "initial_from_awareness", 1, "major_incident", "authority", "awareness", 24, "hours",
                   "Reg. (EU) 2025/301 Art. 5(1)(a)"),
        Obligation("DORA", "intermediate_report", 1, "major_incident", "authority", "submission", 72, "hours",
                   "Reg. (EU) 2025/301 Art. 5(1)(b)", after="initial_from_awareness"),
        Obligation("DORA", "final_report", 1, "major_incident", "authority", "submission", 1, "months",
                   "Reg. (EU) 2025/301 Art. 5(1)(c)", after="intermediate_report"),
    ),
    "ch-fadp": (
        Obligation("revFADP", "art24_fdpic", 1, "high_risk", "authority", "awareness", 0, "asap",
                   "revFADP Art. 24(1)"),
    ),
    "lgpd": (
        # Res. CD/ANPD 15/2024 does not say how to count: the start day is excluded, by analogy
        # with Lei 9.784/1999 Art. 66 — the earliest defensible reading.
        Obligation("LGPD", "art6_anpd", 1, "risk", "authority", "awareness", 3, "working_days",
                   "LGPD Art. 48; Res. CD/ANPD 15/2024 Art. 6", jurisdiction="BR"),
        Obligation("LGPD", "art9_data_subjects", 1, "risk", "data_subjects", "awareness", 3, "working_days",
                   "LGPD Art. 48; Res. CD/ANPD 15/2024 Art. 9", jurisdiction="BR"),
    ),
    "hipaa": (
        Obligation("HIPAA", "individuals", 1, "breach", "data_subjects", "discovery", 60, "calendar_days",
                   "45 CFR 164.404(b)"),
    ),
    "california": (
        Obligation("California", "residents", 1, "breach", "data_subjects", "discovery", 30, "calendar_days",
                   "Cal. Civ. Code 1798.82 (SB 446)"),
    ),
}

# Obligations whose trigger is a classification start only once a person classifies the incident
# so (ClassifyIncident), whatever their anchor: DORA's 24 h still runs from awareness.
CLASSIFICATION_TRIGGERS = {"major": "major_incident", "significant": "significant_incident"}

# A profile's entity type brings the regimes it implies (NIS2 Art. 3; DORA Art. 2).
ENTITY_TYPES = {"nis2-essential": ("nis2",), "nis2-important": ("nis2",), "dora-financial-entity": ("dora",)}

# Where a controller is established decides its default regime; a profile may list more.
EEA = ("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
       "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO")


def default_regimes(established_in: str) -> tuple[str, ...]:
    if established_in in EEA:
        return ("gdpr",)
    return {"GB": ("uk-gdpr",), "CH": ("ch-fadp",), "BR": ("lgpd",)}.get(established_in, ())
