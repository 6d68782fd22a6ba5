"""The ingest agent on a real embedded broker: batches, envelopes and CEF text records.

A batch with one bad element yields its good elements as signals and the bad one — alone —
in security-events.dlq with a reason naming the field; a CEF line becomes a signal.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from incident.signals import SecurityEvent
from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.settings import ROOT, SettingsError, input_topics, load_settings
from streams.worker import running
from tests.support import read_signals, read_topic, settings_for
from tests.unit.builders import directory

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
FIXTURES = ROOT / "tests" / "fixtures" / "formats"
OCSF = json.loads((FIXTURES / "ocsf" / "okta-authentication-1.3.0.json").read_text())
EVE = json.loads((FIXTURES / "suricata" / "eve-alert.json").read_text())
CEF = (FIXTURES / "cef" / "carbon-black-app-control.cef").read_bytes().strip()


@pytest_asyncio.fixture
async def worker(broker: Broker, tmp_path: Path) -> AsyncIterator[Broker]:
    deps = Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                mailer=RecordingMailer(), clock=lambda: NOW, retry_delay=0.01)
    async with running(settings_for(broker.bootstrap, tmp_path), deps):
        yield broker


@pytest.mark.asyncio
async def test_a_batch_with_one_bad_element_and_a_cef_line(worker: Broker) -> None:
    bad = {**EVE, "timestamp": "2017-04-07 22:24:37"}  # no UTC offset: refused, never guessed
    await publish(worker.bootstrap, [json.dumps([OCSF, bad, EVE]).encode(), CEF])

    signals = await read_signals(worker.bootstrap, 3)
    assert all(isinstance(s, SecurityEvent) for s in signals)
    by_format = {s.source_format: s for s in signals}
    assert set(by_format) == {"ocsf", "suricata", "cef"}
    assert by_format["ocsf"].user == "John Doe" and by_format["suricata"].rule_id == "2018358"
    assert by_format["cef"].asset == "server3.mycorp.local" and by_format["cef"].user == "NTAUTHORITY\\SYSTEM"
    # Each element of the batch is referenced by its index in the Kafka record; a lone record is not.
    assert by_format["ocsf"].raw_ref.endswith("#0") and by_format["suricata"].raw_ref.endswith("#2")
    assert "#" not in (by_format["cef"].raw_ref or "")
    assert by_format["ocsf"].raw_ref.split("#")[0] == by_format["suricata"].raw_ref.split("#")[0]

    (letter,) = [json.loads(r.value) for r in await read_topic(worker.bootstrap, "security-events.dlq", 1)]
    assert letter["reason"] == "field 'timestamp' has no UTC offset"
    assert letter["source"] == by_format["ocsf"].raw_ref.split("#")[0] + "#1"
    assert json.loads(letter["record"]) == bad  # the bad element itself, not the whole batch


def test_the_ingest_format_setting_is_checked_at_start() -> None:
    assert load_settings({"BREACH_INGEST_FORMAT": "cef"}).ingest_format == "cef"
    with pytest.raises(SettingsError, match="BREACH_INGEST_FORMAT='leef'"):
        load_settings({"BREACH_INGEST_FORMAT": "leef"})


@pytest.mark.asyncio
async def test_a_topic_forced_to_cef_dead_letters_json_records(broker: Broker, tmp_path: Path) -> None:
    deps = Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                mailer=RecordingMailer(), clock=lambda: NOW, retry_delay=0.01, ingest_format="cef")
    async with running(settings_for(broker.bootstrap, tmp_path), deps):
        await publish(broker.bootstrap, [json.dumps(EVE).encode(), CEF])
        (signal,) = await read_signals(broker.bootstrap, 1)
        (letter,) = [json.loads(r.value) for r in await read_topic(broker.bootstrap, "security-events.dlq", 1)]
    assert signal.source_format == "cef"
    assert letter["reason"] == ("this topic takes cef records only (BREACH_INGEST_FORMAT, BREACH_INGEST_TOPICS); "
                                "this one is suricata")


WAZUH = (FIXTURES / "wazuh" / "alert-5710-non-existent-user.json").read_bytes().strip()


def test_more_input_topics_each_with_its_format_are_checked_at_start() -> None:
    settings = load_settings({"BREACH_INGEST_TOPICS": "wazuh-alerts=wazuh, edr", "BREACH_INGEST_FORMAT": "ocsf"})
    assert input_topics(settings) == {"security-events": "ocsf", "wazuh-alerts": "wazuh", "edr": "auto"}
    for value, message in (("wazuh-alerts=leef", "wazuh-alerts='leef': expected one of"),
                           ("bad topic", "'bad topic' is not a Kafka topic name"),
                           ("signals=wazuh", "'signals' is already a topic of the service"),
                           ("security-events.dlq", "already a topic of the service"),
                           ("a=wazuh,a=cef", "'a' is already")):
        with pytest.raises(SettingsError, match=re.escape(message)):
            load_settings({"BREACH_INGEST_TOPICS": value})


@pytest.mark.asyncio
async def test_each_input_topic_takes_its_own_format(broker: Broker, tmp_path: Path) -> None:
    settings = settings_for(broker.bootstrap, tmp_path, ingest_topics="wazuh-alerts=wazuh")
    deps = Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                mailer=RecordingMailer(), clock=lambda: NOW, retry_delay=0.01, topic_formats=input_topics(settings))
    async with running(settings, deps):
        await publish(broker.bootstrap, [WAZUH, json.dumps(EVE).encode()], topic="wazuh-alerts")
        await publish(broker.bootstrap, [json.dumps(EVE).encode()])  # security-events: detected per record
        signals = await read_signals(broker.bootstrap, 2)
        (letter,) = [json.loads(r.value) for r in await read_topic(broker.bootstrap, "security-events.dlq", 1)]
    assert sorted(s.source_format for s in signals) == ["suricata", "wazuh"]
    assert {s.raw_ref.split(":")[0] for s in signals} == {"wazuh-alerts", "security-events"}
    assert letter["reason"] == ("this topic takes wazuh records only (BREACH_INGEST_FORMAT, BREACH_INGEST_TOPICS); "
                                "this one is suricata")
    assert letter["source"].startswith("wazuh-alerts:")


def test_the_fingerprint_fields_are_a_setting_checked_at_start() -> None:
    from datetime import timedelta

    from incident.correlation import correlate_batch
    from streams.settings import fingerprint_fields
    from tests.unit.builders import T0, event

    settings = load_settings({"BREACH_CORRELATION_FINGERPRINT": "host.name, rule.name"})
    deps = Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                mailer=RecordingMailer(), correlation_fingerprint=fingerprint_fields(settings))
    assert deps.correlation.fingerprint == ("host.name", "rule.name")
    # One alert per host and title, whoever it names and whenever: the second is a duplicate.
    later = event("b", user="bob", at=T0 + timedelta(minutes=5))
    _, commands = correlate_batch(None, [event("a", user="alice"), later], config=deps.correlation)
    assert [c.evidence.event_id for c in commands] == ["a"]  # type: ignore[union-attr]
    with pytest.raises(SettingsError, match="unknown field\\(s\\) 'host'; known: @timestamp"):
        load_settings({"BREACH_CORRELATION_FINGERPRINT": "host,rule.name"})
