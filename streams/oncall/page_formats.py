"""What a page looks like on each webhook: generic JSON, Slack and Microsoft Teams.

Each is built from the Page alone (ids, references, times, levels: incident/pages.py), so no
personal data and no evidence can reach a chat tool. The shapes follow the receivers' documents:

- Slack incoming webhooks: ``{"text": …, "blocks": […]}`` (Block Kit: a header of plain text up
  to 150 characters, a section of at most 10 fields up to 2,000 characters each, an actions
  block with a URL button whose text is at most 75 characters); ``text`` is the notification's
  fallback.
- Microsoft Teams incoming webhooks (and Workflows' "post to a channel when a webhook request is
  received"): a message whose one attachment is an Adaptive Card,
  ``{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
  "contentUrl": null, "content": {"type": "AdaptiveCard", "version": "1.2", …}}]}``.
- Generic: a flat JSON object, ``"type": "breach.page"`` (the reminders' webhook sends
  ``"breach.reminder"`` objects of the same style).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from incident.notices import reference
from incident.pages import AWARE, ESCALATED, SEVERITY, Page
from incident.signals import SEVERITIES
from streams.oncall.page_hooks import FORMATS as FORMATS

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
_SEVERITY_NAMES = {v: k for k, v in SEVERITIES.items()}
_WHY = {SEVERITY: "a severe signal", AWARE: "a breach the controller is aware of",
        ESCALATED: "an escalation (overdue)"}
# The page e-mail's words in French (the on-call team reads the controller's language); the
# webhooks stay English: chat tools are shared across teams, and their fields are parsed.
_WHY_FR = {SEVERITY: "un signal grave", AWARE: "une violation dont le responsable de traitement a connaissance",
           ESCALATED: "une escalade (délai dépassé)"}
LEVELS_FR = {"unlikely": "risque improbable", "risk": "risque", "high": "risque élevé"}


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def why(page: Page, lang: str = "en") -> str:
    return (_WHY_FR if lang == "fr" else _WHY).get(page.reason, page.reason)


def trigger(page: Page, lang: str = "en") -> str:
    """What raised the page, in words: "severity 5", "awareness", or the escalated rule."""
    if lang != "fr":
        return page.trigger
    if page.reason == SEVERITY:
        return page.trigger.replace("severity", "sévérité")
    return "prise de connaissance" if page.reason == AWARE else page.trigger


def summary(page: Page, repeat: int) -> str:
    """One line: the reference, why, and how many times it was sent (never a name or an asset)."""
    again = f" (repeat {repeat}, unacknowledged)" if repeat else ""
    return f"PAGE · {reference(page.incident_id)} · {why(page)}{again}"


def facts(page: Page) -> list[tuple[str, str]]:
    """The page's facts as label/value pairs, the same on every channel."""
    rows = [("Reference", reference(page.incident_id)), ("Reason", page.reason), ("Trigger", page.trigger),
            ("Controller", page.controller or "unmapped asset"),
            ("Severity", f"{_SEVERITY_NAMES.get(page.severity, str(page.severity))} ({page.severity})"),
            ("Risk level", page.level or "not assessed"), ("Opened", page.opened_at.isoformat()),
            ("Aware since", _iso(page.aware_at) or "not aware yet"),
            ("Nearest deadline", _iso(page.deadline) or "no clock running")]
    return rows


def generic(page: Page, repeat: int, url: str) -> dict[str, Any]:
    return {"type": "breach.page", "page_id": page.page_id, "repeat": repeat, "incident_id": page.incident_id,
            "reference": reference(page.incident_id), "controller": page.controller, "reason": page.reason,
            "trigger": page.trigger, "severity": page.severity, "level": page.level,
            "opened_at": page.opened_at.isoformat(), "aware_at": _iso(page.aware_at),
            "deadline": _iso(page.deadline), "raised_at": page.raised_at.isoformat(), "url": url}


def slack(page: Page, repeat: int, url: str) -> dict[str, Any]:
    return {
        "text": summary(page, repeat),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": summary(page, repeat)[:150]}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{label}*\n{value}"[:2000]}
                                           for label, value in facts(page)[:10]]},
            {"type": "actions", "elements": [{"type": "button", "action_id": "open-incident", "url": url,
                                              "text": {"type": "plain_text", "text": "Acknowledge in the console"}}]},
        ],
    }


def teams(page: Page, repeat: int, url: str) -> dict[str, Any]:
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.2",
        "body": [
            {"type": "TextBlock", "text": summary(page, repeat), "weight": "Bolder", "size": "Medium", "wrap": True},
            {"type": "FactSet", "facts": [{"title": label, "value": value} for label, value in facts(page)]},
        ],
        "actions": [{"type": "Action.OpenUrl", "title": "Acknowledge in the console", "url": url}],
    }
    return {"type": "message", "attachments": [{"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": card}]}


def payload(fmt: str, page: Page, repeat: int, url: str) -> dict[str, Any]:
    return {"json": generic, "slack": slack, "teams": teams}[fmt](page, repeat, url)
