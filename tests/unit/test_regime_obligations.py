"""Where the non-GDPR regimes' obligations open and follow each other (issue 16): DORA's single
initial notification and the reports after it, incidents stored with DORA's v1 clocks, LGPD's
Brasília count, California's Attorney General above 500 people, HIPAA's notices by role and
count, ePrivacy's subscribers and the revFADP's people at high risk."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from incident.commands import AbsorbIncident, ActOnObligation, ClassifyIncident, CorrectFacts
from incident.correlation import correlate
from incident.deadlines import start_clock
from incident.decide import Rules, decide
from incident.errors import ProfileError
from incident.events import ClockMoved, ClockStarted, IncidentClassified
from incident.model import Incident, fold
from incident.profiles import Directory, parse_profile
from incident.regimes import Obligation
from incident.tape import owed
from tests.unit.builders import PROFILE, T0, FakeCalendar, event, profile_doc

NOW = T0 + timedelta(minutes=5)
AWARE = T0 + timedelta(minutes=2)  # the confirming signal's ingestion


def rules_for(**changes: Any) -> Rules:
    return Rules(Directory.of([parse_profile(profile_doc(**changes), source="acme.toml")]), FakeCalendar())


def aware(rules: Rules, **fields: Any) -> Incident:
    _, (command,) = correlate(None, event("a", confirms=True, **fields))
    state = fold(None, decide(command, None, now=NOW, rules=rules))
    assert state is not None and state.awareness is not None and state.awareness.aware_at == AWARE
    return state


def step(state: Incident, rules: Rules, command: Any, now: datetime) -> tuple[Incident, list[Any]]:
    events = decide(command, state, now=now, rules=rules)
    after = fold(state, events)
    assert after is not None
    return after, events


def submit(state: Incident, rules: Rules, rule_ref: str, at: datetime) -> tuple[Incident, list[Any]]:
    approve = ActOnObligation(incident_id=state.id, obligation=rule_ref, action="approve", by="dpo", role="dpo", at=at)
    state, _ = step(state, rules, approve, at)
    return step(state, rules, ActOnObligation(incident_id=state.id, obligation=rule_ref, action="submit", by="dpo",
                                              role="dpo", at=at, channel="portal", reference="REF-1"), at)


def started(events: list[Any]) -> dict[str, Any]:
    return {e.clock.rule_ref: e.clock for e in events if isinstance(e, ClockStarted)}


def classify(state: Incident, rules: Rules, hours: float) -> tuple[Incident, list[Any]]:
    at = AWARE + timedelta(hours=hours)
    return step(state, rules, ClassifyIncident(incident_id=state.id, classification="major", by="ciso", at=at), at)


DORA = {"regimes": ["gdpr", "dora"]}


def test_a_major_classification_opens_one_initial_notification_capped_at_24_hours_from_awareness() -> None:
    rules = rules_for(**DORA)
    _, events = classify(aware(rules), rules, 22)
    (clock,) = started(events).values()
    # Classified at hour 22: two hours remain (RTS 2025/301 Art. 5(1)(a)).
    assert (clock.rule_ref, clock.anchor, clock.deadline) == ("DORA:initial_notification@2", "classification",
                                                               AWARE + timedelta(hours=24))


def test_a_classification_after_24_hours_is_due_4_hours_later_never_overdue_when_it_opens() -> None:
    rules = rules_for(**DORA)
    _, events = classify(aware(rules), rules, 30)
    (clock,) = started(events).values()
    # Art. 5(2): not classified within 24 h, so 4 h from the classification.
    assert clock.deadline == AWARE + timedelta(hours=34) > AWARE + timedelta(hours=30)


def test_the_intermediate_report_runs_from_the_initial_notification_and_the_final_report_from_it() -> None:
    rules = rules_for(**DORA, dora_weekend_relief="none")
    state, _ = classify(aware(rules), rules, 1)
    sent = AWARE + timedelta(hours=3)
    state, events = submit(state, rules, "DORA:initial_notification@2", sent)
    intermediate = started(events)["DORA:intermediate_report@2"]
    assert (intermediate.anchor_at, intermediate.deadline) == (sent, sent + timedelta(hours=72))
    state, events = submit(state, rules, "DORA:intermediate_report@2", sent + timedelta(hours=50))
    final = started(events)["DORA:final_report@2"]
    paris = final.anchor_at.astimezone(ZoneInfo("Europe/Paris"))
    assert final.deadline.astimezone(ZoneInfo("Europe/Paris")) == paris.replace(month=paris.month + 1)


def test_the_weekend_relief_follows_the_profile() -> None:
    """Aware Friday 09:02 UTC; classified at 21:02 UTC (22:02 in Paris): due Saturday 01:02 UTC."""
    saturday = AWARE + timedelta(hours=16)
    for setting, deadline in [("none", saturday), ("final_report_only", saturday),
                              ("all_reports", datetime(2026, 11, 23, 11, 0, tzinfo=ZoneInfo("UTC")))]:
        rules = rules_for(**DORA, dora_weekend_relief=setting)
        _, events = classify(aware(rules), rules, 12)
        assert started(events)["DORA:initial_notification@2"].deadline == deadline, setting


def v1(obligation_id: str, anchor: str, hours: int, after: str | None = None) -> Obligation:
    return Obligation("DORA", obligation_id, 1, "major_incident", "authority", anchor, hours, "hours",
                      "Reg. (EU) 2025/301 Art. 5(1)", after=after)


def stored_with_v1_clocks(rules: Rules) -> Incident:
    """An incident classified major before v2: its two v1 initial-report clocks, as stored."""
    state = aware(rules)
    at = AWARE + timedelta(hours=2)
    paris = ZoneInfo("Europe/Paris")
    events = [IncidentClassified(incident_id=state.id, version=state.version + 1, at=at, classification="major",
                                 by="ciso", classified_at=at)]
    for n, (obligation, anchor_at) in enumerate([(v1("initial_from_classification", "classification", 4), at),
                                                 (v1("initial_from_awareness", "awareness", 24), AWARE)]):
        clock = start_clock(obligation, anchor_at, None, tz=paris, calendar=FakeCalendar())
        events.append(ClockStarted(incident_id=state.id, version=state.version + 2 + n, at=at, clock=clock))
    after = fold(state, events)
    assert after is not None
    return after


def test_stored_v1_clocks_still_fold_and_either_submission_starts_the_intermediate_report() -> None:
    rules = rules_for(**DORA, dora_weekend_relief="none")
    for submitted in ("DORA:initial_from_classification@1", "DORA:initial_from_awareness@1"):
        state = stored_with_v1_clocks(rules)
        assert {o.rule_ref for o in state.obligations} >= {"DORA:initial_from_classification@1",
                                                           "DORA:initial_from_awareness@1"}
        sent = AWARE + timedelta(hours=3)
        state, events = submit(state, rules, submitted, sent)
        assert started(events)["DORA:intermediate_report@2"].deadline == sent + timedelta(hours=72)
        # The other v1 initial report, submitted too, starts no second intermediate report.
        other = next(o for o in ("DORA:initial_from_classification@1", "DORA:initial_from_awareness@1")
                     if o != submitted)
        _, events = submit(state, rules, other, sent + timedelta(hours=1))
        assert not started(events)
        # A classification said again (a redelivery) opens no v2 initial notification beside them.
        assert classify(state, rules, 5)[1] == []


def test_a_v1_intermediate_report_submitted_starts_the_final_report() -> None:
    rules = rules_for(**DORA, dora_weekend_relief="none")
    state = stored_with_v1_clocks(rules)
    sent = AWARE + timedelta(hours=3)
    clock = start_clock(v1("intermediate_report", "submission", 72, after="initial_from_awareness"), sent, None,
                        tz=ZoneInfo("Europe/Paris"), calendar=FakeCalendar())
    state = fold(state, [ClockStarted(incident_id=state.id, version=state.version + 1, at=sent, clock=clock)])
    assert state is not None
    _, events = submit(state, rules, "DORA:intermediate_report@1", sent + timedelta(hours=60))
    assert set(started(events)) == {"DORA:final_report@2"}


def test_lgpd_counts_its_working_days_in_brasilia_for_a_controller_in_paris() -> None:
    rules = rules_for(regimes=["lgpd"])
    clocks = {c.rule_ref: c for c in aware(rules).clocks}
    # Aware Friday 20 Nov 2026, 06:02 in Brasília: Mon 23, Tue 24, Wed 25, to its end in Brasília.
    end = datetime(2026, 11, 25, 23, 59, 59, 999999, tzinfo=ZoneInfo("America/Sao_Paulo"))
    assert clocks["LGPD:art6_anpd@2"].deadline == end == clocks["LGPD:art9_data_subjects@2"].deadline


CALIFORNIA = {"regimes": ["california"], "timezone": "America/Los_Angeles", "established_in": "US"}


def with_people(count: int) -> dict[str, Any]:
    systems = [dict(PROFILE["systems"][0], approx_subjects=count), PROFILE["systems"][1]]
    return {**CALIFORNIA, "systems": systems}


def test_the_attorney_general_follows_the_residents_notice_above_500_people() -> None:
    rules = rules_for(**with_people(501))
    state = aware(rules)
    assert {c.rule_ref for c in state.clocks} == {"California:residents@3"}  # SB 446: 30 days
    sent = AWARE + timedelta(days=3)
    _, events = submit(state, rules, "California:residents@3", sent)
    ag = started(events)["California:attorney_general@2"]
    assert (ag.recipient, ag.anchor_at, ag.legal_ref) == ("authority", sent, "Cal. Civ. Code 1798.82(f) (SB 446)")
    # 15 calendar days after Monday 23 Nov (Los Angeles): the end of Tuesday 8 Dec.
    assert ag.deadline == datetime(2026, 12, 8, 23, 59, 59, 999999, tzinfo=ZoneInfo("America/Los_Angeles"))


def test_no_attorney_general_for_500_people_until_the_count_is_corrected_above() -> None:
    rules = rules_for(**with_people(500))
    state, events = submit(aware(rules), rules, "California:residents@3", AWARE + timedelta(days=3))
    assert not started(events)
    later = AWARE + timedelta(days=4)
    correct = CorrectFacts(incident_id=state.id, changes={"subjects_count": 800}, by="user:rita", role="dpo",
                           reason="the export held 800 customers")
    _, events = step(state, rules, correct, later)
    # It runs from the residents' notice, already sent.
    assert started(events)["California:attorney_general@2"].anchor_at == AWARE + timedelta(days=3)


def hipaa(count: int, role: str = "controller") -> Rules:
    systems = [dict(PROFILE["systems"][0], approx_subjects=count, role=role), PROFILE["systems"][1]]
    return rules_for(regimes=["hipaa"], timezone="America/New_York", established_in="US", systems=systems)


def test_hipaa_notices_by_count() -> None:
    big = {c.obligation: c for c in aware(hipaa(501)).clocks}
    assert set(big) == {"individuals", "hhs", "media"}
    assert big["hhs"].unit == "calendar_days" and big["media"].recipient == "media"
    small = {c.obligation: c for c in aware(hipaa(499)).clocks}
    assert set(small) == {"individuals", "hhs"}  # no media notice for 500 or fewer
    # Fewer than 500: the yearly log, 60 days after the end of 2026 (1 March 2027).
    assert (small["hhs"].unit, small["hhs"].deadline) == (
        "days_after_year_end", datetime(2027, 3, 1, 23, 59, 59, 999999, tzinfo=ZoneInfo("America/New_York")))


def test_a_business_associate_owes_the_covered_entity_only() -> None:
    clocks = aware(hipaa(5000, role="processor")).clocks
    assert [(c.obligation, c.recipient, c.legal_ref) for c in clocks] == [
        ("business_associate", "controller", "45 CFR 164.410")]


def card_theft(rules: Rules) -> Incident:
    return aware(rules, breach_types=("confidentiality",), data_categories=("payment_card",), records=5000,
                 category="exfiltration")


def test_eprivacy_subscribers_and_revfadp_people_are_told_when_the_risk_is_high() -> None:
    for regime, rule_ref in [("eprivacy", "ePrivacy:611_subscribers@1"),
                             ("ch-fadp", "revFADP:art24_4_data_subjects@1")]:
        rules = rules_for(regimes=[regime])
        high = card_theft(rules)
        assert high.level == "high"
        clock = next(c for c in high.clocks if c.rule_ref == rule_ref)
        assert (clock.recipient, clock.timed) == ("data_subjects", False)
        assert rule_ref not in {c.rule_ref for c in aware(rules).clocks}  # a breach of lower risk


def test_the_california_rule_of_a_breach_discovered_before_sb_446_has_no_set_delay() -> None:
    rules = rules_for(**with_people(501))
    state = aware(rules)
    assert state.awareness is not None
    old = replace(state, awareness=replace(state.awareness, aware_at=datetime(2025, 12, 31, 12, tzinfo=UTC)))
    rules_owed = {o.rule_ref for o in owed(old, rules.directory.profiles["acme"])}
    assert rules_owed == {"California:residents@2", "California:attorney_general@1"}


def test_a_profile_names_its_weekend_relief_from_the_three_readings() -> None:
    assert parse_profile(profile_doc(), source="acme.toml").dora_weekend_relief == "final_report_only"
    assert parse_profile(profile_doc(dora_weekend_relief="all_reports"), source="a").dora_weekend_relief \
        == "all_reports"
    with pytest.raises(ProfileError, match="dora_weekend_relief"):
        parse_profile(profile_doc(dora_weekend_relief="weekdays"), source="acme.toml")


def test_stored_v1_clocks_are_still_listed_with_their_rule_and_workflow() -> None:
    from console.views import summary

    rules = rules_for(**DORA)
    state = stored_with_v1_clocks(rules)
    deadlines = {d["rule_ref"]: d for d in summary(state, rules.directory, AWARE + timedelta(hours=3))["deadlines"]}
    shown = deadlines["DORA:initial_from_awareness@1"]
    assert (shown["deadline"], shown["workflow"]["status"]) == ((AWARE + timedelta(hours=24)).isoformat(), "running")
    assert "DORA:initial_from_classification@1" in deadlines


def test_a_media_notice_called_for_by_a_later_count_runs_from_the_discovery() -> None:
    rules = hipaa(300)
    state = aware(rules)
    assert "media" not in {c.obligation for c in state.clocks}
    correct = CorrectFacts(incident_id=state.id, changes={"subjects_count": 2000}, by="user:rita", role="dpo",
                           reason="the whole patient table was read")
    _, events = step(state, rules, correct, AWARE + timedelta(days=10))
    media = started(events)["HIPAA:media@1"]
    assert (media.anchor_at, media.deadline) == (AWARE, datetime(2027, 1, 19, 23, 59, 59, 999999,
                                                                 tzinfo=ZoneInfo("America/New_York")))


def test_an_earlier_awareness_merged_in_brings_the_dora_24_hour_limit_forward() -> None:
    rules = rules_for(**DORA)
    state, _ = classify(aware(rules), rules, 20)
    (clock,) = [c for c in state.clocks if c.regime == "DORA"]
    assert clock.deadline == AWARE + timedelta(hours=24)
    earlier = AWARE - timedelta(hours=3)
    absorb = AbsorbIncident(incident_id=state.id, absorbed="inc-b", controller="acme", correlation_key="acme",
                            reason="same breach", evidence=(), aware_at=earlier, aware_by="rule:confirmed-signal",
                            aware_evidence=("b",))
    state, events = step(state, rules, absorb, AWARE + timedelta(hours=20, minutes=30))
    (moved,) = [e for e in events if isinstance(e, ClockMoved) and e.rule_ref == clock.rule_ref]
    # Still 4 h from the classification at the latest, now no later than 24 h from the earlier awareness.
    assert (moved.anchor_at, moved.deadline) == (clock.anchor_at, earlier + timedelta(hours=24))
