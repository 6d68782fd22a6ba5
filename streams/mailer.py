"""Sending notices: the Mailer port, its aiosmtplib adapter and a recording fake.

Header injection is refused twice: the renderer collapses subjects to one line, and the
e-mail package's default policy raises on CR/LF in any header we set.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

import aiosmtplib

from streams.settings import Settings


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    message_id: str
    recipient: str
    subject: str
    text: str
    html: str
    notice_id: str


class Disposition(enum.Enum):
    RETRY = "retry"
    PERMANENT = "permanent"


class MailError(Exception):
    """A failed send, classified; ``str()`` is safe to log (no address, no body)."""

    def __init__(self, reason: str, disposition: Disposition) -> None:
        super().__init__(reason)
        self.reason, self.disposition = reason, disposition


def message_id_for(notice_id: str, recipient: str) -> str:
    """The same (notice, recipient) always gets the same Message-ID: duplicates are detectable."""
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:16]
    return f"<{notice_id}.{digest}@breach-response>"


def classify_smtp_error(exc: Exception) -> Disposition:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused | aiosmtplib.SMTPRecipientRefused):
        return Disposition.PERMANENT
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return Disposition.RETRY if 400 <= exc.code < 500 else Disposition.PERMANENT
    if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError):
        return Disposition.RETRY  # disconnects, refused connections, time-outs
    return Disposition.PERMANENT


class Mailer(Protocol):
    async def send(self, message: OutgoingMessage) -> None: ...


def build_email(message: OutgoingMessage, sender: str) -> EmailMessage:
    mail = EmailMessage()
    try:
        mail["From"] = sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Message-ID"] = message.message_id
    except ValueError as exc:  # CR/LF in a header value
        raise MailError(f"refused header: {exc}", Disposition.PERMANENT) from None
    mail["Date"] = formatdate(usegmt=True)
    mail["X-Breach-Notice-Id"] = message.notice_id
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    return mail


class SmtpMailer:
    def __init__(self, settings: Settings, timeout: float = 30.0) -> None:
        self.settings, self.timeout = settings, timeout

    async def send(self, message: OutgoingMessage) -> None:
        s = self.settings
        mail = build_email(message, s.mail_from)
        try:
            await aiosmtplib.send(
                mail, hostname=s.smtp_host, port=s.smtp_port, username=s.smtp_user, password=s.smtp_password,
                # start_tls=True enforces STARTTLS; False never tries it. None (aiosmtplib's default)
                # would upgrade only if offered, which allows a downgrade.
                use_tls=s.smtp_tls == "tls", start_tls=s.smtp_tls == "starttls",
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            code = getattr(exc, "code", None)
            raise MailError(f"{type(exc).__name__}{f' {code}' if code else ''}", classify_smtp_error(exc)) from None


@dataclass
class RecordingMailer:
    """A fake at our own port: keeps what it was asked to send, or fails as told."""

    sent: list[OutgoingMessage] = field(default_factory=list)
    fail_with: MailError | None = None

    async def send(self, message: OutgoingMessage) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)
