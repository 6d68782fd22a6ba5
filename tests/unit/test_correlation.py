"""Correlation v1: one incident per asset and time window; duplicates ignored."""

from __future__ import annotations

from datetime import timedelta

from incident.correlation import correlate
from tests.unit.builders import T0, event


def test_signals_on_one_asset_within_the_window_join_one_incident() -> None:
    w1, c1 = correlate(None, event("a", at=T0))
    w2, c2 = correlate(w1, event("b", at=T0 + timedelta(hours=3)))
    assert c1[0].incident_id == c2[0].incident_id == w2.incident_id
    assert "same asset acme-crm-db within 24 h" in c2[0].evidence.reason
    assert c1[0].evidence.reason.startswith("first signal")


def test_a_signal_after_the_window_opens_a_new_incident() -> None:
    w1, c1 = correlate(None, event("a", at=T0))
    _, c2 = correlate(w1, event("b", at=T0 + timedelta(hours=25)))
    assert c1[0].incident_id != c2[0].incident_id


def test_a_duplicate_event_id_is_ignored() -> None:
    w1, _ = correlate(None, event("a"))
    w2, commands = correlate(w1, event("a"))
    assert commands == [] and w2 == w1


def test_incident_ids_are_deterministic_for_replays() -> None:
    assert correlate(None, event("a"))[0].incident_id == correlate(None, event("a"))[0].incident_id
    assert correlate(None, event("a"))[0].incident_id != correlate(None, event("z"))[0].incident_id


def test_the_key_separates_controllers_and_flags_unmapped_assets() -> None:
    w, commands = correlate(None, event("a", asset="printer-7"))
    assert w.key == "unmapped|printer-7"
    assert commands[0].controller is None and "no profile declares it" in commands[0].evidence.reason
