"""The domain's English text as a French page reads it: the risk assessment's factors and Art. 34(3)
exceptions, who acted (``rule:confirmed-signal``, ``system``, ``user:…``) and the awareness
escalation's reference.

The incident log keeps the English the domain wrote (events are immutable, and the register and
the API quote them); the page translates at reading time. A factor is translated from its code
and its ``params`` by the same labels the French notices use (templates/notices/gdpr/fr/
_labels.j2), so the console and the authority notification never explain a factor in two ways;
a factor recorded before factors carried params keeps its English (the labels fall back to it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import jinja2
import structlog

from incident import reasons, register_words
from incident.reminders import TRIAGE_REF, TRIAGE_REF_FR
from streams.mail.render import NoticeRenderer

log = structlog.get_logger("breach.console")

# One render for every factor row: name, value and reason, separated by a character no label holds.
_SEP = "\x1f"
_FACTORS = ('{% import "gdpr/fr/_labels.j2" as l %}{% for f in factors %}'
            '{{ l.factor_name(f) }}' + _SEP + '{{ l.factor_value(f) }}' + _SEP + '{{ l.factor_reason(f) }}' + _SEP
            + '{% endfor %}')

_REFS_FR = {TRIAGE_REF: TRIAGE_REF_FR}


def factor_rows(renderer: NoticeRenderer, factors: Sequence[Mapping[str, Any]], lang: str) -> list[dict[str, str]]:
    """Each factor as (name, value, reason) in the reader's language; English: the domain's own text."""
    english = [{"name": str(f["name"]).replace("_", " "), "value": str(f["value"]), "reason": str(f["reason"]),
                "code": str(f["name"])} for f in factors]
    if lang != "fr" or not factors:
        return english
    try:
        text = renderer.render_snippet(_FACTORS, locale="fr", context={"factors": [dict(f) for f in factors]})
    except (jinja2.TemplateError, ValueError, TypeError) as exc:
        # A factor the labels cannot read (params of an unforeseen shape) must not take the page
        # down: the domain's English is still true.
        log.warning("console.factors_untranslated", error=type(exc).__name__,
                    factors=[str(f["name"]) for f in factors])
        return english
    cells = text.split(_SEP)
    return [{"name": cells[3 * n], "value": cells[3 * n + 1], "reason": cells[3 * n + 2], "code": str(f["name"])}
            for n, f in enumerate(factors)]


def exception_reason(article: str, reason: str, lang: str) -> str:
    """An Art. 34(3) exception's reason (incident/register_words.py: the register says it the same way)."""
    return register_words.exception_reason(article, reason, lang)


def actor(by: str | None, lang: str) -> str:
    """Who acted, as a French reader says it: a rule or the system in words, a person by their name
    (English pages keep the id the log holds, as they always showed it)."""
    return register_words.actor(by, lang)


def legal_ref(ref: str | None, lang: str) -> str:
    """An obligation's legal reference; the awareness escalation's own in French (citations stay)."""
    if not ref:
        return ""
    return _REFS_FR.get(ref, ref) if lang == "fr" else ref


# Events recorded before reasons carried codes: incident/correlation.py's reason for attaching a
# signal, "what; how[; merges …]; fingerprint …", each part by pattern (rule and correlation titles
# are the rule pack's, kept as written).
_SIGNAL_PARTS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.DOTALL), fr) for p, fr in (
    (r"SIEM alert \(no rule of the pack claims it\)(.*)", "alerte SIEM (aucune règle du pack ne la revendique){0}"),
    (r"SIEM alert confirming a breach \(rule (.+) matched\)(.*)",
     "alerte SIEM confirmant une violation (règle {0} déclenchée){1}"),
    (r"rule (.+) matched \(held for correlation (.+), joined at once: it shares an entity with an open "
     r"incident\)(.*)",
     "règle {0} déclenchée (retenue pour la corrélation {1}, rattachée aussitôt : elle partage une entité avec "
     "un incident ouvert){2}"),
    (r"rule (.+) matched(.*)", "règle {0} déclenchée{1}"),
    (r"correlation (.+) fired \((\S+) of (.+) by (.+) within (.+?)\)(.*)",
     "corrélation {0} déclenchée ({1} de {2} par {3} en {4}){5}"),
    (r"opened for its asset(.*)", "ouvert pour son actif{0}"),
    (r"opened for (.+?)( \(no profile declares the asset\))?", "ouvert pour {0}{1}"),
    (r"joined by shared (.+) within (.+?)( \(no profile declares the asset\))?",
     "rattaché par {0} en commun, en {1}{2}"),
    (r"merges incident (.+) into this one", "fusionne l'incident {0} dans celui-ci"),
    # The correlator's reason for merging two incidents (IncidentMerged).
    (r"signal (.+) shares (.+) with it and (.+) with incident (\S+) within (.+)",
     "le signal {0} partage {1} avec lui et {2} avec l'incident {3}, en {4}"),
    (r"fingerprint (.+)", "empreinte {0}"),
    # Why the domain reopened a dismissed incident (IncidentReopened by the rule).
    (r"signal (\S+) confirms a breach", "le signal {0} confirme une violation"),
    (r"incident (\S+), merged into this one, was a breach",
     "l'incident {0}, fusionné dans celui-ci, était une violation"),
))
_SIGNAL_NOTES = ((" (no profile declares the asset)", " (aucun profil ne déclare l'actif)"),
                 ("behind the newest signal)", "derrière le signal le plus récent)"), (" (late: ", " (en retard : "))


_ENTITY = re.compile(r"\b([a-z_]+\.[a-z_]+)#")


def signal_reason(reason: str | None, lang: str, why: Sequence[Sequence[str]] = ()) -> str:
    """Why the correlator attached a signal or merged two incidents, or why the domain reopened an
    incident, in the reader's language: from its codes (incident/reasons.py) when the event carries
    them; an event recorded before them, by the patterns of its English (unknown parts, like a
    person's reason for a merge, as written)."""
    if not reason or lang != "fr":
        return reason or ""
    if why:
        return reasons.say(tuple(tuple(part) for part in why), lang, recorded=lambda text: _recorded(text, lang))
    return _recorded(reason, lang)


def said(text: str, why: Sequence[Sequence[str]] | None, lang: str) -> str:
    """A text the domain wrote with its codes (a level's withdrawal of an obligation, a confirmed
    proposal), in the reader's language; a person's text, or one recorded before the codes, as is."""
    return reasons.say(tuple(tuple(part) for part in why), lang) if why and lang == "fr" else text


def _recorded(reason: str, lang: str) -> str:
    reason = _ENTITY.sub(lambda m: f"{reasons.ENTITIES_FR.get(m.group(1), m.group(1))} #", reason)
    said = []
    for part in reason.split("; "):
        for pattern, french in _SIGNAL_PARTS:
            found = pattern.fullmatch(part)
            if found:
                part = french.format(*(g or "" for g in found.groups()))
                break
        for english, french_note in _SIGNAL_NOTES:
            part = part.replace(english, french_note)
        said.append(part)
    return " ; ".join(said)


_NOTICE_REFERENCE = re.compile(r"notice (\S+) to list (\S+)")


def workflow_reference(ref: str | None, lang: str) -> str:
    """A submission's reference: the portal's as given; the notice to the people's, as the domain
    records it ("notice ID to list ID"), in the reader's language."""
    found = _NOTICE_REFERENCE.fullmatch(ref or "")
    if lang != "fr" or found is None:
        return ref or ""
    return f"notification {found.group(1)} à la liste {found.group(2)}"
