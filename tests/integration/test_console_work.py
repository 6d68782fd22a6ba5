"""Working an incident in the console (console/work.py): dismiss and reopen, claim and assign, notes,
title, and the list's search — forms and API, English and French, what each role is offered.

The console runs in-process; its commands are decided by the domain's own decide() and folded
into its read model, as the incident agent would (test_console_work_broker.py sends them through
a real broker and worker)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from console.app import create_console
from console.auth import AuthConfig
from console.read_model import ReadModel
from console.users import UserStore
from incident.commands import Command, RecordAwareness
from incident.correlation import Config, correlate, entity_hash
from incident.decide import Rules, decide
from incident.errors import CommandRejected
from incident.events import CommandRejected as Rejected
from incident.notices import reference
from streams.settings import ROOT
from tests.unit.builders import T0, FakeCalendar, directory, event

NOW = T0 + timedelta(minutes=30)
RULES = Rules(directory(), FakeCalendar())
SALT = "test-salt"
PEOPLE = {"vera": "viewer", "rita": "responder", "dora": "dpo"}


@dataclass
class World:
    model: ReadModel
    suspected: str
    aware: str
    sent: list[Command]

    def client(self, app: object, name: str, lang: str = "en") -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console",  # type: ignore
                                 auth=(name, f"{name}-password"), headers={"Accept-Language": lang})


def decided(model: ReadModel, command: Command) -> None:
    """What the incident agent does with one command: its events, or its refusal, on incident-events."""
    try:
        events = decide(command, model.incidents.get(command.incident_id), now=NOW, rules=RULES)
    except CommandRejected as exc:
        model.apply(Rejected(incident_id=command.incident_id, at=NOW, command=type(command).__name__,
                             reason=exc.reason))
        return
    for e in events:
        model.apply(e)


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[World, object]]:
    model = ReadModel()
    config = Config(salt=SALT)
    _, first = correlate(None, event("s-1", asset="acme-crm-db", user="jdoe", source_ip="203.0.113.9",
                                          severity=3), config=config)
    _, second = correlate(None, event("a-1", asset="acme-auth", at=T0 + timedelta(minutes=10), severity=2),
                          config=config)
    for command in (*first, *second):
        decided(model, command)
    suspected, aware = first[0].incident_id, second[0].incident_id
    decided(model, RecordAwareness(incident_id=aware, aware_at=T0 + timedelta(minutes=10), by="user:dora",
                                   evidence=()))
    assert model.incidents[aware].clocks and model.incidents[suspected].status == "open"
    users = UserStore(tmp_path / "users.json")
    for name, role in PEOPLE.items():
        users.add(name, f"{name}-password", role)
    sent: list[Command] = []

    async def send(command: Command) -> None:
        sent.append(command)
        decided(model, command)

    app = create_console(model=model, directory=directory(), templates_dir=ROOT / "templates", users=users,
                         clock=lambda: NOW, send_command=send, auth=AuthConfig(users=users, secret="s" * 48),
                         entity_hash=functools.partial(entity_hash, salt=SALT))
    yield World(model, suspected, aware, sent), app


def _section(page: str, marker: str) -> str:
    return page.split(marker, 1)[1].split("</section>")[0] if marker in page else ""


@pytest.mark.asyncio
async def test_a_responder_dismisses_a_suspected_incident_and_it_lands_in_the_register(
        world: tuple[World, object]) -> None:
    w, app = world
    async with w.client(app, "rita") as rita:
        page = (await rita.get(f"/incidents/{w.suspected}")).text
        assert 'id="dismiss-form"' in page and "not a breach" in page
        answer = await rita.post(f"/api/incidents/{w.suspected}/dismiss",
                                 json={"outcome": "false_positive", "reason": "the nightly export, planned"})
        assert answer.status_code == 202
        detail = (await rita.get(f"/api/incidents/{w.suspected}")).json()
        assert detail["status"] == "dismissed" and detail["dismissal"]["reason"] == "the nightly export, planned"
        assert detail["timeline"][-1]["summary"] == ("Dismissed as false positive by user:rita: "
                                                     "the nightly export, planned")
        (entry,) = [e for e in (await rita.get("/api/register")).json()["register"]
                    if e["incident_id"] == w.suspected]
        assert entry["status"] == "dismissed" and entry["dismissal"]["outcome"] == "false_positive"
        assert "the nightly export, planned" in entry["not_notified_because"]
        page = (await rita.get(f"/incidents/{w.suspected}")).text
        assert 'id="dismissed"' in page and 'id="reopen-form"' in page and 'id="dismiss-form"' not in page
        assert 'id="awareness-form"' not in page  # nothing to decide on a dismissed incident until reopened
        rows = (await rita.get("/", params={"state": "dismissed"})).text.split('<tbody id="rows">')[1]
        assert reference(w.suspected) in rows and "Dismissed: false positive" in rows
        # Reopening needs a reason (the form requires it; the API says so).
        assert (await rita.post(f"/api/incidents/{w.suspected}/reopen", json={"reason": ""})).status_code == 400
        await rita.post(f"/incidents/{w.suspected}/act/reopen", data={"reason": "the export was not planned"},
                        headers={"Accept-Language": "fr"})
        assert w.model.incidents[w.suspected].dismissal is None
    async with w.client(app, "rita", "fr") as rita_fr:
        french = (await rita_fr.get(f"/incidents/{w.suspected}")).text.split('id="timeline"')[1]
        assert "Classé (faux positif) par rita : the nightly export, planned" in french
        assert "Rouvert par rita : the export was not planned" in french


@pytest.mark.asyncio
async def test_only_the_dpo_is_offered_and_allowed_to_dismiss_an_incident_the_controller_is_aware_of(
        world: tuple[World, object]) -> None:
    w, app = world
    async with w.client(app, "rita") as rita, w.client(app, "dora") as dora, w.client(app, "vera") as vera:
        page = (await rita.get(f"/incidents/{w.aware}")).text
        assert 'id="dismiss-form"' not in page and 'id="dismiss-dpo-only"' in page
        refused = await rita.post(f"/api/incidents/{w.aware}/dismiss", json={"outcome": "not_a_breach",
                                                                            "reason": "a test account"})
        assert refused.status_code == 403 and "only the DPO" in refused.json()["error"]
        form = await rita.post(f"/incidents/{w.aware}/act/dismiss", data={"outcome": "not_a_breach",
                                                                          "reason": "a test account"})
        assert form.status_code == 403 and not w.sent
        viewer = (await vera.get(f"/incidents/{w.suspected}")).text
        assert 'id="work-actions"' not in viewer and 'id="dismiss-form"' not in viewer
        assert (await vera.post(f"/api/incidents/{w.suspected}/note", json={"text": "hi"})).status_code == 403
        assert 'id="dismiss-form"' in (await dora.get(f"/incidents/{w.aware}")).text
        ok = await dora.post(f"/api/incidents/{w.aware}/dismiss", json={"outcome": "not_a_breach",
                                                                       "reason": "a test account"})
        assert ok.status_code == 202 and w.model.incidents[w.aware].status == "dismissed"
        # Its clocks read as stopped: no countdown, nothing overdue, no obligation action.
        detail = (await dora.get(f"/api/incidents/{w.aware}")).json()
        assert detail["next_deadline"] is None and detail["overdue"] is False
        assert all(d["time_left"] == "stopped: dismissed" for d in detail["deadlines"])
        page = (await dora.get(f"/incidents/{w.aware}")).text
        assert 'class="countdown"' not in page and "approve-form" not in page and "clock stopped" in page
        # The responder may not reopen it either (offered nothing, refused if asked).
        assert 'id="reopen-form"' not in (await rita.get(f"/incidents/{w.aware}")).text
        assert (await rita.post(f"/api/incidents/{w.aware}/reopen", json={"reason": "x"})).status_code == 403


@pytest.mark.asyncio
async def test_claiming_assigning_and_the_mine_filter(world: tuple[World, object]) -> None:
    w, app = world
    async with w.client(app, "rita") as rita, w.client(app, "dora") as dora:
        assert (await rita.post(f"/incidents/{w.suspected}/act/claim")).status_code == 303
        assert w.model.incidents[w.suspected].owner == "user:rita"
        mine = (await rita.get("/api/incidents", params={"mine": "1"})).json()["incidents"]
        assert [i["id"] for i in mine] == [w.suspected] and mine[0]["owner_name"] == "rita"
        assert (await dora.get("/api/incidents", params={"mine": "1"})).json()["incidents"] == []
        rows = (await rita.get("/", params={"mine": "1"})).text.split('<tbody id="rows">')[1]
        assert reference(w.suspected) in rows and reference(w.aware) not in rows and ">rita<" in rows
        # Assigned to someone who is not a console user who may act: refused.
        for nobody in ("mallory", "vera"):
            answer = await dora.post(f"/api/incidents/{w.suspected}/owner", json={"owner": nobody})
            assert answer.status_code == 403 and "console user who may act" in answer.json()["error"]
        assert (await dora.post(f"/api/incidents/{w.suspected}/owner", json={"owner": "dora"})).status_code == 202
        assert [i["id"] for i in (await dora.get("/api/incidents", params={"mine": "1"})).json()["incidents"]] \
            == [w.suspected]
        timeline = (await dora.get(f"/api/incidents/{w.suspected}")).json()["timeline"]
        assert [t["summary"] for t in timeline if t["type"] == "OwnerAssigned"] == [
            "Owner: user:rita by user:rita", "Owner: user:dora by user:dora"]
        page = (await dora.get(f"/incidents/{w.suspected}")).text
        assert 'id="claim-form"' not in page and '<option value="rita"' in page and '<option value="vera"' not in page


@pytest.mark.asyncio
async def test_a_note_is_shown_in_markdown_with_its_line_breaks_escaped_and_never_logged(
        world: tuple[World, object], capsys: pytest.CaptureFixture[str]) -> None:
    w, app = world
    text = "Called the **CRM owner**.\n<script>alert(1)</script> export was planned\n\n- [x](javascript:alert(2))"
    async with w.client(app, "rita") as rita:
        assert (await rita.post(f"/incidents/{w.suspected}/act/note", data={"text": text})).status_code == 303
        page = (await rita.get(f"/incidents/{w.suspected}")).text
        api = (await rita.get(f"/api/incidents/{w.suspected}")).json()["timeline"]
    row = page.split("data-note>")[1].split("</tr>")[0]
    assert "Note by user:rita:<div class=\"note\"><p>Called the <strong>CRM owner</strong>.<br>" in row
    assert "&lt;script&gt;alert(1)&lt;/script&gt; export was planned</p>" in row
    assert "<li>[x](javascript:alert(2))</li>" in row  # no link that runs code
    assert "<script>alert(1)" not in page
    # The API gives the note as written (its Markdown), for whoever renders it.
    assert [e["note"] for e in api if e["type"] == "NoteAdded"] == [text]
    logged = capsys.readouterr()
    assert "Called the CRM owner" not in logged.out + logged.err


@pytest.mark.asyncio
async def test_the_title_is_derived_then_set_and_the_list_shows_it(world: tuple[World, object]) -> None:
    w, app = world
    async with w.client(app, "rita") as rita:
        rows = (await rita.get("/")).text.split('<tbody id="rows">')[1]
        assert "Bulk export · acme-crm-db" in rows and "Bulk export · acme-auth" in rows
        await rita.post(f"/api/incidents/{w.suspected}/title", json={"title": "Nightly CRM export"})
        summary = next(i for i in (await rita.get("/api/incidents")).json()["incidents"] if i["id"] == w.suspected)
        assert summary["title"] == "Nightly CRM export" and summary["title_given"]
        assert "Nightly CRM export" in (await rita.get("/")).text.split('<tbody id="rows">')[1]


@pytest.mark.asyncio
async def test_search_by_reference_title_asset_user_and_ip_with_the_other_filters(
        world: tuple[World, object]) -> None:
    w, app = world

    async def found(client: httpx.AsyncClient, **params: str) -> list[str]:
        return [i["id"] for i in (await client.get("/api/incidents", params=params)).json()["incidents"]]

    async with w.client(app, "vera") as vera:
        assert await found(vera, q=reference(w.aware)) == [w.aware]
        assert await found(vera, q="ACME-AUTH") == [w.aware]
        assert await found(vera, q="bulk crm-db") == [w.suspected]
        # The incident log holds no user or IP: they are found by their keyed hash in the reasons.
        assert await found(vera, q="jdoe") == [w.suspected]
        assert await found(vera, q="203.0.113.9") == [w.suspected]
        assert await found(vera, q="203.0.113.10") == []
        assert await found(vera, q="bulk", state="open") == [w.suspected]
        assert await found(vera, q="jdoe", state="aware") == []
        page = (await vera.get("/", params={"q": "jdoe"})).text
        assert 'value="jdoe"' in page and reference(w.suspected) in page.split('<tbody id="rows">')[1]
