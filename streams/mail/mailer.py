"""Sending notices: the Mailer port, its aiosmtplib adapter and a recording fake; for mass
delivery, a message prepared once per (notice, locale) and a long-lived SMTP connection.

Header injection is refused three times: the renderer collapses subjects to one line, the
e-mail package's default policy raises on CR/LF in any header we set, and the per-recipient
headers of a prepared message (To, Message-ID) are built from one-line, encoded values only.

SMTP transport security: ``BREACH_SMTP_TLS=starttls`` passes ``start_tls=True`` (the session
fails if the server does not offer STARTTLS; aiosmtplib's default would silently continue in
clear), ``tls`` is implicit TLS (port 465). Certificates are always verified.
"""

from __future__ import annotations

import asyncio
import email.policy
import enum
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, formatdate, parseaddr
from pathlib import Path
from typing import Protocol

import aiosmtplib

from streams.mail.render import RenderedNotice, one_line
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
    """The same (notice, recipient) always gets the same Message-ID: duplicates are detectable.

    A reminder's notice id holds a rule reference ("GDPR:art33_authority@1"): a ":" or "@" in
    the left part is not a valid msg-id, and the email package cut the header there, so every
    reminder of an incident went out under one Message-ID. Such characters are written =XX
    (one-to-one; uuids, the other notice ids, are unchanged)."""
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:16]
    left = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else f"={ord(c):02X}" for c in notice_id)
    return f"<{left}.{digest}@breach-response>"


def classify_smtp_error(exc: BaseException) -> Disposition:
    """Retry what may work later; give up on what the server refused for this message or recipient.

    * 4xx replies, disconnects, refused connections and time-outs: RETRY.
    * A refused recipient (5xx on RCPT), a refused message (5xx after DATA), a refused sender: PERMANENT.
    * Session problems that are not about this message (greeting, EHLO, STARTTLS not offered,
      authentication): RETRY, so a misconfigured relay does not fail a whole list at once; the
      delivery gives up when its retry window ends.
    """
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        return Disposition.RETRY if codes and all(400 <= c < 500 for c in codes) else Disposition.PERMANENT
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPTimeoutError | aiosmtplib.SMTPConnectError):
        return Disposition.RETRY
    if isinstance(exc, aiosmtplib.SMTPHeloError | aiosmtplib.SMTPAuthenticationError | aiosmtplib.SMTPNotSupported):
        return Disposition.RETRY
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return Disposition.RETRY if 400 <= exc.code < 500 else Disposition.PERMANENT
    if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError):
        return Disposition.RETRY  # disconnects, refused connections, time-outs
    return Disposition.PERMANENT


def describe(exc: BaseException) -> str:
    """A reason safe to log and to record: the error type and SMTP code, never an address or a body."""
    code = getattr(exc, "code", None)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        code = exc.recipients[0].code
    return f"{type(exc).__name__}{f' {code}' if code else ''}"


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
            raise MailError(describe(exc), classify_smtp_error(exc)) from None


@dataclass
class RecordingMailer:
    """A fake at our own port: keeps what it was asked to send, or fails as told."""

    sent: list[OutgoingMessage] = field(default_factory=list)
    fail_with: MailError | None = None

    async def send(self, message: OutgoingMessage) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)


# --- mass delivery: prepared once, addressed per recipient -------------------------------------------------


def ascii_address(address: str) -> str:
    """The address as SMTP carries it: an internationalised domain in its IDNA (xn--) form."""
    local, _, domain = address.rpartition("@")
    try:
        domain.encode("ascii")
    except UnicodeEncodeError:
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}"


MAX_NAME = 120  # characters of a display name kept in the To header


def to_header(name: str, address: str) -> str:
    """A To value that cannot carry a second header: the name on one line (control characters
    and line separators become spaces), quoted or RFC 2047-encoded by formataddr."""
    clean = one_line(name)[:MAX_NAME]
    value = formataddr((clean, address), charset="utf-8") if clean else address
    if "\r" in value or "\n" in value:  # formataddr never folds a short value; keep it so
        raise MailError("refused header: line break in To", Disposition.PERMANENT)
    return value


@dataclass(frozen=True, slots=True)
class PreparedNotice:
    """A notice serialised once: common headers and both MIME parts as bytes. Each recipient
    only adds To and Message-ID in front, so 100,000 messages cost 100,000 concatenations, not
    100,000 runs of the e-mail package (research/runtime.md §5: building is the slow part)."""

    notice_id: str
    head: bytes
    body: bytes

    def for_recipient(self, *, address: str, name: str, message_id: str) -> bytes:
        if not message_id.isascii() or any(c in message_id for c in "\r\n"):
            raise MailError("refused header: Message-ID", Disposition.PERMANENT)
        lines = f"To: {to_header(name, ascii_address(address))}\r\nMessage-ID: {message_id}\r\n"
        return lines.encode("ascii") + self.head + b"\r\n" + self.body


def prepare(notice_id: str, rendered: RenderedNotice, *, sender: str, date: datetime,
            reply_to: str | None = None) -> PreparedNotice:
    """From, Subject, Date (the notice's own time: every worker builds the same bytes), and the
    text and HTML parts. Raises MailError on a header that would break a line."""
    mail = EmailMessage(policy=email.policy.SMTP)
    try:
        mail["From"] = sender
        mail["Subject"] = rendered.subject
        if reply_to:
            mail["Reply-To"] = reply_to
    except ValueError as exc:
        raise MailError(f"refused header: {exc}", Disposition.PERMANENT) from None
    mail["Date"] = format_datetime(date)
    mail["Auto-Submitted"] = "auto-generated"
    mail["X-Breach-Notice-Id"] = notice_id
    mail.set_content(rendered.text)
    mail.add_alternative(rendered.html, subtype="html")
    mail.set_boundary("==breach-" + hashlib.sha256(notice_id.encode()).hexdigest()[:32] + "==")  # same bytes everywhere
    head, _, body = mail.as_bytes().partition(b"\r\n\r\n")
    return PreparedNotice(notice_id=notice_id, head=head + b"\r\n", body=body)


class DkimSigner:
    """Optional DKIM signature (dkimpy) over From, To, Subject, Date and Message-ID. Prefer signing
    at the relay; this is for sending straight to the receivers' servers."""

    HEADERS = (b"from", b"to", b"subject", b"date", b"message-id")

    def __init__(self, *, domain: str, selector: str, key: bytes) -> None:
        self.domain, self.selector, self.key = domain.encode(), selector.encode(), key

    @classmethod
    def from_settings(cls, settings: Settings) -> DkimSigner | None:
        if not settings.dkim_domain:
            return None
        return cls(domain=settings.dkim_domain, selector=settings.dkim_selector,
                   key=Path(settings.dkim_key_file).read_bytes())

    def sign(self, message: bytes) -> bytes:
        import dkim

        signature: bytes = dkim.sign(message, self.selector, self.domain, self.key,
                                     include_headers=list(self.HEADERS))
        return signature + message


class SmtpConnection:
    """One long-lived SMTP session (aiosmtplib has no pool: a worker keeps a few of these).
    Connects on first use and again after any failure."""

    def __init__(self, settings: Settings, *, timeout: float = 30.0) -> None:
        self.settings, self.timeout = settings, timeout
        self.sender = parseaddr(settings.mail_from)[1] or settings.mail_from
        self._smtp: aiosmtplib.SMTP | None = None

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._smtp is None or not self._smtp.is_connected:
            s = self.settings
            smtp = aiosmtplib.SMTP(hostname=s.smtp_host, port=s.smtp_port, username=s.smtp_user,
                                   password=s.smtp_password, use_tls=s.smtp_tls == "tls",
                                   start_tls=s.smtp_tls == "starttls", timeout=self.timeout,
                                   cert_bundle=s.smtp_ca_file or None)
            await smtp.connect()
            self._smtp = smtp
        return self._smtp

    async def send(self, recipient: str, data: bytes) -> None:
        """Hand one message to the relay; MailError (classified, safe to log) if it was not accepted."""
        try:
            smtp = await self._connected()
            await smtp.sendmail(self.sender, [ascii_address(recipient)], data)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self.close()  # a fresh session for the next message: no half-finished transaction left
            raise MailError(describe(exc), classify_smtp_error(exc)) from None

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            try:
                await asyncio.wait_for(smtp.quit(), 2)
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                smtp.close()


class RateLimiter:
    """At most ``rate`` acquisitions per second across the tasks sharing it (0: no limit).
    Each caller gets the next free slot; the clock and the sleep are ports (tests pass fakes)."""

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self._next = 0.0

    async def acquire(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await self.sleep(slot - now)  # pacing the sender, not waiting for a result
