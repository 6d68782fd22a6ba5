"""Correlation end to end on the embedded broker: the shipped profiles and rule pack, canonical,
Wazuh and Suricata records mixed, unkeyed (so they arrive over every partition, out of order)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from incident.commands import RecordAwareness
from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker
from streams.kafka.commands_out import CommandSender
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.profiles_loader import load_directory
from streams.rules_loader import load_rules
from streams.settings import ROOT
from streams.worker import running
from tests.support import KEYS, Watcher, eventually, settings_for

NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW - timedelta(minutes=30)
ATTACKER = "203.0.113.9"


def canonical_failure(i: int, *, host: str = "ampere-web-01", ip: str = ATTACKER) -> dict[str, Any]:
    return {"id": f"web-{host}-{i}", "time": (START + timedelta(seconds=5 * i)).isoformat(),
            "title": "Login failed", "host": host, "severity": "low", "category": "authentication",
            "outcome": "failure", "user": f"customer{i % 40}@example.org", "source_ip": ip}


def wazuh_alert(i: int, *, agent: str = "ampere-crm-app", ip: str = ATTACKER) -> dict[str, Any]:
    at = (START + timedelta(seconds=5 * i + 2)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return {"timestamp": at, "id": f"{1763773802 + i}.{5531201 + i}",
            "rule": {"level": 10, "description": "Multiple authentication failures.", "id": "40111",
                     "groups": ["authentication_failures"]},
            "agent": {"id": "007", "name": agent}, "data": {"srcip": ip}}


def suricata_alert(i: int, *, host: str = "ampere-web-01", ip: str = ATTACKER) -> dict[str, Any]:
    """An EVE alert from the IDS watching the web front (the sensor names it in "host")."""
    at = (START + timedelta(seconds=5 * i + 4)).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
    return {"timestamp": at, "flow_id": 1_700_000_000 + i, "event_type": "alert", "host": host,
            "src_ip": ip, "src_port": 40000 + i, "dest_ip": "10.0.0.5", "dest_port": 443, "proto": "TCP",
            "alert": {"action": "allowed", "gid": 1, "signature_id": 2_019_876, "rev": 3, "severity": 2,
                      "signature": "ET SCAN Possible credential stuffing (many logins)",
                      "category": "Attempted Information Leak"}}


def lines(records: list[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(r).encode() for r in records]


@pytest_asyncio.fixture
async def watcher(broker: Broker, tmp_path: Path) -> AsyncIterator[Watcher]:
    settings = settings_for(broker.bootstrap, tmp_path)
    deps = Deps(directory=load_directory(ROOT / "deploy" / "profiles"), mailer=RecordingMailer(),
                renderer=NoticeRenderer(ROOT / "templates" / "notices"), clock=lambda: NOW,
                rule_pack=load_rules(ROOT / "deploy" / "rules"))
    async with running(settings, deps), Watcher(broker.bootstrap) as w:
        yield w


def incidents(watcher: Watcher) -> list[Any]:
    return list(watcher.model.incidents.values())


@pytest.mark.asyncio
async def test_an_attack_over_200_alerts_in_three_formats_is_one_incident_with_200_reasons(
        broker: Broker, watcher: Watcher) -> None:
    # 130 canonical failed logons on a web front (credential stuffing: 40 accounts, one source),
    # 40 Wazuh alerts from the CRM application and 30 Suricata alerts, about the same source.
    records = [*(canonical_failure(i) for i in range(130)), *(wazuh_alert(i) for i in range(40)),
               *(suricata_alert(i) for i in range(30))]
    assert await publish(broker.bootstrap, lines(records)) == 200
    await eventually(lambda: sum(len(i.evidence) for i in incidents(watcher)) == 200, timeout=90,
                     what="200 signals attached")
    (incident,) = incidents(watcher)
    assert incident.controller == "ampere" and len({e.event_id for e in incident.evidence}) == 200
    assert {e.source_format for e in incident.evidence} == {"canonical", "wazuh", "suricata"}
    assert set(incident.assets) == {"ampere-web-01", "ampere-crm-app"}
    reasons = [e.reason for e in incident.evidence]
    assert all("fingerprint fp:" in r for r in reasons)
    # Each failed logon is attached by the correlation, or, held for it while an incident sharing
    # the attacker's address was already open (a Wazuh alert came first), joined at once.
    assert sum("correlation credential_stuffing fired" in r or ("held for correlation" in r and "credential_stuffing"
                                                                 in r) for r in reasons) == 130
    assert all("source.ip#" in r or "opened for" in r for r in reasons)
    assert not any(ATTACKER in r or "customer" in r for r in reasons)  # kinds and hashes, never the values


@pytest.mark.asyncio
async def test_two_unrelated_attacks_stay_two_incidents_and_duplicates_do_not_count(
        broker: Broker, watcher: Watcher) -> None:
    ampere = [canonical_failure(i) for i in range(30)]
    ama = [canonical_failure(i, host="ama-web-01", ip="198.51.100.77") for i in range(30)]
    wazuh = [wazuh_alert(i, agent="ampere-crm-app") for i in range(10)]
    await publish(broker.bootstrap, lines([*ampere, *ama, *wazuh]))
    # Then every record again (a SIEM re-sending), and copies under new ids (a second shipper).
    copies = [{**r, "id": r["id"] + "-copy"} for r in ampere[:10]]
    await publish(broker.bootstrap, lines([*ampere, *ama, *wazuh, *copies]))
    await eventually(lambda: len(incidents(watcher)) == 2 and sum(len(i.evidence) for i in incidents(watcher)) == 70,
                     timeout=90, what="two incidents with 70 signals")
    by_controller = {i.controller: i for i in incidents(watcher)}
    assert len(by_controller["ampere"].evidence) == 40 and len(by_controller["ama"].evidence) == 30
    # Nothing more arrives later: the duplicates were dropped, not delayed.
    await publish(broker.bootstrap, lines([canonical_failure(100)]))  # within the fired group's timespan
    await eventually(lambda: len(by_controller_now(watcher)["ampere"].evidence) == 41, what="a fresh signal")
    assert len(by_controller_now(watcher)["ama"].evidence) == 30


def privileged_action(event_id: str, minute: int, host: str, user: str) -> dict[str, Any]:
    """An alert of the merge scenarios: the same rule, on a host, by an account."""
    return {"id": event_id, "time": (START + timedelta(minutes=minute)).isoformat(), "host": host, "user": user,
            "title": "Privileged action outside business hours", "severity": "medium"}


def by_controller_now(watcher: Watcher) -> dict[str | None, Any]:
    return {i.controller: i for i in incidents(watcher)}


@pytest.mark.asyncio
async def test_a_signal_linking_two_incidents_merges_them_and_moves_the_evidence_with_why(
        broker: Broker, watcher: Watcher) -> None:
    def alert(n: int, host: str, user: str) -> dict[str, Any]:
        return privileged_action(f"merge-{n}", n, host, user)

    # Two incidents of one controller, nothing in common: a web front and the CRM database.
    await publish(broker.bootstrap, lines([alert(1, "ampere-web-01", "ops.admin"), alert(2, "ampere-crm-db", "dba"),
                                           alert(3, "ampere-crm-db", "dba")]))
    await eventually(lambda: sum(len(i.evidence) for i in incidents(watcher)) == 3 and len(incidents(watcher)) == 2,
                     timeout=60, what="two incidents")
    older = next(i.id for i in incidents(watcher) if "ampere-web-01" in i.assets)
    younger = next(i.id for i in incidents(watcher) if i.id != older)
    # The web front's admin account now acts on the CRM database: the same breach.
    await publish(broker.bootstrap, lines([alert(4, "ampere-crm-db", "ops.admin")]))
    await eventually(lambda: len(watcher.model.incidents[older].evidence) == 4, timeout=60,
                     what="the younger incident's evidence on the older one")
    survivor, absorbed = watcher.model.incidents[older], watcher.model.incidents[younger]
    assert absorbed.status == "merged" and absorbed.merged_into == older
    assert sorted(e.event_id for e in survivor.evidence) == ["merge-1", "merge-2", "merge-3", "merge-4"]
    for moved in (e for e in survivor.evidence if e.event_id in ("merge-2", "merge-3")):
        assert moved.reason.startswith(f"merged from incident {younger}: signal merge-4 shares host.name#")
        assert "; attached there because: " in moved.reason and "fingerprint fp:" in moved.reason
        assert "dba" not in moved.reason and "ops.admin" not in moved.reason
    assert set(survivor.assets) == {"ampere-web-01", "ampere-crm-db"}


@pytest.mark.asyncio
async def test_a_merge_with_an_earlier_awareness_moves_the_survivors_deadline_back(
        broker: Broker, watcher: Watcher) -> None:
    def alert(n: int, host: str, user: str) -> dict[str, Any]:
        return privileged_action(f"early-{n}", n, host, user)

    await publish(broker.bootstrap, lines([alert(1, "ampere-web-01", "ops.admin"), alert(2, "ampere-crm-db", "dba")]))
    await eventually(lambda: len(incidents(watcher)) == 2, timeout=60, what="two incidents")
    older = next(i.id for i in incidents(watcher) if "ampere-web-01" in i.assets)
    younger = next(i.id for i in incidents(watcher) if i.id != older)
    # The younger one was known as a breach first (a responder on it), the older one later.
    early, late = START + timedelta(minutes=3), START + timedelta(minutes=20)
    sender = CommandSender(broker.bootstrap, keys=KEYS)
    await sender.start()
    try:
        await sender.send(RecordAwareness(incident_id=younger, aware_at=early, by="rita", evidence=("early-2",)))
        await sender.send(RecordAwareness(incident_id=older, aware_at=late, by="dora", evidence=("early-1",)))
    finally:
        await sender.stop()
    await eventually(lambda: all(i.awareness and i.clocks for i in incidents(watcher)), timeout=60,
                     what="both aware, clocks running")
    before = {c.rule_ref: c.deadline for c in watcher.model.incidents[older].clocks if c.anchor == "awareness"}
    assert before and all(c.anchor_at == late for c in watcher.model.incidents[older].clocks
                          if c.anchor == "awareness")
    await publish(broker.bootstrap, lines([alert(4, "ampere-crm-db", "ops.admin")]))
    await eventually(lambda: (a := watcher.model.incidents[older].awareness) is not None and a.aware_at == early,
                     timeout=60, what="the survivor's awareness moved back to the absorbed one's")
    survivor, absorbed = watcher.model.incidents[older], watcher.model.incidents[younger]
    assert absorbed.status == "merged" and absorbed.merged_into == older
    assert survivor.awareness is not None
    assert survivor.awareness.by == f"rita (on incident {younger}, merged into this one)"
    moved = [c for c in survivor.clocks if c.rule_ref in before]
    assert moved and all(c.anchor_at == early and c.deadline == before[c.rule_ref] - (late - early)
                         for c in moved if c.unit in ("hours", "asap"))
    assert all(c.deadline <= before[c.rule_ref] for c in moved)
    kinds = [type(e).__name__ for e in watcher.model.timeline[older]]
    assert "AwarenessAdvanced" in kinds and "ClockMoved" in kinds
