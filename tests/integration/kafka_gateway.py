"""A Kafka listener that demands TLS and SASL/PLAIN, in front of the embedded broker.

The embedded broker (Tansu 0.6) listens in plaintext only, and its SASL needs users created
through an already-authenticated connection. So that the clients' TLS and SASL options are
exercised for real, this gateway terminates TLS with a certificate from a CA made for the test
(hostname 127.0.0.1, verified by the clients), answers the SASL handshake and authentication
itself (PLAIN, one user), refuses any other request before that, then pipes bytes to the broker.
The broker advertises the gateway's address, so every connection a client opens (bootstrap,
partition leaders, group coordinator) goes through it. Test support only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import ssl
import struct
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka.protocol.admin import (
    SaslAuthenticateResponse_v0,
    SaslAuthenticateResponse_v1,
    SaslHandShakeResponse_v0,
    SaslHandShakeResponse_v1,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
UNSUPPORTED_SASL_MECHANISM, SASL_AUTHENTICATION_FAILED = 33, 58


@dataclass(frozen=True)
class Certificates:
    ca: Path  # what a client is given as BREACH_KAFKA_SSL_CAFILE
    server_cert: Path
    server_key: Path


def make_certificates(directory: Path, host: str = "127.0.0.1") -> Certificates:
    """A throw-away CA and a server certificate for ``host`` (an IP SAN: hostname checks pass)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "breach-test-ca")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = Certificates(directory / "kafka-ca.pem", directory / "kafka-server.pem", directory / "kafka-server.key")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.server_key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    return paths


async def _frame(reader: asyncio.StreamReader) -> bytes:
    (size,) = struct.unpack(">i", await reader.readexactly(4))
    return await reader.readexactly(size)


def _reply(writer: asyncio.StreamWriter, correlation_id: int, body: bytes) -> None:
    payload = struct.pack(">i", correlation_id) + body
    writer.write(struct.pack(">i", len(payload)) + payload)


def _header(frame: bytes) -> tuple[int, int, int, int]:
    """api key, version, correlation id, and where the body starts (request header v1)."""
    api_key, version, correlation_id, client_id_length = struct.unpack(">hhih", frame[:10])
    return api_key, version, correlation_id, 10 + max(client_id_length, 0)


@dataclass
class Gateway:
    """TLS (if ``certificates``) and SASL/PLAIN (if ``username``) on ``port``, piped to ``upstream_port``."""

    port: int
    upstream_port: int
    certificates: Certificates | None = None
    username: str | None = None
    password: str | None = None
    host: str = "127.0.0.1"
    refused: list[str] = field(default_factory=list)  # why connections were turned away
    authenticated: list[str] = field(default_factory=list)  # user names, one per accepted login
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        context = None
        if self.certificates is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.certificates.server_cert, self.certificates.server_key)
        self._server = await asyncio.start_server(self._serve, self.host, self.port, ssl=context)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        up_reader, up_writer = await asyncio.open_connection(self.host, self.upstream_port)
        try:
            if self.username is None or await self._authenticate(reader, writer, up_reader, up_writer):
                await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass  # the client went away (or failed its TLS handshake)
        finally:
            for w in (writer, up_writer):
                w.close()
            self._tasks.discard(task)

    async def _authenticate(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                            up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter) -> bool:
        mechanism_ok = False
        while True:
            frame = await _frame(reader)
            api_key, version, correlation_id, body = _header(frame)
            if api_key == API_VERSIONS:  # allowed before authentication, as on Apache Kafka
                up_writer.write(struct.pack(">i", len(frame)) + frame)
                response = await _frame(up_reader)
                writer.write(struct.pack(">i", len(response)) + response)
            elif api_key == SASL_HANDSHAKE:
                (length,) = struct.unpack(">h", frame[body:body + 2])
                mechanism = frame[body + 2:body + 2 + length].decode()
                mechanism_ok = mechanism == "PLAIN"
                response_class = SaslHandShakeResponse_v1 if version >= 1 else SaslHandShakeResponse_v0
                code = 0 if mechanism_ok else UNSUPPORTED_SASL_MECHANISM
                _reply(writer, correlation_id, response_class(code, ["PLAIN"]).encode())
                if not mechanism_ok:
                    self.refused.append(f"mechanism {mechanism}")
            elif api_key == SASL_AUTHENTICATE and mechanism_ok:
                (length,) = struct.unpack(">i", frame[body:body + 4])
                _, user, password = frame[body + 4:body + 4 + length].decode().split("\0")
                ok = (user, password) == (self.username, self.password)
                code, message = (0, None) if ok else (SASL_AUTHENTICATION_FAILED, "bad user name or password")
                fields = (code, message, b"") + ((0,) if version >= 1 else ())
                response_class = SaslAuthenticateResponse_v1 if version >= 1 else SaslAuthenticateResponse_v0
                _reply(writer, correlation_id, response_class(*fields).encode())
                await writer.drain()
                (self.authenticated if ok else self.refused).append(user if ok else f"login {user}")
                return ok
            else:
                self.refused.append(f"api {api_key} before authentication")
                return False
            await writer.drain()

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        finally:
            sink.close()
