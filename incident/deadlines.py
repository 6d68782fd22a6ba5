"""Clocks: an obligation's deadline, computed once, in UTC, when its anchor is known.

Units (research/regulatory.md §6): hours run on the clock (anchor + n h, exact across DST);
calendar days end at the end of the n-th local day after the anchor; working days skip the
anchor day, weekends and the jurisdiction's public holidays, and end at the end of the n-th
such day; months keep the local wall time on the same day n months on, clamped to the month's
end (31 Jan + 1 month = 28/29 Feb); days after the year end end at the end of the n-th day of
the next year (HIPAA's yearly log). A rule may add an outer limit from another anchor (DORA's
24 h from awareness), count in the law's own zone (LGPD: Brasília), or let a deadline on a
weekend or public holiday move to noon of the next working day (DORA RTS Art. 5(4)). Where the
counting rule is open this is the earliest defensible reading. The deadline and the rule
reference are stored in the event that starts the clock, so editing a profile or a rule later
never moves a running clock.

Time zones and holidays come through the Calendar port: the domain reads no files.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol

from incident.regimes import Obligation


class Calendar(Protocol):
    def zone(self, name: str) -> tzinfo: ...

    def is_public_holiday(self, jurisdiction: str, day: date) -> bool: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Clock:
    regime: str
    obligation: str
    recipient: str
    legal_ref: str
    anchor: str
    anchor_at: datetime
    deadline: datetime
    profile_ref: str | None
    rule_ref: str = ""
    unit: str = "hours"
    amount: int = 72
    trigger: str = "risk"
    reminders: tuple[int, ...] = ()  # seconds before the deadline (0 = overdue), snapshot at start

    @property
    def timed(self) -> bool:
        """False for "without undue delay": its deadline is its anchor, and it is never late."""
        return self.unit != "asap"

    def reminder_times(self) -> list[tuple[str, datetime]]:
        return [(step_name(s), self.deadline - timedelta(seconds=s)) for s in sorted(self.reminders, reverse=True)]


# Reminder steps before each deadline; 0 is "overdue". Settings may change them for new clocks.
DEFAULT_REMINDERS = (timedelta(hours=48), timedelta(hours=24), timedelta(hours=6), timedelta(hours=1),
                     timedelta(0))


def step_name(seconds: int) -> str:
    if seconds == 0:
        return "overdue"
    return f"T-{seconds // 3600}h" if seconds % 3600 == 0 else f"T-{seconds // 60}min"


def in_force(clock: Clock, level: str | None) -> bool:
    """Whether the level in force makes the clock's obligation real (reminders, drafts)."""
    return not ((clock.trigger == "risk" and level == "unlikely") or (clock.trigger == "high_risk" and level != "high"))


def due_reminders(clocks: tuple[Clock, ...], reminded: tuple[str, ...], now: datetime, level: str | None = None,
                  settled: tuple[str, ...] = ()) -> list[tuple[Clock, str, tuple[str, ...]]]:
    """Per clock, the most urgent reminder step now due and not yet sent, with the earlier
    unsent steps it makes pointless (skipped)."""
    out = []
    for clock in clocks:
        if not in_force(clock, level) or clock.rule_ref in settled:
            continue
        passed = [name for name, at in clock.reminder_times()
                  if at <= now and f"{clock.rule_ref}|{name}" not in reminded]
        if passed:
            out.append((clock, passed[-1], tuple(passed[:-1])))
    return out


def next_due(clocks: tuple[Clock, ...], reminded: tuple[str, ...], level: str | None = None,
             settled: tuple[str, ...] = ()) -> datetime | None:
    """When the next reminder falls due: what the schedule table holds for the clock agent."""
    times = [at for clock in clocks if in_force(clock, level) and clock.rule_ref not in settled
             for name, at in clock.reminder_times()
             if f"{clock.rule_ref}|{name}" not in reminded]
    return min(times, default=None)


def _end_of_day(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(23, 59, 59, 999999), tzinfo=tz).astimezone(UTC)


def _add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, _calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What a rule's deadline may need besides its anchor (each None when it does not apply)."""

    cap_at: datetime | None = None  # the anchor of the rule's outer limit (cap_anchor)
    people: int | None = None  # how many people the breach concerns (for ``under``)
    relief: str | None = None  # the Member State whose weekends and bank holidays give relief


NO_CONTEXT = Context()


def unit_for(obligation: Obligation, people: int | None) -> str:
    """The unit the rule counts in for this many people (a count not known: the general one)."""
    if obligation.under is not None and people is not None and people < obligation.under[0]:
        return obligation.under[1]
    return obligation.unit


def deadline_for(obligation: Obligation, anchor_at: datetime, tz: tzinfo, calendar: Calendar,
                 context: Context = NO_CONTEXT) -> datetime | None:
    """The absolute UTC deadline, or None for obligations without one ("without undue delay")."""
    if anchor_at.tzinfo is None:
        raise ValueError("a clock's anchor must be an aware datetime")
    if obligation.zone is not None:
        tz = calendar.zone(obligation.zone)  # the law's own zone, whatever the controller's
    deadline = _counted(obligation, unit_for(obligation, context.people), anchor_at, tz, calendar)
    if deadline is None:
        return None
    if obligation.cap_anchor is not None and context.cap_at is not None:
        cap = context.cap_at.astimezone(UTC) + timedelta(hours=obligation.cap_hours)
        # The outer limit binds while it is still ahead when the clock's anchor comes; once it has
        # passed, the rule's own delay runs from its anchor (DORA RTS Art. 5(2)): never a clock
        # born overdue.
        if anchor_at <= cap:
            deadline = min(deadline, cap)
    if context.relief is not None:
        deadline = _after_closed_day(deadline, tz, context.relief, calendar)
    return deadline


def _after_closed_day(deadline: datetime, tz: tzinfo, jurisdiction: str, calendar: Calendar) -> datetime:
    """A deadline falling on a weekend or public holiday moves to noon of the next working day,
    local time (DORA RTS Art. 5(4))."""
    day = deadline.astimezone(tz).date()
    if day.weekday() < 5 and not calendar.is_public_holiday(jurisdiction, day):
        return deadline
    while day.weekday() >= 5 or calendar.is_public_holiday(jurisdiction, day):
        day += timedelta(days=1)
    return datetime.combine(day, time(12, 0), tzinfo=tz).astimezone(UTC)


def _counted(obligation: Obligation, unit: str, anchor_at: datetime, tz: tzinfo, calendar: Calendar,
             ) -> datetime | None:
    n, local = obligation.amount, anchor_at.astimezone(tz)
    match unit:
        case "hours":
            return anchor_at.astimezone(UTC) + timedelta(hours=n)
        case "calendar_days":
            return _end_of_day(local.date() + timedelta(days=n), tz)
        case "working_days":
            day, counted = local.date(), 0
            while counted < n:
                day += timedelta(days=1)
                if day.weekday() < 5 and not (obligation.jurisdiction
                                              and calendar.is_public_holiday(obligation.jurisdiction, day)):
                    counted += 1
            return _end_of_day(day, tz)
        case "months":
            # Same wall-clock time n months on; a local time that DST skips or repeats is resolved
            # by the zone (fold=0), then converted once to UTC.
            return _add_months(local, n).astimezone(UTC)
        case "days_after_year_end":
            return _end_of_day(date(local.year, 12, 31) + timedelta(days=n), tz)
        case "asap":
            return None
    raise ValueError(f"unknown unit {unit!r}")


def start_clock(obligation: Obligation, anchor_at: datetime, profile_ref: str | None, *, tz: tzinfo,
                calendar: Calendar, reminders: tuple[timedelta, ...] = DEFAULT_REMINDERS,
                context: Context = NO_CONTEXT) -> Clock:
    deadline = deadline_for(obligation, anchor_at, tz, calendar, context)
    if deadline is None:
        # "Without undue delay" (Art. 34, Art. 33(2)): due from its anchor, with no countdown, no
        # reminder steps and no lateness to count, but an obligation with its workflow all the same.
        deadline, reminders = anchor_at.astimezone(UTC), ()
    return Clock(regime=obligation.regime, obligation=obligation.id, recipient=obligation.recipient,
                 legal_ref=obligation.legal_ref, anchor=obligation.anchor, anchor_at=anchor_at.astimezone(UTC),
                 deadline=deadline, profile_ref=profile_ref, rule_ref=obligation.rule_ref,
                 unit=unit_for(obligation, context.people),
                 amount=obligation.amount, trigger=obligation.trigger,
                 reminders=tuple(int(r.total_seconds()) for r in reminders))
