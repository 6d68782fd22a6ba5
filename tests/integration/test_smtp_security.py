"""The SMTP side of mass delivery against real aiosmtpd servers: enforced STARTTLS (no downgrade),
implicit TLS, authentication, DKIM, error classification, header safety of prepared messages."""

from __future__ import annotations

import base64
import email
import email.policy
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosmtplib
import dkim
import pytest
import pytest_asyncio
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from streams.embedded.services import free_port
from streams.mail.mailer import (
    Disposition,
    DkimSigner,
    MailError,
    RateLimiter,
    SmtpConnection,
    classify_smtp_error,
    message_id_for,
    prepare,
)
from streams.mail.render import RenderedNotice
from streams.settings import load_settings

NOTICE = RenderedNotice(subject="Information importante", text="Bonjour,\n", html="<p>Bonjour,</p>\n")
MID = message_id_for("n-1", "ann@example.org")


class Keep:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.original_content)
        return "250 OK"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"breach", b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest_asyncio.fixture
async def tls_files(ca: trustme.CA, tmp_path: Path) -> AsyncIterator[tuple[ssl.SSLContext, Path]]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    yield server_context, bundle


def message() -> bytes:
    prepared = prepare("n-1", NOTICE, sender="Breach <breach@example.org>", date=datetime(2026, 11, 22, tzinfo=UTC))
    return prepared.for_recipient(address="ann@example.org", name="Ann", message_id=MID)


@pytest.mark.asyncio
async def test_starttls_is_enforced_a_server_without_it_gets_nothing() -> None:
    keep = Keep()
    controller = Controller(keep, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        connection = SmtpConnection(load_settings({}, smtp_port=controller.port, smtp_tls="starttls"), timeout=5)
        with pytest.raises(MailError) as caught:
            await connection.send("ann@example.org", message())
        assert keep.messages == []  # no fallback to clear text
        assert caught.value.disposition is Disposition.RETRY  # the relay's fault, not the recipient's
    finally:
        controller.stop()


@pytest.mark.asyncio
async def test_starttls_and_authentication(tls_files: tuple[ssl.SSLContext, Path]) -> None:
    context, bundle = tls_files
    keep = Keep()
    controller = Controller(keep, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=True, authenticator=authenticator, auth_required=True)
    controller.start()
    try:
        settings = load_settings({}, smtp_port=controller.port, smtp_tls="starttls", smtp_ca_file=str(bundle),
                                 smtp_user="breach", smtp_password="s3cret")
        connection = SmtpConnection(settings, timeout=5)
        await connection.send("ann@example.org", message())
        await connection.send("ann@example.org", message())  # the same session, kept open
        await connection.close()
        assert len(keep.messages) == 2

        wrong = SmtpConnection(load_settings({}, smtp_port=controller.port, smtp_tls="starttls",
                                             smtp_ca_file=str(bundle), smtp_user="breach", smtp_password="no"),
                               timeout=5)
        with pytest.raises(MailError, match="SMTPAuthenticationError 535"):
            await wrong.send("ann@example.org", message())
    finally:
        controller.stop()


@pytest.mark.asyncio
async def test_an_unknown_certificate_is_refused(tls_files: tuple[ssl.SSLContext, Path]) -> None:
    context, _ = tls_files
    keep = Keep()
    controller = Controller(keep, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True)
    controller.start()
    try:
        connection = SmtpConnection(load_settings({}, smtp_port=controller.port, smtp_tls="starttls"), timeout=5)
        with pytest.raises(MailError):
            await connection.send("ann@example.org", message())
        assert keep.messages == []
    finally:
        controller.stop()


def test_dkim_signature_verifies_and_covers_the_recipient_headers(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "dkim.pem").write_bytes(pem)
    signer = DkimSigner.from_settings(load_settings({}, dkim_domain="example.org", dkim_selector="breach",
                                                    dkim_key_file=str(tmp_path / "dkim.pem")))
    assert signer is not None
    signed = signer.sign(message())
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"breach._domainkey.example.org."
        return record

    assert dkim.verify(signed, dnsfunc=dns)
    assert not dkim.verify(signed.replace(b"To: Ann", b"To: Bob"), dnsfunc=dns)


def test_header_injection_through_a_name_is_impossible() -> None:
    prepared = prepare("n-1", NOTICE, sender="Breach <breach@example.org>", date=datetime(2026, 11, 22, tzinfo=UTC))
    raw = prepared.for_recipient(address="ann@example.org", name="Ann\r\nBcc: all@evil.example\n\nbody", message_id=MID)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in head
    assert head.startswith(b'To: "Ann Bcc: all@evil.example body" <ann@example.org>\r\n')
    with pytest.raises(MailError):
        prepared.for_recipient(address="ann@example.org", name="Ann", message_id="<x>\r\nBcc: y")
    with pytest.raises(MailError):
        prepare("n-1", RenderedNotice(subject="a\r\nBcc: x", text="", html=""), sender="b@example.org",
                date=datetime(2026, 11, 22, tzinfo=UTC))


def test_names_and_domains_outside_ascii_are_encoded() -> None:
    prepared = prepare("n-1", NOTICE, sender="b@example.org", date=datetime(2026, 11, 22, tzinfo=UTC))
    raw = prepared.for_recipient(address="zoe@café.fr", name="Zoé Müller", message_id=MID)
    assert raw.startswith(b"To: =?utf-8?b?Wm/DqSBNw7xsbGVy?= <zoe@xn--caf-dma.fr>\r\n")
    assert email.message_from_bytes(raw, policy=email.policy.default)["To"] == "Zoé Müller <zoe@xn--caf-dma.fr>"


@pytest.mark.parametrize(("exc", "disposition"), [
    (aiosmtplib.SMTPResponseException(451, "try later"), Disposition.RETRY),
    (aiosmtplib.SMTPResponseException(554, "rejected"), Disposition.PERMANENT),
    (aiosmtplib.SMTPDataError(552, "too big"), Disposition.PERMANENT),
    (aiosmtplib.SMTPServerDisconnected("gone"), Disposition.RETRY),
    (aiosmtplib.SMTPConnectError("refused"), Disposition.RETRY),
    (aiosmtplib.SMTPReadTimeoutError("slow"), Disposition.RETRY),
    (ConnectionResetError(), Disposition.RETRY),
    (TimeoutError(), Disposition.RETRY),
    (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "unknown", "x@y")]),
     Disposition.PERMANENT),
    (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(450, "greylisted", "x@y")]),
     Disposition.RETRY),
    (aiosmtplib.SMTPAuthenticationError(535, "bad"), Disposition.RETRY),
    (ValueError("bug"), Disposition.PERMANENT),
])
def test_classification(exc: Exception, disposition: Disposition) -> None:
    assert classify_smtp_error(exc) is disposition


@pytest.mark.asyncio
async def test_implicit_tls(tls_files: tuple[ssl.SSLContext, Path]) -> None:
    context, bundle = tls_files
    keep = Keep()
    controller = Controller(keep, hostname="127.0.0.1", port=free_port(), ssl_context=context)
    controller.start()
    try:
        connection = SmtpConnection(load_settings({}, smtp_port=controller.port, smtp_tls="tls",
                                                  smtp_ca_file=str(bundle)), timeout=5)
        await connection.send("ann@example.org", message())
        await connection.close()
        assert len(keep.messages) == 1 and MID.encode() in keep.messages[0]
    finally:
        controller.stop()


@pytest.mark.asyncio
async def test_the_rate_limit_spaces_sends_evenly() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))

    limiter = RateLimiter(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        await limiter.acquire()  # four at once: 0, 0.1, 0.2, 0.3 s later
    assert slept == [0.1, 0.2, 0.3]
    now[0] += 5  # idle for a while: no burst credit is saved up beyond the next slot
    await limiter.acquire()
    await limiter.acquire()
    assert slept == [0.1, 0.2, 0.3, 0.1]

    unlimited = RateLimiter(0, clock=lambda: now[0], sleep=sleep)
    for _ in range(100):
        await unlimited.acquire()
    assert len(slept) == 4
