"""The register's prose in the reader's language, from the codes and parameters an entry carries
(incident/register.py): what happened, where the number of people comes from, why the authority
was not notified and why the people were not told, the obligations, the override, the audit chain.

English is the register's own text (its JSON keeps it, word for word as before the codes); French
is for a French controller's register. What people and tools wrote (a dismissal's reason, the
DPO's measures and justification, a policy's reference, an alert's title) is quoted as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from incident import reasons
from incident.register_words import (
    BREACH_TYPES,
    BREACH_TYPES_FR,
    DISMISSALS_FR,
    LEVELS,
    LEVELS_FR,
    LEVELS_SHORT_FR,
    WORKFLOW_FR,
    actor,
    exception_reason,
    words,
)
from incident.reminders import TRIAGE_REF, TRIAGE_REF_FR

_MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre")


def when(iso: str | None, lang: str) -> str:
    """A time in a sentence: ISO-8601 in English (as the register always wrote it), a date people
    read in French ("22 novembre 2026 à 09:12 UTC")."""
    if not iso or lang != "fr":
        return iso or ""
    at = datetime.fromisoformat(iso).astimezone(UTC)
    return f"{at.day} {_MONTHS_FR[at.month - 1]} {at.year} à {at:%H:%M} UTC"


def what_happened(p: Mapping[str, Any], lang: str) -> str:
    """``p``: breach_types (codes), where (systems or assets), signals (count), first and last
    (ISO times), strongest (the incident's title: a person's or the detection tool's words)."""
    french = lang == "fr"
    kinds = "; ".join(words(BREACH_TYPES_FR if french else BREACH_TYPES, p["breach_types"]))
    where, told, count = p["where"], p["strongest"], p["signals"]
    first, last = p["first"], p["last"]
    head = (kinds[:1].upper() + kinds[1:]) if kinds else (
        "Violation présumée, pas encore évaluée" if french else "Suspected breach, not yet assessed")
    parts = [head + ((" dans " if french else " in ") + where if where else "")]
    if count:
        if french:
            span = (f" du {when(first, lang)} au {when(last, lang)}" if first and last and first != last
                    else f" le {when(first, lang)}" if first else "")
            signals = "1 signal de sécurité" if count == 1 else f"{count} signaux de sécurité"
            parts.append(signals + span + (f", le plus marquant : {told}" if told else ""))
        else:
            span = (f" from {first} to {last}" if first and last and first != last else f" at {first}" if first else "")
            parts.append(f"{count} security signal(s){span}" + (f", the strongest: {told}" if told else ""))
    elif told:
        parts.append(told)
    return ". ".join(parts) + "."


PEOPLE_FROM = {
    "responder": ("stated by a responder", "indiqué par un intervenant"),
    "records": ("the number of records the signals report (one person per record assumed)",
                "le nombre d'enregistrements que signalent les alertes (une personne par enregistrement supposée)"),
    "population": ("the population the controller declares for the systems concerned",
                   "la population que le responsable du traitement déclare pour les systèmes concernés"),
}


def people_from(code: str | None, lang: str) -> str:
    if code is None:
        return ""
    said = PEOPLE_FROM.get(code)
    return code if said is None else said[lang == "fr"]


_LEVEL_WITHDRAWN = re.compile(r"not required at the level now in force \((\w+)\): (.*)", re.DOTALL)


def closing_reason(text: str, lang: str, why: Sequence[Sequence[str]] = ()) -> str:
    """An obligation's closing reason: a person's words, or the withdrawal a lowered level made
    (incident/reassessment.py) from its codes; recorded before the codes, its own words are
    translated around the person's reason."""
    if why and lang == "fr":
        return reasons.say(tuple(tuple(part) for part in why), lang)
    found = _LEVEL_WITHDRAWN.fullmatch(text)
    if lang != "fr" or found is None:
        return text
    level = LEVELS_SHORT_FR.get(found.group(1), found.group(1))
    return f"non requise au niveau désormais en vigueur ({level}) : {found.group(2)}"


def _dismissed(p: Mapping[str, Any], lang: str) -> str:
    if lang == "fr":
        outcome = DISMISSALS_FR.get(p["outcome"], p["outcome"].replace("_", " "))
        return f"examiné, classé comme {outcome} par {actor(p['by'], lang)} : {p['reason']}"
    return f"examined, dismissed as {p['outcome'].replace('_', ' ')} by {p['by']}: {p['reason']}"


def _closed(items: Sequence[Mapping[str, Any]], lang: str) -> str:
    return (" ; " if lang == "fr" else "; ").join(closing_reason(r["text"], lang, r["why"]) for r in items)


def _withdrawn(items: Sequence[Mapping[str, Any]], lang: str) -> str:
    said = _closed(items, lang)
    return f"retirée : {said}" if lang == "fr" else f"withdrawn: {said}"


def not_notified(why: Mapping[str, Any] | None, lang: str) -> str | None:
    """Why the authority was not notified (None: it was). Codes: merged, dismissed, unlikely,
    withdrawn, not_submitted, not_aware."""
    if why is None:
        return None
    french, code = lang == "fr", why["code"]
    if code == "merged":
        return (f"fusionné dans l'incident {why['into']} : la même violation, inscrite au registre sous celui-ci"
                if french else f"merged into incident {why['into']}: the same breach, registered there")
    if code == "dismissed":
        return _dismissed(why, lang)
    if code == "withdrawn":
        return _withdrawn(why["reasons"], lang)
    fixed = {"unlikely": ("assessed unlikely to result in a risk",
                          "évaluée comme improbable qu'elle engendre un risque"),
             "not_submitted": ("not yet submitted", "pas encore transmise"),
             "not_aware": ("no awareness recorded yet", "prise de connaissance pas encore enregistrée")}
    return fixed[code][french]


def not_communicated(why: Mapping[str, Any] | None, lang: str) -> str | None:
    """Why the people were not told (None: they were). Codes: merged, dismissed, not_aware, exceptions
    (Art. 34(3)), withdrawn, high (still owed), below_high (Art. 34(1) asks it of a high risk only)."""
    if why is None:
        return None
    french, code = lang == "fr", why["code"]
    if code in ("merged", "dismissed", "not_aware"):
        return not_notified(why, lang)
    promised = why.get("promised")
    if code == "exceptions":
        if french:
            said = " ; ".join(f"RGPD, art. {e['article']} : {exception_reason(e['article'], e['reason'], lang)}"
                              for e in why["exceptions"])
            return said + (f" (la politique du responsable du traitement le promet toutefois : {promised})"
                           if promised else "")
        said = "; ".join(f"GDPR Art. {e['article']}: {e['reason']}" for e in why["exceptions"])
        return said + (f" (the controller's policy still promises it: {promised})" if promised else "")
    if code == "withdrawn":
        return _withdrawn(why["reasons"], lang)
    if code == "high":
        return ("pas encore informées : un risque élevé, à leur communiquer dans les meilleurs délais "
                "(RGPD, art. 34(1))"
                if french else "not yet communicated: a high risk, owed without undue delay (GDPR Art. 34(1))")
    level = why["level"]
    if french:
        assessed = "le DPO a jugé" if why["override"] else "évaluée comme"
        said = (f"{assessed} {LEVELS_FR.get(level, level)} : l'article 34(1) du RGPD n'impose d'informer les personnes "
                "qu'en cas de risque élevé")
        if promised:
            return (f"pas encore informées, bien que la politique du responsable du traitement le promette "
                    f"({promised}) ; {said}")
        if why.get("policy_withdrawn"):
            said += " ; la promesse de la politique retirée : " + _closed(why["policy_withdrawn"], lang)
        return said
    assessed = "the DPO assessed" if why["override"] else "assessed"
    said = f"{assessed} {LEVELS.get(level, level)}: GDPR Art. 34(1) requires telling the people of a high risk only"
    if promised:
        return f"not yet communicated, though promised by the controller's policy ({promised}); {said}"
    if why.get("policy_withdrawn"):
        said += "; the policy's promise withdrawn: " + _closed(why["policy_withdrawn"], lang)
    return said


def obligation(o: Mapping[str, Any], lang: str) -> str:
    """One obligation in the register's summary column."""
    if lang != "fr":
        return f"{o['legal_ref']} due {o['deadline']} {o['status']}" + (" LATE" if o["late"] else "")
    ref = TRIAGE_REF_FR if o["legal_ref"] == TRIAGE_REF else o["legal_ref"]
    due = f"échéance le {when(o['deadline'], lang)}" if o["deadline"] else "sans échéance fixe"
    return f"{ref} : {due}, {WORKFLOW_FR.get(o['status'], o['status'])}" + (", EN RETARD" if o["late"] else "")


def override(o: Mapping[str, Any] | None, lang: str) -> str:
    if o is None:
        return ""
    if lang != "fr":
        return f"{o['level']} by {o['by']}: {o['justification']}"
    return f"{LEVELS_SHORT_FR.get(o['level'], o['level'])} par {actor(o['by'], lang)} : {o['justification']}"


_CHAIN = re.compile(r"(verified|broken at|not chained|not checked)(?: from v(\d+)| v(\d+))?(?:, forked at v(\d+))?")


def audit_chain(label: str, lang: str) -> str:
    """incident/chain.py's Verdict.label (or "not checked") in the reader's language."""
    found = _CHAIN.fullmatch(label)
    if lang != "fr" or found is None:
        return label
    kind, since, at, fork = found.groups()
    said = {"verified": "vérifiée", "broken at": "rompue", "not chained": "non chaînée",
            "not checked": "non vérifiée"}[kind]
    said += f" depuis la v{since}" if since else f" à la v{at}" if at else ""
    return said + (f", bifurcation à la v{fork}" if fork else "")
