"""What the worker refused is visible in the console: a forged command written straight to Kafka
changes nothing, and the responder sees it on the incident, in the list of rejected records and
in the API (issue 14), without its content."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from incident.commands import RecordAwareness
from streams import cli
from streams.kafka import codec
from tests.integration.console_stack import ConsoleStack, console_stack
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ConsoleStack]:
    async with console_stack(tmp_path_factory.mktemp("console")) as running:
        await running.send_sample("03-ama-suspicious-activity.jsonl")  # suspected only: no awareness yet
        await running.incident_where(lambda i: i.awareness is None, "the AMA incident")
        yield running


async def test_a_forged_command_changes_nothing_and_is_shown_as_refused(
        stack: ConsoleStack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    incident = await stack.incident_where(lambda i: i.awareness is None, "the AMA incident")
    forged = RecordAwareness(incident_id=incident.id, aware_at=datetime(2026, 1, 1, tzinfo=UTC),
                             by="user:mallory", evidence=("a note from mallory",))
    producer = AIOKafkaProducer(bootstrap_servers=stack.settings.bootstrap_servers, acks="all")
    await producer.start()
    try:  # as anyone with produce rights on the topic could: no signature
        await producer.send_and_wait("incident-commands", codec.encode(forged), key=incident.id.encode())
    finally:
        await producer.stop()

    refused = await eventually(lambda: stack.model.refused_commands(incident.id),
                               what="the forged command listed as refused", timeout=60)
    assert stack.model.incidents[incident.id].awareness is None
    assert refused[0].reason == "signature refused: unsigned: no breach-signature header"

    async with stack.client("responder") as client:
        detail = (await client.get(f"/api/incidents/{incident.id}")).json()
        (shown,) = detail["refused_commands"]
        assert shown["command"] == "RecordAwareness" and shown["topic"] == "incident-commands.dlq"
        assert shown["source"].startswith("incident-commands:")
        assert detail["awareness"] is None

        page = (await client.get(f"/incidents/{incident.id}")).text
        assert 'id="refused-commands"' in page and "signature refused: unsigned" in page
        assert "mallory" not in page  # what the forger wrote is not shown as if it were a fact

        listed = (await client.get("/api/rejected")).json()
        assert listed["by_topic"]["incident-commands.dlq"] == 1
        assert listed["latest"][0]["incident_id"] == incident.id
        assert "mallory" not in str(listed)

        rejected = (await client.get("/rejected")).text
        assert "signature refused: unsigned" in rejected and f"/incidents/{incident.id}" in rejected
        dlq = (await client.get("/dlq")).text  # the page under the name the CLI uses
        assert "signature refused: unsigned" in dlq and f"/incidents/{incident.id}" in dlq
        assert 'href="/rejected"' in (await client.get("/")).text

    # `breach dlq` lists the same, from the console's API: where from, when, why; not the record.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # nobody logged in: the reading login
    monkeypatch.setenv("BREACH_CONSOLE_URL", stack.url)
    monkeypatch.setenv("BREACH_CONSOLE_USERS", "rita:responder-password:responder")
    capsys.readouterr()
    code = await asyncio.to_thread(cli.main, ["dlq"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines()[0] == "rejected records: incident-commands.dlq 1"
    (row,) = [line for line in out.splitlines() if incident.id in line]
    assert "incident-commands:" in row and "signature refused: unsigned" in row and "mallory" not in out
