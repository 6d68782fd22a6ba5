"""The README's pictures of the notice previews: `make screenshots` (not part of `make test`).

Runs the console on a whole embedded stack (tests/integration/console_stack.py: broker, worker,
SMTP catcher), sends the shipped AMPERE sample (deploy/samples/01-ampere-crm-export.jsonl), has
the DPO answer the CNIL form's questions and write the measures in French and English through the
console's API, then opens each draft's preview in headless chromium (Debian's, driven by
Playwright, as the console's browser tests do) and saves the authority notification and the
notice to the people affected, in French and in English, under docs/img/.

The HTML part of a notice is shown whole: its frame is given the height the same HTML takes in
the same browser (the sandboxed frame cannot be measured from the page).

Usage: python -m tests.readme_screenshots [DIRECTORY]   (default docs/img)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

from incident.notices import AUTHORITY_NOTIFICATION, DATA_SUBJECT_NOTICE
from streams.settings import ROOT
from tests.integration.console_stack import PEOPLE, ConsoleStack, console_stack
from tests.support import eventually

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SAMPLE = "01-ampere-crm-export.jsonl"
WIDTH = 1100
FORM = {"started_at": None, "ongoing": False, "origin": "external", "intent": "malicious", "member_states": [],
        "notification_type": "initial", "police_complaint": False, "anssi_report": True}
MEASURES = {
    "authority": {
        "fr": {"taken": ["Compte d'export désactivé et ses sessions révoquées",
                         "Accès au CRM limité au réseau interne"],
               "proposed": ["Réinitialisation des mots de passe de tous les clients",
                            "Authentification à deux facteurs pour les comptes d'administration"]},
        "en": {"taken": ["Export account disabled and its sessions revoked",
                         "CRM access limited to the internal network"],
               "proposed": ["Password reset for every customer",
                            "Two-factor authentication for administrator accounts"]},
    },
    "data_subjects": {
        "fr": {"taken": ["Le compte utilisé pour l'export a été désactivé"],
               "proposed": ["Nous vous demanderons de choisir un nouveau mot de passe à votre prochaine connexion"]},
        "en": {"taken": ["The account used for the export was disabled"],
               "proposed": ["You will be asked to choose a new password when you next log in"]},
    },
}
SHOTS = ((AUTHORITY_NOTIFICATION, "fr"), (AUTHORITY_NOTIFICATION, "en"), (DATA_SUBJECT_NOTICE, "fr"),
         (DATA_SUBJECT_NOTICE, "en"))


def latest(stack: ConsoleStack, incident_id: str, kind: str) -> str | None:
    """The newest draft of that kind sent for review (a form answer or measures redraft it)."""
    notices = [n for n in stack.model.incidents[incident_id].notices if n.kind == kind and n.settled]
    return notices[-1].notice_id if notices else None


async def prepare(stack: ConsoleStack) -> str:
    """The AMPERE incident, its form answered and its measures written by the DPO; its id."""
    await stack.send_sample(SAMPLE)
    incident = await stack.incident_where(
        lambda i: i.controller == "ampere" and {AUTHORITY_NOTIFICATION, DATA_SUBJECT_NOTICE}
        <= {n.kind for n in i.notices if n.settled}, "the AMPERE drafts")
    base = f"/api/incidents/{incident.id}"
    async with stack.client("dpo") as api:
        answered = (await api.post(f"{base}/form", json={**FORM, "started_at": incident.first_event_at.isoformat()}))
        assert answered.status_code == 202, answered.text
        for audience, texts in MEASURES.items():
            kind = AUTHORITY_NOTIFICATION if audience == "authority" else DATA_SUBJECT_NOTICE
            before = latest(stack, incident.id, kind)
            response = await api.post(f"{base}/measures", json={
                "audience": audience, "texts": [{"locale": locale, **text} for locale, text in texts.items()]})
            assert response.status_code == 202, response.text
            await eventually(lambda k=kind, b=before: latest(stack, incident.id, k) not in (None, b), timeout=60,
                             what=f"the {kind} redrafted with the measures")
    return str(incident.id)


async def log_in(browser: Browser, stack: ConsoleStack, locale: str) -> Page:
    context = await browser.new_context(viewport={"width": WIDTH, "height": 900}, locale=locale,
                                        timezone_id="Europe/Paris")
    page = await context.new_page()
    name, password = PEOPLE["dpo"]
    await page.goto(stack.url + "/login")
    await page.fill("input[name=username]", name)
    await page.fill("input[name=password]", password)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("#whoami")
    return page


async def shoot(page: Page, stack: ConsoleStack, incident_id: str, kind: str, locale: str, out: Path) -> Path:
    notice_id = latest(stack, incident_id, kind)
    await page.goto(f"{stack.url}/incidents/{incident_id}/notices/{notice_id}?locale={locale}")
    frame = page.locator("iframe.notice")
    html = await frame.get_attribute("srcdoc")
    assert html, f"{kind} {locale}: no HTML part"
    # The height the notice takes at the frame's width, measured on a page of its own.
    box = await frame.bounding_box()
    assert box is not None
    measure = await page.context.new_page()
    await measure.set_viewport_size({"width": int(box["width"]), "height": 600})
    await measure.set_content(html)
    height = await measure.evaluate("document.documentElement.scrollHeight")
    await measure.close()
    await frame.evaluate("(f, h) => { f.style.height = h + 'px'; }", height + 4)
    box = await frame.bounding_box()
    assert box is not None
    # Chromium paints a frame only where the viewport reaches: the viewport is the whole picture.
    bottom = int(box["y"] + box["height"] + 16)
    await page.set_viewport_size({"width": WIDTH, "height": bottom})
    # Two animation frames: the resized page is painted before it is captured.
    await page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    path = out / f"preview-{kind.replace('_', '-')}-{locale}.png"
    await page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": WIDTH, "height": bottom})
    return path


async def main(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="breach-screenshots-") as tmp:
        async with console_stack(Path(tmp)) as stack, async_playwright() as playwright:
            incident_id = await prepare(stack)
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            try:
                saved = []
                for kind, locale in SHOTS:
                    page = await log_in(browser, stack, "fr-FR" if locale == "fr" else "en-GB")
                    saved.append(await shoot(page, stack, incident_id, kind, locale, out))
                    await page.context.close()
                return saved
            finally:
                await browser.close()


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img"
    for written in asyncio.run(main(target)):
        print(written)
