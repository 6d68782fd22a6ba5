"""A merged incident's page, in English and French: it says where the breach went (with a link),
its clocks read as stopped (no countdown, no deadline shown as due, no action to take there),
and the survivor shows the deadline moved back to the earlier awareness it took over.

The console app runs in-process on a read model folded from the domain's own events (the
broker and worker are not what is under test here; test_correlation_scenarios covers them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from console.app import create_console
from console.auth import AuthConfig
from console.read_model import ReadModel
from console.users import UserStore
from incident.decide import Rules
from incident.notices import reference
from streams.settings import ROOT
from tests.unit.builders import T0, FakeCalendar, directory, merge_after_awareness

NOW = T0 + timedelta(hours=1)
RULES = Rules(directory(), FakeCalendar())


def merged_world(model: ReadModel) -> tuple[str, str]:
    """The merge after a later recorded awareness (tests.unit.builders), its events on ``model``."""
    states, older, younger, emitted = merge_after_awareness(RULES, NOW, T0 + timedelta(minutes=40))
    for e in emitted:
        model.apply(e)
    assert states[younger].clocks
    return older, younger


@pytest_asyncio.fixture
async def console(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str, str]]:
    model = ReadModel()
    older, younger = merged_world(model)
    users = UserStore(tmp_path / "users.json")
    users.add("rita", "responder-password", "responder")
    app = create_console(model=model, directory=directory(), templates_dir=ROOT / "templates", users=users,
                         clock=lambda: NOW, auth=AuthConfig(users=users, secret="s" * 48))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console",
                                 auth=("rita", "responder-password")) as client:
        yield client, older, younger


@pytest.mark.asyncio
async def test_the_merged_incidents_page_says_where_it_went_and_shows_no_running_clock(
        console: tuple[httpx.AsyncClient, str, str]) -> None:
    client, older, younger = console
    page = (await client.get(f"/incidents/{younger}", headers={"Accept-Language": "en"})).text
    banner = page.split('id="merged"')[1].split("</p>")[0]
    assert "Merged into incident" in banner and f'href="/incidents/{older}"' in banner and reference(older) in banner
    assert "Do not notify from this page" in banner
    obligations = page.split('id="obligations"')[1].split("<tbody>")[1].split("</table>")[0]
    assert "clock stopped" in obligations and "<del>" in obligations
    assert 'class="countdown"' not in page and " left" not in obligations and "overdue by" not in obligations
    # Nothing to act on here: every action is on the incident it merged into.
    assert "approve-form" not in page and "awareness-form" not in page and "facts-form" not in page
    assert "Merged into incident " + older in page.split('id="timeline"')[1]
    french = (await client.get(f"/incidents/{younger}", headers={"Accept-Language": "fr"})).text
    banner = french.split('id="merged"')[1].split("</p>")[0]
    assert "Fusionné dans l'incident" in banner or "Fusionné dans l&#39;incident" in banner
    assert "Ne notifiez pas depuis cette page" in banner and f'href="/incidents/{older}"' in banner
    assert "délai arrêté" in french and 'class="countdown"' not in french


@pytest.mark.asyncio
async def test_the_api_and_the_list_show_the_merged_incident_with_nothing_due(
        console: tuple[httpx.AsyncClient, str, str]) -> None:
    client, older, younger = console
    merged = (await client.get(f"/api/incidents/{younger}")).json()
    assert merged["status"] == "merged" and merged["merged_into"] == older
    assert merged["next_deadline"] is None and merged["overdue"] is False and merged["seconds_left"] is None
    assert merged["deadlines"] and all(not d["running"] and d["seconds_left"] is None for d in merged["deadlines"])
    survivor = (await client.get(f"/api/incidents/{older}")).json()
    assert survivor["merged_into"] is None and survivor["next_deadline"] is not None
    rows = (await client.get("/", headers={"Accept-Language": "en"})).text
    row = rows.split(f'data-incident="{younger}"')[1].split("</tr>")[0]
    assert "Merged into incident " + reference(older) in row and "countdown" not in row


@pytest.mark.asyncio
async def test_the_survivor_shows_the_earlier_awareness_and_the_deadline_moved_with_it(
        console: tuple[httpx.AsyncClient, str, str]) -> None:
    client, older, younger = console
    merged = (await client.get(f"/api/incidents/{younger}")).json()
    survivor = (await client.get(f"/api/incidents/{older}")).json()
    b_aware = datetime.fromisoformat(merged["awareness"]["aware_at"])
    assert datetime.fromisoformat(survivor["awareness"]["aware_at"]) == b_aware < T0 + timedelta(minutes=40)
    (art33,) = [d for d in survivor["deadlines"] if d["obligation"] == "art33_authority"]
    assert datetime.fromisoformat(art33["deadline"]) == (b_aware + timedelta(hours=72)).astimezone(UTC)
    timeline = [e for e in survivor["timeline"] if e["type"] in ("AwarenessAdvanced", "ClockMoved")]
    # Each clock that runs from awareness moves with it: Art. 33's, and Art. 34's (the risk is high).
    from_awareness = [d for d in survivor["deadlines"] if d["anchor"] == "awareness"]
    assert {d["obligation"] for d in from_awareness} >= {"art33_authority"}
    assert [e["type"] for e in timeline] == ["AwarenessAdvanced", *["ClockMoved"] * len(from_awareness)]
    assert f"incident {younger}, merged into this one, was aware first" in timeline[0]["summary"]
    register = (await client.get("/api/register")).json()
    (row,) = [r for r in register["register"] if r["incident_id"] == older]
    assert row["obligations"][0]["deadline"] == art33["deadline"]
    french = (await client.get(f"/incidents/{older}", headers={"Accept-Language": "fr"})).text
    assert "Prise de connaissance avancée au" in french and "avancée au" in french.split('id="timeline"')[1]
