"""Attribution to the controller's systems (issue 15): host names, addresses and networks, cloud
accounts and resources, SaaS tenants; the controller's side of an IDS or firewall record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest

from incident.correlation import correlate_batch
from incident.errors import ProfileError
from incident.profiles import Directory, parse_profile
from incident.signals import SecurityEvent
from streams.deps import Deps
from streams.pipeline.ingest import _located, link_only, linkable_keys
from tests.unit.builders import PROFILE, T0, event, profile_doc

SYSTEMS: list[dict[str, Any]] = [
    {**PROFILE["systems"][0], "addresses": ["10.20.0.0/16", "192.0.2.10"]},
    {**PROFILE["systems"][1], "assets": [], "addresses": ["10.20.5.0/24", "2001:db8:ace::/48"],
     "cloud_accounts": ["123456789012", "0b6f3c2e-1111-4a4a-9d9d-acacacacacac", "acme-prod"],
     "resources": ["arn:aws:s3:::acme-exports"], "tenants": ["acme.okta.com"]},
]


def acme() -> Directory:
    other = profile_doc(id="beta", systems=[{**PROFILE["systems"][0], "id": "web", "assets": ["beta-web"],
                                             "addresses": ["172.16.0.0/12"]}])
    return Directory.of([parse_profile(profile_doc(systems=SYSTEMS), source="acme.toml"),
                         parse_profile(other, source="beta.toml")])


def system_of(directory: Directory, asset: str) -> str | None:
    profile, system = directory.locate(asset)
    return f"{profile.id}/{system.id}" if profile and system else None


@pytest.mark.parametrize(("asset", "expected"), [
    ("acme-crm-db", "acme/crm"),  # a host name, as before
    ("192.0.2.10", "acme/crm"),  # an address
    ("10.20.77.3", "acme/crm"),  # in the /16
    ("10.20.5.9", "acme/accounts"),  # in the /24 inside it: the most specific wins
    ("2001:db8:ace:1::5", "acme/accounts"),  # IPv6
    ("172.20.1.1", "beta/web"),  # another profile's network
    ("123456789012", "acme/accounts"),  # an AWS account
    ("arn:aws:ec2:eu-west-3:123456789012:instance/i-0abc", "acme/accounts"),  # the account an ARN names
    ("arn:aws:s3:::acme-exports/2026/11/customers.csv", "acme/accounts"),  # a resource prefix
    ("/subscriptions/0b6f3c2e-1111-4a4a-9d9d-acacacacacac/resourceGroups/rg/providers/x", "acme/accounts"),
    ("//compute.googleapis.com/projects/acme-prod/zones/europe-west9-a/instances/vm-1", "acme/accounts"),
    ("acme.okta.com", "acme/accounts"),  # a SaaS tenant
    ("203.0.113.7", None),  # an Internet address
    ("10.21.0.1", None),  # next to the network, not in it
    ("arn:aws:ec2:eu-west-3:999999999999:instance/i-0abc", None),
    ("arn:aws:s3:::acme-exports-other", "acme/accounts"),  # a prefix is a prefix: say "acme-exports/" to stop
    ("guardduty", None),
])
def test_an_asset_is_found_by_any_name_the_profile_declares(asset: str, expected: str | None) -> None:
    assert system_of(acme(), asset) == expected


def test_an_ids_record_naming_the_internet_side_is_attributed_to_ours() -> None:
    directory = acme()
    # Suricata outbound alert: dest_ip (the asset the adapter picked) is on the Internet.
    profile, system, asset = directory.attribute("203.0.113.7", addresses=("203.0.113.7", "10.20.5.9"))
    assert (profile and profile.id, system and system.id, asset) == ("acme", "accounts", "10.20.5.9")
    # A sensor named by host: the record is about our side, not about the sensor.
    profile, system, asset = directory.attribute("sensor-1", addresses=("10.20.1.1", "203.0.113.7"))
    assert (system and system.id, asset) == ("crm", "10.20.1.1")
    # A declared asset is kept, whatever addresses the record names.
    assert directory.attribute("acme-crm-db", addresses=("10.20.5.9",))[1:] == (directory.locate("acme-crm-db")[1],
                                                                                 "acme-crm-db")
    # Neither side ours: unmapped, unchanged.
    assert directory.attribute("203.0.113.7", addresses=("198.51.100.1",)) == (None, None, "203.0.113.7")
    # A record naming a controller is attributed to that controller's systems only.
    profile, system, _ = directory.attribute("203.0.113.7", "beta", addresses=("10.20.5.9",))
    assert profile is not None and profile.id == "beta" and system is None


def test_the_ingest_agent_attributes_a_suricata_outbound_alert_to_our_side() -> None:
    at = datetime(2026, 11, 20, 9, tzinfo=UTC)
    record = SecurityEvent(event_id="e", source_format="suricata", title="ET POLICY upload", occurred_at=at,
                           ingested_at=at, asset="203.0.113.7", source_ip="10.20.77.3",
                           destination_ip="203.0.113.7")
    located = _located(record, "ref", cast(Deps, SimpleNamespace(directory=acme())))
    assert (located.controller, located.system, located.asset, located.unmapped) == ("acme", "crm", "10.20.77.3",
                                                                                      False)


@pytest.mark.parametrize(("system", "key", "message"), [
    ({"addresses": ["10.0.0.0/33"]}, "systems[0].addresses[0]", "not an IP address or CIDR"),
    ({"addresses": ["10.0.0.1/8"]}, "systems[0].addresses[0]", "has host bits set"),
    ({"addresses": ["acme-crm-db"]}, "systems[0].addresses[0]", "not an IP address"),
    ({"assets": []}, "systems[0].assets", "is required"),
    ({"tenants": "acme.okta.com"}, "systems[0].tenants", "list of strings"),
    ({"cloud_accounts": [12]}, "systems[0].cloud_accounts", "list of strings"),
])
def test_invalid_identifiers_name_the_key(system: dict[str, Any], key: str, message: str) -> None:
    doc = profile_doc(systems=[{**PROFILE["systems"][0], **system}])
    with pytest.raises(ProfileError) as caught:
        parse_profile(doc, source="acme.toml")
    assert caught.value.key == key and message in caught.value.message


def test_two_profiles_cannot_claim_one_network_or_account() -> None:
    first = profile_doc(systems=[{**PROFILE["systems"][0], "addresses": ["10.0.0.0/8"], "cloud_accounts": ["1"]}])
    for clash in ({"addresses": ["10.0.0.0/8"]}, {"cloud_accounts": ["1"]}):
        second = profile_doc(id="beta", systems=[{**PROFILE["systems"][0], "assets": ["b"], **clash}])
        with pytest.raises(ProfileError, match="already declared by profile 'acme'"):
            Directory.of([parse_profile(first, source="a"), parse_profile(second, source="b")])


# -- an unmapped signal links to the controller's open incident by a shared entity ---------------

def test_an_unmapped_signal_joins_a_controller_incident_it_shares_the_attacker_address_with() -> None:
    attacked = event("login", asset="acme-auth", user="alice", source_ip="203.0.113.9")
    window, (opened,) = correlate_batch(None, [attacked])
    ids_alert = link_only(event("ids", asset="sensor-7", source_ip="203.0.113.9", at=T0 + timedelta(minutes=5),
                                located=False))  # as ingest copies it to the controller's key
    after, (linked,) = correlate_batch(window, [ids_alert])
    assert linked.incident_id == opened.incident_id and linked.controller == "acme"
    assert "asset no profile declares, linked to this controller's open incident" in linked.evidence.reason
    assert "joined by shared source.ip#" in linked.evidence.reason and "203.0.113.9" not in linked.evidence.reason
    assert linked.evidence.system is None
    # A signal sharing nothing links to nothing and leaves the controller's state as it was.
    other = link_only(event("ids-2", asset="sensor-7", source_ip="198.51.100.1", at=T0 + timedelta(minutes=6),
                            located=False))
    unchanged, commands = correlate_batch(after, [other])
    assert commands == [] and (unchanged.seen, unchanged.incidents) == (after.seen, after.incidents)


def test_an_unmapped_signal_on_its_own_key_still_opens_its_own_incident() -> None:
    alone = event("ids", asset="sensor-7", source_ip="203.0.113.9", located=False)
    window, (command,) = correlate_batch(None, [alone])
    assert window.key == "unmapped|sensor-7" and command.controller is None
    # The tag is honoured on an unmapped copy only: a located record carrying it is handled as ever.
    forged = link_only(event("forged", asset="acme-auth", source_ip="198.51.100.1"))
    _, (own,) = correlate_batch(None, [forged])
    assert own.controller == "acme" and "opened for" in own.evidence.reason


def test_ingest_copies_an_unmapped_signal_with_an_entity_to_every_controller_key() -> None:
    deps = cast(Deps, SimpleNamespace(directory=acme()))
    unmapped = event("ids", asset="sensor-7", source_ip="203.0.113.9", located=False)
    assert sorted(linkable_keys(unmapped, deps)) == [b"acme", b"beta"]
    assert linkable_keys(event("ids", asset="sensor-7", located=False), deps) == []  # nothing to link by
    assert linkable_keys(event("x", source_ip="203.0.113.9"), deps) == []  # located: its own key only
