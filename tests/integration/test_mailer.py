"""SmtpMailer against a real SMTP server on loopback (the embedded mail catcher)."""

from __future__ import annotations

import pytest

from streams.embedded.services import MailCatcher, free_port
from streams.mail.mailer import Disposition, MailError, OutgoingMessage, SmtpMailer, message_id_for
from streams.settings import load_settings


def message(**changes: str) -> OutgoingMessage:
    values = {"message_id": message_id_for("n-1", "dpo@acme.example"), "recipient": "dpo@acme.example",
              "subject": "Draft", "text": "Bonjour", "html": "<p>Bonjour</p>", "notice_id": "n-1"}
    values.update(changes)
    return OutgoingMessage(**values)


@pytest.mark.asyncio
async def test_a_notice_arrives_with_both_parts_and_its_message_id(catcher: MailCatcher) -> None:
    await SmtpMailer(load_settings({}, smtp_port=catcher.port)).send(message())
    (caught,) = catcher.messages
    parsed = caught.parsed()
    assert caught.recipients == ["dpo@acme.example"]
    assert parsed["Message-ID"] == message_id_for("n-1", "dpo@acme.example")
    assert parsed.get_body(preferencelist=("html",)).get_content().strip() == "<p>Bonjour</p>"
    assert catcher.summaries()[0]["notice_id"] == "n-1"


def test_message_ids_are_stable_per_notice_and_recipient() -> None:
    assert message_id_for("n-1", "A@x.example") == message_id_for("n-1", "a@x.example")
    assert message_id_for("n-1", "a@x.example") != message_id_for("n-2", "a@x.example")


@pytest.mark.asyncio
async def test_an_unreachable_server_is_a_retriable_failure() -> None:
    mailer = SmtpMailer(load_settings({}, smtp_port=free_port()), timeout=5)
    with pytest.raises(MailError) as caught:
        await mailer.send(message())
    assert caught.value.disposition is Disposition.RETRY
    assert "dpo@" not in str(caught.value)  # the reason is safe to log


@pytest.mark.asyncio
async def test_header_injection_is_refused_and_nothing_is_sent(catcher: MailCatcher) -> None:
    mailer = SmtpMailer(load_settings({}, smtp_port=catcher.port))
    with pytest.raises(MailError) as caught:
        await mailer.send(message(subject="Hello\r\nBcc: everyone@evil.example"))
    assert caught.value.disposition is Disposition.PERMANENT
    assert catcher.messages == []


def test_a_fast_clock_runs_from_its_epoch_whoever_reads_it() -> None:
    from datetime import UTC, datetime, timedelta

    from streams.deps import clock_from

    epoch = datetime.now(UTC) - timedelta(seconds=10)
    fast = clock_from(load_settings({"BREACH_CLOCK_SPEED": "360", "BREACH_CLOCK_EPOCH": epoch.isoformat()}))
    # 10 real seconds at 360x is an hour of fake time, for every process sharing the epoch.
    assert timedelta(minutes=59) < fast() - epoch < timedelta(minutes=62)
    ahead = clock_from(load_settings({"BREACH_CLOCK_OFFSET_HOURS": "70"}))
    assert timedelta(hours=69, minutes=59) < ahead() - datetime.now(UTC) <= timedelta(hours=70)


@pytest.mark.asyncio
async def test_each_reminder_step_goes_out_under_its_own_whole_message_id(catcher: MailCatcher) -> None:
    # A reminder's notice id holds a rule reference with ":" and "@"; the email package used to
    # cut the header there, so every step of an incident shared one Message-ID.
    ids = [message_id_for(f"reminder-i1-GDPR:art33_authority@1-{step}", "oncall@acme.example")
           for step in ("T-48h", "T-24h")]
    mailer = SmtpMailer(load_settings({}, smtp_port=catcher.port))
    for mid in ids:
        await mailer.send(message(message_id=mid, recipient="oncall@acme.example"))
    assert [m.parsed()["Message-ID"] for m in catcher.messages] == ids
    assert len(set(ids)) == 2
