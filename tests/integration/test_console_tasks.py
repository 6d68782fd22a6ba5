"""Playbook tasks, tags and merging by hand in the console (console/tasks.py): forms and API,
progress in the list and on the page, the tag filter and search, what each role may do.

The console runs in-process; its commands are decided by the domain's decide() (and a merge's
reactions, as the incident agent sends them) and folded into its read model."""

from __future__ import annotations

import re
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
from incident.correlation import correlate
from incident.decide import Rules, decide, reactions
from incident.errors import CommandRejected
from incident.events import CommandRejected as Rejected
from incident.model import fold
from incident.notices import reference
from incident.profiles import Directory, parse_profile
from streams.settings import ROOT
from tests.unit.builders import T0, FakeCalendar, event, profile_doc
from tests.unit.test_tasks import PLAYBOOK

NOW = T0 + timedelta(minutes=30)
DIRECTORY = Directory.of([parse_profile(profile_doc(playbooks=[PLAYBOOK]), source="acme.toml")])
RULES = Rules(DIRECTORY, FakeCalendar())
PEOPLE = {"vera": "viewer", "rita": "responder", "dora": "dpo"}


@dataclass
class World:
    model: ReadModel
    first: str
    second: str
    aware: str

    def client(self, app: object, name: str, lang: str = "en") -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console",  # type: ignore
                                 auth=(name, f"{name}-password"), headers={"Accept-Language": lang})


def decided(model: ReadModel, command: Command) -> None:
    """What the incident agent does: the events (or the refusal), then the commands they cause."""
    state = model.incidents.get(command.incident_id)
    try:
        events = decide(command, state, now=NOW, rules=RULES)
    except CommandRejected as exc:
        model.apply(Rejected(incident_id=command.incident_id, at=NOW, command=type(command).__name__,
                             reason=exc.reason))
        return
    for e in events:
        model.apply(e)
    for follow_up in reactions(command, fold(state, events) if events else state, events):
        decided(model, follow_up)


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[World, object]]:
    model = ReadModel()
    ids = []
    for n, asset in enumerate(("acme-crm-db", "acme-auth", "acme-crm-db")):
        _, commands = correlate(None, event(f"s-{n}", asset=asset, at=T0 + timedelta(days=3 * n), severity=3))
        for command in commands:
            decided(model, command)
        ids.append(commands[0].incident_id)
    decided(model, RecordAwareness(incident_id=ids[2], aware_at=T0, by="user:dora", evidence=()))
    users = UserStore(tmp_path / "users.json")
    for name, role in PEOPLE.items():
        users.add(name, f"{name}-password", role)

    async def send(command: Command) -> None:
        decided(model, command)

    app = create_console(model=model, directory=DIRECTORY, templates_dir=ROOT / "templates", users=users,
                         clock=lambda: NOW, send_command=send, auth=AuthConfig(users=users, secret="s" * 48))
    yield World(model, ids[0], ids[1], ids[2]), app


def rows(page: str) -> str:
    return page.split('<tbody id="rows">')[1]


@pytest.mark.asyncio
async def test_a_responder_checks_playbook_tasks_and_the_list_shows_the_progress(
        world: tuple[World, object]) -> None:
    w, app = world
    async with w.client(app, "rita") as rita:
        detail = (await rita.get(f"/api/incidents/{w.first}")).json()
        assert [t["key"] for t in detail["task_list"]] == ["gdpr-breach/contain", "gdpr-breach/preserve"]
        assert detail["tasks"] == {"done": 0, "total": 2}
        page = (await rita.get(f"/incidents/{w.first}")).text
        assert 'data-task="gdpr-breach/contain" class="task-todo"' in page and "Mark done" in page
        assert (await rita.post(f"/incidents/{w.first}/act/task",
                                data={"task": "gdpr-breach/contain", "done": "true"})).status_code == 303
        assert (await rita.post(f"/api/incidents/{w.first}/task", json={"task": "gdpr-breach/preserve"})).status_code \
            == 202
        detail = (await rita.get(f"/api/incidents/{w.first}")).json()
        assert detail["tasks"] == {"done": 2, "total": 2}
        assert detail["task_list"][0]["done_by"] == "user:rita"
        # The timeline names the task as the checklist does, not by its key.
        assert "Task “Contain” done, checked by user:rita" in [t["summary"] for t in detail["timeline"]]
        assert 'data-done="2" data-total="2">Tasks 2/2' in rows((await rita.get("/")).text)
        # Unchecked again, by name.
        await rita.post(f"/api/incidents/{w.first}/task", json={"task": "gdpr-breach/contain", "done": False})
        assert (await rita.get(f"/api/incidents/{w.first}")).json()["tasks"] == {"done": 1, "total": 2}
        # The aware incident has the awareness and risk tasks too; the timeline says which, in French too.
        aware = (await rita.get(f"/api/incidents/{w.aware}")).json()
        assert [t["key"] for t in aware["task_list"]][2:] == ["gdpr-breach/assess", "gdpr-breach/notify-authority"]
        answer = await rita.post(f"/api/incidents/{w.first}/task", json={"task": "x/y"})
        assert answer.status_code == 403 and answer.json()["error"] == "no task x/y on this incident"
    async with w.client(app, "rita", "fr") as rita_fr:
        page = (await rita_fr.get(f"/incidents/{w.first}")).text
        assert "Contenir" in page and "Tâche « Contenir » décochée par rita" in page
        refused = await rita_fr.post(f"/incidents/{w.first}/act/task", data={"task": "x/y"})
        assert refused.status_code == 403 and "aucune tâche x/y sur cet incident" in refused.text


@pytest.mark.asyncio
async def test_a_viewer_sees_tasks_and_tags_and_may_change_neither(world: tuple[World, object]) -> None:
    w, app = world
    async with w.client(app, "vera") as vera:
        page = (await vera.get(f"/incidents/{w.first}")).text
        assert "Preserve evidence" in page and "Mark done" not in page and 'id="tag-form"' not in page
        for action, body in (("task", {"task": "gdpr-breach/contain"}), ("tag", {"tag": "x"}),
                             ("link", {"into": w.second, "reason": "same"})):
            answer = await vera.post(f"/api/incidents/{w.first}/{action}", json=body)
            assert answer.status_code == 403 and "may read, not act" in answer.json()["error"]
    assert not w.model.incidents[w.first].tasks[0].done and not w.model.incidents[w.first].tags


@pytest.mark.asyncio
async def test_tags_are_shown_filtered_and_searched(world: tuple[World, object]) -> None:
    w, app = world

    async def found(client: httpx.AsyncClient, **params: str) -> list[str]:
        return [i["id"] for i in (await client.get("/api/incidents", params=params)).json()["incidents"]]

    async with w.client(app, "rita") as rita:
        assert (await rita.post(f"/incidents/{w.first}/act/tag", data={"tag": "Phishing"})).status_code == 303
        await rita.post(f"/api/incidents/{w.second}/tag", json={"tag": "vip"})
        assert w.model.incidents[w.first].tags == ("phishing",)
        assert await found(rita, tag="phishing") == [w.first] and await found(rita, tag="PHISHING") == [w.first]
        assert await found(rita, q="phishing") == [w.first]
        assert await found(rita, tag="vip", state="aware") == []
        listed = rows((await rita.get("/", params={"tag": "phishing"})).text)
        assert reference(w.first) in listed and reference(w.second) not in listed
        assert 'class="tag" href="/?tag=phishing"' in listed
        await rita.post(f"/incidents/{w.first}/act/untag", data={"tag": "phishing"})
        assert await found(rita, tag="phishing") == []
        # Not a tag: the console says so at once (the incident would refuse it too, later).
        refused = await rita.post(f"/api/incidents/{w.first}/tag", json={"tag": "two words"})
        assert refused.status_code == 403 and refused.json()["error"].startswith("a tag is one word")


@pytest.mark.asyncio
async def test_a_person_merges_two_incidents_as_the_correlator_does(world: tuple[World, object]) -> None:
    w, app = world
    async with w.client(app, "rita") as rita, w.client(app, "dora") as dora:
        for into, reason in (("BR-NOPE", "no incident to merge into"), (w.first, "cannot merge into itself")):
            answer = await rita.post(f"/api/incidents/{w.first}/link", json={"into": into, "reason": "same"})
            assert answer.status_code == 403 and reason in answer.json()["error"]
        # The aware incident's clocks would move: the DPO's decision.
        answer = await rita.post(f"/api/incidents/{w.first}/link", json={"into": w.aware, "reason": "same"})
        assert answer.status_code == 403 and "only the DPO may merge" in answer.json()["error"]
        # By reference, in any case, with the reason.
        answer = await rita.post(f"/incidents/{w.first}/act/link",
                                 data={"into": reference(w.second).lower(), "reason": "one phishing campaign"})
        assert answer.status_code == 303
        merged, survivor = w.model.incidents[w.first], w.model.incidents[w.second]
        assert merged.merged_into == w.second and merged.status == "merged"
        assert merged.merge_reason == "linked by hand by user:rita: one phishing campaign"
        assert survivor.signal_count == 2
        assert any(e.reason.startswith(f"merged from incident {w.first}: linked by hand by user:rita")
                   for e in w.model.evidence(w.second))
        page = (await rita.get(f"/incidents/{w.first}")).text
        assert 'id="merged"' in page and 'id="link-form"' not in page
        # Into a merged incident: pointed at its survivor.
        answer = await dora.post(f"/api/incidents/{w.aware}/link", json={"into": w.first, "reason": "same"})
        assert answer.status_code == 403 and f"merged into {reference(w.second)}" in answer.json()["error"]
        assert (await dora.post(f"/api/incidents/{w.aware}/link",
                                json={"into": w.second, "reason": "same attacker"})).status_code == 202
        assert w.model.incidents[w.aware].merged_into == w.second
        assert w.model.incidents[w.second].awareness is not None  # the awareness went with it


@pytest.mark.asyncio
async def test_the_incident_report_in_markdown_tells_what_happened_escaped(world: tuple[World, object]) -> None:
    w, app = world
    async with w.client(app, "rita") as rita:
        await rita.post(f"/api/incidents/{w.aware}/task", json={"task": "gdpr-breach/contain"})
        await rita.post(f"/api/incidents/{w.aware}/tag", json={"tag": "crm"})
        await rita.post(f"/api/incidents/{w.aware}/note", json={"text": "<img src=x onerror=alert(1)> | # not a title"})
        assert 'href="/incidents/' + w.aware + '/report.md"' in (await rita.get(f"/incidents/{w.aware}")).text
        answer = await rita.get(f"/incidents/{w.aware}/report.md")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/markdown")
        assert f'filename="{reference(w.aware)}.md"' in answer.headers["content-disposition"]
        text = answer.text
        assert text.startswith(f"# Incident report {reference(w.aware)}\n")
        for heading in ("## Summary", "## Decisions", "## Obligations", "## Tasks", "## Evidence", "## Timeline"):
            assert heading in text
        assert "| Owner | nobody |" in text and "| Tags | crm |" in text
        assert "GDPR Art. 33(1) (authority)" in text and "- [x] Contain — done by user:rita" in text
        assert "- [ ] Assess the risk" in text
        assert "\\<img src=x onerror=alert(1)\\> \\| \\# not a title" in text
        assert not re.search(r"(?<!\\)<", text)  # every < escaped: a viewer renders no HTML
        # The same as a page to print: escaped by the templates.
        page = (await rita.get(f"/incidents/{w.aware}/report")).text
        assert f"<h1>Incident report {reference(w.aware)}</h1>" in page and 'id="report-tasks"' in page
        assert "☑ Contain — done by user:rita" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
        assert "<img src=x" not in page
    async with w.client(app, "vera", "fr") as vera:
        french = (await vera.get(f"/incidents/{w.aware}/report.md")).text
        assert french.startswith("# Rapport d'incident") and "## Chronologie" in french and "Contenir" in french
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as nobody:
        assert (await nobody.get(f"/incidents/{w.aware}/report.md")).status_code in (302, 303, 401)
