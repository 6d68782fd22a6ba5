"""Atometrics' own promise, end to end (issue 16): its shipped sample (deploy/samples/
02-atometrics-wazuh.jsonl) through the real worker, with time moved by configuration
(BREACH_CLOCK_FILE), shows in the console's detail page a 72 h obligation to the people affected
from the leak's discovery, beside the law's, and reminds the on-call of it before it falls due:
by e-mail and on the incident's timeline, as an Art. 33 clock would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from streams.embedded.services import Broker
from tests.e2e.test_scenarios import Stack, open_stack
from tests.support import eventually

ONCALL = "oncall@atometrics.example"
PROMISE = "Policy:email-subjects-72h@1"
# The policy's own words are the obligation's legal reference (deploy/profiles/atometrics.toml).
QUOTE = "Nous envoyons un email, dans les 72h suivant la constatation, à la personne concernée"


@pytest_asyncio.fixture
async def timed_stack(broker: Broker, tmp_path: Path) -> AsyncIterator[Stack]:
    clock = tmp_path / "now"
    clock.write_text(datetime.now(UTC).isoformat())
    async with open_stack(broker, tmp_path, clock_file=str(clock), tick_seconds=0.2,
                          oncall_emails=ONCALL) as stack:
        yield stack


def reminders(stack: Stack) -> list[str]:
    return [" ".join(str(m.parsed()["Subject"]).split()) for m in stack.catcher.messages if ONCALL in m.recipients]


@pytest.mark.asyncio
async def test_the_atometrics_sample_owes_its_people_an_email_within_72_hours_and_reminds(
        timed_stack: Stack, tmp_path: Path) -> None:
    stack = timed_stack
    await stack.send_sample("02-atometrics-wazuh.jsonl")
    (incident,) = await eventually(
        lambda: [i for i in stack.watcher.model.incidents.values() if any(c.rule_ref == PROMISE for c in i.clocks)],
        what="the Atometrics promise's clock")
    base = f"/api/incidents/{incident.id}"
    deadlines = {d["rule_ref"]: d for d in (await stack.api.get(base)).json()["deadlines"]}
    promise = deadlines[PROMISE]
    assert (promise["regime"], promise["recipient"], promise["anchor"], promise["timed"]) == (
        "Policy", "data_subjects", "discovery", True)
    due = datetime.fromisoformat(promise["deadline"])
    assert due - datetime.fromisoformat(promise["anchor_at"]) == timedelta(hours=72)
    assert QUOTE in promise["legal_ref"]
    assert "GDPR:art33_authority@1" in deadlines  # the law's clock runs beside it

    # The detail page lists it among the obligations: to the people, 72 hours from discovery.
    row = obligation_row((await stack.api.get(f"/incidents/{incident.id}")).text, PROMISE)
    assert QUOTE in row and "data subjects" in row and "72 hours" in row and "discovery" in row, row

    # Six hours before it falls due, the on-call is reminded of it by e-mail and on the timeline.
    (tmp_path / "now").write_text((due - timedelta(hours=5)).isoformat())
    (subject,) = await eventually(lambda: [s for s in reminders(stack) if QUOTE in s], what="the promise's reminder")
    assert subject.startswith("T-6h · ") and subject.endswith(" · ATOMETRICS")
    entry = await eventually(lambda: [e for e in stack.watcher.model.timeline.get(incident.id, [])
                                      if type(e).__name__ == "ReminderDue" and e.rule_ref == PROMISE],
                             what="the promise's reminder recorded")
    assert entry[0].step == "T-6h"
    page = (await stack.api.get(f"/incidents/{incident.id}")).text
    timeline = " ".join(page[page.index('id="timeline"'):].split())
    assert "Reminder T-6h for Politique de Confidentialité (2019-11-21): “" + QUOTE in timeline, timeline
    # The law's clock, due at the same time, is reminded of too: the promise adds, never replaces.
    assert any(s.startswith("T-6h · GDPR Art. 33(1)") for s in reminders(stack))


def obligation_row(page: str, rule_ref: str) -> str:
    start = page.index(f'<tr data-obligation="{rule_ref}">')
    return " ".join(page[start:page.index("</tr>", start)].split())
