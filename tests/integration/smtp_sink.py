"""A real aiosmtpd server on loopback for delivery tests: counts every message by Message-ID,
and can be stopped like a crashed relay (open sessions closed too) and started again."""

from __future__ import annotations

import asyncio
import collections
import re
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.MULTILINE | re.IGNORECASE)


class SmtpSink:
    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self.received: collections.Counter[str] = collections.Counter()
        self.raw: dict[str, bytes] = {}
        self.rcpt: dict[str, list[str]] = {}
        self._server: asyncio.Server | None = None
        self._sessions: list[SMTP] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        assert isinstance(raw, bytes)
        found = _MESSAGE_ID.search(raw)
        # A long Message-ID is folded over two lines (RFC 5322): unfolded, it is the one that was sent.
        message_id = re.sub(r"\s+", "", found.group(1).decode()) if found else "(none)"
        self.received[message_id] += 1
        self.raw[message_id] = raw
        self.rcpt[message_id] = list(envelope.rcpt_tos)
        return "250 Message accepted for delivery"

    def _protocol(self) -> Any:
        smtp = SMTP(self, hostname="sink", decode_data=False)
        self._sessions.append(smtp)
        return smtp

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, self.port, reuse_address=True)

    async def stop(self) -> None:
        """Stop listening and close every open session (pending replies are flushed first)."""
        if self._server is not None:
            self._server.close()
            for smtp in self._sessions:
                transport = getattr(smtp, "transport", None)
                if transport is not None:
                    transport.close()
            self._sessions.clear()
            await self._server.wait_closed()
            self._server = None

    @property
    def duplicates(self) -> dict[str, int]:
        return {mid: n for mid, n in self.received.items() if n > 1}


class Refuser:
    """While the relay is down: accept TCP connections and drop them at once, counting attempts."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port, self.attempts = host, port, 0
        self._server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.attempts += 1
        writer.close()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port, reuse_address=True)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
