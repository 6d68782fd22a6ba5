"""A page offers only what its reader may do (issue 17): a step the console would refuse is shown
disabled with the console's own reason, and one it would take is a form. The world is
test_console_work's, whose profile gives the authority a submission address (the sample profiles
give none: tests/integration/test_console_browser.py shows that side)."""

from __future__ import annotations

import html

import pytest

from console import refusals
from tests.integration.test_console_work import World, world  # noqa: F401 - the fixture


def actions_of(page: str) -> str:
    """The first obligation's row of actions."""
    return html.unescape(page.split('class="obligation-actions"')[1].split("</tr>")[0])


@pytest.mark.asyncio
async def test_each_reader_is_offered_what_they_may_do(world: tuple[World, object]) -> None:  # noqa: F811
    w, app = world
    async with w.client(app, "rita") as rita, w.client(app, "dora") as dora, w.client(app, "vera") as vera:
        mine = actions_of((await rita.get(f"/incidents/{w.aware}")).text)
        assert "approve-form" not in mine and 'data-step="approve" disabled' in mine
        assert refusals.APPROVE_OR_SUBMIT in mine
        theirs = actions_of((await dora.get(f"/incidents/{w.aware}")).text)
        assert "approve-form" in theirs and "unavailable" not in theirs and "why-not" not in theirs
        assert 'class="obligation-actions"' not in (await vera.get(f"/incidents/{w.aware}")).text  # reads only

        rule = w.model.incidents[w.aware].clocks[0].rule_ref
        answer = await dora.post(f"/api/incidents/{w.aware}/obligations", json={"obligation": rule,
                                                                                "action": "approve"})
        assert answer.status_code == 202
        # Approved: the DPO may record the submission, by e-mail too (this profile has the address).
        theirs = actions_of((await dora.get(f"/incidents/{w.aware}")).text)
        assert "submit-email-form" in theirs and "submit-portal-form" in theirs and "unavailable" not in theirs
        mine = actions_of((await rita.get(f"/incidents/{w.aware}")).text)
        assert "submit-email-form" not in mine and 'data-step="submit_email" disabled' in mine
        assert mine.count(refusals.APPROVE_OR_SUBMIT) == 1  # the reason once, for the three disabled steps
