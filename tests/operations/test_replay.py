"""Replays on a real embedded broker: projections folded again from incident-events, and
correlation re-run over a time range into a namespace, live topics untouched."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams.cli.replay import ReplayError, check_namespace, parse_instant, replay_correlation, replay_projections
from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker
from streams.kafka import codec
from streams.kafka.partitions import current_partitions
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.settings import ROOT
from streams.worker import running
from tests.support import Watcher, eventually, read_topic, settings_for
from tests.unit.builders import directory

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def _deps() -> Deps:
    return Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                mailer=RecordingMailer(), clock=lambda: NOW, retry_delay=0.01)


def _record(event_id: str, host: str, confirms: bool = False, title: str = "Export", at: datetime = NOW) -> bytes:
    return json.dumps({"id": event_id, "time": at.isoformat(), "title": title, "host": host,
                       "confirms_breach": confirms}).encode()


@pytest.mark.asyncio
async def test_projections_rebuilt_from_incident_events_match_the_live_read_model(broker: Broker,
                                                                                 tmp_path: Path) -> None:
    settings = settings_for(broker.bootstrap, tmp_path)
    async with running(settings, _deps()), Watcher(broker.bootstrap) as watcher:
        await publish(broker.bootstrap, [_record("p1", "acme-auth", confirms=True), _record("p2", "acme-crm-db"),
                                         b"{broken"])
        await eventually(lambda: len(watcher.model.incidents) == 2 and any(
            i.status == "drafts_delivered" for i in watcher.model.incidents.values()), what="two incidents")
        live = {i.id: (i.version, i.status) for i in watcher.model.incidents.values()}
    rebuilt = await replay_projections(settings)
    assert {i.id: (i.version, i.status) for i in rebuilt.incidents} == live
    assert [entry["incident_id"] for entry in rebuilt.register()] == [i.id for i in rebuilt.incidents]
    assert {entry["audit_chain"] for entry in rebuilt.register()} == {"verified"}  # chains checked on the way
    summary = rebuilt.summary()
    assert summary["incidents"] == 2 and summary["dead_letters"] == 1 and summary["undecodable"] == 0

    env = {**os.environ, "BREACH_BROKER_URL": f"kafka://{broker.bootstrap}",
           "BREACH_PROFILES_DIR": str(ROOT / "deploy" / "profiles")}
    result = subprocess.run([sys.executable, "-m", "streams.cli", "replay", "projections", "-o", str(tmp_path / "out")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["incidents"] == 2
    written = json.loads((tmp_path / "out" / "register.json").read_text())["register"]
    assert len(written) == 2 and {entry["audit_chain"] for entry in written} == {"verified"}

    # The register's CSV from the log: English by default (codes and the register's English), French asked.
    def exported(*lang: str) -> list[dict[str, str]]:
        done = subprocess.run([sys.executable, "-m", "streams.cli", "register", "export", "--format", "csv", *lang],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return list(csv.DictReader(io.StringIO(done.stdout)))

    english, french = exported(), exported("--lang", "fr")
    assert {r["audit_chain"] for r in english} == {"verified"} and {r["audit_chain"] for r in french} == {"vérifiée"}
    assert [r["reference"] for r in english] == [r["reference"] for r in french]
    assert all(r["what_happened"].split(".")[0] in ("Suspected breach, not yet assessed in acme-crm-db",
                                                    "Unauthorised or accidental disclosure of, or access to, "
                                                    "personal data in acme-auth") for r in english)
    assert {r["not_notified_because"] for r in french} == {"pas encore transmise",
                                                          "prise de connaissance pas encore enregistrée"}


async def _produce_at(bootstrap: str, records: list[tuple[datetime, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for at, value in records:
            await producer.send_and_wait("security-events", value, timestamp_ms=int(at.timestamp() * 1000))
    finally:
        await producer.stop()


@pytest.mark.asyncio
async def test_correlation_replays_a_time_range_into_its_namespace_only(broker: Broker, tmp_path: Path) -> None:
    t0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    # Each event happened when it reached the broker (one dated days after its receipt is refused).
    await _produce_at(broker.bootstrap, [
        (t0 - timedelta(hours=1), _record("before", "acme-crm-db", at=t0 - timedelta(hours=1))),  # outside the range
        (t0, _record("a1", "acme-crm-db", at=t0)),
        # Same asset: same incident (another alert: a copy of a1 under a new id would be a duplicate).
        (t0 + timedelta(minutes=5), _record("a2", "acme-crm-db", title="Second export", at=t0)),
        (t0 + timedelta(minutes=6), _record("b1", "acme-auth", at=t0)),
        (t0 + timedelta(minutes=7), b"not json at all"),
        (t0 + timedelta(hours=2), _record("after", "acme-auth", at=t0 + timedelta(hours=2))),  # the end is exclusive
    ])
    settings = settings_for(broker.bootstrap, tmp_path)
    run = await replay_correlation(settings, t0, t0 + timedelta(hours=2), "try-1", deps=_deps())

    assert (run.in_range, run.signals, run.dead_letters, len(run.incidents)) == (4, 3, 1, 2)
    commands = [codec.decode(r.value) for r in await read_topic(broker.bootstrap, "try-1.incident-commands", 3)]
    assert sorted(c.evidence.event_id for c in commands) == ["a1", "a2", "b1"]
    assert {c.incident_id for c in commands} == run.incidents
    [letter] = [json.loads(r.value) for r in await read_topic(broker.bootstrap, "try-1.security-events.dlq", 1)]
    assert letter["record"] == "not json at all" and letter["reason"].startswith("not JSON")
    # Nothing written to the live topics the worker reads.
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap)
    await consumer.start()
    try:
        assert await current_partitions(consumer, ("signals", "incident-commands", "security-events.dlq")) == set()
    finally:
        await consumer.stop()


@pytest.mark.parametrize(("call", "message"), [
    (lambda: check_namespace("incident-events "), "--namespace"),
    (lambda: check_namespace(""), "--namespace"),
    (lambda: parse_instant("2026-11-22T10:00:00", "--from"), "UTC offset"),
    (lambda: parse_instant("yesterday", "--to"), "ISO 8601"),
])
def test_bad_replay_arguments_are_refused_clearly(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ReplayError, match=message):
        call()


@pytest.mark.asyncio
async def test_an_empty_or_reversed_range_is_refused(broker: Broker, tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match="before"):
        await replay_correlation(settings_for(broker.bootstrap, tmp_path), NOW, NOW, "try-2", deps=_deps())
