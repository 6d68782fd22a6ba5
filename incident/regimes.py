"""Notification obligations as data, one tuple per regime (sources: research/regulatory.md §5).

Each obligation says what triggers it, to whom it is owed, what its clock runs from (the
anchor), how far (offset and unit), and its legal reference. A change here always gets a
CHANGELOG entry and a test. ``rule_ref`` (id@version) is stored in every clock started from
a rule, so a clock can always be traced to the exact rule that computed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

# "days_after_year_end": n calendar days after the end of the calendar year of the anchor (HIPAA
# 164.408(c): the yearly log of breaches of fewer than 500 people).
UNITS = ("hours", "calendar_days", "working_days", "months", "asap", "days_after_year_end")
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
    # The zone the law counts in, whatever the controller's (LGPD: Brasília time); None: the profile's.
    zone: str | None = None
    # A second, outer limit from another anchor ("no later than 24 h from awareness"), which binds
    # only while it has not passed when the clock's own anchor comes (DORA RTS Art. 5(1)(a), 5(2)).
    cap_anchor: str | None = None
    cap_hours: int = 0
    # DORA RTS Art. 5(4): a deadline on a weekend or bank holiday of the entity's Member State moves
    # to noon of the next working day; Art. 5(5) takes that away from the initial notification and
    # intermediate report of credit institutions, CCPs, trading venues and NIS2 entities
    # (``relief_excludable``), as the profile's ``dora_weekend_relief`` says.
    weekend_relief: bool = False
    relief_excludable: bool = False
    # Owed only when more people than this are concerned (the incident's facts: subjects_count).
    more_than: int | None = None
    # (n, unit): when fewer than n people are concerned, the deadline is counted in this unit
    # instead (HIPAA 164.408(b)/(c): 500 or more at once, fewer in the yearly log).
    under: tuple[int, str] | None = None
    # The breaches a version of a rule governs, by when they were discovered (awareness): a law
    # that changes on a date keeps both versions (California SB 446 from 1 Jan 2026).
    discovered_from: datetime | None = None
    discovered_before: datetime | None = None

    def governs(self, discovered_at: datetime) -> bool:
        return ((self.discovered_from is None or discovered_at >= self.discovered_from)
                and (self.discovered_before is None or discovered_at < self.discovered_before))

    @property
    def rule_ref(self) -> str:
        return f"{self.regime}:{self.id}@{self.version}"


BRASILIA = "America/Sao_Paulo"
# SB 446 amends 1798.82 from 1 January 2026: the start of that day in California (PST, UTC-8),
# written in UTC so the domain reads no zone database (the Calendar port does).
SB_446 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)

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
        # Art. 3(1): the subscriber or individual too, when the breach "is likely to adversely affect"
        # their personal data or privacy; Art. 3(3): without undue delay after the detection. Art. 3(2)
        # weighs what GDPR Art. 34's high risk weighs (the data's nature; consequences such as
        # identity theft or fraud, physical harm, psychological distress, humiliation or damage to
        # reputation), and data made unintelligible (Art. 4; Dir. 2002/58/EC Art. 4(3)) is exempt
        # as under Art. 34(3)(a): of the levels the assessment gives, "high" is the closest fit.
        Obligation("ePrivacy", "611_subscribers", 1, "high_risk", "data_subjects", "detection", 0, "asap",
                   "Commission Reg. (EU) 611/2013 Art. 3"),
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
    # Delegated Reg. (EU) 2025/301 (v2). One initial notification: 4 h from the classification as
    # major and no later than 24 h from awareness (Art. 5(1)(a)), unless the classification came
    # after those 24 h: then 4 h from it (Art. 5(2)). v1 had two obligations, one per limb
    # (initial_from_classification, initial_from_awareness): their clocks in stored incidents
    # still fold and display, and a submission of either starts the intermediate report
    # (SUPERSEDED below).
    "dora": (
        Obligation("DORA", "initial_notification", 2, "major_incident", "authority", "classification", 4, "hours",
                   "Reg. (EU) 2022/2554 Art. 19(4)(a); Reg. (EU) 2025/301 Art. 5(1)(a), 5(2)",
                   cap_anchor="awareness", cap_hours=24, weekend_relief=True, relief_excludable=True),
        # "Within 72 hours from the submission of the initial notification" (Art. 5(1)(b)).
        Obligation("DORA", "intermediate_report", 2, "major_incident", "authority", "submission", 72, "hours",
                   "Reg. (EU) 2022/2554 Art. 19(4)(b); Reg. (EU) 2025/301 Art. 5(1)(b)",
                   after="initial_notification", weekend_relief=True, relief_excludable=True),
        # "No later than one month after" the (latest updated) intermediate report (Art. 5(1)(c));
        # Art. 5(5) leaves every entity the weekend relief for the final report.
        Obligation("DORA", "final_report", 2, "major_incident", "authority", "submission", 1, "months",
                   "Reg. (EU) 2022/2554 Art. 19(4)(c); Reg. (EU) 2025/301 Art. 5(1)(c)",
                   after="intermediate_report", weekend_relief=True),
    ),
    "ch-fadp": (
        Obligation("revFADP", "art24_fdpic", 1, "high_risk", "authority", "awareness", 0, "asap",
                   "revFADP Art. 24(1)"),
        # Art. 24(4): the people are informed "if it is necessary for their protection or if the
        # FDPIC so requests". Neither is a fact the system knows; protection is needed where the
        # breach puts them at high risk (the threshold of Art. 24(1) itself), so it opens with the
        # high risk, without a set delay; the DPO withdraws it, with the reason, where it is not
        # necessary, and an FDPIC request is recorded by the DPO on the workflow.
        Obligation("revFADP", "art24_4_data_subjects", 1, "high_risk", "data_subjects", "awareness", 0, "asap",
                   "revFADP Art. 24(4)"),
    ),
    "lgpd": (
        # Res. CD/ANPD 15/2024 does not say how to count: the start day is excluded, by analogy
        # with Lei 9.784/1999 Art. 66 — the earliest defensible reading. v2: the working days are
        # Brazilian ones, counted in Brasília time (the ANPD's), whatever the controller's zone
        # (v1 counted in the profile's: a controller in Paris ended its days 4-5 h early).
        Obligation("LGPD", "art6_anpd", 2, "risk", "authority", "awareness", 3, "working_days",
                   "LGPD Art. 48; Res. CD/ANPD 15/2024 Art. 6", jurisdiction="BR", zone=BRASILIA),
        Obligation("LGPD", "art9_data_subjects", 2, "risk", "data_subjects", "awareness", 3, "working_days",
                   "LGPD Art. 48; Res. CD/ANPD 15/2024 Art. 9", jurisdiction="BR", zone=BRASILIA),
    ),
    # 45 CFR 164.400-414: "discovered" is the first day the breach is known, or would have been
    # with reasonable diligence (164.404(a)(2)): the recorded awareness here.
    "hipaa": (
        Obligation("HIPAA", "individuals", 1, "breach", "data_subjects", "discovery", 60, "calendar_days",
                   "45 CFR 164.404(b)"),
        # 500 or more: with the individuals' notice, within 60 days of discovery (164.408(b));
        # fewer: logged, and reported within 60 days after the end of the calendar year (164.408(c)).
        # A count not known yet is read as 500 or more (the earlier deadline).
        Obligation("HIPAA", "hhs", 1, "breach", "authority", "discovery", 60, "calendar_days",
                   "45 CFR 164.408(b), (c)", under=(500, "days_after_year_end")),
        # "More than 500 residents of a State or jurisdiction" (164.406(a)), within 60 days
        # (164.406(b)). The facts count people, not residents per State: the total is the upper
        # bound of any one State's, so the obligation opens above 500 people, and the DPO withdraws
        # it, with the reason, when no State has more than 500 of them.
        Obligation("HIPAA", "media", 1, "breach", "media", "discovery", 60, "calendar_days",
                   "45 CFR 164.406", more_than=500),
        # A business associate tells the covered entity, within 60 days of discovery (164.410(b)):
        # owed by a profile's systems run for someone else, like GDPR Art. 33(2).
        Obligation("HIPAA", "business_associate", 1, "breach", "controller", "discovery", 60, "calendar_days",
                   "45 CFR 164.410"),
    ),
    # Cal. Civ. Code 1798.82. Before SB 446 (breaches discovered before 1 Jan 2026): "in the most
    # expedient time possible and without unreasonable delay" (1798.82(a)); from then on, within
    # 30 calendar days of discovery. v1 applied the 30 days to every breach.
    "california": (
        Obligation("California", "residents", 2, "breach", "data_subjects", "discovery", 0, "asap",
                   "Cal. Civ. Code 1798.82(a)", discovered_before=SB_446),
        Obligation("California", "residents", 3, "breach", "data_subjects", "discovery", 30, "calendar_days",
                   "Cal. Civ. Code 1798.82(a) (SB 446)", discovered_from=SB_446),
        # A sample copy of the notice to the Attorney General when more than 500 California residents
        # are notified (1798.82(f)); from SB 446, within 15 calendar days of notifying them
        # (research/regulatory.md §5). Counted like HIPAA's media notice: the facts' number of people.
        Obligation("California", "attorney_general", 1, "breach", "authority", "submission", 0, "asap",
                   "Cal. Civ. Code 1798.82(f)", after="residents", more_than=500, discovered_before=SB_446),
        Obligation("California", "attorney_general", 2, "breach", "authority", "submission", 15, "calendar_days",
                   "Cal. Civ. Code 1798.82(f) (SB 446)", after="residents", more_than=500,
                   discovered_from=SB_446),
    ),
}

# v1 obligations a later version replaced under another id: what a submission of theirs (in a
# stored incident) counts as, so the reports that follow it still start.
SUPERSEDED = {("DORA", "initial_from_classification"): "initial_notification",
              ("DORA", "initial_from_awareness"): "initial_notification"}

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
