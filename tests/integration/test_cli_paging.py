"""`breach ack`: a person logged in acknowledges an incident's pages through the console, in
their name; nothing waiting, or not logged in, is one line and exit code 2. The world is
test_cli_login's (a console on loopback; its aware incident was paged)."""

from __future__ import annotations

import pytest

from incident.commands import AcknowledgePage
from incident.notices import reference
from tests.integration.test_cli_login import World, breach, login, one_line, world  # noqa: F401 - the fixture


@pytest.mark.asyncio
async def test_breach_ack_acknowledges_in_the_persons_name(world: World, capsys: pytest.CaptureFixture[str],  # noqa: F811
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    assert "not logged in" in one_line(await breach(capsys, monkeypatch, "ack", reference(w.aware)))
    await login(w, capsys, monkeypatch, "rita")
    run = await breach(capsys, monkeypatch, "ack", reference(w.aware))
    assert run.code == 0 and "acknowledgement sent" in run.out
    assert w.sent == [AcknowledgePage(incident_id=w.aware, by="user:rita", role="responder")]
    assert w.model.incidents[w.aware].pages[0].acknowledged_by == "user:rita"
    assert "no page is waiting to be acknowledged" in one_line(await breach(capsys, monkeypatch, "ack", w.aware))
    assert "no page is waiting" in one_line(await breach(capsys, monkeypatch, "ack", w.suspected))
    assert len(w.sent) == 1
