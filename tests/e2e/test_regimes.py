"""A controller under the GDPR and NIS2, end to end: both sets of clocks in the API and the
console, and an approved GDPR notification submitted by e-mail to the authority's address."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from streams.embedded.samples import publish
from streams.embedded.services import Broker
from streams.settings import ROOT
from tests.e2e.test_scenarios import Stack, open_stack
from tests.support import eventually

AUTHORITY_INBOX = "notifications@cnil.example"


@pytest_asyncio.fixture
async def nis2_stack(broker: Broker, tmp_path: Path) -> AsyncIterator[Stack]:
    """The commented example profile (a NIS2 important entity), given a submission address."""
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    example = (ROOT / "docs" / "example.toml").read_text()
    (profiles / "example.toml").write_text(example.replace(
        '# email = "…"', f'email = "{AUTHORITY_INBOX}"'))
    async with open_stack(broker, tmp_path, profiles_dir=profiles) as stack:
        yield stack


@pytest.mark.asyncio
async def test_gdpr_and_nis2_clocks_side_by_side_and_an_email_submission(nis2_stack: Stack) -> None:
    stack = nis2_stack
    now = datetime.now(UTC)
    record = {"id": "shop-ransom-1", "time": now.isoformat(), "title": "Ransomware encrypted the shop database",
              "host": "example-shop-db", "severity": "critical", "breach_types": ["availability", "confidentiality"],
              "confirms_breach": True}
    await publish(stack.settings.bootstrap_servers, [json.dumps(record).encode()])
    (incident,) = await eventually(lambda: [i for i in stack.watcher.model.incidents.values() if i.clocks],
                                   what="the GDPR clock")
    base = f"/api/incidents/{incident.id}"
    # Card data of the shop's customers, held to ransom: high risk, so Art. 33 and Art. 34; and the
    # e-mail its policy promises every customer within 72 hours (docs/example.toml, [[commitments]]).
    assert {d["regime"] for d in (await stack.api.get(base)).json()["deadlines"]} == {"GDPR", "Policy"}

    # The CISO finds it significant under NIS2 an hour later: the CSIRT's clocks start from then.
    # Not rounded down to the second: the clocks count from the classification but never from before
    # awareness, which the worker may have recorded earlier in this very second.
    significant_at = datetime.now(UTC)
    response = await stack.api.post(f"{base}/classification", json={"classification": "significant",
                                                                      "at": significant_at.isoformat()})
    assert response.status_code == 202
    await eventually(lambda: len(stack.watcher.model.incidents[incident.id].clocks) == 5, what="the NIS2 clocks")
    deadlines = {d["rule_ref"]: d for d in (await stack.api.get(base)).json()["deadlines"]}
    assert set(deadlines) == {"GDPR:art33_authority@1", "GDPR:art34_data_subjects@1", "NIS2:early_warning@2",
                              "NIS2:incident_notification@2", "Policy:email-customers-72h@1"}
    art34 = deadlines["GDPR:art34_data_subjects@1"]
    assert (art34["timed"], art34["time_left"], art34["seconds_left"]) == (False, "without undue delay", None)
    paris = ZoneInfo("Europe/Paris")
    for rule, recipient, anchor, hours in (("GDPR:art33_authority@1", "authority", "awareness", 72),
                                           ("NIS2:early_warning@2", "csirt", "classification", 24),
                                           ("NIS2:incident_notification@2", "csirt", "classification", 72),
                                           ("Policy:email-customers-72h@1", "data_subjects", "discovery", 72)):
        d = deadlines[rule]
        due = datetime.fromisoformat(d["deadline"])
        assert (d["recipient"], d["anchor"]) == (recipient, anchor)
        assert due - datetime.fromisoformat(d["anchor_at"]) == timedelta(hours=hours)
        assert d["deadline"].endswith("+00:00") and d["time_zone"] == "Europe/Paris"
        assert datetime.fromisoformat(d["deadline_local"]) == due.astimezone(paris)
    assert datetime.fromisoformat(deadlines["NIS2:early_warning@2"]["anchor_at"]) == significant_at
    assert deadlines["NIS2:early_warning@2"]["legal_ref"] == "Dir. (EU) 2022/2555 Art. 23(4)(a)"
    page = (await stack.api.get(f"/incidents/{incident.id}")).text
    assert "GDPR Art. 33(1)" in page and "Dir. (EU) 2022/2555 Art. 23(4)(a)" in page

    # The DPO approves the GDPR notification and submits it by e-mail: it reaches the authority.
    url, rule = f"{base}/obligations", "GDPR:art33_authority@1"
    assert (await stack.api.post(url, json={"obligation": rule, "action": "approve"})).status_code == 202
    assert (await stack.api.post(url, json={"obligation": rule, "action": "submit",
                                            "channel": "email"})).status_code == 202
    (sent,) = await eventually(lambda: [m for m in stack.catcher.messages if AUTHORITY_INBOX in m.recipients],
                               what="the notification in the authority's inbox")
    message = sent.parsed()
    assert "[DRAFT" not in str(message["Subject"]) and "Example SAS" in str(message["Subject"])
    workflow = await eventually(lambda: (o := stack.watcher.model.incidents[incident.id].obligation(rule))
                                and o.status == "submitted" and o, what="the submission recorded")
    assert workflow.channel == "email"
    notice = await eventually(lambda: [n for n in stack.watcher.model.incidents[incident.id].notices
                                       if n.audience == "authority" and n.delivered], what="the delivery recorded")
    assert notice[0].recipients == (AUTHORITY_INBOX,)
