"""Data-store reads, exports and transfers feed the facts (issue 15): the tables and buckets an
incident's signals touched name the profile's systems whose data they hold, and a store touched
for the first time is a new versioned assessment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from incident.commands import AttachSignal
from incident.decide import Rules, decide
from incident.errors import ProfileError
from incident.events import RiskAssessed, SignalAttached
from incident.facts import FactsError, parse_facts, to_mapping
from incident.model import Incident, fold
from incident.notices import AUTHORITY_NOTIFICATION, draft
from incident.profiles import Directory, parse_profile
from incident.reassessment import STORES_EACH
from incident.signals import Evidence
from incident.tape import facts_of
from tests.unit.builders import T0, FakeCalendar, aware_incident, event, profile_doc

NOW = T0 + timedelta(hours=2)


def stores_directory() -> Directory:
    """ACME's profile with the data stores each system holds declared."""
    doc = profile_doc()
    doc["systems"][0] = {**doc["systems"][0], "data_stores": ["crm."]}
    doc["systems"][1] = {**doc["systems"][1], "data_stores": ["auth.users", "s3://acme-auth-backups/"]}
    return Directory.of([parse_profile(doc, source="acme.toml")])


RULES = Rules(stores_directory(), FakeCalendar())


def land(state: Incident, event_id: str, **fields: Any) -> tuple[Incident, list[Any]]:
    signal = event(event_id, at=T0 + timedelta(hours=1), **fields)
    command = AttachSignal(incident_id=state.id, controller="acme", correlation_key="acme",
                           evidence=Evidence.of(signal, "joined by shared host.name"))
    events = decide(command, state, now=NOW, rules=RULES)
    after = fold(state, events)
    assert after is not None
    return after, events


def assessments(events: list[Any]) -> list[RiskAssessed]:
    return [e for e in events if isinstance(e, RiskAssessed)]


def test_a_system_declares_the_data_stores_it_holds_by_name_or_prefix() -> None:
    crm, accounts = stores_directory().profiles["acme"].systems
    assert crm.holds("crm.customers") and crm.holds("CRM.Orders") and not crm.holds("crmx.customers")
    assert accounts.holds("auth.users") and not accounts.holds("auth.users_archive")
    assert accounts.holds("s3://acme-auth-backups/2026/dump.sql.gz") and not crm.holds("auth.users")


def test_a_data_store_must_be_declared_as_a_list_of_names() -> None:
    doc = profile_doc()
    doc["systems"][0] = {**doc["systems"][0], "data_stores": "crm."}
    with pytest.raises(ProfileError, match="data_stores"):
        parse_profile(doc, source="acme.toml")


def test_a_read_of_another_systems_table_brings_that_systems_data_into_the_facts() -> None:
    # The attacker, on the CRM's database server, reads the accounts' users table: the
    # credentials it holds are concerned although no signal came from the accounts' hosts.
    state, _ = land(aware_incident(), "read", data_store="auth.users", action="select", records=1_200)
    profile = RULES.directory.profiles["acme"]
    facts = facts_of(state, profile)
    assert facts.data_stores == ("auth.users",)
    assert set(facts.data_categories) == {"contact", "identity", "credentials"}


def test_a_system_involved_only_through_its_data_store_is_one_of_the_incidents_systems() -> None:
    # No signal came from the accounts' hosts, but its users table was read: the notices and the
    # register, which list the incident's systems, must name it.
    state = aware_incident()
    assert state.systems == ("crm",)
    state, events = land(state, "read", data_store="auth.users", action="select", records=1_200)
    assert state.systems == ("crm", "accounts")
    (attached,) = [e for e in events if isinstance(e, SignalAttached)]
    assert attached.evidence.store_system == "accounts"  # the record keeps which system it resolved
    profile = RULES.directory.profiles["acme"]
    notice = draft(AUTHORITY_NOTIFICATION, state, profile, NOW)
    assert notice.context["incident"]["systems"] == ["CRM", "Customer accounts"]


def test_a_store_no_system_declares_involves_no_other_system() -> None:
    state, events = land(aware_incident(), "read", data_store="billing.invoices", action="select")
    assert state.systems == ("crm",)
    (attached,) = [e for e in events if isinstance(e, SignalAttached)]
    assert attached.evidence.store_system is None


def test_the_stores_touched_are_listed_not_read_from_a_facts_file() -> None:
    state, _ = land(aware_incident(), "read", data_store="crm.customers", action="select")
    facts = facts_of(state, RULES.directory.profiles["acme"])
    assert "data_stores" not in to_mapping(facts)
    corrected = facts.corrected({"encrypted": True})
    assert corrected.encrypted is True and corrected.data_stores == ("crm.customers",)
    with pytest.raises(FactsError, match="data_stores"):
        parse_facts({**to_mapping(facts), "data_stores": ["x"]})


def test_a_data_store_touched_for_the_first_time_is_assessed_again() -> None:
    state = aware_incident()
    state, events = land(state, "read-1", data_store="crm.customers", action="select")
    (first,) = assessments(events)
    assert first.facts.data_stores == ("crm.customers",)
    state, events = land(state, "read-2", data_store="crm.customers", action="select")
    assert [type(e) for e in events] == [SignalAttached]  # the same table again: nothing new
    state, events = land(state, "read-3", data_store="crm.orders", action="select")
    (second,) = assessments(events)
    assert second.facts.data_stores == ("crm.customers", "crm.orders") and second.version > first.version


def test_a_store_of_another_system_raises_the_assessment_it_brings() -> None:
    state = aware_incident()
    assert "credentials" not in facts_of(state, RULES.directory.profiles["acme"]).data_categories
    state, events = land(state, "dump", data_store="s3://acme-auth-backups/2026/users.sql.gz", action="download")
    (assessed,) = assessments(events)
    assert "credentials" in assessed.facts.data_categories
    assert assessed.facts.data_stores == ("s3://acme-auth-backups/2026/users.sql.gz",)


def test_beyond_the_first_stores_only_an_order_of_magnitude_is_news() -> None:
    state = aware_incident()
    counted = 0
    for n in range(STORES_EACH + 5):
        state, events = land(state, f"read-{n}", data_store=f"crm.table_{n:02d}", action="select")
        counted += len(assessments(events))
    assert counted == STORES_EACH + 1  # each of the first ten, then the jump to two digits
