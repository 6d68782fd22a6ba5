"""One source for clock text (issue 17): `breach incidents`, the list page and the API say what
incident/standing.py says. A submitted obligation no longer counts down in the CLI ("71 h 55 min
left" was printed for it), and a page and the CLI agree word for word. The world is
test_cli_login's (a console on loopback; commands decided in process)."""

from __future__ import annotations

import json

import httpx
import pytest

from incident.notices import reference
from tests.integration.test_cli_login import World, breach, login, world  # noqa: F401 - the fixture


def row(out: str, incident_id: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(reference(incident_id)))


@pytest.mark.asyncio
async def test_the_cli_and_the_list_say_the_same_once_the_authority_is_notified(
        world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    w = world
    await login(w, capsys, monkeypatch, "dora")
    before = await breach(capsys, monkeypatch, "incidents")
    assert before.code == 0, before.err
    assert row(before.out, w.aware).endswith(" left")
    assert row(before.out, w.suspected).endswith("no clock (awareness not recorded)")

    token = json.loads((w.config / "breach" / "credentials.json").read_text(encoding="utf-8"))["token"]
    async with httpx.AsyncClient(base_url=w.url, headers={"Authorization": f"Bearer {token}"}) as api:
        rule = w.model.incidents[w.aware].clocks[0].rule_ref
        for body in ({"action": "approve"}, {"action": "submit", "channel": "portal", "reference": "CNIL-9"}):
            answer = await api.post(f"/api/incidents/{w.aware}/obligations", json={"obligation": rule, **body})
            assert answer.status_code == 202, answer.text
        listed = {i["id"]: i for i in (await api.get("/api/incidents")).json()["incidents"]}
        page = (await api.get("/")).text

    after = await breach(capsys, monkeypatch, "incidents")
    line = row(after.out, w.aware)
    # Art. 33 submitted; the high risk's Art. 34 still runs, without a deadline: said, not "no clock".
    assert "left" not in line.replace("undue", "") and line.endswith("GDPR Art. 34(1)  without undue delay")
    shown = listed[w.aware]
    assert shown["standing"]["text"] == "without undue delay" and shown["standing"]["legal_ref"] == "GDPR Art. 34(1)"
    art33 = next(d for d in shown["deadlines"] if d["rule_ref"] == rule)
    assert art33["time_left"] == "settled" and art33["state"] == "settled"
    assert shown["overdue"] is False and shown["next_deadline"] is None
    listed_row = page.split(f'<tr data-incident="{w.aware}"')[1].split("</tr>")[0]
    assert 'data-standing="without_undue_delay"' in listed_row and "no clock" not in listed_row
