"""Working an incident in a real browser, over a real broker and worker (the commands signed and
decided by the incident agent): a responder searches, claims, notes and dismisses a suspected
incident; the register lists it as examined and not notified, with the reason (issue 17)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, expect

from incident.notices import reference
from tests.integration.console_stack import ConsoleStack, console_stack
from tests.integration.test_console_browser import browser, log_in

pytestmark = pytest.mark.asyncio(loop_scope="module")
__all__ = ["browser"]  # the module's chromium fixture, shared


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ConsoleStack]:
    async with console_stack(tmp_path_factory.mktemp("work-browser")) as running:
        yield running


async def test_a_responder_claims_notes_and_dismisses_a_suspected_incident_into_the_register(
        browser: Browser, stack: ConsoleStack) -> None:
    await stack.send_sample("03-ama-suspicious-activity.jsonl")
    incident = await stack.incident_where(lambda i: i.controller == "ama", "the AMA incident")
    page = await log_in(browser, stack, "responder")
    ref = reference(incident.id)

    await page.fill("#filters input[name=q]", ref)
    await page.click("#filters button[type=submit]")
    row = page.locator(f"#rows tr[data-incident='{incident.id}']")
    await expect(page.locator("#rows tr[data-incident]")).to_have_count(1)
    await expect(row.locator(".incident-title")).not_to_be_empty()
    await row.locator("a").click()

    await page.locator("#claim-form button").click()
    await expect(page.locator("#owner")).to_have_text("rita", timeout=30_000)
    await page.fill("#note-form textarea", "Asked the AMA admin.\nThe sign-ins were a penetration test.")
    await page.locator("#note-form button").click()
    note = page.locator("#timeline tr[data-note]")
    await expect(note).to_contain_text("The sign-ins were a penetration test.", timeout=30_000)

    await page.locator("#dismiss summary").click()
    await page.select_option("#dismiss-form select[name=outcome]", "false_positive")
    await page.fill("#dismiss-form input[name=reason]", "an announced penetration test (ticket PT-12)")
    await page.locator("#dismiss-form button").click()
    await expect(page.locator("#state")).to_have_text("dismissed (not notified)", timeout=30_000)
    await expect(page.locator("#dismissed")).to_contain_text("an announced penetration test (ticket PT-12)")
    await expect(page.locator("#reopen-form")).to_be_visible()

    await page.goto(stack.url + "/?mine=1")
    await expect(row.locator(".state")).to_have_text("dismissed (not notified)")
    await expect(row.locator(".owner")).to_have_text("rita")
    await page.goto(stack.url + "/register")
    entry = page.locator("tr", has_text=ref)
    await expect(entry).to_contain_text("dismissed")
    await expect(entry).to_contain_text("examined, dismissed as false positive by user:rita: an announced "
                                        "penetration test (ticket PT-12)")
    await page.context.close()
