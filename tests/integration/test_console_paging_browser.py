"""Paging in a real browser, over a real broker and worker: the AMPERE export confirms a breach,
so the incident pages the on-call team at once; a responder sees the page waiting on the
incident and acknowledges it; the incident agent records who, and the page stops repeating."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, expect

from tests.integration.console_stack import ConsoleStack, console_stack
from tests.integration.test_console_browser import browser, log_in
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")
__all__ = ["browser"]  # the module's chromium fixture, shared


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ConsoleStack]:
    async with console_stack(tmp_path_factory.mktemp("paging-browser")) as running:
        yield running


async def test_a_responder_acknowledges_the_page_of_an_aware_incident(browser: Browser, stack: ConsoleStack) -> None:
    await stack.send_sample("01-ampere-crm-export.jsonl")
    # Its severe signals may page first when they reach the incident before the confirmation does
    # (how the records fall into batches): the page of awareness is the one this test waits for.
    incident = await stack.incident_where(
        lambda i: i.controller == "ampere" and any(p.page.reason == "aware" for p in i.pages),
        "the AMPERE incident paged for awareness")
    page = await log_in(browser, stack, "responder")
    await page.goto(f"{stack.url}/incidents/{incident.id}")
    paging = page.locator("#paging")
    await expect(paging).to_have_attribute("data-waiting", "true")
    await expect(paging.locator("li.page").first).to_contain_text("Paged: aware of a breach")  # newest first
    await expect(paging.locator("li.page").first).to_contain_text("Not acknowledged.")

    await page.locator("#acknowledge-form button").click()
    await expect(page.locator("#paging")).to_have_attribute("data-waiting", "false", timeout=30_000)
    await expect(page.locator("#paging li.page").first).to_contain_text("Acknowledged by user:")
    await expect(page.locator("#acknowledge-form")).to_have_count(0)
    await expect(page.locator("#timeline")).to_contain_text("Page acknowledged by user:")
    pages = await eventually(lambda: (p := stack.model.incidents[incident.id].pages)
                             and all(page.acknowledged_by for page in p) and p,
                             what="the acknowledgement of every page decided by the incident agent")
    assert all(p.acknowledged_by.startswith("user:") and p.next_at is None for p in pages)
    await page.context.close()
