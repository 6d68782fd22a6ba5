"""The register's codes in words (Art. 33(5) asks for the facts, the effects and the remedial action
taken, which a supervisory authority reads, not the assessment's vocabulary).

The register is plain data in English (its JSON and CSV exports, the console's page); the notices
are rendered by templates with their own labels per language (templates/notices/gdpr/*/_labels.j2).
A code without words here is shown as itself, never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

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


def words(table: dict[str, str], codes: Iterable[str]) -> list[str]:
    return [table.get(code, code) for code in codes]
