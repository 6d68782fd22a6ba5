"""The incident page shows the data stores the facts say were read or exported, each with the
controller's system that declares it (issue 15): a dump of the accounts' table from the CRM's server
names the accounts system, which the page and the API both show.

The console runs in-process on the domain's own decide(), as in test_console_work.py."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from console.app import create_console
from console.auth import AuthConfig
from console.read_model import ReadModel
from console.users import UserStore
from incident.commands import AttachSignal, Command, RecordAwareness
from incident.decide import Rules, decide
from incident.profiles import Directory, parse_profile
from incident.signals import Evidence
from streams.settings import ROOT
from tests.unit.builders import T0, FakeCalendar, event, profile_doc

NOW = T0 + timedelta(hours=1)


def stores_directory() -> Directory:
    doc = profile_doc()
    # Named in both languages (issue 16): each reader gets the system's name in theirs.
    doc["systems"][1] = {**doc["systems"][1], "data_stores": ["auth.users"],
                         "name": {"en": "Customer accounts", "fr": "Comptes clients"}}
    return Directory.of([parse_profile(doc, source="acme.toml")])


RULES = Rules(stores_directory(), FakeCalendar())


@pytest_asyncio.fixture
async def console(tmp_path: Path) -> AsyncIterator[tuple[object, str]]:
    model = ReadModel()
    incident_id = str(uuid.uuid4())

    def decided(command: Command) -> None:
        for e in decide(command, model.incidents.get(command.incident_id), now=NOW, rules=RULES):
            model.apply(e)

    for n, (store, at) in enumerate((("auth.users", 5), ("billing.invoices", 9))):
        signal = event(f"read-{n}", at=T0 + timedelta(minutes=at), data_store=store, action="select", records=900)
        decided(AttachSignal(incident_id=incident_id, controller="acme", correlation_key="acme",
                             evidence=Evidence.of(signal, "joined by shared host.name")))
    decided(RecordAwareness(incident_id=incident_id, aware_at=T0 + timedelta(minutes=20), by="user:dora",
                            evidence=()))
    assert model.incidents[incident_id].assessment is not None
    users = UserStore(tmp_path / "users.json")
    users.add("rita", "rita-password", "responder")

    async def send(command: Command) -> None:
        decided(command)

    app = create_console(model=model, directory=RULES.directory, templates_dir=ROOT / "templates", users=users,
                         clock=lambda: NOW, send_command=send, auth=AuthConfig(users=users, secret="s" * 48))
    yield app, incident_id


def client(app: object, lang: str = "en") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console",  # type: ignore[arg-type]
                             auth=("rita", "rita-password"), headers={"Accept-Language": lang})


@pytest.mark.asyncio
async def test_the_incident_page_lists_the_data_stores_read_and_the_system_holding_each(
        console: tuple[object, str]) -> None:
    app, incident_id = console
    async with client(app) as rita:
        detail = (await rita.get(f"/api/incidents/{incident_id}")).json()
        assert detail["data_stores"] == [{"name": "auth.users", "system": "Customer accounts"},
                                         {"name": "billing.invoices", "system": None}]
        page = (await rita.get(f"/incidents/{incident_id}")).text
        row = page.split('id="data-stores">', 1)[1].split("</dd>", 1)[0]
        assert row == ("<code>auth.users</code> (Customer accounts), "
                       "<code>billing.invoices</code> (no system declares it)")
    async with client(app, "fr") as rita_fr:
        page = (await rita_fr.get(f"/incidents/{incident_id}")).text
        assert "bases et stockages lus ou exportés" in page and "(aucun système ne la déclare)" in page
        row = page.split('id="data-stores">', 1)[1].split("</dd>", 1)[0]
        assert "<code>auth.users</code> (Comptes clients)" in row and "Customer accounts" not in page
