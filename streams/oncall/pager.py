"""Sending a page (incident/paging.py) to the on-call team: e-mail through the mailer, and each
configured webhook (generic JSON, Slack, Microsoft Teams: streams/oncall/page_formats.py) over HTTP.

Each (page, repeat, channel) is sent once: the delivery ledger (the notify agent's, keyed here by
``page|<page id>|<repeat>|<channel>`` and by Message-ID for e-mail) records the intent before the
send and the outcome after it, so a restart or a replay of incident-events never pages twice (a
send cut short by a crash is left in doubt, not repeated). A channel that still fails after its
retries is reported back: the agent dead-letters the page with the reasons.

Logs and dead letters carry page ids, channels and reasons; never a webhook URL (Slack and Teams
URLs are secrets), an address or a body.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import structlog

from incident.events import Paged
from incident.notices import reference
from incident.pages import Page
from streams import metrics
from streams.deps import Deps
from streams.mail.mailer import OutgoingMessage, message_id_for
from streams.oncall import page_formats
from streams.oncall.page_hooks import PageHook, Pager

log = structlog.get_logger("breach.pager")
SENDING = "sending:"  # as the notify agent's ledger: handed over, the answer not recorded yet


def recipients(page: Page, deps: Deps) -> tuple[str, ...]:
    """The profile's on-call list ([paging] oncall), else the deployment's (BREACH_ONCALL_EMAILS),
    else the controller's DPO; nobody for an unmapped asset without an on-call list."""
    profile = deps.directory.profiles.get(page.controller or "")
    own = dict(profile.paging).get("oncall") if profile else None
    return tuple(own or deps.oncall or ((profile.dpo.email,) if profile else ()))


def language(languages: tuple[str, ...] | list[str], deps: Deps, kind: str = "page") -> str:
    """An on-call e-mail's language (a page, a reminder): the controller's first one its templates exist in, else
    English (an unmapped asset's page too)."""
    internal = deps.renderer.templates_dir / "internal"
    return next((lang for lang in languages if (internal / lang / f"{kind}.txt.j2").is_file()), "en")


async def send(event: Paged, deps: Deps, pager: Pager, ledger: MutableMapping[str, Any],
               durable: Callable[[], Awaitable[None]],
               send_mail: Callable[[OutgoingMessage], Awaitable[str | None]]) -> list[str]:
    """Page every channel at once (a slow mail relay does not hold up the chat tools); the
    reasons of the channels that failed, safe to log (empty: all delivered)."""
    url = f"{deps.console_url}/incidents/{event.page.incident_id}"
    jobs = [_post(hook, event, url, deps, ledger, durable) for hook in pager.hooks]
    if pager.email:
        jobs.append(_mail(event, url, deps, send_mail))
    failures: list[str] = []
    for outcome in await asyncio.gather(*jobs):
        failures += outcome
    return failures


async def _post(hook: PageHook, event: Paged, url: str, deps: Deps, ledger: MutableMapping[str, Any],
                durable: Callable[[], Awaitable[None]]) -> list[str]:
    key = f"page|{event.page.page_id}|{event.repeat}|{hook.fmt}"
    ids = {"incident_id": event.incident_id, "page_id": event.page.page_id, "repeat": event.repeat,
           "channel": hook.fmt}
    seen = ledger.get(key)
    if seen is not None:
        if str(seen).startswith(SENDING):
            log.warning("page.in_doubt", **ids)  # a worker stopped mid-send: not sent again
        else:
            log.info("page.already_sent", **ids)
        return []
    ledger[key] = SENDING + deps.clock().isoformat()
    await durable()
    error = await hook.webhook.post(page_formats.payload(hook.fmt, event.page, event.repeat, url))
    metrics.PAGES.labels(channel=hook.fmt, outcome="sent" if error is None else "failed").inc()
    if error is None:
        ledger[key] = deps.clock().isoformat()
        log.info("page.sent", **ids)
        return []
    del ledger[key]  # not delivered: a later replay may try again
    log.error("page.channel_failed", **ids, error=error)
    return [f"{hook.fmt}: {error}"]


async def _mail(event: Paged, url: str, deps: Deps,
                send_mail: Callable[[OutgoingMessage], Awaitable[str | None]]) -> list[str]:
    page = event.page
    to = recipients(page, deps)
    ids = {"incident_id": event.incident_id, "page_id": page.page_id, "repeat": event.repeat, "channel": "email"}
    if not to:
        log.warning("page.no_recipient", **ids)
        return []
    profile = deps.directory.profiles.get(page.controller or "")
    lang = language(profile.languages if profile else (), deps)
    level = page_formats.LEVELS_FR.get(page.level or "", page.level) if lang == "fr" else page.level
    context = {
        "notice": {"reader_tz": profile.timezone if profile else "UTC"},
        "page": {"id": page.page_id, "reason": page.reason, "why": page_formats.why(page, lang),
                 "trigger": page_formats.trigger(page, lang), "repeat": event.repeat, "severity": page.severity,
                 "level": level,
                 "opened_at": page.opened_at.isoformat(),
                 "aware_at": page.aware_at.isoformat() if page.aware_at else None,
                 "deadline": page.deadline.isoformat() if page.deadline else None},
        "incident": {"id": page.incident_id, "reference": reference(page.incident_id), "url": url},
        "controller": {"name": profile.name if profile else "an unmapped asset"},
    }
    rendered = deps.renderer.render(regime="internal", locale=lang, kind="page", context=context)
    notice_id = f"{page.page_id}#{event.repeat}"
    failures = []
    for index, recipient in enumerate(to):
        message = OutgoingMessage(message_id=message_id_for(notice_id, recipient), recipient=recipient,
                                  subject=rendered.subject, text=rendered.text, html=rendered.html,
                                  notice_id=notice_id)
        error = await send_mail(message)
        metrics.PAGES.labels(channel="email", outcome="sent" if error is None else "failed").inc()
        if error is None:
            log.info("page.sent", **ids, recipient_index=index)
        else:
            log.error("page.channel_failed", **ids, recipient_index=index, error=error)
            failures.append(f"email to recipient {index + 1}: {error}")
    return failures
