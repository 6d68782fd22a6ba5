"""Issue 15 through the real worker on the embedded broker: an unmapped IDS alert linked by the
attacker's address, a held data-store read joining the open incident, an outbound transfer
attributed to our side of the flow, and the risk re-assessed as the evidence lands."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from incident.events import RiskAssessed
from incident.profiles import Directory, parse_profile
from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.rules_loader import load_rules
from streams.settings import ROOT
from streams.worker import running
from tests.support import Watcher, eventually, settings_for
from tests.unit.builders import PROFILE, profile_doc

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ATTACKER = "198.51.100.23"


def record(event_id: str, minutes: int, **fields: Any) -> bytes:
    return json.dumps({"id": event_id, "time": (NOW + timedelta(minutes=minutes)).isoformat(), "title": event_id,
                       **fields}).encode()


def directory() -> Directory:
    crm = {**PROFILE["systems"][0], "addresses": ["10.20.0.0/16"]}  # the CRM's internal range
    return Directory.of([parse_profile(profile_doc(systems=[crm, PROFILE["systems"][1]]), source="acme.toml")])


@pytest_asyncio.fixture
async def worker(broker: Broker, tmp_path: Path) -> AsyncIterator[Watcher]:
    deps = Deps(directory=directory(), renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                mailer=RecordingMailer(), clock=lambda: NOW + timedelta(hours=1), retry_delay=0.01,
                rule_pack=load_rules(ROOT / "deploy" / "rules"))
    async with running(settings_for(broker.bootstrap, tmp_path), deps), Watcher(broker.bootstrap) as watcher:
        yield watcher


@pytest.mark.asyncio
async def test_evidence_from_unmapped_held_and_outbound_records_reaches_the_incident(broker: Broker,
                                                                                       worker: Watcher) -> None:
    model = worker.model

    def incident() -> Any:
        return next((i for i in model.incidents.values() if i.controller == "acme"), None)

    def reasons() -> dict[str, str]:
        found = incident()
        return {e.event_id: e.reason for e in model.evidence(found.id)} if found else {}

    # 1. The attacker logs on to the CRM host as eve: a confirmed breach, assessed "risk".
    await publish(broker.bootstrap, [record("breach", 0, host="acme-crm-db", user="eve", source_ip=ATTACKER,
                                            confirms_breach=True)])
    first = await eventually(lambda: (i := incident()) and i.assessment and i, what="the assessed incident")
    assert first.level == "risk" and [c.obligation for c in first.clocks] == ["art33_authority"]

    # 2. An IDS alert from a sensor no profile declares, naming only the attacker's address.
    await publish(broker.bootstrap, [record("ids", 5, host="sensor-7", source_ip=ATTACKER,
                                            destination_ip="192.0.2.99")])
    await eventually(lambda: "ids" in reasons(), what="the unmapped IDS alert linked")
    assert "asset no profile declares, linked to this controller's open incident" in reasons()["ids"]
    assert "joined by shared source.ip#" in reasons()["ids"]

    # 3. One read of the card table by eve: held for mass_download (50 reads), yet it joins now,
    # and the card data it names raises the risk to high: Art. 34 follows.
    await publish(broker.bootstrap, [record("read", 10, host="acme-crm-db", user="eve", action="select",
                                            data_store="billing.cards", data_categories=["payment_card"])])
    await eventually(lambda: "read" in reasons() and incident().level == "high", what="the read, and high risk")
    assert "held for correlation mass_download" in reasons()["read"]
    assert "art34_data_subjects" in [c.obligation for c in incident().clocks]

    # 4. A firewall record of 3 GB going out, whose asset is the Internet side: ours is the CRM's
    # address; it joins by the account, and exfiltration is now suspected.
    await publish(broker.bootstrap, [record("upload", 20, host="203.0.113.50", user="eve", source_ip="10.20.77.3",
                                            destination_ip="203.0.113.50", bytes_out=3_000_000_000)])
    await eventually(lambda: "upload" in reasons(), what="the outbound transfer")
    upload = next(e for e in model.evidence(incident().id) if e.event_id == "upload")
    assert (upload.asset, upload.system) == ("10.20.77.3", "crm")
    assessed = await eventually(lambda: [e for e in model.timeline[incident().id] if isinstance(e, RiskAssessed)
                                         and e.facts.exfiltration == "suspected"], what="the re-assessment")
    assert assessed[-1].assessment.level == "high"
    assert len([e for e in model.timeline[incident().id] if isinstance(e, RiskAssessed)]) == 3
    assert len([i for i in model.incidents.values() if i.controller == "acme"]) == 1
