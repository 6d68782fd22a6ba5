"""issue 17's "Done when", in a real browser over a real broker and worker: a responder searches,
claims, notes, follows the playbook's tasks and records awareness; the DPO approves and records
the submission, and dismisses another incident, which lands in the register. axe-core checks every
page on the way at 1366 px and 390 px (tests/integration/accessibility.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from incident.notices import reference
from tests.integration.accessibility import check
from tests.integration.console_stack import ConsoleStack, console_stack
from tests.integration.test_console_browser import browser, forge, log_in

pytestmark = pytest.mark.asyncio(loop_scope="module")
__all__ = ["browser"]  # the module's chromium fixture, shared


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ConsoleStack]:
    async with console_stack(tmp_path_factory.mktemp("walkthrough")) as running:
        yield running


async def check_task(page: Page, key: str) -> None:
    task = page.locator(f"#tasks li[data-task='{key}']")
    await task.locator("button").click()
    await expect(task).to_have_class("task-done", timeout=30_000)


async def test_a_responder_and_the_dpo_work_a_breach_from_search_to_submission(
        browser: Browser, stack: ConsoleStack, tmp_path: Path) -> None:
    await stack.send_sample("03-ama-suspicious-activity.jsonl")
    incident = await stack.incident_where(lambda i: i.controller == "ama" and i.tasks, "the AMA incident")
    ref = reference(incident.id)

    # The responder: search, claim, note, tag, the first tasks, awareness.
    page = await log_in(browser, stack, "responder")
    await check(page, "the incident list")
    await page.fill("#filters input[name=q]", ref.lower())
    await page.click("#filters button[type=submit]")
    row = page.locator(f"#rows tr[data-incident='{incident.id}']")
    await expect(page.locator("#rows tr[data-incident]")).to_have_count(1)
    await expect(row.locator(".task-progress")).to_have_text("Tasks 0/2")
    await row.locator("a").first.click()
    await check(page, "a suspected incident, for a responder")

    await page.locator("#claim-form button").click()
    await expect(page.locator("#owner")).to_have_text("rita", timeout=30_000)
    await page.fill("#note-form textarea", "Sign-ins from an unknown country; the account is **locked**.")
    await page.locator("#note-form button").click()
    await expect(page.locator("#timeline tr[data-note]")).to_contain_text("the account is locked", timeout=30_000)
    await expect(page.locator("#timeline tr[data-note] strong")).to_have_text("locked")  # its Markdown
    await page.fill("#tag-form input[name=tag]", "account-takeover")
    await page.locator("#tag-form button").click()
    await expect(page.locator("#tags [data-tag='account-takeover']")).to_be_visible(timeout=30_000)
    await check_task(page, "personal-data-breach/contain")
    await check_task(page, "personal-data-breach/preserve-evidence")
    await expect(page.locator("#tasks li[data-task='personal-data-breach/contain']")).to_contain_text("rita")

    await page.locator("#awareness-form button[type=submit]").click()
    await expect(page.locator("#tasks li[data-task='personal-data-breach/assess']")).to_be_visible(timeout=60_000)
    await expect(page.locator("#tasks li[data-task='personal-data-breach/notify-authority']")).to_be_visible()
    await expect(page.locator("#live-status")).to_contain_text("Updated at")  # said to screen readers too
    await check_task(page, "personal-data-breach/assess")
    await check(page, "an aware incident, for a responder")
    await page.goto(stack.url + "/?tag=account-takeover")
    await expect(row.locator(".task-progress")).to_have_text("Tasks 3/6")  # contain, preserve, assess of six
    await expect(row.locator(".owner")).to_have_text("rita")
    await page.context.close()

    # The DPO: approve, record the submission, check the notification's task.
    page = await log_in(browser, stack, "dpo")
    await page.goto(f"{stack.url}/incidents/{incident.id}")
    await check(page, "an aware incident, for the DPO")
    await page.locator("#notices a").first.click()
    await expect(page.locator("#notice-subject")).to_be_visible()
    await check(page, "a notice's preview")
    await page.go_back()
    obligation = page.locator("#obligations tbody tr[data-obligation]").first
    await page.locator(".approve-form button").first.click()
    await expect(obligation.locator(".status")).to_have_text("approved", timeout=30_000)
    await page.locator(".submit-portal-form input[name=reference]").first.fill("CNIL-NOTIF-2026-0077")
    await page.locator(".submit-portal-form button").first.click()
    await expect(page.locator("#state")).to_have_text("authority notified", timeout=30_000)
    await check_task(page, "personal-data-breach/notify-authority")
    timeline = page.locator("#timeline")
    await expect(timeline).to_contain_text("approve by user:dora")
    await expect(timeline).to_contain_text("Task “Notify the supervisory authority within 72 hours of awareness "
                                           "(Art. 33)” done, checked by user:dora")
    await check(page, "a submitted incident")
    await page.locator("#report-link").click()
    await expect(page.locator("#report-tasks")).to_contain_text("Notify the supervisory authority")
    await check(page, "the incident's report")

    # Another incident, examined and found not to be a breach: dismissed by the DPO, in the register.
    await stack.send_sample("01-ampere-crm-export.jsonl")
    # Settled (its drafts delivered): no live refresh closes the form while it is filled in.
    other = await stack.incident_where(lambda i: i.controller == "ampere" and i.status == "drafts_delivered",
                                       "the Ampère incident, its drafts delivered")
    await page.goto(f"{stack.url}/incidents/{other.id}")
    await expect(page.locator("body")).to_have_attribute("data-live", "1")
    await page.locator("#dismiss summary").click()
    await page.select_option("#dismiss-form select[name=outcome]", "not_a_breach")
    await page.fill("#dismiss-form input[name=reason]", "the export was the yearly audit, to the auditor")
    await page.locator("#dismiss-form button").click()
    await expect(page.locator("#state")).to_have_text("dismissed (not notified)", timeout=30_000)
    await check(page, "a dismissed incident")
    await page.goto(stack.url + "/register")
    entry = page.locator("tr", has_text=reference(other.id))
    await expect(entry).to_contain_text("examined, dismissed as not a breach by user:dora: the export was the "
                                        "yearly audit, to the auditor")
    await expect(page.locator("tr", has_text=ref)).to_contain_text("GDPR Art. 33(1) due")
    await expect(page.locator("tr", has_text=ref)).to_contain_text("submitted")
    await check(page, "the register")
    for path, what in (("/rejected", "the rejected records"), ("/mail", "the mail catcher")):
        await page.goto(stack.url + path)
        await check(page, what)
    await page.locator("#mail tbody a").first.click()
    await check(page, "a mail")
    await page.goto(stack.url + "/incidents/no-such-incident")
    await check(page, "a missing incident")

    # The people affected by the high-risk breach: the list imported, the notice previewed.
    people = tmp_path / "people.csv"
    people.write_text("address,name,language\nana@example.org,Ana,en\nnot-an-address,Oops,fr\n", encoding="utf-8")
    await page.goto(f"{stack.url}/incidents/{incident.id}")
    await expect(page.locator("body")).to_have_attribute("data-live", "1")  # its first refresh is done
    await page.set_input_files("#subjects-form input[type=file]", str(people))
    await page.locator("#subjects-form button[type=submit]").click()
    await expect(page.locator("#imported-count")).to_have_text("1", timeout=30_000)
    await check(page, "the people imported")
    await page.goto(f"{stack.url}/incidents/{incident.id}")
    form = page.locator(".subject-preview-form").first
    await expect(form).to_be_visible(timeout=30_000)
    await form.locator("textarea[name=measures_taken]").fill("The account was locked and its password reset")
    await form.locator("button").click()
    await expect(page.locator("#notice-text")).to_contain_text("The account was locked")
    await check(page, "the notice to the people, previewed")
    await page.context.close()


async def test_the_login_users_refusal_and_viewer_pages_pass_axe(browser: Browser, stack: ConsoleStack) -> None:
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-GB")
    page = await context.new_page()
    await page.goto(stack.url + "/login")
    await check(page, "the login page")
    await context.close()
    page = await log_in(browser, stack, "admin")
    await page.goto(stack.url + "/admin/users")
    await check(page, "the users page")
    await page.context.close()
    page = await log_in(browser, stack, "responder")
    await stack.send_sample("02-atometrics-wazuh.jsonl")
    incident = await stack.incident_where(lambda i: i.controller == "atometrics" and i.notices,
                                          "the Atometrics incident")
    await page.goto(f"{stack.url}/incidents/{incident.id}")
    await expect(page.locator(".approve-form")).to_have_count(0)  # the DPO's: shown disabled, with why
    await forge(page, incident.id, {"obligation": incident.obligations[0].rule_ref, "action": "approve"})
    await expect(page.locator("#refused")).to_be_visible()
    await check(page, "an action refused")
    await page.context.close()
    page = await log_in(browser, stack, "viewer", locale="fr-FR")
    await check(page, "the list, in French")
    await page.goto(f"{stack.url}/incidents/{incident.id}")
    await check(page, "an incident, for a viewer, in French")
    await page.context.close()


async def test_the_dpo_answers_the_notification_form_and_every_draft_comes_again(
        browser: Browser, stack: ConsoleStack) -> None:
    """Issue 16: the CNIL form on the incident page, the measures in place before the breach in a text
    area per language; recorded by the worker, and a new version of each draft that shows them."""
    await stack.send_sample("01-ampere-crm-export.jsonl")
    incident = await stack.incident_where(lambda i: i.controller == "ampere" and i.notices, "the AMPERE incident")
    drafted = len(incident.notices)
    page = await log_in(browser, stack, "dpo")
    await page.goto(f"{stack.url}/incidents/{incident.id}")
    await expect(page.locator("body")).to_have_attribute("data-live", "1")  # its first refresh is done
    form = page.locator("#form-answers")
    await form.locator("input[name=contact_name]").fill("Claire Martin")
    await form.locator("textarea[name=safeguards_fr]").fill("Base clients chiffrée au repos\nDouble authentification")
    await form.locator("textarea[name=safeguards_en]").fill("Customer database encrypted at rest")
    await form.locator("button[type=submit]").click()
    answered = await stack.incident_where(lambda i: i.id == incident.id and i.form is not None, "the answers recorded")
    assert answered.form.contact_name == "Claire Martin"
    assert [(t.locale, t.items) for t in answered.form.safeguards] == [
        ("fr", ("Base clients chiffrée au repos", "Double authentification")),
        ("en", ("Customer database encrypted at rest",))]
    again = await stack.incident_where(lambda i: i.id == incident.id and len(i.notices) > drafted,
                                       "a new version of the drafts")
    assert {n.kind for n in again.notices[drafted:]} >= {"authority_notification"}
    await page.goto(f"{stack.url}/incidents/{incident.id}")
    await expect(page.locator("#form-answers textarea[name=safeguards_fr]")).to_have_value(
        "Base clients chiffrée au repos\nDouble authentification")
    await check(page, "the notification form answered")
    await page.context.close()
