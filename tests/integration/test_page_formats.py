"""The page on each webhook, checked against the receiver's documented shape; and a page sent
twice (a replay after a restart) reaching each channel once, through the delivery ledger."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from incident.events import Paged
from incident.pages import Page
from streams.deps import Deps
from streams.mail.mailer import OutgoingMessage, RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.oncall import page_formats, pager
from streams.oncall.page_hooks import PageHook, Pager
from streams.oncall.webhook import HttpWebhook
from streams.settings import ROOT
from tests.support import loopback_http
from tests.unit.builders import directory

AT = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
PAGE = Page(page_id="3f2a9c1d-8b4e-4c6a-9d2f-7e1b5a0c3d48/page-1", incident_id="3f2a9c1d-8b4e-4c6a-9d2f-7e1b5a0c3d48",
            reason="aware", trigger="awareness", raised_at=AT, controller="acme", severity=4, level="high",
            opened_at=AT - timedelta(minutes=20), aware_at=AT, deadline=AT + timedelta(hours=72),
            repeat_seconds=900, max_repeats=12)
URL = "http://127.0.0.1:8000/incidents/3f2a9c1d-8b4e-4c6a-9d2f-7e1b5a0c3d48"


def test_generic_json_holds_ids_times_and_levels() -> None:
    body = page_formats.generic(PAGE, 2, URL)
    assert body == {"type": "breach.page", "page_id": PAGE.page_id, "repeat": 2, "incident_id": PAGE.incident_id,
                    "reference": "BR-3F2A9C1D", "controller": "acme", "reason": "aware", "trigger": "awareness",
                    "severity": 4, "level": "high", "opened_at": "2026-11-21T09:10:00+00:00",
                    "aware_at": "2026-11-21T09:30:00+00:00", "deadline": "2026-11-24T09:30:00+00:00",
                    "raised_at": "2026-11-21T09:30:00+00:00", "url": URL}
    assert json.loads(json.dumps(body)) == body


def _plain_text(obj: dict[str, Any], limit: int) -> None:
    assert obj["type"] == "plain_text" and isinstance(obj["text"], str) and 0 < len(obj["text"]) <= limit


def test_slack_is_an_incoming_webhook_message_of_block_kit_blocks() -> None:
    """api.slack.com: incoming webhooks take ``text`` (the notification's fallback) and ``blocks``;
    a header block's text is plain_text up to 150 characters; a section's ``fields`` are at most
    10 text objects of up to 2,000 characters; an actions block's URL button has a plain_text
    label up to 75 characters and a URL up to 3,000."""
    body = page_formats.slack(PAGE, 1, URL)
    assert set(body) == {"text", "blocks"} and "BR-3F2A9C1D" in body["text"] and "repeat 1" in body["text"]
    header, section, actions = body["blocks"]
    assert header["type"] == "header"
    _plain_text(header["text"], 150)
    assert section["type"] == "section" and 0 < len(section["fields"]) <= 10
    for item in section["fields"]:
        assert item["type"] in ("mrkdwn", "plain_text") and 0 < len(item["text"]) <= 2000
    assert actions["type"] == "actions"
    (button,) = actions["elements"]
    assert button["type"] == "button" and button["url"] == URL and len(button["url"]) <= 3000
    assert 0 < len(button["action_id"]) <= 255
    _plain_text(button["text"], 75)
    assert len(json.dumps(body)) < 40_000  # under what Slack takes in one message


def test_teams_is_a_message_with_one_adaptive_card_attachment() -> None:
    """learn.microsoft.com, "Send Adaptive Cards using an Incoming Webhook": a message whose
    ``attachments`` hold one object of contentType application/vnd.microsoft.card.adaptive,
    contentUrl null, and the card as ``content`` (type AdaptiveCard, a version, a body); a
    FactSet's facts are title/value strings; Action.OpenUrl has a title and a url."""
    body = page_formats.teams(PAGE, 0, URL)
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert "contentUrl" in attachment and attachment["contentUrl"] is None
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["version"] in ("1.0", "1.1", "1.2", "1.3", "1.4")  # what Teams renders
    text, facts = card["body"]
    assert text["type"] == "TextBlock" and "BR-3F2A9C1D" in text["text"]
    assert facts["type"] == "FactSet" and facts["facts"]
    assert all(set(f) == {"title", "value"} and all(isinstance(v, str) and v for v in f.values())
               for f in facts["facts"])
    (action,) = card["actions"]
    assert action == {"type": "Action.OpenUrl", "title": "Acknowledge in the console", "url": URL}
    assert len(json.dumps(body).encode()) < 28_000  # Teams' limit on a webhook message


def test_no_format_carries_more_than_the_page() -> None:
    """Every value a payload shows comes from the page's fields (ids, times, levels), or is ours."""
    for fmt in page_formats.FORMATS:
        text = json.dumps(page_formats.payload(fmt, PAGE, 0, URL))
        for absent in ("dpo@acme.example", "ACME SAS", "acme-crm-db"):
            assert absent not in text


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        return web.Response(status=204)


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    r = Receiver()
    async with loopback_http("/hook", r.handle) as url:
        yield r, url + "/hook"


@pytest.mark.asyncio
async def test_a_replayed_page_reaches_each_channel_once(receiver: tuple[Receiver, str], tmp_path: Path) -> None:
    from streams.agents.notify import send_once

    r, url = receiver
    mailer = RecordingMailer()
    deps = Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"), mailer=mailer,
                clock=lambda: AT, oncall=("oncall@acme.example",))
    channels = Pager(hooks=(PageHook("json", HttpWebhook(url, attempts=1)),))
    ledger: dict[str, Any] = {}

    async def durable() -> None:
        return None

    async def send_mail(message: OutgoingMessage) -> str | None:
        return await send_once(message, deps, ledger, durable)

    event = Paged(incident_id=PAGE.incident_id, version=7, at=AT, page=PAGE, repeat=0)
    assert await pager.send(event, deps, channels, ledger, durable, send_mail) == []
    assert await pager.send(event, deps, channels, ledger, durable, send_mail) == []  # replayed
    assert len(r.bodies) == 1 and len(mailer.sent) == 1
    # The repeat is another delivery of the same page.
    again = Paged(incident_id=PAGE.incident_id, version=9, at=AT, page=PAGE, repeat=1)
    assert await pager.send(again, deps, channels, ledger, durable, send_mail) == []
    assert [b["repeat"] for b in r.bodies] == [0, 1] and len(mailer.sent) == 2


@pytest.mark.asyncio
async def test_a_page_for_an_unmapped_asset_without_an_on_call_list_goes_to_the_webhooks_only(
        receiver: tuple[Receiver, str]) -> None:
    r, url = receiver
    mailer = RecordingMailer()
    deps = Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"), mailer=mailer,
                clock=lambda: AT)
    unmapped = Page(**{**{f: getattr(PAGE, f) for f in PAGE.__dataclass_fields__}, "controller": None})
    assert pager.recipients(unmapped, deps) == ()
    assert pager.recipients(PAGE, deps) == ("dpo@acme.example",)  # no on-call list: the DPO
    event = Paged(incident_id=PAGE.incident_id, version=7, at=AT, page=unmapped, repeat=0)

    async def never(message: OutgoingMessage) -> str | None:
        raise AssertionError("no e-mail without a recipient")

    async def durable() -> None:
        return None

    channels = Pager(hooks=(PageHook("json", HttpWebhook(url, attempts=1)),))
    assert await pager.send(event, deps, channels, {}, durable, never) == []
    assert r.bodies[0]["controller"] is None
