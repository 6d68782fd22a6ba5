"""The shipped pack's authentication rules fire on real Wazuh alerts (issue 15): before, a Wazuh
alert carried no event.outcome, so `failed_logon` and `brute_force_then_success` never matched."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from incident.correlation import correlate_batch
from incident.normalize import normalize_all
from incident.signals import SecurityEvent
from streams.rules_loader import load_rules
from streams.settings import ROOT

PACK = load_rules(ROOT / "deploy" / "rules")
CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "wazuh"


def real(name: str) -> SecurityEvent:
    value = (CORPUS / f"{name}.json").read_bytes()
    (event,) = normalize_all(value, datetime(2026, 1, 1, tzinfo=UTC))
    assert isinstance(event, SecurityEvent), event
    return event


def detections(event: SecurityEvent) -> set[str]:
    return {PACK.title_of(r) for r in PACK.matching(event.fields())}


def test_real_failed_ssh_logins_are_failed_logons() -> None:
    for name in ("alert-5710-non-existent-user", "alert-5716-sshd-failed-password-root"):
        assert "failed_logon" in detections(real(name)), name


def test_real_ssh_and_pam_successes_are_successful_logons() -> None:
    for name in ("indexer-5715-sshd-publickey-accepted", "indexer-5501-pam-session-opened"):
        assert "successful_logon" in detections(real(name)), name


def test_file_integrity_and_vulnerability_alerts_are_not_logons() -> None:
    for name in ("fim-550-md5-modified", "fim-553-md5-file-deleted", "indexer-23502-vulnerability-solved"):
        assert not {"failed_logon", "successful_logon"} & detections(real(name)), name


def test_brute_force_then_success_fires_on_wazuh_alerts() -> None:
    # The corpus holds real single failures and successes for root, not a ten-attempt series: the
    # series is the real 5716 "Failed password for root" alert as Wazuh writes it once per attempt
    # (a new id and time each, nothing else changed), then the real 5715 success for root.
    success = real("indexer-5715-sshd-publickey-accepted")
    failure = real("alert-5716-sshd-failed-password-root")
    assert failure.user == success.user == "root"
    start = success.occurred_at - timedelta(minutes=20)
    attempts = [replace(failure, event_id=f"{failure.event_id}-{i}", occurred_at=start + timedelta(seconds=30 * i))
                for i in range(10)]
    _, commands = correlate_batch(None, [*attempts, success], pack=PACK)
    assert len(commands) == 11 and len({c.incident_id for c in commands}) == 1
    assert all("correlation brute_force_then_success fired" in c.evidence.reason for c in commands)
    # Nine attempts are not a brute force: the pack's threshold holds on Wazuh input too.
    _, fewer = correlate_batch(None, [*attempts[:9], success], pack=PACK)
    assert not any("brute_force_then_success" in c.evidence.reason for c in fewer)


def test_wazuh_own_count_of_failures_is_an_alert_not_one_more_failure() -> None:
    many = real("alert-5720-sshd-multiple-failures")  # a frequency rule: eight failures, counted by Wazuh
    assert (many.category, many.outcome) == ("authentication", None)
    _, commands = correlate_batch(None, [many], pack=PACK)
    assert len(commands) == 1 and "SIEM alert (no rule of the pack claims it)" in commands[0].evidence.reason


def test_a_confirming_alert_that_only_feeds_a_correlation_is_attached_at_once() -> None:
    # A level-12 success (Wazuh's "failures followed by a success") is a successful logon for the
    # pack, whose rule only feeds brute_force_then_success: it must not wait for it.
    success = replace(real("indexer-5715-sshd-publickey-accepted"), confirms_breach=True)
    _, commands = correlate_batch(None, [success], pack=PACK)
    assert len(commands) == 1 and "SIEM alert confirming a breach (rule successful_logon matched)" in \
        commands[0].evidence.reason
    _, held = correlate_batch(None, [replace(success, confirms_breach=False)], pack=PACK)
    assert held == []
