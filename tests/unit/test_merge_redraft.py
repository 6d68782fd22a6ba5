"""A merge that moves the clock of a draft already sent to the DPO requests a corrected draft:
a new version of the authority notification (its own id, so the delivery ledger sends it) that
carries the new awareness time and deadline and says why they moved. Nothing is redrafted when
nothing was drafted yet, nor for an obligation already submitted."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from incident.commands import AbsorbIncident, ActOnObligation, RecordDelivery
from incident.events import AwarenessAdvanced, ClockMoved, NoticeRequested
from incident.model import Incident
from incident.notices import AUTHORITY_NOTIFICATION, notice_id
from tests.unit.test_merge_clocks import A_AWARE, A_DEADLINE, ART33, T0, absorb, run, survivor

B_AWARE = T0 + timedelta(minutes=3)
NOW = T0 + timedelta(hours=1)


def delivered(state: Incident) -> Incident:
    """The first draft reached the DPO's mailbox (the 3 a.m. e-mail the correction must follow)."""
    (first,) = state.notices
    state, _ = run(state, RecordDelivery(incident_id=state.id, notice_id=first.notice_id, recipient="dpo@acme.example",
                                         delivered=True, message_id="<m1>", detail="accepted"), NOW)
    return state


def test_a_moved_clock_with_a_draft_sent_requests_a_corrected_draft_with_the_new_times() -> None:
    a = delivered(survivor())
    first = a.notices[0].notice_id
    after, events = run(a, absorb(a, B_AWARE), NOW)
    assert [type(e) for e in events] == [AwarenessAdvanced, ClockMoved, NoticeRequested]
    request = events[-1]
    assert isinstance(request, NoticeRequested)
    corrected = request.draft
    # A new version of the same draft: another id (another Message-ID, so the ledger sends it).
    assert corrected.notice_id == notice_id(a.id, "gdpr", AUTHORITY_NOTIFICATION, 2) != first
    assert (corrected.kind, corrected.audience, corrected.recipients) == (
        AUTHORITY_NOTIFICATION, "dpo-review", ("dpo@acme.example",))
    new_deadline = B_AWARE + timedelta(hours=72)
    context = corrected.context
    assert context["incident"]["awareness_at"] == B_AWARE.isoformat()
    assert context["clock"]["deadline"] == new_deadline.isoformat()
    assert context["notice"]["id"] == corrected.notice_id and context["notice"]["draft"] is True
    assert context["notice"]["correction"] == {
        "sequence": 2, "replaces": first, "absorbed": "inc-b", "absorbed_reference": "BR-INCB",
        "aware_at": B_AWARE.isoformat(), "previous_aware_at": A_AWARE.isoformat(),
        "deadline": new_deadline.isoformat(), "previous_deadline": A_DEADLINE.isoformat(), "approved": False}
    # The incident waits for the corrected draft's delivery like any other.
    assert [n.notice_id for n in after.notices] == [first, corrected.notice_id]
    assert after.status == "drafts_requested"


def test_no_draft_yet_means_no_correction_the_first_draft_will_carry_the_new_times() -> None:
    a = replace(survivor(), notices=())
    _, events = run(a, absorb(a, B_AWARE), NOW)
    assert [type(e) for e in events] == [AwarenessAdvanced, ClockMoved]


def test_an_approved_obligation_is_redrafted_and_the_draft_says_the_approval_stands() -> None:
    a = delivered(survivor())
    a, _ = run(a, ActOnObligation(incident_id=a.id, obligation=ART33, action="approve", by="dpo", role="dpo",
                                  at=NOW), NOW)
    after, events = run(a, absorb(a, B_AWARE), NOW)
    (request,) = [e for e in events if isinstance(e, NoticeRequested)]
    assert request.draft.context["notice"]["correction"]["approved"] is True
    obligation = after.obligation(ART33)
    assert obligation is not None and obligation.status == "approved"


def test_a_submitted_obligation_gets_no_corrected_draft() -> None:
    a = delivered(survivor())
    for action, channel, ref in (("approve", "", ""), ("submit", "portal", "CNIL-1")):
        a, _ = run(a, ActOnObligation(incident_id=a.id, obligation=ART33, action=action, by="dpo", role="dpo", at=NOW,
                                      channel=channel, reference=ref), NOW)
    after, events = run(a, absorb(a, B_AWARE), NOW)
    assert [type(e) for e in events] == [AwarenessAdvanced]
    assert len(after.notices) == 1


def test_a_redelivered_merge_sends_nothing_again_and_a_second_earlier_one_makes_version_3() -> None:
    a = delivered(survivor())
    a, _ = run(a, absorb(a, B_AWARE), NOW)
    _, again = run(a, absorb(a, B_AWARE), NOW + timedelta(minutes=1))
    assert again == []
    earliest = T0 - timedelta(hours=2)
    other = AbsorbIncident(incident_id=a.id, absorbed="inc-c", controller="acme", correlation_key="acme",
                           reason="r", evidence=(), aware_at=earliest, aware_by="dpo", aware_evidence=())
    _, events = run(a, other, NOW + timedelta(minutes=2))
    (request,) = [e for e in events if isinstance(e, NoticeRequested)]
    correction = request.draft.context["notice"]["correction"]
    assert request.draft.notice_id == notice_id(a.id, "gdpr", AUTHORITY_NOTIFICATION, 3)
    assert correction["replaces"] == notice_id(a.id, "gdpr", AUTHORITY_NOTIFICATION, 2)
    assert (correction["previous_deadline"], correction["deadline"]) == (
        (B_AWARE + timedelta(hours=72)).isoformat(), (earliest + timedelta(hours=72)).isoformat())
