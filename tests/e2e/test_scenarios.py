"""The shipped samples, end to end: real broker, real SMTP server, shipped profiles and templates."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from console.app import create_console
from console.auth import parse_users
from streams.deps import Deps
from streams.embedded.samples import jsonl_lines, publish, shift_to
from streams.embedded.services import Broker, MailCatcher, free_port
from streams.kafka.commands_out import CommandSender
from streams.settings import ROOT, Settings
from streams.worker import running
from tests.support import KEYS, Watcher, eventually, read_topic, settings_for

SAMPLES = ROOT / "deploy" / "samples"


class Stack:
    def __init__(self, settings: Settings, catcher: MailCatcher, watcher: Watcher, commands: CommandSender) -> None:
        self.settings, self.catcher, self.watcher = settings, catcher, watcher
        self.api = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_console(
                model=watcher.model, directory=Deps.production(settings).directory,
                templates_dir=settings.templates_dir, users=parse_users("dpo:secret:dpo,oncall:pw:responder"),
                clock=lambda: datetime.now(UTC), send_command=commands.send, mailbox=catcher)),
            base_url="http://console", auth=("dpo", "secret"))

    async def send_sample(self, name: str) -> int:
        lines = shift_to(jsonl_lines((SAMPLES / name).read_bytes()), datetime.now(UTC))
        return await publish(self.settings.bootstrap_servers, lines)

    async def incidents(self) -> list[dict]:  # type: ignore[type-arg]
        response = await self.api.get("/api/incidents")
        assert response.status_code == 200
        return response.json()["incidents"]  # type: ignore[no-any-return]


@asynccontextmanager
async def open_stack(broker: Broker, tmp_path: Path, **overrides: Any) -> AsyncIterator[Stack]:
    """A worker, a mail catcher, the console and a projection on ``broker``; settings overridable."""
    catcher = MailCatcher(port=free_port())
    await catcher.start()
    settings = settings_for(broker.bootstrap, tmp_path, smtp_port=catcher.port, **overrides)
    try:
        commands = CommandSender(broker.bootstrap, keys=KEYS)
        await commands.start()
        async with running(settings, Deps.production(settings)), Watcher(broker.bootstrap) as watcher:
            stack = Stack(settings, catcher, watcher, commands)
            yield stack
            await stack.api.aclose()
        await commands.stop()
    finally:
        await catcher.stop()


@pytest_asyncio.fixture
async def stack(broker: Broker, tmp_path: Path) -> AsyncIterator[Stack]:
    async with open_stack(broker, tmp_path) as opened:
        yield opened


@pytest.mark.asyncio
async def test_a_confirmed_exfiltration_gets_a_72h_deadline_and_rendered_notices(stack: Stack) -> None:
    assert await stack.send_sample("01-ampere-crm-export.jsonl") == 4
    rows = await eventually(lambda: [i for i in stack.watcher.model.incidents.values()
                                     if i.status == "drafts_delivered"],
                            what="the AMPERE incident notified")
    (incident,) = rows
    detail = (await stack.api.get(f"/api/incidents/{incident.id}")).json()
    # Contact and marketing-behaviour data of 48k people taken by an attacker: ENISA 3.0, high.
    assert detail["controller_name"] == "AMPERE SAS" and detail["risk"] == "high"
    assert detail["signal_count"] == 3  # the repeated event id was ignored
    deadline, art34 = detail["deadlines"]  # the 72 h first; Art. 34 "without undue delay" after it
    assert (art34["legal_ref"], art34["timed"]) == ("GDPR Art. 34(1)", False)
    aware_at = datetime.fromisoformat(detail["awareness"]["aware_at"])
    assert datetime.fromisoformat(deadline["deadline"]) - aware_at == timedelta(hours=72)
    assert deadline["deadline"].endswith("+00:00") and deadline["legal_ref"] == "GDPR Art. 33(1)"

    assert len(stack.catcher.messages) == 2  # authority notification and data-subject notice drafts
    (mail,) = [m for m in stack.catcher.messages if m.summary()["notice_id"] == incident.notices[0].notice_id]
    message = mail.parsed()
    assert mail.recipients == ["dpo@ampere.cars"]
    assert str(message["Subject"]).startswith("[PROJET à valider par le DPO]")
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "AMPERE SAS" in html and "AMPERE SAS" in text
    assert ("48" in text and "novembre" in text) or "décembre" in text  # volume and a French date
    listed = (await stack.api.get("/api/mail")).json()["messages"]
    assert {m["notice_id"] for m in listed} == {n.notice_id for n in incident.notices}


@pytest.mark.asyncio
async def test_a_wazuh_compromise_is_high_risk_and_drafts_both_notices(stack: Stack) -> None:
    await stack.send_sample("02-atometrics-wazuh.jsonl")
    await eventually(lambda: [i for i in stack.watcher.model.incidents.values() if i.status == "drafts_delivered"],
                     what="the Atometrics incident notified")
    (row,) = await stack.incidents()
    assert (row["controller"], row["risk"], row["status"]) == ("atometrics", "high", "drafts_delivered")
    assert len(stack.catcher.messages) == 2
    kinds = {n["kind"] for n in row["notices"]}
    assert kinds == {"authority_notification", "data_subject_notice"}


@pytest.mark.asyncio
async def test_rejected_samples_are_dead_lettered_with_their_reasons(stack: Stack) -> None:
    await stack.send_sample("09-rejected.jsonl")
    letters = await read_topic(stack.settings.bootstrap_servers, "security-events.dlq", 2)
    reasons = sorted(json.loads(r.value)["reason"] for r in letters)
    assert reasons == ["field 'time' has no UTC offset", "not JSON: Expecting value: line 1 column 1 (char 0)"]
    await eventually(lambda: sum(stack.watcher.model.dead_letters.values()) == 2, what="the console's DLQ count")


@pytest.mark.asyncio
async def test_the_console_refuses_anonymous_requests(stack: Stack) -> None:
    for path in ("/api/incidents", "/api/mail"):
        response = await stack.api.get(path, auth=None)
        assert response.status_code == 401 and "Bearer" in response.headers["www-authenticate"]
    for path in ("/", "/incidents/x"):  # people are sent to the login page
        response = await stack.api.get(path, auth=None)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert (await stack.api.get("/api/incidents", auth=("dpo", "wrong"))).status_code == 401


@pytest.mark.asyncio
async def test_a_person_records_awareness_and_the_clock_runs_from_their_time(stack: Stack) -> None:
    await stack.send_sample("03-ama-suspicious-activity.jsonl")
    (incident,) = await eventually(lambda: list(stack.watcher.model.incidents.values()), what="the AMA incident")
    assert incident.status == "open" and not incident.clocks
    url = f"/api/incidents/{incident.id}/awareness"
    assert (await stack.api.post(url, content="aware_at=now")).status_code == 415
    assert (await stack.api.post(url, json={"aware_at": "2026-11-22T09:00:00"})).status_code == 400
    aware_at = datetime.now(UTC) - timedelta(hours=2)
    response = await stack.api.post(url, json={"aware_at": aware_at.isoformat(), "evidence": ["ama-soc-77"]})
    assert response.status_code == 202
    aware = await eventually(lambda: stack.watcher.model.incidents[incident.id].clocks, what="the clock started")
    assert aware[0].deadline == aware_at + timedelta(hours=72)
    assert stack.watcher.model.incidents[incident.id].awareness.by == "user:dpo"
    # Said twice: the second is refused, and the refusal is on the record.
    await stack.api.post(url, json={})
    await eventually(lambda: stack.watcher.model.rejected, what="the refusal recorded")
    assert "already recorded" in stack.watcher.model.rejected[0].reason


@pytest.mark.asyncio
async def test_responders_correct_facts_and_the_dpo_overrides_with_a_justification(stack: Stack) -> None:
    await stack.send_sample("01-ampere-crm-export.jsonl")
    (incident,) = await eventually(lambda: [i for i in stack.watcher.model.incidents.values() if i.assessment],
                                   what="the AMPERE incident assessed")
    base = f"/api/incidents/{incident.id}"
    # The export turns out to hold only hashed, salted addresses nobody can reverse: re-assessed.
    response = await stack.api.post(f"{base}/facts", json={
        "changes": {"encrypted": True, "key_compromised": False}, "reason": "export held salted hashes only"})
    assert response.status_code == 202
    reassessed = await eventually(lambda: (i := stack.watcher.model.incidents[incident.id]).version > incident.version
                                  and i.assessment.level == "unlikely" and i, what="the re-assessment")
    assert reassessed.corrections == {"encrypted": True, "key_compromised": False}
    timeline = [type(e).__name__ for e in stack.watcher.model.timeline[incident.id]]
    corrected = timeline.index("FactsCorrected")  # deliveries may interleave; the re-assessment follows it
    assert timeline[corrected + 1] == "RiskAssessed"

    # The DPO disagrees and says why; the override is an event of its own.
    response = await stack.api.post(f"{base}/override", json={"level": "risk",
                                                              "justification": "Hash algorithm not verified yet."})
    assert response.status_code == 202
    await eventually(lambda: stack.watcher.model.incidents[incident.id].override, what="the override")
    detail = (await stack.api.get(base)).json()
    assert detail["risk"] == "risk" and detail["override"]["by"] == "user:dpo"
    page = (await stack.api.get(f"/incidents/{incident.id}")).text
    assert "Hash algorithm not verified yet." in page and "ENISA severity" in page

    # A responder may not override: the console refuses (and so would the incident).
    responder = await stack.api.post(f"{base}/override", json={"level": "unlikely", "justification": "x" * 20},
                                     auth=("oncall", "pw"))
    assert responder.status_code == 403 and "only the DPO" in responder.json()["error"]


@pytest.mark.asyncio
async def test_the_dpo_approves_and_a_portal_submission_is_recorded(stack: Stack) -> None:
    await stack.send_sample("02-atometrics-wazuh.jsonl")
    (incident,) = await eventually(lambda: [i for i in stack.watcher.model.incidents.values() if i.clocks],
                                   what="the Atometrics clock")
    url, rule = f"/api/incidents/{incident.id}/obligations", incident.clocks[0].rule_ref
    as_responder = await stack.api.post(url, json={"obligation": rule, "action": "approve"}, auth=("oncall", "pw"))
    assert as_responder.status_code == 403 and "only the DPO" in as_responder.json()["error"]
    assert (await stack.api.post(url, json={"obligation": rule, "action": "approve"})).status_code == 202
    submitted = await stack.api.post(url, json={"obligation": rule, "action": "submit", "channel": "portal",
                                                "reference": "CNIL-NOTIF-2026-0042"})
    assert submitted.status_code == 202
    await eventually(lambda: (o := stack.watcher.model.incidents[incident.id].obligation(rule)) is not None
                     and o.status == "submitted", what="the submission recorded")
    deadline = (await stack.api.get(f"/api/incidents/{incident.id}")).json()["deadlines"][0]
    assert deadline["rule_ref"] == rule and deadline["workflow"]["status"] == "submitted"
    assert deadline["workflow"]["reference"] == "CNIL-NOTIF-2026-0042"
    assert deadline["workflow"]["late"] is False
