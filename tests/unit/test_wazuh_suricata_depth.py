"""What the Wazuh and Suricata adapters read beyond title and time (issue 15), and the envelopes a
record read back from the Wazuh indexer or AWS Network Firewall comes in. Real records come from
tests/corpus (see each sidecar's provenance); the few hand-built ones say so."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from incident.errors import InvalidEvent
from incident.normalize import normalize_all
from incident.signals import SecurityEvent

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
RECEIVED = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def corpus(name: str) -> str:
    fmt = "suricata" if (CORPUS / "suricata" / f"{name}.json").exists() else "wazuh"
    return (CORPUS / fmt / f"{name}.json").read_text()


def only(value: object) -> SecurityEvent:
    (result,) = normalize_all(value, RECEIVED)
    assert isinstance(result, SecurityEvent), result
    return result


# -- Wazuh --------------------------------------------------------------------------------------

def test_wazuh_authentication_groups_give_category_action_and_outcome() -> None:
    failure = only(corpus("alert-5710-non-existent-user"))
    assert (failure.category, failure.action, failure.outcome) == ("authentication", "logon", "failure")
    assert (failure.user, failure.source_ip, failure.destination_ip) == ("admin", "123.20.109.89", "10.0.1.85")
    success = only(corpus("indexer-5715-sshd-publickey-accepted"))
    assert (success.category, success.action, success.outcome) == ("authentication", "logon", "success")
    assert (success.user, success.source_ip, success.source_port) == ("root", "192.168.83.175", 46980)


def test_wazuh_pam_user_loses_the_uid_pam_unix_writes_after_it() -> None:
    assert only(corpus("indexer-5501-pam-session-opened")).user == "root"  # data.dstuser "root(uid=0)"


def test_wazuh_mitre_techniques_become_sigma_attack_tags() -> None:
    assert only(corpus("indexer-5715-sshd-publickey-accepted")).tags == ("attack.t1078", "attack.t1021")
    assert only(corpus("hit-31166-shellshock-attempt")).tags == ("attack.t1068", "attack.t1190")


@pytest.mark.parametrize(("name", "action"), [("fim-554-md5-file-added", "file-added"),
                                              ("fim-550-md5-modified", "file-modified"),
                                              ("fim-553-md5-file-deleted", "file-deleted")])
def test_wazuh_syscheck_names_the_file_and_what_happened_to_it(name: str, action: str) -> None:
    e = only(corpus(name))
    assert (e.category, e.action, e.file_name, e.outcome) == ("file", action, "/fim_test/md5_sum_file.txt", None)


def test_wazuh_windows_eventchannel_reads_the_account_and_the_address() -> None:
    # Hand-built in the shape the Wazuh manager writes for a Security 4625 (ruleset 60122):
    # what matters is where the account and the address sit, under data.win.eventdata.
    alert = {"timestamp": "2025-03-05T17:32:01.971-0300", "id": "1741206721.1499080785",
             "rule": {"level": 5, "id": "60122", "description": "Logon failure - Unknown user or bad password.",
                      "groups": ["windows", "windows_security", "win_authentication_failed"],
                      "mitre": {"id": ["T1531"]}},
             "agent": {"id": "003", "name": "Queule", "ip": "172.31.218.108"},
             "decoder": {"name": "windows_eventchannel"}, "location": "EventChannel",
             "data": {"win": {"system": {"eventID": "4625", "channel": "Security"},
                              "eventdata": {"targetUserName": "mcifuentes", "subjectUserName": "-",
                                            "ipAddress": "192.168.80.13", "ipPort": "0"}}}}
    e = only(json.dumps(alert))
    assert (e.user, e.source_ip, e.source_port, e.destination_ip) == ("mcifuentes", "192.168.80.13", None,
                                                                       "172.31.218.108")
    assert (e.category, e.action, e.outcome) == ("authentication", "logon", "failure")
    # Without a group that says so, the Windows event id does: 4624 is a successful logon.
    quiet = {**alert, "rule": {**alert["rule"], "groups": ["windows"]},
             "data": {"win": {**alert["data"]["win"], "system": {"eventID": "4624"}}}}  # type: ignore[dict-item]
    assert only(json.dumps(quiet)).outcome == "success"


def test_wazuh_windows_placeholders_are_no_value() -> None:
    alert: dict[str, Any] = {"timestamp": "2025-03-05T17:32:01.971-0300", "id": "1",
                             "rule": {"level": 3, "id": "60106", "description": "Windows logon success."},
                             "agent": {"id": "003", "name": "Queule"},
                             "data": {"win": {"eventdata": {"targetUserName": "-", "ipAddress": "-"}}}}
    e = only(json.dumps(alert))
    assert (e.user, e.source_ip, e.destination_ip) == (None, None, None)


# -- Suricata -----------------------------------------------------------------------------------

def test_suricata_outbound_alert_is_attributed_to_the_internal_source() -> None:
    e = only(corpus("beats-alerts-01-alert"))  # 192.168.1.146 -> 93.184.216.34
    assert (e.asset, e.source_ip, e.destination_ip) == ("192.168.1.146", "192.168.1.146", "93.184.216.34")


def test_suricata_inbound_alert_is_attributed_to_the_internal_destination() -> None:
    e = only(corpus("elastic-metadata-01-alert"))  # 52.222.141.99 -> 10.31.64.240
    assert e.asset == "10.31.64.240"
    assert e.tags == ("Potentially Bad Traffic", "attack.t1190")  # metadata.mitre_attack


def test_suricata_alert_target_named_by_the_signature_wins() -> None:
    # Suricata 7 writes alert.source / alert.target when the rule uses the target keyword
    # (user guide, "Event type: Alert"); here the target is the Internet side.
    record = json.loads(corpus("beats-alerts-01-alert"))
    record["alert"]["target"] = {"ip": "93.184.216.34", "port": 80}
    assert only(json.dumps(record)).asset == "93.184.216.34"


@pytest.mark.parametrize("name", ["elastic-small-06-stats", "elastic-small-08-flow", "aws-nfw-02-netflow",
                                  "elastic-small-05-dns", "elastic-small-07-tls",
                                  "oisf-guide-anomaly-applayer-invalid-record"])
def test_suricata_traffic_metadata_is_refused_naming_its_type(name: str) -> None:
    (result,) = normalize_all(corpus(name), RECEIVED)
    record = json.loads(corpus(name))
    kind = record.get("event", record)["event_type"]  # AWS Network Firewall wraps EVE in "event"
    assert isinstance(result, InvalidEvent) and f"'{kind}': not a security event" in result.reason


# -- envelopes ----------------------------------------------------------------------------------

def test_a_search_hit_and_a_logstash_copy_of_one_are_unwrapped() -> None:
    assert only(corpus("hit-31166-shellshock-attempt")).event_id == "1707402914.872885"
    assert only(corpus("indexer-23502-vulnerability-solved")).category == "vulnerability"


def test_a_whole_search_response_yields_each_hit() -> None:
    hit = json.loads(corpus("hit-31166-shellshock-attempt"))
    response = {"took": 5, "timed_out": False, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                "hits": {"total": {"value": 2, "relation": "eq"}, "max_score": None, "hits": [hit, hit]}}
    results = normalize_all(json.dumps(response), RECEIVED)
    assert [r.rule_id for r in results if isinstance(r, SecurityEvent)] == ["31166", "31166"]


def test_a_record_with_fields_of_its_own_beside_source_or_hits_is_not_unwrapped() -> None:
    hit = json.loads(corpus("hit-31166-shellshock-attempt"))
    (result,) = normalize_all(json.dumps({**hit, "rule": {"level": 3}}), RECEIVED)
    assert isinstance(result, InvalidEvent)  # not a hit any more: its _source is not taken for it
    eve = json.loads(corpus("beats-alerts-01-alert"))
    for extra in ({"_source": {"x": 1}}, {"hits": {"hits": []}, "took": 1}):
        assert only(json.dumps({**eve, **extra})).source_format == "suricata"


def test_aws_network_firewall_envelope_is_unwrapped() -> None:
    e = only(corpus("aws-nfw-01-alert"))
    assert (e.source_format, e.action, e.title) == ("suricata", "blocked", "Deny all other TCP traffic")


def test_wazuh_group_that_says_an_outcome_wins_whatever_its_place() -> None:
    alert = json.loads(corpus("alert-5710-non-existent-user"))
    alert["rule"]["groups"] = ["sysmon", "web", "authentication_failed"]
    assert only(json.dumps(alert)).outcome == "failure"
