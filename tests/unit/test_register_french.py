"""The register worded in French from its entries' codes (issue 17): a French controller's register
says every sentence of its own in French, the English register stays word for word what it was."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from incident import register_prose as prose
from incident.commands import ActOnObligation, CorrectFacts, DismissIncident, MergeIncident, OverrideRisk
from incident.correlation import correlate
from incident.decide import AUTOMATIC_AWARENESS, decide
from incident.model import Incident, fold
from incident.register import csv_row, entry
from incident.register_words import ACTORS_FR, actor, exception_reason
from tests.unit.builders import T0, event, high_risk_incident
from tests.unit.test_obligations import ART33
from tests.unit.test_register import RULES, apply, aware_incident

# Words of the register's English sentences that French never uses.
ENGLISH = re.compile(r"\b(assessed|unlikely|merged into|dismissed|withdrawn|not yet|awareness|recorded|security "
                     r"signal|the strongest|due|LATE|high risk|requires|stated|records the signals|verified|by)\b")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
PROSE = ("not_notified_because", "not_communicated_because", "what_happened", "subjects_estimate_from",
         "obligations", "override", "audit_chain", "effects", "effects_described", "breach_types", "data_categories",
         "remedial_action", "status", "level", "authority_notified", "data_subjects_communicated")


def states() -> dict[str, Incident]:
    """An incident in each shape the register words differently."""
    aware = aware_incident()
    submitted = aware
    for action, fields, hours in (("approve", {}, 1), ("submit", {"channel": "email", "text": "Forensics"}, 80)):
        submitted = apply(submitted, ActOnObligation(incident_id=aware.id, obligation=ART33, action=action, by="d",
                                                     role="dpo", at=T0 + timedelta(hours=hours), **fields),
                          timedelta(hours=hours))
    found = apply(aware, CorrectFacts(incident_id=aware.id, role="dpo", by="user:dpo", reason="found sealed",
                                      changes={"mitigations": ["data_recovered_and_deleted"], "recipients": "known",
                                               "malicious": False}), timedelta(hours=2))
    lowered = apply(found, OverrideRisk(incident_id=aware.id, level="unlikely", by="user:dpo", role="dpo",
                                        justification="Appareil retrouvé scellé."), timedelta(hours=3))
    encrypted = apply(aware, CorrectFacts(incident_id=aware.id, role="dpo", by="user:dpo", reason="chiffré",
                                          changes={"data_categories": ["health"], "encrypted": True,
                                                   "key_compromised": False}), timedelta(hours=1))
    opened = fold(None, decide(correlate(None, event("z"))[1][0], None, now=T0, rules=RULES))
    assert opened is not None
    dismissed = apply(opened, DismissIncident(incident_id=opened.id, outcome="false_positive", by="user:alice",
                                              role="responder", reason="Test de charge prévu."), timedelta(hours=1))
    merged = apply(aware, MergeIncident(incident_id=aware.id, into="other-incident", reason="the same attacker"),
                   timedelta(hours=1))
    return {"submitted late": submitted, "unlikely by the DPO": lowered, "Art. 34(3)(a)": encrypted,
            "high, not yet told": high_risk_incident(), "not aware": opened, "dismissed": dismissed,
            "merged": merged, "risk": aware}


@pytest.mark.parametrize("shape", list(states()))
def test_every_sentence_of_the_register_is_french_for_a_french_reader(shape: str) -> None:
    e = entry(states()[shape], audit_chain="verified from v4", profile=RULES.directory.profiles["acme"])
    row = csv_row(e, "fr", reasoning=lambda decision: "raisonnement")
    for column in PROSE:
        assert not ENGLISH.search(row[column]) and not ISO.search(row[column]), (column, row[column])
    assert row["audit_chain"] == "vérifiée depuis la v4"
    assert row["assessment_reasoning"] == ("raisonnement" if e["assessment"] else "")


@pytest.mark.parametrize("shape", list(states()))
def test_the_english_register_is_the_entry_s_own_english(shape: str) -> None:
    e = entry(states()[shape])
    row = csv_row(e)
    assert row["not_notified_because"] == (e["not_notified_because"] or "")
    assert row["not_communicated_because"] == (e["not_communicated_because"] or "")
    assert row["what_happened"] == e["facts"]["what_happened"]
    # The JSON keeps the codes each sentence was written from, and writing them again gives it.
    assert prose.not_notified(e["not_notified"], "en") == e["not_notified_because"]
    assert prose.not_communicated(e["not_communicated"], "en") == e["not_communicated_because"]


def test_the_french_sentences_say_what_the_english_ones_say() -> None:
    by_shape = {shape: csv_row(entry(state), "fr") for shape, state in states().items()}
    assert by_shape["unlikely by the DPO"]["not_notified_because"] == (
        "évaluée comme improbable qu'elle engendre un risque")
    assert by_shape["unlikely by the DPO"]["not_communicated_because"].startswith(
        "le DPO a jugé improbable qu'elle engendre un risque : l'article 34(1)")
    assert by_shape["unlikely by the DPO"]["remedial_action"] == "données récupérées puis supprimées"
    assert by_shape["unlikely by the DPO"]["override"] == "risque improbable par dpo : Appareil retrouvé scellé."
    assert by_shape["dismissed"]["not_notified_because"] == (
        "examiné, classé comme faux positif par alice : Test de charge prévu.")
    assert by_shape["merged"]["not_notified_because"].startswith("fusionné dans l'incident other-incident")
    assert by_shape["Art. 34(3)(a)"]["not_communicated_because"].startswith(
        "RGPD, art. 34(3)(a) : Sans le chiffrement")
    assert "EN RETARD" in by_shape["submitted late"]["obligations"]
    assert by_shape["submitted late"]["authority_notified"] == "oui"
    assert by_shape["not aware"]["what_happened"] == (
        "Violation présumée, pas encore évaluée dans acme-crm-db. 1 signal de sécurité le 20 novembre 2026 à "
        "09:00 UTC, le plus marquant : Bulk export · acme-crm-db.")  # the alert's title as the tool wrote it

def test_a_level_withdrawal_is_french_around_the_dpo_s_words() -> None:
    text = "not required at the level now in force (unlikely): Appareil retrouvé scellé."
    assert prose.closing_reason(text, "fr") == (
        "non requise au niveau désormais en vigueur (risque improbable) : Appareil retrouvé scellé.")
    assert prose.closing_reason("Notifiée par téléphone", "fr") == "Notifiée par téléphone"  # a person's words


@pytest.mark.parametrize(("label", "french"), [("verified", "vérifiée"), ("verified from v4", "vérifiée depuis la v4"),
                                               ("verified, forked at v9", "vérifiée, bifurcation à la v9"),
                                               ("broken at v7", "rompue à la v7"), ("not chained", "non chaînée"),
                                               ("not checked", "non vérifiée")])
def test_the_audit_chain_label_in_french(label: str, french: str) -> None:
    assert prose.audit_chain(label, "fr") == french and prose.audit_chain(label, "en") == label


def test_who_acted_and_the_exceptions_in_french() -> None:
    assert AUTOMATIC_AWARENESS in ACTORS_FR
    assert actor("user:dora (on incident i-2, merged into this one)", "fr") == (
        "dora (sur l'incident i-2, fusionné dans celui-ci)")  # awareness a merge carried over
    measures = "Without the measures taken since (credentials_reset, accounts_locked) this breach would be high risk."
    assert exception_reason("34(3)(b)", measures, "fr") == (
        "Sans les mesures prises depuis (identifiants réinitialisés, comptes bloqués), cette violation présenterait "
        "un risque élevé.")
    assert exception_reason("34(3)(b)", "another shape", "fr") == "another shape"  # never lost


def test_every_code_has_both_languages() -> None:
    for code in ("unlikely", "not_submitted", "not_aware"):
        english, french = (prose.not_notified({"code": code}, lang) for lang in ("en", "fr"))
        assert english and french and english != french
    for code in prose.PEOPLE_FROM:
        assert prose.people_from(code, "en") != prose.people_from(code, "fr")


def test_the_french_register_names_the_systems_and_people_as_the_profile_does_in_french() -> None:
    """Issue 16: a profile naming its systems and kinds of people in French too: the French row
    quotes those, the English row the English (and the entry keeps both)."""
    from incident.profiles import parse_profile
    from tests.unit.builders import PROFILE, profile_doc

    crm = {**PROFILE["systems"][0], "name": {"en": "Customer database", "fr": "Base clients"},
           "data_subjects": [{"en": "newsletter subscribers", "fr": "abonnés à la newsletter"}, "customers"]}
    profile = parse_profile(profile_doc(systems=[crm, PROFILE["systems"][1]]), source="acme.toml")
    e = entry(aware_incident(), profile=profile)
    french, english = csv_row(e, "fr"), csv_row(e, "en")
    assert "Base clients" in french["what_happened"] and "Customer database" not in french["what_happened"]
    assert french["subject_categories"] == "abonnés à la newsletter; clients"
    assert "Customer database" in english["what_happened"] and "Base clients" not in english["what_happened"]
    assert english["subject_categories"] == "newsletter subscribers; customers"
