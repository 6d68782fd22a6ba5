"""The ingest agent on a real embedded broker: batches, envelopes and CEF text records.

A batch with one bad element yields its good elements as signals and the bad one — alone —
in security-events.dlq with a reason naming the field; a CEF line becomes a signal.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from incident.signals import SecurityEvent
from streams.deps import Deps
from streams.embedded import Broker
from streams.mailer import RecordingMailer
from streams.render import NoticeRenderer
from streams.samples import publish
from streams.settings import ROOT, SettingsError, load_settings
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
    assert letter["reason"] == "this topic takes cef records only (BREACH_INGEST_FORMAT); this one is suricata"
