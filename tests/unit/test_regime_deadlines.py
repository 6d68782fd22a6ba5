"""Every regime's deadlines, one row per case, with the expected moment written out by hand.

The rows use the texts' own examples where they give one (DORA: "classify at hour 22 and two
hours remain", the late classification of RTS 2025/301 Art. 5(2), the weekend relief of
Art. 5(4)-(5); HIPAA: the yearly log due by 1 March after a non-leap year; California: the
breach discovered the day before SB 446 and the day it applies). Expected values are local wall
times a reader can check on a calendar, never computed by the code under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from incident.deadlines import NO_CONTEXT, Context, deadline_for
from incident.regimes import REGIMES, Obligation
from tests.unit.builders import FakeCalendar

PARIS, NEW_YORK = ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York")
LOS_ANGELES, SAO_PAULO = ZoneInfo("America/Los_Angeles"), ZoneInfo("America/Sao_Paulo")
END = time(23, 59, 59, 999999)  # a day counts to its last instant

# The public holidays the rows rely on, named (the adapter's real calendars are tested in
# tests/integration/test_calendars.py).
CALENDAR = FakeCalendar({("FR", date(2026, 12, 25)), ("FR", date(2026, 11, 1)), ("BR", date(2026, 4, 21))})


def at(tz: ZoneInfo, y: int, mo: int, d: int, h: int = 0, mi: int = 0, t: time | None = None) -> datetime:
    return datetime.combine(date(y, mo, d), t or time(h, mi), tzinfo=tz)


def rule(rule_ref: str) -> Obligation:
    return next(o for rules in REGIMES.values() for o in rules if o.rule_ref == rule_ref)


@dataclass(frozen=True)
class Row:
    case: str
    rule_ref: str
    anchor: datetime
    tz: ZoneInfo
    expected: datetime | None  # None: "without undue delay", no deadline
    context: Context = NO_CONTEXT


AWARE = at(PARIS, 2026, 11, 17, 9, 0)  # a Tuesday
FRIDAY_NIGHT = at(PARIS, 2026, 11, 20, 20, 0)

ROWS = [
    # GDPR Art. 33(1): 72 real hours, across the spring DST change.
    Row("GDPR 72 h across DST", "GDPR:art33_authority@1", at(PARIS, 2026, 3, 28, 10), PARIS,
        at(PARIS, 2026, 3, 31, 11)),
    Row("GDPR Art. 34 without undue delay", "GDPR:art34_data_subjects@1", AWARE, PARIS, None),
    Row("GDPR Art. 33(2) processor", "GDPR:art33_2_controller@1", AWARE, PARIS, None),
    Row("UK GDPR 72 h", "UK GDPR:art33_ico@1", at(ZoneInfo("Europe/London"), 2026, 11, 17, 9),
        ZoneInfo("Europe/London"), at(ZoneInfo("Europe/London"), 2026, 11, 20, 9)),
    Row("UK GDPR individuals", "UK GDPR:art34_individuals@1", AWARE, PARIS, None),
    Row("UK GDPR processor", "UK GDPR:art33_2_controller@1", AWARE, PARIS, None),
    # DORA, RTS 2025/301 Art. 5(1)(a): 4 h from the classification (at 11:00) ...
    Row("DORA classified 2 h after awareness", "DORA:initial_notification@2", at(PARIS, 2026, 11, 17, 11), PARIS,
        at(PARIS, 2026, 11, 17, 15), Context(cap_at=AWARE)),
    # ... and no later than 24 h from awareness: classified at hour 22, two hours remain.
    Row("DORA classified at hour 22", "DORA:initial_notification@2", at(PARIS, 2026, 11, 18, 7), PARIS,
        at(PARIS, 2026, 11, 18, 9), Context(cap_at=AWARE)),
    # Art. 5(2): not classified within 24 h, classified at hour 30: 4 h from the classification.
    Row("DORA classified at hour 30", "DORA:initial_notification@2", at(PARIS, 2026, 11, 18, 15), PARIS,
        at(PARIS, 2026, 11, 18, 19), Context(cap_at=AWARE)),
    # Art. 5(4): due Saturday 02:00, moved to noon on Monday for an entity with the relief ...
    Row("DORA initial on a Saturday, relief", "DORA:initial_notification@2", at(PARIS, 2026, 11, 20, 22), PARIS,
        at(PARIS, 2026, 11, 23, 12), Context(cap_at=FRIDAY_NIGHT, relief="FR")),
    # ... and not for a credit institution (Art. 5(5)): the shell gives it no relief context.
    Row("DORA initial on a Saturday, credit institution", "DORA:initial_notification@2",
        at(PARIS, 2026, 11, 20, 22), PARIS, at(PARIS, 2026, 11, 21, 2), Context(cap_at=FRIDAY_NIGHT)),
    # A bank holiday of the Member State, then a weekend: Christmas 2026 is a Friday.
    Row("DORA initial on Christmas Day", "DORA:initial_notification@2", at(PARIS, 2026, 12, 24, 23), PARIS,
        at(PARIS, 2026, 12, 28, 12), Context(cap_at=at(PARIS, 2026, 12, 24, 10), relief="FR")),
    # Art. 5(1)(b): 72 h from the submission of the initial notification (Wednesday 10:00).
    Row("DORA intermediate on a Saturday, relief", "DORA:intermediate_report@2", at(PARIS, 2026, 11, 18, 10), PARIS,
        at(PARIS, 2026, 11, 23, 12), Context(relief="FR")),
    Row("DORA intermediate, credit institution", "DORA:intermediate_report@2", at(PARIS, 2026, 11, 18, 10), PARIS,
        at(PARIS, 2026, 11, 21, 10)),
    # Art. 5(1)(c): one month after the intermediate report; 1 Nov 2026 is a Sunday and a holiday.
    Row("DORA final report on a Sunday", "DORA:final_report@2", at(PARIS, 2026, 10, 1, 15), PARIS,
        at(PARIS, 2026, 11, 2, 12), Context(relief="FR")),
    Row("DORA final report, no relief", "DORA:final_report@2", at(PARIS, 2026, 10, 1, 15), PARIS,
        at(PARIS, 2026, 11, 1, 15)),
    # NIS2 Art. 23(4): 24 h and 72 h from the significant classification, final report a month on.
    Row("NIS2 early warning", "NIS2:early_warning@2", AWARE, PARIS, at(PARIS, 2026, 11, 18, 9)),
    Row("NIS2 incident notification", "NIS2:incident_notification@2", AWARE, PARIS, at(PARIS, 2026, 11, 20, 9)),
    Row("NIS2 final report", "NIS2:final_report@1", AWARE, PARIS, at(PARIS, 2026, 12, 17, 9)),
    # ePrivacy, Reg. 611/2013: 24 h after detection; the subscribers without undue delay.
    Row("ePrivacy authority", "ePrivacy:611_authority@1", AWARE, PARIS, at(PARIS, 2026, 11, 18, 9)),
    Row("ePrivacy subscribers", "ePrivacy:611_subscribers@1", AWARE, PARIS, None),
    Row("revFADP FDPIC", "revFADP:art24_fdpic@1", AWARE, PARIS, None),
    Row("revFADP data subjects", "revFADP:art24_4_data_subjects@1", AWARE, PARIS, None),
    # LGPD, Res. CD/ANPD 15/2024: 3 working days in Brasília. Aware Friday 17 April 2026 (18:00
    # in Brasília): Mon 20 (1), Tiradentes Tue 21, Wed 22 (2), Thu 23 (3), to its end in Brasília.
    Row("LGPD ANPD over Tiradentes", "LGPD:art6_anpd@2", at(PARIS, 2026, 4, 17, 23), PARIS,
        at(SAO_PAULO, 2026, 4, 23, t=END)),
    # Monday 03:00 in Paris is still Sunday in Brasília: Mon 13 (1), Tue 14 (2), Wed 15 (3); a
    # count in Paris would end on Thursday 16.
    Row("LGPD people, Sunday in Brasília", "LGPD:art9_data_subjects@2", at(PARIS, 2026, 4, 13, 3), PARIS,
        at(SAO_PAULO, 2026, 4, 15, t=END)),
    # HIPAA: 60 calendar days of discovery (Friday 20 Nov 2026 -> Tuesday 19 Jan 2027).
    Row("HIPAA individuals", "HIPAA:individuals@1", at(NEW_YORK, 2026, 11, 20, 10), NEW_YORK,
        at(NEW_YORK, 2027, 1, 19, t=END)),
    Row("HIPAA HHS, 500 people", "HIPAA:hhs@1", at(NEW_YORK, 2026, 11, 20, 10), NEW_YORK,
        at(NEW_YORK, 2027, 1, 19, t=END), Context(people=500)),
    Row("HIPAA HHS, count unknown", "HIPAA:hhs@1", at(NEW_YORK, 2026, 11, 20, 10), NEW_YORK,
        at(NEW_YORK, 2027, 1, 19, t=END)),
    # 164.408(c): fewer than 500, within 60 days after the end of the calendar year: 1 March 2027.
    Row("HIPAA HHS, 499 people (yearly log)", "HIPAA:hhs@1", at(NEW_YORK, 2026, 11, 20, 10), NEW_YORK,
        at(NEW_YORK, 2027, 3, 1, t=END), Context(people=499)),
    Row("HIPAA media", "HIPAA:media@1", at(NEW_YORK, 2026, 11, 20, 10), NEW_YORK,
        at(NEW_YORK, 2027, 1, 19, t=END)),
    Row("HIPAA business associate", "HIPAA:business_associate@1", at(NEW_YORK, 2026, 11, 20, 10), NEW_YORK,
        at(NEW_YORK, 2027, 1, 19, t=END)),
    # California 1798.82: before SB 446, the most expedient time possible; from 1 Jan 2026, 30 days.
    Row("California, discovered 31 Dec 2025", "California:residents@2", at(LOS_ANGELES, 2025, 12, 31, 23, 59),
        LOS_ANGELES, None),
    Row("California, discovered 1 Jan 2026", "California:residents@3", at(LOS_ANGELES, 2026, 1, 1, 0, 0),
        LOS_ANGELES, at(LOS_ANGELES, 2026, 1, 31, t=END)),
    Row("California AG before SB 446", "California:attorney_general@1", at(LOS_ANGELES, 2025, 12, 20, 9),
        LOS_ANGELES, None),
    # 15 calendar days after the residents were notified (Tuesday 10 Feb 2026).
    Row("California AG", "California:attorney_general@2", at(LOS_ANGELES, 2026, 2, 10, 9), LOS_ANGELES,
        at(LOS_ANGELES, 2026, 2, 25, t=END)),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.case for r in ROWS])
def test_each_regime_deadline(row: Row) -> None:
    assert deadline_for(rule(row.rule_ref), row.anchor, row.tz, CALENDAR, row.context) == row.expected


def test_the_table_covers_every_rule_of_every_regime() -> None:
    every = {o.rule_ref for rules in REGIMES.values() for o in rules}
    assert every == {r.rule_ref for r in ROWS}


@pytest.mark.parametrize(("rule_ref", "discovered", "governs"), [
    ("California:residents@2", at(LOS_ANGELES, 2025, 12, 31, 23, 59), True),
    ("California:residents@3", at(LOS_ANGELES, 2025, 12, 31, 23, 59), False),
    # Midnight in California is 08:00 UTC: a breach found at 07:00 UTC on 1 January is a 2025 one.
    ("California:residents@2", datetime(2026, 1, 1, 7, 0, tzinfo=ZoneInfo("UTC")), True),
    ("California:residents@3", at(LOS_ANGELES, 2026, 1, 1, 0, 0), True),
    ("California:residents@2", at(LOS_ANGELES, 2026, 1, 1, 0, 0), False),
])
def test_california_rules_govern_by_the_discovery_date(rule_ref: str, discovered: datetime, governs: bool) -> None:
    assert rule(rule_ref).governs(discovered) is governs
