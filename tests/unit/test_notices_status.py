"""`breach notices status`: sent / pending / failed / bounced / in doubt and a progress bar, mid-send too."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from incident.model import Incident, PartitionProgress, SubjectNotice
from streams.mail.mass import progress_bar, status_lines

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def notice(*partitions: PartitionProgress, total: int = 1000) -> SubjectNotice:
    return SubjectNotice(notice_id="n", list_id="l", total=total, default_locale="fr", context={}, requested_at=AT,
                         by="user:dpo", partitions=partitions)


def test_the_bar_fills_with_what_is_done_while_sending() -> None:
    sending = notice(PartitionProgress(partition=0, accepted=200, bounced=10),
                     PartitionProgress(partition=1, accepted=140, failed=50, in_doubt=10))
    assert (sending.sent, sending.pending, sending.failed, sending.bounced, sending.in_doubt) == (330, 600, 50, 10, 10)
    assert progress_bar(sending) == "[################........................] 400/1000"
    assert progress_bar(notice()) == "[........................................] 0/1000"
    done = notice(PartitionProgress(partition=0, accepted=1000))
    assert progress_bar(done, width=10) == "[##########] 1000/1000"


def test_the_status_lines_say_each_count_and_draw_the_bar() -> None:
    sending = notice(PartitionProgress(partition=0, accepted=200, bounced=10),
                     PartitionProgress(partition=1, accepted=140, failed=50, in_doubt=10))
    state = Incident(id="i", version=3, controller="acme", correlation_key="k", profile_ref=None, opened_at=AT,
                     subject_notices=(sending,))
    lines = status_lines(state)
    assert "  sent 330  pending 600  failed 50  bounced 10  in doubt 10  (total 1000)" in lines
    assert "  [################........................] 400/1000" in lines
    assert status_lines(replace(state, subject_notices=())) == [
        "no list of affected people imported for this incident"]
