"""The console says whether each incident's audit chain verifies: a short line on the incident's
page (English and French), a field of /api/incidents/{id} and a column of the register.

The console runs in-process on a read model fed records as the projection reads them (stamped by
the agent's own streams/audit_chain.stamp); the broker path is tests/agents/test_audit_chain.py."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from console.app import create_console
from console.auth import AuthConfig
from console.read_model import ReadModel
from console.users import UserStore
from incident.chain import GENESIS
from incident.events import IncidentOpened, TriageStarted
from streams.kafka import audit_chain, codec
from streams.settings import ROOT
from tests.unit.builders import directory

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def events(incident_id: str) -> list[Any]:
    return [IncidentOpened(incident_id=incident_id, version=1, at=NOW, controller="acme", correlation_key=incident_id,
                           profile_ref=None),
            TriageStarted(incident_id=incident_id, version=2, at=NOW, by="soc", started_at=NOW)]


def chained(incident_id: str) -> list[bytes]:
    head, out = GENESIS, []
    for e in events(incident_id):
        record, head = audit_chain.stamp(codec.encode(e), head)
        out.append(record)
    return out


def tampered(incident_id: str) -> list[bytes]:
    first, second = chained(incident_id)
    tree = json.loads(second)
    tree["data"]["by"] = "nobody"
    return [first, json.dumps(tree).encode()]


@pytest_asyncio.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    model = ReadModel()
    records = [*chained("good"), *tampered("bad"), *(codec.encode(e) for e in events("old"))]
    for offset, raw in enumerate(records):
        model.apply(*audit_chain.decode(raw, f"incident-events/0@{offset}"))
    users = UserStore(tmp_path / "users.json")
    users.add("vic", "viewer-password", "viewer")
    app = create_console(model=model, directory=directory(), templates_dir=ROOT / "templates", users=users,
                         clock=lambda: NOW, auth=AuthConfig(users=users, secret="s" * 48))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console",
                                 auth=("vic", "viewer-password")) as c:
        yield c


async def chain_line(client: httpx.AsyncClient, incident_id: str, lang: str) -> str:
    page = (await client.get(f"/incidents/{incident_id}", headers={"Accept-Language": lang})).text
    return " ".join(page.split('id="audit-chain"')[1].split("</dd>")[0].split())


@pytest.mark.asyncio
async def test_the_incident_page_says_whether_its_chain_verifies_in_english_and_french(
        client: httpx.AsyncClient) -> None:
    assert await chain_line(client, "good", "en") == 'data-status="verified">verified'
    assert await chain_line(client, "good", "fr") == 'data-status="verified">vérifiée'
    assert await chain_line(client, "bad", "en") == ('data-status="broken"><strong class="warn">BROKEN at version 2'
                                                     '</strong> <span class="muted">(breach audit verify says where '
                                                     'and why)</span>')
    assert "ROMPUE à la version 2" in await chain_line(client, "bad", "fr")
    assert await chain_line(client, "old", "en") == 'data-status="not chained">not chained (events written before ' \
                                                    'the chain)'
    assert "non chaînée" in await chain_line(client, "old", "fr")


@pytest.mark.asyncio
async def test_the_api_and_the_register_carry_the_verdict(client: httpx.AsyncClient) -> None:
    detail = (await client.get("/api/incidents/bad")).json()
    assert detail["audit_chain"] == {"status": "broken", "label": "broken at v2", "chained_from": 1, "broken_at": 2,
                                     "forked_at": None}
    entries = {e["incident_id"]: e["audit_chain"] for e in (await client.get("/api/register")).json()["register"]}
    assert entries == {"good": "verified", "bad": "broken at v2", "old": "not chained"}
    rows = csv.DictReader(io.StringIO((await client.get("/api/register", params={"format": "csv"})).text))
    assert {r["incident_id"]: r["audit_chain"] for r in rows} == entries
