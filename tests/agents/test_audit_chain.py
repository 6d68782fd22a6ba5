"""The audit chain on a real embedded broker: the worker writes it, ``breach audit verify``, the
register and the console's read model check it, and a forged record on incident-events breaks it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from incident.notices import reference
from streams.cli.audit import Audit, read_audit, report
from streams.cli.replay import read_topic
from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker
from streams.kafka.topics import INCIDENT_EVENTS
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.settings import ROOT, Settings
from streams.worker import running
from tests.support import Watcher, eventually, settings_for
from tests.unit.builders import directory

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def record(event_id: str, *, host: str = "acme-crm-db", confirms: bool = False, minutes: int = 0) -> bytes:
    return json.dumps({"id": event_id, "time": (NOW + timedelta(minutes=minutes)).isoformat(), "title": "Export",
                       "host": host, "confirms_breach": confirms}).encode()


def deps() -> Deps:
    return Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                mailer=RecordingMailer(), clock=lambda: NOW, retry_delay=0.01)


@pytest_asyncio.fixture
async def watcher(broker: Broker) -> AsyncIterator[Watcher]:
    async with Watcher(broker.bootstrap) as w:
        yield w


async def audited(settings: Settings, condition: Any, what: str) -> Audit:
    """The audit of incident-events once ``condition(audit)`` holds (the log is read again each look)."""
    async def look() -> Audit | None:
        audit = await read_audit(settings)
        return audit if condition(audit) else None
    found: Audit = await eventually(look, what=what)
    return found


def labels(audit: Audit) -> dict[str, str]:
    return {i: v.label for i, v in audit.verdicts()}


async def event_records(settings: Settings, incident_id: str) -> list[Any]:
    return [r async for r in read_topic(settings, INCIDENT_EVENTS)
            if r.key == incident_id.encode() and b'"version"' in (r.value or b"")]


async def breach_audit_verify(settings: Settings, *args: str) -> tuple[int, str]:
    """The CLI in a subprocess, as an operator runs it (asyncio's: the worker keeps running meanwhile)."""
    env = {**os.environ, "BREACH_BROKER_URL": settings.broker_url, "BREACH_DATA_DIR": str(settings.data_dir),
           "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "streams.cli", "audit", "verify", *args,
                                                   cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


@pytest.mark.asyncio
async def test_chains_verify_and_a_forged_event_breaks_its_incident_at_that_version(
        broker: Broker, watcher: Watcher, tmp_path: Path) -> None:
    settings = settings_for(broker.bootstrap, tmp_path)
    async with running(settings, deps()):
        await publish(broker.bootstrap, [record("a1"), record("a2", minutes=5),
                                         record("b1", host="acme-auth", confirms=True)])
        await eventually(lambda: len(watcher.model.incidents) == 2
                         and any(i.status == "drafts_delivered" for i in watcher.model.incidents.values())
                         and any(len(i.evidence) == 2 for i in watcher.model.incidents.values()),
                         what="an incident with two signals and a notified one")
        crm = next(i for i in watcher.model.incidents.values() if len(i.evidence) == 2)
        auth = next(i for i in watcher.model.incidents.values() if i.id != crm.id)
        versions = {crm.id: crm.version, auth.id: auth.version}
        audit = await audited(settings, lambda a: {i: v.versions for i, v in a.verdicts()} == versions,
                              "every event on incident-events")
        assert labels(audit) == {crm.id: "verified", auth.id: "verified"}
        assert report(audit)[1] == 0
        assert [e["audit_chain"] for e in watcher.model.register()] == ["verified", "verified"]

        # Someone with write access to the topic appends an edited copy of the second signal's event.
        original = next(r for r in await event_records(settings, crm.id) if json.loads(r.value)["data"]["version"] == 2)
        forged = json.loads(original.value)
        assert forged["type"] == "SignalAttached" and "chain" in forged  # the chain fields copied as they were
        forged["data"]["evidence"]["title"] = "Routine export"
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
        await producer.start()
        try:
            sent = await producer.send_and_wait(INCIDENT_EVENTS, json.dumps(forged).encode(), key=crm.id.encode())
        finally:
            await producer.stop()

        audit = await audited(settings, lambda a: a.checks[crm.id].events == crm.version + 1, "the forged record")
        assert labels(audit) == {crm.id: "broken at v2", auth.id: "verified"}
        broken = dict(audit.verdicts())[crm.id]
        assert (broken.kind, broken.where) == ("SignalAttached", f"{INCIDENT_EVENTS}/{sent.partition}@{sent.offset}")
        assert broken.found == forged["chain"]["hash"] and broken.expected != broken.found
        text, code = report(audit)
        assert code == 1 and len(text.splitlines()) == 3  # one line per incident, then the counts
        assert "Routine export" not in text and "acme" not in text  # ids and counts, no content

        # The operator's command says the same, and the console and the register see it too.
        code, out = await breach_audit_verify(settings, reference(crm.id))
        (line, counts) = out.splitlines()
        assert code == 1 and line.startswith(f"{reference(crm.id)} {crm.id}  BROKEN at v2  SignalAttached at "
                                              f"{INCIDENT_EVENTS}/{sent.partition}@{sent.offset}: content does not "
                                              f"give its hash (expected {broken.expected[:12]}…, found "
                                              f"{broken.found[:12]}…)")
        assert counts == "1 incident(s): 0 verified, 1 broken, 0 not chained"
        assert (await breach_audit_verify(settings, auth.id))[0] == 0
        await eventually(lambda: (c := watcher.model.chain(crm.id)) is not None and c.label == "broken at v2",
                         what="the console's read model seeing the break")
        assert {e["incident_id"]: e["audit_chain"] for e in watcher.model.register()} == {
            crm.id: "broken at v2", auth.id: "verified"}


@pytest.mark.asyncio
async def test_a_worker_taking_over_continues_the_chain_from_the_head_in_the_table(
        broker: Broker, watcher: Watcher, tmp_path: Path) -> None:
    settings = settings_for(broker.bootstrap, tmp_path)
    async with running(settings, deps()):
        await publish(broker.bootstrap, [record("t1")])
        await eventually(lambda: len(watcher.model.incidents) == 1, what="the incident")
    # The next worker recovers the incidents table (state and chain head) from its changelog.
    async with running(settings_for(broker.bootstrap, tmp_path / "second"), deps()):
        await publish(broker.bootstrap, [record("t2", minutes=5)])
        incident = await eventually(lambda: next((i for i in watcher.model.incidents.values()
                                                  if len(i.evidence) == 2), None), what="the second signal attached")
    audit = await audited(settings, lambda a: a.checks[incident.id].events == incident.version, "every event")
    verdict = dict(audit.verdicts())[incident.id]
    assert (verdict.label, verdict.versions, verdict.chained_from) == ("verified", incident.version, 1)
    tail = json.loads((await event_records(settings, incident.id))[-1].value)
    assert tail["chain"]["prev"] != "0" * 64  # named its predecessor, not a new chain's start
