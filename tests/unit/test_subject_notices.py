"""People affected: imported lists, the DPO's approval of the notice to them, batched progress."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident.commands import RecordDeliveryProgress, RecordSubjects, SendSubjectNotice
from incident.correlation import correlate
from incident.decide import Rules, decide
from incident.errors import CommandRejected
from incident.events import DeliveryProgressed, SubjectNoticeRequested, SubjectsListed
from incident.model import Incident, fold
from incident.notices import subject_notice_id
from tests.unit.builders import T0, FakeCalendar, directory, event

NOW = T0 + timedelta(minutes=5)


def run(state: Incident | None, command: object) -> tuple[Incident, list[object]]:
    events = decide(command, state, now=NOW, rules=Rules(directory(), FakeCalendar()))  # type: ignore[arg-type]
    new = fold(state, events)  # type: ignore[arg-type]
    assert new is not None
    return new, events


def aware() -> Incident:
    _, (command,) = correlate(None, event("a", asset="acme-auth", confirms=True))
    state, _ = run(None, command)
    return state


def listed(count: int = 3) -> Incident:
    state, _ = run(aware(), RecordSubjects(incident_id=aware().id, list_id="L1", count=count, invalid=1, by="cli"))
    return state


def send(state: Incident, **changes: object) -> SendSubjectNotice:
    values: dict[str, object] = {"incident_id": state.id, "list_id": "L1", "by": "dpo", "role": "dpo",
                                 "measures_taken": ("Sessions revoked",), "measures_proposed": ("Reset",)}
    values.update(changes)
    return SendSubjectNotice(**values)  # type: ignore[arg-type]


def test_a_list_is_recorded_once_with_its_counts_only() -> None:
    state = aware()
    command = RecordSubjects(incident_id=state.id, list_id="L1", count=3, invalid=1, by="cli")
    state, events = run(state, command)
    assert [type(e) for e in events] == [SubjectsListed]
    assert state.subject_list("L1") is not None and state.subject_list("L1").count == 3  # type: ignore[union-attr]
    assert run(state, command)[1] == []  # the same file imported again


def test_an_empty_list_or_no_incident_is_refused() -> None:
    with pytest.raises(CommandRejected, match="at least one"):
        run(aware(), RecordSubjects(incident_id=aware().id, list_id="L0", count=0, invalid=5, by="cli"))
    with pytest.raises(CommandRejected, match="no incident"):
        decide(RecordSubjects(incident_id="x", list_id="L", count=1, invalid=0, by="cli"), None, now=NOW,
               rules=Rules(directory(), FakeCalendar()))


def test_the_dpo_approves_the_notice_with_the_measures_it_tells_people() -> None:
    state = listed()
    state, events = run(state, send(state))
    requested = events[0]
    assert isinstance(requested, SubjectNoticeRequested)
    # It is the Art. 34 communication: that obligation is approved and submitted with it.
    assert [(e.action, e.channel) for e in events[1:]] == [("approve", ""), ("submit", "email")]  # type: ignore[attr-defined]
    art34 = state.obligation("GDPR:art34_data_subjects@1")
    assert art34 is not None and (art34.status, art34.late) == ("submitted", False)
    assert art34.reference == f"notice {requested.notice_id} to list L1"
    assert requested.notice_id == subject_notice_id(state.id, "L1") and requested.total == 3
    assert requested.context["notice"]["draft"] is False
    assert requested.context["measures"] == {"taken": ["Sessions revoked"], "proposed": ["Reset"]}
    assert requested.default_locale == "fr"
    notice = state.subject_notice(requested.notice_id)
    assert notice is not None and notice.pending == 3
    assert run(state, send(state))[1] == []  # approved twice: one notice


@pytest.mark.parametrize(("changes", "reason"), [
    ({"role": "responder"}, "only the DPO"),
    ({"list_id": "nope"}, "no list"),
    ({"measures_taken": (" ",)}, "at least one measure"),
])
def test_refusals(changes: dict[str, object], reason: str) -> None:
    state = listed()
    with pytest.raises(CommandRejected, match=reason):
        run(state, send(state, **changes))


def test_progress_is_absolute_per_partition_and_never_goes_back() -> None:
    state = listed(count=10)
    state, (requested, *_) = run(state, send(state))
    nid = requested.notice_id  # type: ignore[attr-defined]

    def progress(partition: int, accepted: int, failed: int = 0, bounced: int = 0,
                 in_doubt: int = 0) -> RecordDeliveryProgress:
        return RecordDeliveryProgress(incident_id=state.id, notice_id=nid, partition=partition, accepted=accepted,
                                      failed=failed, bounced=bounced, in_doubt=in_doubt)

    state, events = run(state, progress(0, 3))
    assert [type(e) for e in events] == [DeliveryProgressed]
    state, _ = run(state, progress(1, 4, failed=1))
    assert run(state, progress(0, 3))[1] == []  # a replay
    assert run(state, progress(0, 2))[1] == []  # a stale report from a worker that lost the partition
    state, _ = run(state, progress(0, 4, bounced=1, in_doubt=1))
    notice = state.subject_notice(nid)
    assert notice is not None
    assert (notice.accepted, notice.sent, notice.failed, notice.bounced, notice.in_doubt, notice.pending) \
        == (8, 7, 1, 1, 1, 0)
    # The one in doubt sent again: in_doubt goes down, and the report is still the newer one.
    state, events = run(state, progress(0, 5, bounced=1))
    assert [type(e) for e in events] == [DeliveryProgressed]
    assert run(state, progress(0, 4, bounced=1, in_doubt=1))[1] == []  # the older report, late
    with pytest.raises(CommandRejected, match="no notice"):
        run(state, RecordDeliveryProgress(incident_id=state.id, notice_id="other", partition=0, accepted=1,
                                          failed=0, bounced=0, in_doubt=0))
