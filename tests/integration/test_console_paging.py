"""Paging in the console (console/paging.py): the incident page shows its pages and whether one
waits; a person who may act acknowledges it (form and API), which the timeline records and which
stops the repeats; nothing to acknowledge, or a viewer, is refused. The world is
test_console_work's: a suspected incident (severity 3: nobody paged) and an aware one (paged)."""

from __future__ import annotations

import pytest

from tests.integration.test_console_work import World, world  # noqa: F401 - the fixture


def row(page: str, incident_id: str) -> str:
    """One incident's row of the list page."""
    return page.split(f'<tr data-incident="{incident_id}"')[1].split("</tr>")[0]


@pytest.mark.asyncio
async def test_a_responder_sees_the_waiting_page_and_acknowledges_it(world: tuple[World, object]) -> None:  # noqa: F811
    w, app = world
    async with w.client(app, "rita") as rita:
        page = (await rita.get(f"/incidents/{w.aware}")).text
        section = page.split('id="paging"')[1].split("</section>")[0]
        assert 'data-waiting="true"' in section and "Paged: aware of a breach" in section
        assert "Not acknowledged." in section and "Next repeat" in section and 'id="acknowledge-form"' in section
        # The list marks it too, where the on-call team looks first; not the incident nobody was paged for.
        listed = (await rita.get("/")).text
        assert "paged, not acknowledged" in row(listed, w.aware) and "paged," not in row(listed, w.suspected)
        waiting = {i["id"]: i["paged_waiting"] for i in (await rita.get("/api/incidents")).json()["incidents"]}
        assert waiting == {w.aware: True, w.suspected: False}
        detail = (await rita.get(f"/api/incidents/{w.aware}")).json()
        (shown,) = detail["paging"]["pages"]
        assert detail["paging"]["waiting"] is True and shown["reason"] == "aware" and shown["next_at"]
        assert (await rita.post(f"/incidents/{w.aware}/act/acknowledge")).status_code == 303
        (sent,) = w.sent
        assert (type(sent).__name__, sent.by, sent.role) == ("AcknowledgePage", "user:rita", "responder")
        assert w.model.incidents[w.aware].pages[0].acknowledged_by == "user:rita"
        page = (await rita.get(f"/incidents/{w.aware}")).text
        section = page.split('id="paging"')[1].split("</section>")[0]
        assert 'data-waiting="false"' in section and "Acknowledged by user:rita" in section
        assert 'id="acknowledge-form"' not in section and "Next repeat" not in section
        assert "paged, not acknowledged" not in row((await rita.get("/")).text, w.aware)
        detail = (await rita.get(f"/api/incidents/{w.aware}")).json()
        assert detail["paging"]["waiting"] is False and detail["paging"]["pages"][0]["next_at"] is None
        assert [t["summary"] for t in detail["timeline"] if t["type"].startswith("Page")] == [
            "On-call paged (aware of a breach: awareness)", "Page acknowledged by user:rita"]
        # Acknowledged already: nothing waits, the console says so before sending anything.
        again = await rita.post(f"/api/incidents/{w.aware}/acknowledge", json={})
        assert again.status_code == 403 and again.json()["error"] == "no page is waiting to be acknowledged"
        assert len(w.sent) == 1


@pytest.mark.asyncio
async def test_nothing_to_acknowledge_and_a_viewer_are_refused(world: tuple[World, object]) -> None:  # noqa: F811
    w, app = world
    async with w.client(app, "rita") as rita, w.client(app, "vera") as vera, w.client(app, "dora", "fr") as dora:
        assert 'id="paging"' not in (await rita.get(f"/incidents/{w.suspected}")).text  # nobody was paged
        refused = await rita.post(f"/api/incidents/{w.suspected}/acknowledge", json={})
        assert refused.status_code == 403 and "no page is waiting" in refused.json()["error"]
        page = (await vera.get(f"/incidents/{w.aware}")).text
        assert 'id="paging"' in page and 'id="acknowledge-form"' not in page
        assert (await vera.post(f"/api/incidents/{w.aware}/acknowledge", json={})).status_code == 403
        french = (await dora.get(f"/incidents/{w.aware}")).text
        assert "Alerte : violation connue" in french and "Acquitter" in french
        assert (await dora.post(f"/api/incidents/{w.aware}/acknowledge", json={})).status_code == 202
        assert "Alerte acquittée par dora" in (await dora.get(f"/incidents/{w.aware}")).text
    assert [type(c).__name__ for c in w.sent] == ["AcknowledgePage"]
