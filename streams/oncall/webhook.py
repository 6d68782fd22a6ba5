"""The outgoing webhook: reminders and escalations as JSON to the on-call tool (PagerDuty,
Opsgenie, a chat bridge…), retried with back-off. Payloads hold ids and times, no personal data."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import structlog

log = structlog.get_logger("breach.webhook")


class Webhook(Protocol):
    async def post(self, payload: dict[str, Any]) -> str | None:
        """None when delivered, else why not (safe to log)."""
        ...


class HttpWebhook:
    def __init__(self, url: str, *, attempts: int = 3, delay: float = 1.0, timeout: float = 10.0) -> None:
        self.url, self.attempts, self.delay, self.timeout = url, attempts, delay, timeout

    async def post(self, payload: dict[str, Any]) -> str | None:
        body = json.dumps(payload).encode()
        delay, reason = self.delay, "not sent"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session:
            for attempt in range(1, self.attempts + 1):
                try:
                    async with session.post(self.url, data=body,
                                            headers={"Content-Type": "application/json"}) as response:
                        if response.status < 300:
                            return None
                        reason = f"HTTP {response.status}"
                        if 400 <= response.status < 500 and response.status not in (408, 429):
                            return reason  # the receiver refuses it: retrying will not help
                except (aiohttp.ClientError, TimeoutError) as exc:
                    reason = type(exc).__name__
                if attempt < self.attempts:
                    log.warning("webhook.retry", attempt=attempt, reason=reason)
                    await asyncio.sleep(delay)  # back-off between attempts
                    delay *= 2
        return f"{reason} after {self.attempts} attempts"


@dataclass
class RecordingWebhook:
    """A fake at our own port, for agent tests."""

    posted: list[dict[str, Any]] = field(default_factory=list)

    async def post(self, payload: dict[str, Any]) -> str | None:
        self.posted.append(payload)
        return None
