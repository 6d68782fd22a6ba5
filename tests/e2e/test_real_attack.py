"""A multi-stage attack told by real records (issue 15), end to end on the embedded broker.

Every record but one is one of tests/corpus (published by Wazuh, OISF and Elastic; provenance in
each sidecar) with only what places it in this attack rewritten: times, ids, the attacker's
address, our server's name and address, the account (`CHANGED` below lists it per record).
Nothing else is touched, so the adapters meet the fields as their vendors write them; the two
exceptions are said where they are (`CHANGED`, and `read()`):

1. the IDS (Suricata EVE) sees the attacker's suspicious POST to our CRM server, named by its
   address only: attributed by the profile's address range;
2. Wazuh reports ten sshd "Failed password for root" from the attacker on that server, then an
   accepted login for root from the same address: brute force then success;
3. Elastic Agent (ECS, system.auth) logs root reading the server's logs with sudo;
4. Elastic Security raises an alert (its `kibana.alert.*` document) of root dumping the
   customer database on that server;
5. the database reports root reading its customer table (OCSF 1.1 Datastore Activity): a read
   that alone only feeds the mass-download correlation, so it is held, and joins the open
   incident at once because it shares the server and the account with it;
6. the IDS sees 2.5 GB leave the CRM server for an Internet host (an outbound alert).

With them: the same Wazuh alert delivered twice, and once more inside a Filebeat envelope (a
re-send); a Wazuh file-integrity alert and an IDS alert about hosts of nobody (noise). One
incident for the right controller must hold every step and nothing else, the duplicates dropped,
the brute force recognised by the rule pack, the customer table read naming the data concerned
and the transfer raising the facts, and the Art. 33 clock running from the awareness a person
records.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from incident.commands import RecordAwareness
from incident.events import RiskAssessed
from incident.profiles import Directory, parse_profile
from streams.deps import Deps
from streams.embedded.samples import publish
from streams.embedded.services import Broker
from streams.kafka.commands_out import CommandSender
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.rules_loader import load_rules
from streams.settings import ROOT
from streams.worker import running
from tests.support import KEYS, Watcher, eventually, settings_for
from tests.unit.builders import profile_doc

CORPUS = ROOT / "tests" / "corpus"
NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW - timedelta(minutes=40)
ATTACKER, SERVER, DROP = "203.0.113.66", "10.20.0.5", "198.51.100.200"
CHANGED = {
    "suricata/oisf-guide-alert-outbound.json": "timestamp, src_ip (the attacker), dest_ip (our server)",
    "wazuh/alert-5716-sshd-failed-password-root.json": "timestamp, id, agent (our server), data.srcip",
    "wazuh/indexer-5715-sshd-publickey-accepted.json": "_source only; timestamp, id, agent, data.srcip",
    "ecs/system-auth-sudo-cat-secure.json": "@timestamp, host.hostname and related.hosts (our server), user.name",
    # No published Elastic Security alert of a database dump was found: the alert document is a
    # real one (a custom rule's alert from Kibana's test archive), its rule renamed and its reason
    # reworded into a dump rule's, and a process added; every other field as Elastic wrote it.
    "ecs/kibana-alert-threat-match-linux-1.json": "@timestamp, kibana.alert.original_time, (original_)event.ingested "
                                                  "(time); host.*, agent.name, cloud.instance.name (our server); "
                                                  "user.name (root); kibana.alert.uuid; kibana.alert.rule.name, "
                                                  ".description and kibana.alert.reason (a dump rule); process.*",
    "suricata/beats-alerts-01-alert.json": "timestamp, src_ip (our server), dest_ip, flow.bytes_toserver",
    "wazuh/fim-550-new-file-modified.json": "timestamp, id (noise: a host of nobody)",
    "suricata/elastic-small-02-alert.json": "timestamp (noise: two private hosts of nobody)",
}


def real(name: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((CORPUS / name).read_text())
    return copy.deepcopy(record)


def at(seconds: int, fmt: str = "%Y-%m-%dT%H:%M:%S.%f+0000") -> str:
    return (START + timedelta(seconds=seconds)).strftime(fmt)


def wazuh_time(seconds: int) -> str:
    return at(seconds, "%Y-%m-%dT%H:%M:%S.000+0000")


def attack() -> dict[str, dict[str, Any]]:
    """The attack's records by a name of ours, each a real record placed in this attack."""
    steps: dict[str, dict[str, Any]] = {}
    scan = real("suricata/oisf-guide-alert-outbound.json")
    scan.update(timestamp=at(0), src_ip=ATTACKER, dest_ip=SERVER)
    steps["scan"] = scan
    for n in range(10):
        failure = real("wazuh/alert-5716-sshd-failed-password-root.json")
        failure.update(timestamp=wazuh_time(60 + 5 * n), id=f"1765000000.{100 + n}")
        failure["agent"] = {"id": "001", "name": "acme-crm-db", "ip": SERVER}
        failure["data"]["srcip"] = ATTACKER
        steps[f"failure-{n}"] = failure
    success = real("wazuh/indexer-5715-sshd-publickey-accepted.json")["_source"]
    success.update(timestamp=wazuh_time(130), id="1765000000.200")
    success["agent"] = {"id": "001", "name": "acme-crm-db"}
    success["data"]["srcip"] = ATTACKER
    steps["success"] = success
    sudo = real("ecs/system-auth-sudo-cat-secure.json")
    sudo["@timestamp"] = at(200, "%Y-%m-%dT%H:%M:%S.000Z")
    sudo["host"]["hostname"], sudo["related"]["hosts"], sudo["user"]["name"] = "acme-crm-db", ["acme-crm-db"], "root"
    steps["sudo"] = sudo
    dump = real("ecs/kibana-alert-threat-match-linux-1.json")
    dump["@timestamp"] = at(290, "%Y-%m-%dT%H:%M:%S.000Z")
    dump["kibana.alert.original_time"] = dump["event.ingested"] = at(280, "%Y-%m-%dT%H:%M:%S.000Z")
    dump["kibana.alert.original_event.ingested"] = dump["event.ingested"]
    dump["host"].update(hostname="acme-crm-db", name="acme-crm-db", ip=SERVER)
    dump["agent"]["name"], dump["cloud"]["instance"]["name"] = "acme-crm-db", "acme-crm-db"
    dump["user"] = {"name": "root"}
    dump["kibana.alert.uuid"] = "5d1c0e7a2b3f4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5"
    dump["kibana.alert.rule.name"] = dump["kibana.alert.rule.description"] = "Database dump with mysqldump"
    dump["kibana.alert.reason"] = "process event on acme-crm-db created low alert Database dump with mysqldump."
    dump["process"] = {"name": "mysqldump", "command_line": "mysqldump --single-transaction crm customers"}
    steps["dump"] = dump
    steps["read"] = read(at_ms=int((START + timedelta(seconds=400)).timestamp() * 1000))
    transfer = real("suricata/beats-alerts-01-alert.json")
    transfer.update(timestamp=at(600), src_ip=SERVER, dest_ip=DROP)
    transfer["flow"]["bytes_toserver"] = 2_500_000_000
    steps["transfer"] = transfer
    return steps


def read(at_ms: int) -> dict[str, Any]:
    """Root reads the customer table: an OCSF 1.1.0 Datastore Activity (6005, Read), written for
    this test from the schema (no published record of that class was found), as a database
    audit log mapped to OCSF reports it."""
    return {
        "class_uid": 6005, "class_name": "Datastore Activity", "category_uid": 6, "activity_id": 1,
        "activity_name": "Read", "type_uid": 600501, "type_name": "Datastore Activity: Read", "severity_id": 1,
        "status_id": 1, "time": at_ms,
        "metadata": {"version": "1.1.0", "uid": "mysql-audit-7a41c2", "product": {"name": "MySQL Enterprise Audit",
                                                                              "vendor_name": "Oracle"}},
        "actor": {"user": {"name": "root"}},
        "device": {"hostname": "acme-crm-db", "ip": SERVER},
        "src_endpoint": {"ip": "127.0.0.1"},
        "database": {"name": "crm", "type_id": 1, "type": "Relational"},
        "table": {"name": "customers"},
    }


def noise() -> list[dict[str, Any]]:
    fim = real("wazuh/fim-550-new-file-modified.json")
    fim.update(timestamp=wazuh_time(300), id="1765000000.900")
    ids = real("suricata/elastic-small-02-alert.json")
    ids.update(timestamp=at(310))
    return [fim, ids]


def directory() -> Directory:
    """The test controller, its CRM server declared by name and by its network (attribution),
    and the CRM's database by name (the data stores it holds)."""
    doc = profile_doc()
    doc["systems"][0] = {**doc["systems"][0], "addresses": ["10.20.0.0/24"], "data_stores": ["crm."]}
    return Directory.of([parse_profile(doc, source="acme.toml")])


@pytest_asyncio.fixture
async def watcher(broker: Broker, tmp_path: Path) -> AsyncIterator[Watcher]:
    deps = Deps(directory=directory(), mailer=RecordingMailer(), clock=lambda: NOW,
                renderer=NoticeRenderer(ROOT / "templates" / "notices"),
                rule_pack=load_rules(ROOT / "deploy" / "rules"))
    async with running(settings_for(broker.bootstrap, tmp_path), deps), Watcher(broker.bootstrap) as w:
        yield w


@pytest.mark.asyncio
async def test_a_real_multi_stage_attack_is_one_incident_with_every_step_and_nothing_else(
        broker: Broker, watcher: Watcher) -> None:
    steps = attack()
    filebeat = {"@timestamp": at(70), "@metadata": {"beat": "filebeat", "type": "_doc", "version": "8.11.0"},
                "agent": {"type": "filebeat", "name": "shipper-01"}, "input": {"type": "log"},
                "message": json.dumps(steps["failure-1"])}  # the same alert, re-sent through Filebeat
    records = [*steps.values(), steps["failure-0"], filebeat, *noise()]
    assert await publish(broker.bootstrap, [json.dumps(r).encode() for r in records]) == len(records)

    def attack_incident() -> Any:
        found = [i for i in watcher.model.incidents.values() if i.controller == "acme"]
        return found[0] if len(found) == 1 and len(watcher.model.evidence(found[0].id)) >= len(steps) else None

    incident = await eventually(attack_incident, what="one incident holding every step", timeout=90)
    evidence = watcher.model.evidence(incident.id)
    # Every step, once: the duplicate and the Filebeat re-send were dropped, the noise stayed out.
    assert len(evidence) == len(steps) == len({e.event_id for e in evidence})
    assert {e.source_format for e in evidence} == {"suricata", "wazuh", "ecs", "ocsf"}
    by_id = {e.event_id: e for e in evidence}
    assert {f"1765000000.{100 + n}" for n in range(10)} | {"1765000000.200"} <= set(by_id)
    assert by_id[steps["dump"]["kibana.alert.uuid"]].title == "Database dump with mysqldump"
    held = by_id["mysql-audit-7a41c2"]  # the table read: held for mass_download, joined at once
    assert held.data_store == "crm.customers" and "held" in held.reason
    assert set(incident.assets) == {"acme-crm-db", SERVER}
    reasons = " ".join(e.reason for e in evidence)
    assert "brute_force_then_success" in reasons  # the rule pack recognised it on Wazuh's own fields
    assert not any(ATTACKER in e.reason or "root" in e.reason for e in evidence)  # hashes, never values
    assert all(i.controller == "acme" or not (set(i.assets) & {"acme-crm-db", SERVER})
               for i in watcher.model.incidents.values())

    # A person records awareness: the Art. 33 clock runs 72 h from it, and the transfer is a fact.
    aware_at = NOW - timedelta(minutes=5)
    sender = CommandSender(broker.bootstrap, keys=KEYS)
    await sender.start()
    try:
        await sender.send(RecordAwareness(incident_id=incident.id, aware_at=aware_at, by="user:alice",
                                          evidence=("IDS and Wazuh: brute force, login, 2.5 GB out",)))
    finally:
        await sender.stop()
    aware = await eventually(lambda: (i := watcher.model.incidents[incident.id]).clocks and i,
                             what="the clocks after awareness", timeout=60)
    art33 = next(c for c in aware.clocks if c.rule_ref == "GDPR:art33_authority@1")
    assert art33.deadline == aware_at + timedelta(hours=72)
    assert aware.assessment is not None
    (*_, assessed) = [e for e in watcher.model.timeline[incident.id] if isinstance(e, RiskAssessed)]
    assert assessed.facts.exfiltration in ("suspected", "confirmed")  # 2.5 GB left for the Internet
    assert assessed.facts.data_stores == ("crm.customers",)  # the data concerned, named by the read
    # Identity data of the CRM's 5,000 customers, read by an attacker and 2.5 GB sent out: high
    # risk, so the people are owed a notice too (Art. 34) besides the authority's (Art. 33).
    assert aware.level == "high" and assessed.assessment.level == "high"
    assert {c.rule_ref for c in aware.clocks} == {"GDPR:art33_authority@1", "GDPR:art34_data_subjects@1"}
