"""The shipped rule pack (deploy/rules), loaded as the worker loads it: each breach pattern
with a sequence that must become an incident and sequences that must not."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incident.commands import AttachSignal
from incident.correlation import correlate_batch
from incident.rules import RulePack
from incident.signals import SecurityEvent
from streams.rules_loader import load_rules
from streams.settings import ROOT
from tests.unit.builders import T0, event

PACK = load_rules(ROOT / "deploy" / "rules")


def titled(title: str, **fields: Any) -> SecurityEvent:
    return replace(event("r", **fields), title=title)


def names(e: SecurityEvent, pack: RulePack = PACK) -> set[str]:
    return {pack.title_of(r) for r in pack.matching(e.fields())}


def run(events: list[SecurityEvent]) -> list[AttachSignal]:
    _, commands = correlate_batch(None, events, pack=PACK)
    return commands


def series(prefix: str, n: int, *, every: timedelta = timedelta(seconds=30), start: timedelta = timedelta(0),
           **fields: Any) -> list[SecurityEvent]:
    return [event(f"{prefix}{i}", at=T0 + start + every * i, **fields) for i in range(n)]


def failures(n: int, user: str = "alice", ip: str = "203.0.113.9", prefix: str = "f") -> list[SecurityEvent]:
    return series(prefix, n, asset="acme-auth", category="authentication", outcome="failure", user=user, source_ip=ip)


def success(user: str = "alice", minutes: int = 20, ip: str = "203.0.113.9") -> SecurityEvent:
    return event("ok", asset="acme-auth", at=T0 + timedelta(minutes=minutes), category="authentication",
                 outcome="success", user=user, source_ip=ip)


def test_the_pack_has_every_breach_pattern() -> None:
    assert {c.name for c in PACK.correlations} >= {"brute_force_then_success", "credential_stuffing", "mass_download",
                                                   "mass_file_renaming", "exfiltration_volume"}
    assert {d.name for d in PACK.detections} >= {"bulk_export", "ransomware_indicator", "dlp_misdirected_email",
                                                 "lost_or_stolen_device", "unauthorised_db_access",
                                                 "large_outbound_transfer"}


# -- brute force then success -------------------------------------------------------------------

def test_brute_force_then_success_attaches_every_failure_and_the_success_to_one_incident() -> None:
    commands = run([*failures(10), success()])
    assert len(commands) == 11 and len({c.incident_id for c in commands}) == 1
    assert all("correlation brute_force_then_success fired (temporal_ordered of many_failed_logons, "
               "successful_logon by user.name within 1 h)" in c.evidence.reason for c in commands)


def test_brute_force_is_found_whatever_the_arrival_order() -> None:
    events = [*failures(10), success()]
    assert len(run(list(reversed(events)))) == 11


@settings(max_examples=40, deadline=None)
@given(st.permutations(list(range(12))))
def test_brute_force_and_its_reasons_do_not_depend_on_arrival_order(order: list[int]) -> None:
    events = [*failures(11), success()]
    commands = run([events[i] for i in order])
    assert sorted(c.evidence.event_id for c in commands) == sorted(e.event_id for e in events)
    assert len({c.incident_id for c in commands}) == 1


@pytest.mark.parametrize("events", [
    pytest.param([*failures(9), success()], id="nine failures are not enough"),
    pytest.param(failures(12), id="failures without a success"),
    pytest.param([*failures(10), success(user="bob")], id="the success is another account's"),
    pytest.param([success(minutes=-5), *failures(10)], id="the success came before the failures"),
    pytest.param([*failures(10), success(minutes=90)], id="the success came too late"),
])
def test_no_brute_force_incident(events: list[SecurityEvent]) -> None:
    assert run(events) == []


# -- credential stuffing ------------------------------------------------------------------------

def stuffing(users: int, *, one_source: bool = True) -> list[SecurityEvent]:
    return [event(f"s{i}", asset="acme-auth", at=T0 + timedelta(seconds=10 * i), category="authentication",
                  outcome="failure", user=f"user{i}", source_ip="198.51.100.4" if one_source else f"198.51.100.{i}")
            for i in range(users)]


def test_credential_stuffing_many_accounts_from_one_source() -> None:
    commands = run(stuffing(20))
    assert len(commands) == 20 and all("correlation credential_stuffing fired" in c.evidence.reason
                                       for c in commands)


def test_signals_of_a_fired_group_arriving_late_still_join_it() -> None:
    # 60 failures over 20 minutes, 30 accounts: any 10 minutes hold 30 accounts. Arriving newest
    # first, the oldest ones are outside the 10 minutes that ended at the newest, yet belong.
    events = [event(f"s{i}", asset="acme-auth", at=T0 + timedelta(seconds=20 * i), category="authentication",
                    outcome="failure", user=f"user{i % 30}", source_ip="198.51.100.4") for i in range(60)]
    assert len(run(list(reversed(events)))) == 60 == len(run(events))


def test_no_credential_stuffing_from_many_sources_or_too_few_accounts() -> None:
    assert run(stuffing(20, one_source=False)) == []
    assert run(stuffing(19)) == []


# -- mass download / export ---------------------------------------------------------------------

def test_one_bulk_export_from_a_data_store() -> None:
    e = event("x", action="export-table", data_store="marketing.subscribers", records=48_210)
    assert names(e) >= {"bulk_export"}
    (command,) = run([e])
    assert command.evidence.reason.startswith("rule bulk_export")


def test_a_small_export_is_not_a_bulk_export() -> None:
    e = event("x", action="export-table", data_store="marketing.subscribers", records=120)
    assert "bulk_export" not in names(e) and run([e]) == []  # held as a read, which alone is nothing


def test_mass_download_by_one_account_from_one_store() -> None:
    reads = series("d", 50, every=timedelta(seconds=20), action="download", data_store="hr.payroll", user="eve")
    commands = run(reads)
    assert len(commands) == 50 and "correlation mass_download fired" in commands[0].evidence.reason
    assert run(reads[:49]) == []
    spread = [*reads[:25], *series("o", 25, every=timedelta(seconds=20), action="download", data_store="hr.payroll",
                                   user="mallory")]
    assert run(spread) == []


# -- ransomware -----------------------------------------------------------------------------------

@pytest.mark.parametrize("fields", [{"action": "file-encrypt"}, {"action": "shadow-copy-delete"},
                                    {"tags": ("edr", "Ransomware")}])
def test_ransomware_indicators(fields: dict[str, Any]) -> None:
    e = event("r", **fields)
    assert "ransomware_indicator" in names(e)
    assert run([e])[0].evidence.reason.startswith("rule ransomware_indicator")


def test_a_siem_rule_named_ransomware_is_an_indicator_and_a_ransom_lookalike_is_not() -> None:
    assert "ransomware_indicator" in names(titled("Ransomware behaviour detected"))
    assert "ransomware_indicator" not in names(titled("Ransomed.com login page visited", action="file-read"))


def test_mass_file_renaming_on_one_host() -> None:
    renames = series("n", 100, every=timedelta(milliseconds=500), action="file-rename", asset="acme-crm-db")
    assert len(run(renames)) == 100
    assert run(renames[:99]) == []
    slow = series("n", 100, every=timedelta(seconds=5), action="file-rename", asset="acme-crm-db")
    assert run(slow) == []


# -- DLP misdirected e-mail, lost devices, unauthorised access, exfiltration ------------------

def test_dlp_misdirected_email() -> None:
    assert "dlp_misdirected_email" in names(event("m", action="email-misdirected"))
    assert "dlp_misdirected_email" in names(event("m", category="email", tags=("DLP", "external-recipient")))
    assert "dlp_misdirected_email" not in names(event("m", category="email", tags=("dlp",)))
    assert "dlp_misdirected_email" not in names(event("m", action="email-sent"))


def test_lost_or_stolen_device() -> None:
    assert "lost_or_stolen_device" in names(event("l", action="device-stolen"))
    assert "lost_or_stolen_device" in names(event("l", tags=("mdm", "lost-device")))
    assert "lost_or_stolen_device" not in names(event("l", action="device-enrolled"))


def test_unauthorised_database_access() -> None:
    assert "unauthorised_db_access" in names(event("u", data_store="crm", outcome="failure", action="access-denied"))
    assert "unauthorised_db_access" in names(event("u", data_store="crm", outcome="success", action="query",
                                                   source_ip="203.0.113.5"))
    assert "unauthorised_db_access" not in names(event("u", data_store="crm", outcome="success", action="query",
                                                       source_ip="10.2.0.5"))
    assert "unauthorised_db_access" not in names(event("u", outcome="failure", action="access-denied"))


def test_exfiltration_volume() -> None:
    big = event("b", bytes_out=150_000_000, destination_ip="203.0.113.50")
    assert "large_outbound_transfer" in names(big)
    assert "large_outbound_transfer" not in names(event("b", bytes_out=150_000_000, destination_ip="10.0.0.8"))
    assert "large_outbound_transfer" not in names(event("b", bytes_out=5_000, destination_ip="203.0.113.50"))
    transfers = series("t", 5, every=timedelta(minutes=5), bytes_out=20_000_000, destination_domain="files.example.net")
    assert len(run(transfers)) == 5 and "correlation exfiltration_volume fired" in run(transfers)[0].evidence.reason
    assert run(transfers[:4]) == []
