"""Working an incident (incident/work.py): dismissal and reopening, owner, notes, title."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from incident import register
from incident.commands import (
    AbsorbIncident,
    ActOnObligation,
    AddNote,
    AssignOwner,
    AttachSignal,
    DismissIncident,
    RecordAwareness,
    ReopenIncident,
    SetTitle,
    Tick,
)
from incident.correlation import correlate
from incident.decide import Rules, decide
from incident.errors import CommandRejected
from incident.events import IncidentDismissed, IncidentReopened, NoteAdded, OwnerAssigned, ReminderDue, TitleSet
from incident.model import Incident, fold
from incident.reminders import next_tick_at
from incident.work import derived_title, headline
from tests.unit.builders import T0, FakeCalendar, aware_incident, directory, event

NOW = T0 + timedelta(minutes=5)
RULES = Rules(directory(), FakeCalendar())


def run(state: Incident | None, command: object, now: object = NOW) -> tuple[Incident, list[object]]:
    events = decide(command, state, now=now, rules=RULES)  # type: ignore[arg-type]
    new = fold(state, events)  # type: ignore[arg-type]
    assert new is not None
    return new, events  # type: ignore[return-value]


def suspected() -> Incident:
    _, (command,) = correlate(None, event("a", severity=3))
    state, _ = run(None, command)
    return state


def dismissal(state: Incident, role: str = "responder", reason: str = "an admin's planned export",
              outcome: str = "false_positive") -> DismissIncident:
    return DismissIncident(incident_id=state.id, outcome=outcome, reason=reason, by=f"user:{role}", role=role)


# --- dismissal ---------------------------------------------------------------------------------------
def test_a_responder_dismisses_a_suspected_incident_and_the_register_says_why() -> None:
    state, events = run(suspected(), dismissal(suspected()))
    assert [type(e) for e in events] == [IncidentDismissed]
    assert state.status == "dismissed" and state.dismissal is not None and not state.dismissal.was_aware
    entry = register.entry(state)
    assert entry["status"] == "dismissed" and not entry["authority_notified"]
    assert entry["not_notified_because"] == ("examined, dismissed as false positive by user:responder: "
                                             "an admin's planned export")
    assert entry["dismissal"]["reason"] == "an admin's planned export"
    assert register.csv_row(entry)["not_notified_because"].endswith("an admin's planned export")


@pytest.mark.parametrize(("change", "refusal"), [
    ({"reason": "  "}, "a dismissal needs a reason"),
    ({"outcome": "boring"}, "a dismissal's outcome must be one of not_a_breach, false_positive, duplicate"),
    ({"role": "viewer"}, "the viewer role may read, not act"),
])
def test_a_dismissal_needs_a_reason_a_known_outcome_and_a_role_that_acts(change: dict[str, str],
                                                                         refusal: str) -> None:
    state = suspected()
    with pytest.raises(CommandRejected, match=refusal):
        run(state, replace(dismissal(state), **change))


def test_only_the_dpo_dismisses_an_incident_the_controller_is_aware_of() -> None:
    state = aware_incident()
    with pytest.raises(CommandRejected, match="only the DPO may dismiss an incident the controller is aware of"):
        run(state, dismissal(state, "responder"), now=T0)
    dismissed, _ = run(state, dismissal(state, "dpo", outcome="not_a_breach"), now=T0)
    assert dismissed.status == "dismissed" and dismissed.dismissal is not None and dismissed.dismissal.was_aware
    # Its clocks stop: no reminder is due at the deadline, none is scheduled.
    deadline = max(c.deadline for c in state.clocks)
    assert next_tick_at(state, RULES.triage_window) is not None
    assert next_tick_at(dismissed, RULES.triage_window) is None
    assert decide(Tick(incident_id=state.id, at=deadline), dismissed, now=deadline, rules=RULES) == []
    assert any(isinstance(e, ReminderDue) for e in decide(Tick(incident_id=state.id, at=deadline), state,
                                                          now=deadline, rules=RULES))


def test_a_dismissed_suspected_incident_is_not_escalated_and_reopening_brings_the_escalation_back() -> None:
    state = suspected()
    late = state.opened_at + RULES.triage_window + timedelta(minutes=1)
    assert [e.rule_ref for e in decide(Tick(incident_id=state.id, at=late), state, now=late, rules=RULES)
            if isinstance(e, ReminderDue)] == ["awareness:decision@1"]
    dismissed, _ = run(state, dismissal(state))
    assert decide(Tick(incident_id=state.id, at=late), dismissed, now=late, rules=RULES) == []
    with pytest.raises(CommandRejected, match="a reopening needs a reason"):
        run(dismissed, ReopenIncident(incident_id=state.id, reason=" ", by="user:rita", role="responder"))
    reopened, events = run(dismissed, ReopenIncident(incident_id=state.id, reason="the export was not planned",
                                                     by="user:rita", role="responder"))
    assert [type(e) for e in events] == [IncidentReopened] and reopened.status == "open"
    assert next_tick_at(reopened, RULES.triage_window) == state.opened_at + RULES.triage_window
    # A redelivered reopening changes nothing.
    assert decide(ReopenIncident(incident_id=state.id, reason="again", by="user:rita", role="responder"),
                  reopened, now=NOW, rules=RULES) == []


def test_only_the_dpo_reopens_an_incident_dismissed_after_awareness() -> None:
    state = aware_incident()
    dismissed, _ = run(state, dismissal(state, "dpo"), now=T0)
    with pytest.raises(CommandRejected, match="only the DPO may reopen an incident dismissed after awareness"):
        run(dismissed, ReopenIncident(incident_id=state.id, reason="new facts", by="user:rita", role="responder"))
    reopened, _ = run(dismissed, ReopenIncident(incident_id=state.id, reason="new facts", by="user:dora", role="dpo"))
    assert reopened.status == state.status and reopened.dismissal is None


def test_a_dismissed_incident_refuses_decisions_on_the_breach_until_reopened() -> None:
    state = aware_incident()
    dismissed, _ = run(state, dismissal(state, "dpo"), now=T0)
    approve = ActOnObligation(incident_id=state.id, obligation=state.clocks[0].rule_ref, action="approve",
                              by="user:dora", role="dpo", at=T0)
    with pytest.raises(CommandRejected, match="the incident was dismissed as false_positive: reopen it first"):
        run(dismissed, approve, now=T0)
    suspect, _ = run(suspected(), dismissal(suspected()))
    with pytest.raises(CommandRejected, match="reopen it first"):
        run(suspect, RecordAwareness(incident_id=suspect.id, aware_at=T0, by="user:dora", evidence=()))


def test_the_same_dismissal_redelivered_changes_nothing_and_another_one_is_refused() -> None:
    state = suspected()
    dismissed, _ = run(state, dismissal(state))
    assert decide(dismissal(state), dismissed, now=NOW, rules=RULES) == []
    with pytest.raises(CommandRejected, match="already dismissed as false_positive by user:responder"):
        run(dismissed, dismissal(state, outcome="duplicate", reason="same as the other one"))


def test_a_signal_confirming_a_breach_reopens_a_dismissed_incident_and_makes_it_aware() -> None:
    state = suspected()
    dismissed, _ = run(state, dismissal(state))
    confirming = event("b", confirms=True)
    command = AttachSignal(incident_id=state.id, controller=state.controller, correlation_key=state.correlation_key,
                           evidence=replace(state.evidence[0], event_id="b", confirms_breach=True,
                                            ingested_at=confirming.ingested_at))
    reopened, events = run(dismissed, command)
    assert isinstance(events[1], IncidentReopened) and events[1].by == "rule:confirmed-signal"
    assert reopened.dismissal is None and reopened.awareness is not None and reopened.clocks


def test_a_notified_breach_cannot_be_dismissed() -> None:
    state = aware_incident()
    ref = state.clocks[0].rule_ref
    for action, extra in (("approve", {}), ("submit", {"channel": "portal", "reference": "CNIL-1"})):
        state, _ = run(state, ActOnObligation(incident_id=state.id, obligation=ref, action=action, by="user:dora",
                                              role="dpo", at=T0, **extra), now=T0)
    with pytest.raises(CommandRejected, match="a notified breach cannot be dismissed"):
        run(state, dismissal(state, "dpo"), now=T0)


# --- owner, notes, title -------------------------------------------------------------------------------
def test_claiming_assigning_and_releasing_an_incident() -> None:
    state = suspected()
    claimed, events = run(state, AssignOwner(incident_id=state.id, owner="user:rita", by="user:rita",
                                             role="responder"))
    assert claimed.owner == "user:rita" and events == [OwnerAssigned(
        incident_id=state.id, version=state.version + 1, at=NOW, owner="user:rita", previous="", by="user:rita")]
    assert decide(AssignOwner(incident_id=state.id, owner="user:rita", by="user:dora", role="dpo"), claimed,
                  now=NOW, rules=RULES) == []
    moved, _ = run(claimed, AssignOwner(incident_id=state.id, owner="user:dora", by="user:rita", role="responder"))
    released, _ = run(moved, AssignOwner(incident_id=state.id, owner="", by="user:dora", role="dpo"))
    assert moved.owner == "user:dora" and released.owner == ""
    with pytest.raises(CommandRejected, match="the viewer role may read, not act"):
        run(state, AssignOwner(incident_id=state.id, owner="user:vera", by="user:vera", role="viewer"))


def test_notes_are_added_once_each_and_need_a_text() -> None:
    state = suspected()
    add = AddNote(incident_id=state.id, note_id="n-1", text="  Checked with the CRM team.\nNot planned.  ",
                  by="user:rita", role="responder")
    noted, events = run(state, add)
    assert isinstance(events[0], NoteAdded) and events[0].text == "Checked with the CRM team.\nNot planned."
    assert noted.note_ids == ("n-1",) and decide(add, noted, now=NOW, rules=RULES) == []
    with pytest.raises(CommandRejected, match="a note needs a text"):
        run(noted, replace(add, note_id="n-2", text=" \n "))
    with pytest.raises(CommandRejected, match="a note is at most 10000 characters"):
        run(noted, replace(add, note_id="n-3", text="x" * 10_001))
    # Notes go on while dismissed: the work is written down.
    dismissed, _ = run(noted, dismissal(noted))
    assert run(dismissed, replace(add, note_id="n-4"))[0].note_ids == ("n-1", "n-4")


def test_the_title_is_derived_from_the_strongest_signal_until_a_person_names_it() -> None:
    state = suspected()
    weak = replace(state.evidence[0], event_id="w", title="Login from a new country", severity=1)
    strong = replace(state.evidence[0], event_id="s", title="Mass export of customer table", severity=5)
    for e in (weak, strong):
        state, _ = run(state, AttachSignal(incident_id=state.id, controller=state.controller,
                                           correlation_key=state.correlation_key, evidence=e))
    assert derived_title(state) == headline(state) == "Mass export of customer table · acme-crm-db"
    titled, events = run(state, SetTitle(incident_id=state.id, title="  CRM export\nby a contractor ",
                                         by="user:rita", role="responder"))
    assert isinstance(events[0], TitleSet) and headline(titled) == "CRM export by a contractor"
    assert run(titled, SetTitle(incident_id=state.id, title="", by="user:rita", role="responder"))[0].title == ""
    with pytest.raises(CommandRejected, match="a title is at most 200 characters"):
        run(state, SetTitle(incident_id=state.id, title="x" * 201, by="user:rita", role="responder"))


def test_a_confirmed_signal_is_the_strongest_whatever_its_severity() -> None:
    _, (command,) = correlate(None, event("c", confirms=True, severity=1))
    state, _ = run(None, command)
    assert state.signals.first_confirmed is not None
    assert derived_title(state) == "Bulk export · acme-crm-db"


def test_a_merged_incident_is_worked_on_the_one_it_merged_into() -> None:
    state = replace(suspected(), merged_into="other")
    with pytest.raises(CommandRejected, match="incident merged into other: work on that one"):
        run(state, AddNote(incident_id=state.id, note_id="n", text="x", by="user:rita", role="responder"))


def test_a_dismissed_incident_taking_in_an_aware_one_by_a_merge_is_reopened_and_aware() -> None:
    state = suspected()
    dismissed, _ = run(state, dismissal(state))
    absorb = AbsorbIncident(incident_id=state.id, absorbed="other", controller=state.controller,
                            correlation_key=state.correlation_key, reason="shares user.name#abc",
                            evidence=(replace(state.evidence[0], event_id="o-1"),), aware_at=T0,
                            aware_by="user:dora", aware_evidence=())
    merged, events = run(dismissed, absorb)
    assert [e.by for e in events if isinstance(e, IncidentReopened)] == ["rule:confirmed-signal"]
    assert merged.dismissal is None and merged.awareness is not None and merged.clocks
    # Without awareness or a confirming signal, the merge leaves the dismissal as it was.
    quiet, _ = run(dismissed, replace(absorb, absorbed="third", aware_at=None,
                                      evidence=(replace(state.evidence[0], event_id="t-1"),)))
    assert quiet.dismissal is not None
