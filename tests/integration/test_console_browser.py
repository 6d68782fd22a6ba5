"""The console in a real browser: Debian's chromium driven by Playwright (PyPI), against the console
served by uvicorn over a real broker, worker and SMTP catcher. `make test` installs chromium.

Set BREACH_SCREENSHOTS=docs/screenshots to refresh the README's screenshots from this run.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.integration.console_stack import PEOPLE, ConsoleStack, console_stack

pytestmark = pytest.mark.asyncio(loop_scope="module")
CHROMIUM = "/usr/bin/chromium"
# research/runtime.md §6. Playwright gives every launch a fresh, temporary user-data-dir itself
# (it refuses a --user-data-dir argument), and --headless comes with headless=True.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
# The console runs on a real stack (broker, workers, catcher) that shares two cores with the rest of
# the suite in CI: even a page rendered from memory can take longer than expect's 5 s default there.
# Steps that wait for Kafka round-trips or live updates say their own, longer timeouts.
expect.set_options(timeout=15_000)
COUNTDOWN = re.compile(r"^\d+ h \d\d min \d\d s (left|restant)$|^(overdue by|en retard de) \d+ h")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ConsoleStack]:
    async with console_stack(tmp_path_factory.mktemp("browser")) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    assert Path(CHROMIUM).exists(), "chromium is missing: `make test` installs it (apt-get install chromium)"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        await launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("BREACH_SCREENSHOTS")
    return Path(target) if target else tmp_path_factory.mktemp("screenshots")


async def screenshot(page: Page, shots: Path, name: str) -> None:
    path = shots / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000, f"{name}: an empty screenshot"


async def forge(page: Page, incident_id: str, fields: dict[str, str]) -> None:
    """Post an action's form the page does not offer, with the session's CSRF token, as a person
    crafting it by hand would."""
    await page.evaluate("""([action, fields]) => {
        const form = document.createElement("form");
        form.method = "post";
        form.action = action;
        const token = document.querySelector("input[name=csrf_token]").value;
        for (const [name, value] of Object.entries({...fields, csrf_token: token})) {
            const input = document.createElement("input");
            input.type = "hidden"; input.name = name; input.value = value;
            form.appendChild(input);
        }
        document.body.appendChild(form);
        form.submit();
    }""", [f"/incidents/{incident_id}/act/obligations", fields])
    await page.wait_for_load_state()


async def log_in(browser: Browser, stack: ConsoleStack, role: str, locale: str = "en-GB") -> Page:
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale=locale,
                                        timezone_id="Europe/Paris")
    page = await context.new_page()
    await page.goto(stack.url + "/")
    await expect(page).to_have_url(re.compile(r"/login\?next=/$"))  # nobody gets in without logging in
    name, password = PEOPLE[role]
    await page.fill("input[name=username]", name)
    await page.fill("input[name=password]", password)
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("#whoami")).to_have_text(f"{name} ({role})")
    return page


async def test_a_dpo_sees_an_incident_arrive_live_approves_and_records_the_submission(
        browser: Browser, stack: ConsoleStack, shots: Path) -> None:
    page = await log_in(browser, stack, "dpo")
    await screenshot(page, shots, "01-empty-list")
    await expect(page.locator("body")).to_have_attribute("data-live", "1")  # the SSE stream is open
    await page.evaluate("window.notReloaded = true")

    await stack.send_sample("01-ampere-crm-export.jsonl")
    row = page.locator("#rows tr", has_text="AMPERE SAS")
    await expect(row).to_be_visible(timeout=60_000)
    await expect(row.locator(".state")).to_have_text("drafts delivered", timeout=60_000)
    assert await page.evaluate("window.notReloaded === true"), "the row arrived without a page reload"
    countdown = row.locator(".countdown")
    first = await countdown.inner_text()
    assert COUNTDOWN.match(first), first
    await expect(countdown).not_to_have_text(first, timeout=5_000)  # it runs, second by second
    await screenshot(page, shots, "02-incident-list")

    await row.locator("a").click()
    await expect(page.locator("#state")).to_have_text("drafts delivered")
    obligation = page.locator("#obligations tbody tr[data-obligation]").first
    await expect(obligation.locator("time[data-local]")).to_contain_text("Europe/Paris")  # the reader's zone
    await expect(obligation).to_contain_text("UTC")
    await expect(page.locator("#factors tbody tr").first).to_be_visible()
    await expect(page.locator("#evidence tbody tr")).to_have_count(3)
    await screenshot(page, shots, "03-incident-detail")

    preview = page.locator("#notices a").first
    await preview.click()
    await expect(page.locator("#notice-subject")).to_contain_text("[PROJET")
    await screenshot(page, shots, "04-notice-preview")
    await page.go_back()

    await page.locator(".approve-form button").first.click()
    await expect(page.locator("#flash")).to_be_visible(timeout=30_000)  # after the command is on Kafka
    await expect(obligation.locator(".status")).to_have_text("approved", timeout=30_000)  # live, no reload
    # The sample profiles give the authority no submission address: no e-mail submission to offer.
    await expect(page.locator(".submit-email-form")).to_have_count(0)
    await expect(page.locator("button.unavailable[data-step=submit_email]").first).to_be_disabled()
    await expect(page.locator(".obligation-actions .why-not").first).to_contain_text("no submission address")
    await page.locator(".submit-portal-form input[name=reference]").first.fill("CNIL-NOTIF-2026-0042")
    await page.locator(".submit-portal-form button").first.click()
    await expect(page.locator("#state")).to_have_text("authority notified", timeout=30_000)
    await expect(obligation).to_contain_text("CNIL-NOTIF-2026-0042")
    timeline = page.locator("#timeline")
    await expect(timeline).to_contain_text("approve by user:dora")
    await expect(timeline).to_contain_text("submit by user:dora")
    await screenshot(page, shots, "05-incident-submitted")

    await page.goto(stack.url + "/register")
    await expect(page.locator("#register tbody tr")).to_have_count(1)
    await screenshot(page, shots, "06-register")
    await page.goto(stack.url + "/mail")
    await expect(page.locator("#mail tbody tr")).to_have_count(2)
    await screenshot(page, shots, "07-mail-catcher")
    await page.context.close()


async def test_a_responder_sees_the_approval_refused(browser: Browser, stack: ConsoleStack, shots: Path) -> None:
    await stack.send_sample("02-atometrics-wazuh.jsonl")
    incident = await stack.incident_where(lambda i: i.controller == "atometrics" and i.notices,
                                          "the Atometrics incident")
    page = await log_in(browser, stack, "responder", locale="fr-FR")
    await expect(page.locator("h1")).to_have_text("Incidents")
    await expect(page.locator("#incidents th").nth(1)).to_have_text("Responsable de traitement")  # French UI
    await page.goto(f"{stack.url}/incidents/{incident.id}")
    await expect(page.locator("#override-form")).to_have_count(0)  # no override form for a responder
    # Approving is the DPO's: not offered, but shown disabled with why, in the reader's language.
    await expect(page.locator(".approve-form")).to_have_count(0)
    await expect(page.locator("button.unavailable[data-step=approve]").first).to_be_disabled()
    await expect(page.locator(".obligation-actions .why-not").first).to_have_text(
        "seul le DPO approuve ou transmet une notification")
    # A forged form is still refused by the console, in the same words.
    await forge(page, incident.id, {"obligation": incident.obligations[0].rule_ref, "action": "approve"})
    await expect(page.locator("#refused")).to_contain_text("seul le DPO approuve ou transmet une notification")
    await screenshot(page, shots, "08-refused-for-a-responder")
    assert stack.model.incidents[incident.id].obligations[0].status == "running"

    # Someone else changes the incident while this responder types: their text stays, a banner says so.
    await page.goto(f"{stack.url}/incidents/{incident.id}")
    await expect(page.locator("body")).to_have_attribute("data-live", "1")
    await page.fill("#facts-form textarea", '{"encrypted": true}')
    async with stack.client("dpo") as api:
        sent = await api.post(f"/api/incidents/{incident.id}/classification", json={"classification": "major"})
        assert sent.status_code == 202
    await expect(page.locator("#stale")).to_be_visible(timeout=30_000)
    await expect(page.locator("#facts-form textarea")).to_have_value('{"encrypted": true}')

    # A form opened but not typed in yet stays open while the page refreshes itself live.
    await page.goto(f"{stack.url}/incidents/{incident.id}")
    await expect(page.locator("body")).to_have_attribute("data-live", "1")
    await page.locator("#link summary").click()
    await expect(page.locator("#link")).to_have_attribute("open", "")
    async with stack.client("dpo") as api:
        assert (await api.post(f"/api/incidents/{incident.id}/tag", json={"tag": "live-refresh"})).status_code == 202
    await expect(page.locator("#tags")).to_contain_text("live-refresh", timeout=30_000)  # refreshed, not reloaded
    await expect(page.locator("#stale")).to_be_hidden()
    await expect(page.locator("#link")).to_have_attribute("open", "")
    await page.context.close()


async def test_a_dpo_takes_a_suspected_incident_from_opened_to_authority_notified(
        browser: Browser, stack: ConsoleStack) -> None:
    """issue 7's Done-when, in the browser: the incident arrives live as "opened"; awareness recorded,
    the notification approved and its submission recorded, it reads "authority notified"."""
    page = await log_in(browser, stack, "dpo")
    await expect(page.locator("body")).to_have_attribute("data-live", "1")
    await stack.send_sample("03-ama-suspicious-activity.jsonl")
    incident = await stack.incident_where(lambda i: i.controller == "ama", "the AMA incident")
    row = page.locator(f"#rows tr[data-incident='{incident.id}']")
    await expect(row.locator(".state")).to_have_text("opened", timeout=60_000)  # arrived live
    await expect(row.locator(".countdown")).to_have_count(0)  # no clock before awareness

    await row.locator("a").click()
    await expect(page.locator("#state")).to_have_text("opened")
    await page.locator("#awareness-form button[type=submit]").click()
    obligation = page.locator("#obligations tbody tr[data-obligation]").first
    await expect(obligation.locator(".countdown")).to_be_visible(timeout=60_000)  # the 72 hours run
    await page.locator(".approve-form button").first.click()
    await expect(obligation.locator(".status")).to_have_text("approved", timeout=30_000)
    await page.locator(".submit-portal-form input[name=reference]").first.fill("CNIL-NOTIF-2026-0043")
    await page.locator(".submit-portal-form button").first.click()
    await expect(page.locator("#state")).to_have_text("authority notified", timeout=30_000)
    await page.goto(stack.url + "/")
    await expect(row.locator(".state")).to_have_text("authority notified")
    await page.context.close()


async def test_the_dpo_imports_the_people_affected_previews_approves_and_watches_delivery(
        browser: Browser, stack: ConsoleStack, shots: Path, tmp_path: Path) -> None:
    incident = await stack.incident_where(lambda i: i.controller == "ampere", "the Ampère incident")
    people = tmp_path / "people.csv"
    people.write_text("address,name,language\nana@example.org,Ana,en\nbruno@example.org,Bruno,fr\n"
                      "chloe@example.org,Chloé,fr\nnot-an-address,Oops,fr\n", encoding="utf-8")
    page = await log_in(browser, stack, "dpo")
    await page.goto(f"{stack.url}/incidents/{incident.id}")
    await expect(page.locator("body")).to_have_attribute("data-live", "1")
    await page.set_input_files("#subjects-form input[type=file]", str(people))
    await page.locator("#subjects-form button[type=submit]").click()
    # The import goes through Kafka (a producer started for it, the list, then the command) before the
    # page answers: seconds on a busy CI machine, more than expect's 5 s default.
    await expect(page.locator("#imported-count")).to_have_text("3", timeout=30_000)
    await expect(page.locator("#invalid-lines tbody tr")).to_have_count(1)
    await expect(page.locator("#invalid-lines")).not_to_contain_text("not-an-address")  # line and reason only
    await expect(page).not_to_have_url(re.compile("example"))

    await page.goto(f"{stack.url}/incidents/{incident.id}")
    form = page.locator(".subject-preview-form").first
    await expect(form).to_be_visible(timeout=30_000)  # the list recorded by the incident
    await form.locator("textarea[name=measures_taken]").fill("The exported file was deleted from the share")
    await form.locator("button").click()
    await expect(page.locator("#notice-text")).to_contain_text("The exported file was deleted from the share")
    subject = await page.locator("#notice-subject").inner_text()
    await screenshot(page, shots, "09-notice-to-people-preview")

    await page.locator("#subject-approve-form button").click()
    await expect(page.locator("#flash")).to_be_visible(timeout=30_000)  # after the command is on Kafka
    await expect(page.locator("body")).to_have_attribute("data-live", "1")
    progress = page.locator("#deliveries tbody tr").first
    await expect(progress.locator(".done")).to_have_text("3/3", timeout=60_000)  # live, by SSE
    await expect(progress.locator(".sent")).to_have_text("3")
    await expect(progress.locator(".pending")).to_have_text("0")
    await screenshot(page, shots, "10-delivery-progress")
    received = [m for m in stack.catcher.summaries() if m["to"] in (["bruno@example.org"], ["chloe@example.org"])]
    assert [m["subject"] for m in received] == [subject, subject]  # the preview was in French: as sent
    await page.context.close()
