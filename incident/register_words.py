"""The register's codes in words (Art. 33(5) asks for the facts, the effects and the remedial action
taken, which a supervisory authority reads, not the assessment's vocabulary).

The register is plain data: its JSON keeps the codes and the English; the console's page and the
CSV word it in the reader's language (incident/register_prose.py) from these tables, English and
French. The notices are rendered by templates with their own labels per language
(templates/notices/gdpr/*/_labels.j2). A code without words here is shown as itself, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

BREACH_TYPES = {
    "confidentiality": "unauthorised or accidental disclosure of, or access to, personal data",
    "integrity": "unauthorised or accidental alteration of personal data",
    "availability": "accidental or unauthorised loss of access to, or destruction of, personal data",
}
DATA_CATEGORIES = {
    "contact": "contact details", "identity": "identity data", "credentials": "account credentials",
    "financial": "financial data", "payment_card": "payment card data",
    "official_id": "official identity documents or numbers", "location": "location data",
    "behavioural": "behavioural data", "communications": "contents of communications", "health": "health data",
    "special_category": "special categories of data (Art. 9 GDPR)",
    "criminal": "data on criminal convictions and offences (Art. 10 GDPR)", "children": "data concerning children",
    "technical": "technical data",
}
CONSEQUENCES = {
    "phishing": "targeted phishing or scam attempts using the disclosed data",
    "identity_theft": "identity theft or impersonation", "fraud": "fraud", "financial_loss": "financial loss",
    "account_takeover": "takeover of online accounts", "discrimination": "discrimination",
    "reputational_damage": "damage to reputation", "loss_of_control": "loss of control over their personal data",
    "physical_harm": "risk to physical safety", "distress": "distress and anxiety",
}
MITIGATIONS = {
    "data_recovered_and_deleted": "data recovered and deleted", "credentials_reset": "credentials reset",
    "accounts_locked": "accounts locked", "key_rotated": "encryption key replaced",
    "recipient_confirmed_deletion": "deletion confirmed by the recipient",
    "device_wiped_remotely": "device wiped remotely", "backup_restored": "data restored from a backup",
}
LEVELS = {"unlikely": "unlikely to result in a risk", "risk": "a risk, not a high risk", "high": "a high risk"}


def words(table: Mapping[str, str], codes: Iterable[str]) -> list[str]:
    return [table.get(code, code) for code in codes]


# The same codes in French, for a French controller's register (the console's page, the CSV with
# lang=fr). The French notices have their own (templates/notices/gdpr/fr/_labels.j2); these say
# the same things in the register's shorter style.
BREACH_TYPES_FR = {
    "confidentiality": "divulgation ou accès non autorisé ou accidentel à des données personnelles",
    "integrity": "altération non autorisée ou accidentelle de données personnelles",
    "availability": "perte d'accès ou destruction, accidentelle ou non autorisée, de données personnelles",
}
DATA_CATEGORIES_FR = {
    "contact": "coordonnées", "identity": "données d'identification", "credentials": "identifiants de connexion",
    "financial": "données financières", "payment_card": "données de carte de paiement",
    "official_id": "numéros ou copies de pièces d'identité officielles", "location": "données de localisation",
    "behavioural": "données comportementales", "communications": "contenu de communications",
    "health": "données de santé", "special_category": "catégories particulières de données (art. 9 RGPD)",
    "criminal": "données relatives aux condamnations pénales et aux infractions (art. 10 RGPD)",
    "children": "données concernant des mineurs", "technical": "données techniques",
}
# A breach type or data category as a code column says it (the English CSV keeps the code itself).
SHORT_FR = {
    "confidentiality": "confidentialité", "integrity": "intégrité", "availability": "disponibilité",
    "contact": "coordonnées", "identity": "identité", "credentials": "identifiants de connexion",
    "financial": "données financières", "payment_card": "carte de paiement",
    "official_id": "pièces d'identité officielles", "location": "localisation", "behavioural": "comportement",
    "communications": "communications", "health": "santé", "special_category": "catégories particulières",
    "criminal": "condamnations et infractions pénales", "children": "mineurs", "technical": "données techniques",
}
CONSEQUENCES_FR = {
    "phishing": "hameçonnage ciblé ou tentatives d'escroquerie exploitant les données divulguées",
    "identity_theft": "usurpation d'identité", "fraud": "fraude", "financial_loss": "perte financière",
    "account_takeover": "prise de contrôle de comptes en ligne", "discrimination": "discrimination",
    "reputational_damage": "atteinte à la réputation",
    "loss_of_control": "perte de maîtrise de leurs données personnelles",
    "physical_harm": "atteinte à la sécurité physique", "distress": "détresse et anxiété",
}
MITIGATIONS_FR = {
    "data_recovered_and_deleted": "données récupérées puis supprimées",
    "credentials_reset": "identifiants réinitialisés",
    "accounts_locked": "comptes bloqués", "key_rotated": "clé de chiffrement remplacée",
    "recipient_confirmed_deletion": "suppression confirmée par le destinataire",
    "device_wiped_remotely": "appareil effacé à distance",
    "backup_restored": "données restaurées à partir d'une sauvegarde",
}
LEVELS_FR = {"unlikely": "improbable qu'elle engendre un risque", "risk": "un risque, non élevé",
             "high": "un risque élevé"}
LEVELS_SHORT_FR = {"unlikely": "risque improbable", "risk": "risque", "high": "risque élevé"}
# The categories of people a profile's systems declare (profiles' data_subjects).
SUBJECT_KINDS_FR = {
    "customers": "clients", "prospects": "prospects", "employees": "salariés", "candidates": "candidats à l'embauche",
    "users": "utilisateurs", "members": "adhérents", "patients": "patients", "students": "élèves et étudiants",
    "suppliers": "contacts chez les fournisseurs", "visitors": "visiteurs", "children": "mineurs",
}
STATUSES_FR = {  # as the console's list says them (console/i18n.py status_*)
    "open": "ouvert", "triage": "en analyse", "aware": "violation constatée", "assessed": "évalué",
    "drafts_requested": "projets demandés", "drafts_delivered": "projets remis", "draft_failed": "projet en échec",
    "submitted": "autorité notifiée", "closed": "clos", "merged": "fusionné dans un autre incident",
    "dismissed": "classé (non notifié)",
}
# An obligation's workflow word (incident/standing.py workflow).
WORKFLOW_FR = {"running": "en cours", "approved": "approuvée", "submitted": "transmise", "closed": "close",
               "withdrawn": "retirée", "stopped": "arrêtée"}
DISMISSALS_FR = {"not_a_breach": "pas une violation", "false_positive": "faux positif", "duplicate": "doublon"}
# Who acted, when it is not a person: the rule that made a confirmed signal awareness, the system.
ACTORS_FR = {"rule:confirmed-signal": "règle : signal confirmé", "system": "système"}
YES_NO = {"en": ("no", "yes"), "fr": ("non", "oui")}

# incident/risk.py's Art. 34(3) exceptions, by article; (b) names the measures (codes in its English).
EXCEPTIONS_FR = {
    "34(3)(a)": "Sans le chiffrement, cette violation présenterait un risque élevé ; les données sont inintelligibles "
                "et la clé n'a pas été compromise.",
    "34(3)(b)": "Sans les mesures prises depuis ({}), cette violation présenterait un risque élevé.",
    "34(3)(c)": "Les personnes concernées ne peuvent pas être contactées individuellement sans efforts "
                "disproportionnés : une communication publique la remplace.",
}
_MEASURES = re.compile(r"Without the measures taken since \((.*)\) this breach would be high risk\.")


def exception_reason(article: str, reason: str, lang: str) -> str:
    """An Art. 34(3) exception's reason in ``lang`` (the English is the assessment's own text)."""
    if lang != "fr" or article not in EXCEPTIONS_FR:
        return reason
    if article == "34(3)(b)":
        measures = _MEASURES.fullmatch(reason)
        if measures is None:
            return reason
        codes = [code.strip() for code in measures.group(1).split(",")]
        return EXCEPTIONS_FR[article].format(", ".join(MITIGATIONS_FR.get(c, c) for c in codes))
    return EXCEPTIONS_FR[article]


# Awareness a merge carried over: who knew it, on the incident merged in (incident/decide.py _absorb).
_ON_MERGED = re.compile(r"(.+) \(on incident (\S+), merged into this one\)")


def actor(by: str | None, lang: str) -> str:
    """Who acted, as a French reader says it: a rule or the system in words, a person by name."""
    if not by or lang != "fr":
        return by or ""
    merged = _ON_MERGED.fullmatch(by)
    if merged:
        return f"{actor(merged.group(1), lang)} (sur l'incident {merged.group(2)}, fusionné dans celui-ci)"
    if by.startswith("user:"):
        return by.removeprefix("user:")
    return ACTORS_FR.get(by, by)
