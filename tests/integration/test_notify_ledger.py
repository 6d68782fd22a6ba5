"""The notify agent's delivery ledger against a real SMTP server: the intent is recorded (and
flushed) before the relay sees a message, so a replay after a crash never mails twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from incident.notices import NoticeDraft
from streams.agents.notify import IN_DOUBT, SENDING, deliver
from streams.deps import Deps
from streams.embedded.services import MailCatcher
from streams.mail.mailer import SmtpMailer, message_id_for
from streams.mail.render import NoticeRenderer
from streams.settings import ROOT, load_settings
from tests.integration.test_render import FIXTURE
from tests.unit.builders import directory

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def draft(*recipients: str) -> NoticeDraft:
    import json

    return NoticeDraft(notice_id="n-1", kind="authority_notification", regime="gdpr", locale="en",
                       audience="dpo-review", recipients=recipients, context=json.loads(FIXTURE.read_text()))


def deps_for(catcher: MailCatcher) -> Deps:
    settings = load_settings({}, smtp_port=catcher.port)
    return Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                mailer=SmtpMailer(settings), clock=lambda: NOW, retry_delay=0.01)


@pytest.mark.asyncio
async def test_the_intent_is_durable_before_sending_and_a_replay_sends_nothing(catcher: MailCatcher) -> None:
    ledger: dict[str, Any] = {}
    seen_at_flush: list[dict[str, Any]] = []

    async def durable() -> None:  # what the broker holds when the relay is about to see the message
        seen_at_flush.append(dict(ledger))
        assert not catcher.messages

    deps = deps_for(catcher)
    (result,) = await deliver("i-1", draft("dpo@acme.example"), deps, ledger, durable)
    mid = message_id_for("n-1", "dpo@acme.example")
    assert seen_at_flush == [{mid: SENDING + NOW.isoformat()}]
    assert result.delivered and ledger == {mid: NOW.isoformat()} and len(catcher.messages) == 1
    (again,) = await deliver("i-1", draft("dpo@acme.example"), deps, ledger, durable)
    assert again.delivered and len(catcher.messages) == 1  # replayed: nothing sent twice


@pytest.mark.asyncio
async def test_a_message_left_sending_by_a_crash_is_in_doubt_and_not_resent(catcher: MailCatcher) -> None:
    mid = message_id_for("n-1", "dpo@acme.example")
    ledger: dict[str, Any] = {mid: SENDING + "2026-11-22T08:59:00+00:00"}
    (result,) = await deliver("i-1", draft("dpo@acme.example"), deps_for(catcher), ledger)
    assert (result.delivered, result.detail) == (False, IN_DOUBT) and not catcher.messages


@pytest.mark.asyncio
async def test_a_refused_message_leaves_no_intent_so_a_replay_tries_again(catcher: MailCatcher) -> None:
    ledger: dict[str, Any] = {}
    deps = replace(deps_for(catcher), send_attempts=1)
    (refused,) = await deliver("i-1", draft("bad\naddress@acme.example"), deps, ledger)
    assert not refused.delivered and ledger == {} and not catcher.messages
