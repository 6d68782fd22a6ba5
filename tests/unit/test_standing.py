"""incident/standing.py: the one line the list, the page, the CLI and the register show for an
incident's clocks, and each obligation's state."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from incident import standing
from incident.commands import ActOnObligation
from incident.correlation import correlate
from incident.decide import Rules, decide
from incident.model import Incident, fold
from incident.reminders import tick
from tests.unit.builders import T0, FakeCalendar, aware_incident, directory, event

RULES = Rules(directory(), FakeCalendar())
ART33 = "GDPR:art33_authority@1"


def submitted(state: Incident) -> Incident:
    for action, fields in (("approve", {}), ("submit", {"channel": "portal", "reference": "CNIL-1"})):
        command = ActOnObligation(incident_id=state.id, obligation=ART33, action=action, by="dora", role="dpo",
                                  at=T0 + timedelta(hours=2), **fields)
        new = fold(state, decide(command, state, now=T0 + timedelta(hours=2), rules=RULES))
        assert new is not None
        state = new
    return state


def test_a_suspected_incident_has_no_clock_until_its_decision_is_overdue() -> None:
    _, (command,) = correlate(None, event("a"))
    state = fold(None, decide(command, None, now=T0, rules=RULES))
    assert state is not None
    line = standing.standing(state, T0 + timedelta(hours=1))
    assert (line.state, line.overdue, standing.text(line)) == ("awaiting_awareness", False,
                                                               "no clock (awareness not recorded)")
    escalated = fold(state, tick(state, T0 + timedelta(hours=25), RULES.triage_window))
    assert escalated is not None
    line = standing.standing(escalated, T0 + timedelta(hours=25))
    assert (line.state, line.overdue, standing.text(line)) == ("awareness_overdue", True,
                                                               "awareness decision overdue")


def test_a_running_clock_counts_down_then_is_overdue() -> None:
    state = aware_incident()
    line = standing.standing(state, T0 + timedelta(hours=1, minutes=5))
    assert (line.state, line.legal_ref is not None, standing.text(line)) == ("due", True, "70 h 55 min left")
    line = standing.standing(state, T0 + timedelta(hours=73))
    assert (line.state, line.overdue, standing.text(line)) == ("overdue", True, "overdue by 1 h 00 min")


def test_a_submitted_obligation_no_longer_counts_down_and_an_untimed_one_still_runs() -> None:
    state = submitted(aware_incident())
    now = T0 + timedelta(hours=3)
    (clock,) = state.clocks
    assert standing.text(standing.obligation(state, clock, now)) == "settled"  # not "69 h … left"
    assert standing.standing(state, now).state == "settled"
    assert standing.workflow(state, clock) == "submitted"
    # An Art. 34-like obligation without a deadline still runs after the authority was notified.
    asap = replace(clock, rule_ref="GDPR:art34_subjects@1", legal_ref="GDPR Art. 34", unit="asap")
    with_people = replace(state, clocks=(*state.clocks, asap))
    line = standing.standing(with_people, now)
    assert (line.state, line.legal_ref, standing.text(line)) == ("without_undue_delay", "GDPR Art. 34",
                                                                 "without undue delay")


def test_a_dismissed_incidents_obligations_are_stopped_in_the_register_too() -> None:
    from incident.commands import DismissIncident

    state = aware_incident()
    command = DismissIncident(incident_id=state.id, outcome="false_positive", reason="a test", by="dora", role="dpo")
    dismissed = fold(state, decide(command, state, now=T0 + timedelta(hours=1), rules=RULES))
    assert dismissed is not None
    (clock,) = dismissed.clocks
    assert standing.standing(dismissed, T0).state == "dismissed"
    assert standing.obligation(dismissed, clock, T0).state == "stopped"
    assert standing.workflow(dismissed, clock) == "stopped"
