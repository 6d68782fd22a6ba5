"""Every console page in French, in a real browser over a real broker and worker (issue 17, item 8):
the login, the list, each sample incident (for the DPO and for a responder), its report, a
notice's preview, the notice to the people affected, the register, the rejected records, the mail
catcher and a caught message, the users page. What a
French reader sees holds no English word of the console's or the domain's, no raw key
(``data_subjects``, ``dpo-review``, ``rule:confirmed-signal``) and no ISO timestamp.

What tools and people wrote stays as written and is left out of the reading: the samples' alert
titles (the SIEM's), the profiles' names of systems and processors and of the people those systems
hold (the controller's) and a mail's
body (the notice as sent, tested by its golden files). Everything else is the console's or the
domain's words, and must be French: nothing hides from this reading by declaring itself
``lang="en"`` (the register's prose cells did, until the register was worded per language). The
register's French CSV is read the same way, cell by cell."""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page

from streams.embedded.samples import publish
from streams.settings import ROOT
from tests.integration.console_stack import SAMPLES, ConsoleStack, console_stack
from tests.integration.test_console_browser import browser, log_in

pytestmark = pytest.mark.asyncio(loop_scope="module")
__all__ = ["browser"]

# English words that are not French words too (so "signal", "incident", "notification", "public"
# or the Kafka "topic" are not here), each once said by a French page before this test: the risk factors' reasons, the
# actors, the escalation's reference, the pages' leftovers.
ENGLISH = ("risk", "reason", "reasons", "likely", "unlikely", "confirmed", "signals", "overdue", "hours", "left",
           "awareness", "deadline", "breach", "notice", "affected", "severity", "exposure", "recipients", "people",
           "unknown", "assessed", "pending", "approved", "submitted", "dismissed", "owner", "rule", "the", "and",
           "with", "without", "data", "from", "rejected", "record", "records", "stage", "sent",
           "received", "users", "password", "tokens", "expires", "never", "mail", "draft", "subject", "linked",
           "attached", "because", "merged")
# A word, not part of a name or path ("breach-response", "docs/risk.md", "personal-data-breach").
WORD = re.compile(r"(?<![\w/-])(" + "|".join(ENGLISH) + r")(?![\w-])", re.IGNORECASE)
RAW = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\bdpo-review\b|\b(?:rule|user):[\w-]+")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")

SEEN = """() => {
    const copy = document.body.cloneNode(true);
    copy.querySelectorAll("#message-body, script, style, template, [hidden]").forEach(e => e.remove());
    copy.querySelectorAll("input, textarea, select").forEach(e => e.remove());
    return copy.innerText || copy.textContent;
}"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ConsoleStack]:
    async with console_stack(tmp_path_factory.mktemp("french-pages")) as running:
        yield running


def names(value: Any) -> Iterator[str]:
    """Every name a profile gives (its systems', processors', DPO's…, the people its systems hold):
    the controller's own words."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in ("name", "purpose", "description") and isinstance(inner, str):
                yield inner
            if key == "data_subjects" and isinstance(inner, list):
                yield from (kind for kind in inner if isinstance(kind, str))
            yield from names(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from names(inner)


VERBATIM = sorted({json.loads(line)["title"] for path in SAMPLES.glob("*.jsonl")
                   for line in path.read_text().splitlines() if line.strip().startswith("{") and '"title"' in line}
                  | {n for path in (ROOT / "deploy" / "profiles").glob("*.toml")
                     for n in names(tomllib.loads(path.read_text()))}
                  | {m.group(1).strip() for path in (ROOT / "deploy" / "rules").glob("*.yml")  # the rule pack's
                     for m in re.finditer(r"^(?:name|title): *(.+)$", path.read_text(), re.M)}, key=len, reverse=True)


def english_in(text: str) -> list[str]:
    """Each English word, raw key or ISO time, with what surrounds it (to say where it is)."""
    for written in VERBATIM:
        text = text.replace(written, " ")
    hits = [m for pattern in (WORD, RAW, ISO) for m in pattern.finditer(text)]
    return sorted({" ".join(text[max(0, m.start() - 30):m.end() + 30].split()) for m in hits})


async def read(page: Page, url: str, found: dict[str, list[str]]) -> str:
    answer = await page.goto(url)
    assert answer is not None and answer.status == 200, url
    text: str = await page.evaluate(SEEN)
    if english_in(text):
        found["/" + url.split("/", 3)[-1]] = english_in(text)
    return text


async def test_every_page_reads_in_french(browser: Browser, stack: ConsoleStack) -> None:
    for sample in ("01-ampere-crm-export.jsonl", "02-atometrics-wazuh.jsonl", "03-ama-suspicious-activity.jsonl",
                   "09-rejected.jsonl"):
        await stack.send_sample(sample)
    drafted = await stack.incident_where(lambda i: i.controller == "ampere" and i.notices and i.assessment,
                                         "the AMPERE incident drafted")
    await stack.incident_where(lambda i: i.controller == "atometrics" and i.notices, "the Atometrics incident")
    await stack.incident_where(lambda i: i.controller == "ama", "the AMA incident")
    async with stack.client("dpo") as api:
        imported = await api.post(f"/api/incidents/{drafted.id}/subjects", headers={"content-type": "text/csv"},
                                  content=b"address,name,language\nalice@example.org,Alice,fr\n")
        assert imported.status_code in (200, 202), imported.text
    listed = await stack.incident_where(lambda i: i.id == drafted.id and i.subject_lists, "the list imported")
    async with stack.client("dpo") as api:
        approved = await api.post(f"/api/incidents/{drafted.id}/subject_notice", json={
            "list_id": listed.subject_lists[0].list_id, "measures_taken": ["Mots de passe réinitialisés."]})
        assert approved.status_code == 202, approved.text
    sent = await stack.incident_where(lambda i: i.id == drafted.id and i.subject_notices, "the notice approved")
    # A second AMA incident, linked by hand into the first: the merge's and the moved signal's
    # reasons (codes the old patterns never knew) on both incidents' pages.
    ama = await stack.incident_where(lambda i: i.controller == "ama", "the AMA incident")
    await publish(stack.settings.bootstrap_servers, [json.dumps({
        "id": "ama-soc-78", "time": datetime.now(UTC).isoformat(), "title": "Unusual number of directory queries "
        "on the LDAP server", "host": "ama-web-02", "severity": "low", "category": "discovery"}).encode()])
    second = await stack.incident_where(lambda i: i.controller == "ama" and i.id != ama.id, "a second AMA incident")
    async with stack.client("dpo") as api:
        linked = await api.post(f"/api/incidents/{second.id}/link",
                                json={"into": ama.id, "reason": "Même requête, rejouée depuis le web."})
        assert linked.status_code == 202, linked.text
    await stack.incident_where(lambda i: i.id == ama.id and len(i.evidence) == 2, "the signal moved by the link")

    found: dict[str, list[str]] = {}
    page = await log_in(browser, stack, "dpo", locale="fr-FR")
    url = stack.url
    listing = await read(page, url + "/", found)
    assert "Prochaine échéance" in listing
    for incident in list(stack.model.incidents.values()):
        await read(page, f"{url}/incidents/{incident.id}", found)
        await read(page, f"{url}/incidents/{incident.id}/report", found)
    detail = await read(page, f"{url}/incidents/{drafted.id}", found)
    assert "règle : signal confirmé" in detail and "Conclusion" in detail
    await page.goto(f"{url}/incidents/{drafted.id}")
    assert await page.locator("[title='rule:confirmed-signal']").count() >= 1  # the raw id, for who needs it
    await read(page, f"{url}/incidents/{drafted.id}/notices/{drafted.notices[0].notice_id}", found)
    await read(page, f"{url}/incidents/{drafted.id}/subject-notices/{sent.subject_notices[0].notice_id}", found)
    await read(page, url + "/register", found)
    assert await page.locator("#register [lang=en]").count() == 0  # nothing left out of the reading
    # The CSV a French reader downloads: every cell but the times (ISO-8601, for programs) in French.
    link = await page.get_by_role("link", name="Télécharger en CSV").get_attribute("href")
    exported = await page.request.get(url + str(link))
    rows = list(csv.DictReader(io.StringIO(await exported.text())))
    assert rows and exported.headers["content-disposition"].endswith('-fr.csv"')
    for row in rows:
        prose = " | ".join(v for k, v in row.items() if k not in ("opened_at", "aware_at"))
        if english_in(prose):
            found[f"/api/register?format=csv ({row['reference']})"] = english_in(prose)
    english = await page.request.get(url + "/api/register?format=csv&lang=en")  # an English controller's
    assert {r["reference"]: r["authority_notified"] for r in csv.DictReader(io.StringIO(await english.text()))} == {
        r["reference"]: {"oui": "yes", "non": "no"}[r["authority_notified"]] for r in rows}
    await read(page, url + "/rejected", found)
    await read(page, url + "/mail", found)
    await read(page, url + "/mail/1", found)
    await page.context.close()

    page = await log_in(browser, stack, "responder", locale="fr-FR")  # other forms, other refusals
    for incident in list(stack.model.incidents.values()):
        await read(page, f"{url}/incidents/{incident.id}", found)
    await page.context.close()

    context = await browser.new_context(locale="fr-FR")
    await read(await context.new_page(), url + "/login", found)
    await context.close()

    page = await log_in(browser, stack, "admin", locale="fr-FR")
    await read(page, url + "/admin/users", found)
    await page.context.close()
    assert not found, "\n".join(f"{path}: {hit}" for path, hits in found.items() for hit in hits)
