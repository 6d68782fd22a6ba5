"""Every Kafka client of the service through a listener that demands TLS and SASL/PLAIN.

The embedded broker sits behind tests/integration/kafka_gateway.py (TLS with a CA made for the
test, hostname verified; SASL PLAIN with one user; nothing else served before a login). The
settings are the production ones (BREACH_KAFKA_SECURITY_PROTOCOL=SASL_SSL, a CA file, a user), so
a client that forgot them cannot connect at all: the worker (faust and its plain producers and
consumers), the console's projection and command sender, and the `breach` commands.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from console.projection import Projection, read_all
from console.read_model import ReadModel
from streams import metrics
from streams.cli import main
from streams.cli.replay import replay_projections
from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker, free_port
from streams.kafka.kafka_security import client_options, security_options
from streams.kafka.topics_admin import create_topics
from streams.mail import mass
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.settings import ROOT, Settings, load_settings
from streams.worker import running
from tests.integration.kafka_gateway import Gateway, make_certificates
from tests.integration.smtp_sink import SmtpSink
from tests.support import COMMAND_KEYS, KEYS, eventually
from tests.unit.builders import directory

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
USER, PASSWORD = "breach-svc", "s3cret-for-the-test"


@dataclass
class Secured:
    broker: Broker
    gateway: Gateway
    environ: dict[str, str]  # the BREACH_* variables a deployment would set

    def settings(self, tmp_path: Path, **overrides: object) -> Settings:
        return load_settings(self.environ, data_dir=tmp_path, session_timeout=2.0, heartbeat_interval=0.5,
                             **{"command_keys": COMMAND_KEYS, **overrides})


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[tuple[Broker, int]]:
    gateway_port = free_port()
    broker = Broker(port=free_port(), advertised_port=gateway_port)
    broker.start()
    try:
        yield broker, gateway_port
    finally:
        broker.stop()


@pytest_asyncio.fixture
async def secured(secured_broker: tuple[Broker, int], tmp_path: Path) -> AsyncIterator[Secured]:
    broker, port = secured_broker
    certificates = make_certificates(tmp_path)
    gateway = Gateway(port=port, upstream_port=broker.port, certificates=certificates, username=USER,
                      password=PASSWORD)
    await gateway.start()
    environ = {"BREACH_BROKER_URL": f"kafka://127.0.0.1:{port}", "BREACH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
               "BREACH_KAFKA_SASL_MECHANISM": "PLAIN", "BREACH_KAFKA_SASL_USERNAME": USER,
               "BREACH_KAFKA_SASL_PASSWORD": PASSWORD, "BREACH_KAFKA_SSL_CAFILE": str(certificates.ca),
               "BREACH_PARTITIONS": "2"}
    try:
        yield Secured(broker, gateway, environ)
    finally:
        await gateway.stop()


async def _connects(**options: object) -> None:
    producer = AIOKafkaProducer(request_timeout_ms=5000, **options)  # type: ignore[arg-type]
    try:
        await producer.start()
    finally:
        await producer.stop()


def _record(event_id: str, *, confirms: bool = False) -> bytes:
    return json.dumps({"id": event_id, "time": NOW.isoformat(), "title": "Export", "host": "acme-auth",
                       "confirms_breach": confirms}).encode()


def _mass_sent() -> float:
    return metrics.REGISTRY.get_sample_value("breach_notices_total",
                                             {"kind": metrics.MASS_SUBJECT_NOTICE, "outcome": "sent"}) or 0.0


@pytest.mark.asyncio
async def test_the_listener_turns_away_a_wrong_password_an_unknown_ca_and_plaintext(secured: Secured,
                                                                                     tmp_path: Path) -> None:
    """Without this, the other tests would prove nothing: the gateway really demands TLS and a login."""
    good = client_options(secured.settings(tmp_path))
    await _connects(**good)
    assert secured.gateway.authenticated == [USER]
    with pytest.raises(KafkaConnectionError):  # aiokafka wraps the broker's SaslAuthenticationFailed
        await _connects(**{**good, "sasl_plain_password": "wrong"})
    assert secured.gateway.refused == ["login breach-svc"]
    untrusted = client_options(load_settings({**secured.environ, "BREACH_KAFKA_SSL_CAFILE": ""}))
    with pytest.raises(KafkaConnectionError):  # the system trust store does not know the test CA
        await _connects(**untrusted)
    with pytest.raises(KafkaConnectionError):
        await _connects(bootstrap_servers=good["bootstrap_servers"])  # plaintext
    assert isinstance(good["ssl_context"], ssl.SSLContext)
    assert secured.gateway.authenticated == [USER]  # TLS refused before any login was tried


@pytest.mark.asyncio
async def test_topics_send_register_and_replay_commands_use_the_kafka_settings(
        secured: Secured, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in secured.environ.items():
        monkeypatch.setenv(name, value)
    outcomes = await create_topics(secured.settings(tmp_path))
    assert {o.name for o in outcomes} >= {"security-events", "incident-events"}
    sample = tmp_path / "events.jsonl"
    sample.write_bytes(_record("tls-1") + b"\n" + _record("tls-2") + b"\n")
    # The CLI runs its own event loop: call it from a thread, as a shell would from a process.
    assert await asyncio.to_thread(main, ["send", str(sample)]) == 0
    assert "sent 2 record(s)" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["register", "export", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"register": []}  # no worker ran: read, and empty
    assert await asyncio.to_thread(main, ["audit", "verify"]) == 0
    assert capsys.readouterr().out == "0 incident(s): 0 verified, 0 broken, 0 not chained\n"
    replayed = await replay_projections(secured.settings(tmp_path))
    assert replayed.summary()["incidents"] == 0
    logins = len(secured.gateway.authenticated)
    assert logins >= 4, secured.gateway.authenticated  # admin, producer, two readers at least
    assert not [r for r in secured.gateway.refused if r.startswith("api")]


@pytest.mark.asyncio
async def test_a_worker_the_console_and_mass_delivery_work_through_tls_and_sasl(secured: Secured,
                                                                               tmp_path: Path) -> None:
    """faust's clients and the worker's own (signal and command batches, the delivery agent's
    consumers and producer), the console's projection and the notice commands: all logged in."""
    sink = SmtpSink(free_port())
    await sink.start()
    settings = secured.settings(tmp_path, smtp_port=sink.port, progress_seconds=0.3)
    await create_topics(settings)
    deps = Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                mailer=RecordingMailer(), clock=lambda: NOW, retry_delay=0.01)
    model = ReadModel()
    projection = Projection(model=model, **client_options(settings))  # as `breach console` builds it
    sent_before = _mass_sent()
    try:
        async with running(settings, deps):
            await projection.start()
            try:
                await publish(lines=[_record("tls-worker-1", confirms=True)], **client_options(settings))
                incident = await eventually(lambda: (i := next(iter(model.incidents.values()), None))
                                            and i.assessment and i, timeout=60,
                                            what="an assessed incident, through ingest, correlation and the "
                                                 "incident agent")
                security = security_options(settings)
                people = b"address,name,language\nann@example.org,Ann,en\nbob@example.org,Bob,fr\n"
                imported = await mass.import_subjects(settings.bootstrap_servers, incident.id, people, fmt="csv",
                                                      default_locale="en", by="test", keys=KEYS, **security)
                await eventually(lambda: model.incidents[incident.id].subject_lists, timeout=60,
                                 what="the list recorded")
                await mass.approve(settings.bootstrap_servers, incident.id, imported.list_id, by="dpo", role="dpo",
                                   keys=KEYS, measures_taken=("Account disabled.",), **security)
                notice = await eventually(lambda: (n := model.incidents[incident.id].subject_notices)
                                          and n[0].sent == 2 and n[0], timeout=90,
                                          what="both notices sent by the delivery agent")
            finally:
                await projection.stop()
    finally:
        await sink.stop()
    assert notice.pending == 0 and sum(sink.received.values()) == 2
    assert _mass_sent() - sent_before == 2  # breach_notices_total{kind="mass_subject_notice",outcome="sent"}
    folded = await read_all(**client_options(settings))
    assert folded.incidents[incident.id].subject_notices[0].sent == 2
    assert not [r for r in secured.gateway.refused if r.startswith("api")]
