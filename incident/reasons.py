"""Why the correlator attached a signal or merged two incidents, and why an incident was reopened,
as codes and parameters: each reason is a tuple of parts ``(code, *params)``, worded in English
(the ``reason`` text the events keep, word for word as before the codes) or in French.

The incident log keeps both: the English text for every reader that quotes it (the API, the
register, the report) and the parts for a reader in another language. Events written before the
parts carry none: a reader words their English text as it can (the console by its old patterns).
What rules and people wrote (a rule's title, a person's reason) is a parameter, quoted as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from incident.register_words import LEVELS_SHORT_FR, actor

Part = tuple[str, ...]
Why = tuple[Part, ...]

# code: (English, French). "{n}" is the part's n-th parameter.
WORDS: dict[str, tuple[str, str]] = {
    # What the signal was to the rule pack.
    "siem_alert": ("SIEM alert (no rule of the pack claims it)", "alerte SIEM (aucune règle du pack ne la revendique)"),
    "siem_confirming": ("SIEM alert confirming a breach (rule {0} matched)",
                        "alerte SIEM confirmant une violation (règle {0} déclenchée)"),
    "rule_matched": ("rule {0} matched", "règle {0} déclenchée"),
    "held_joined": ("rule {0} matched (held for correlation {1}, joined at once: it shares an entity with an open "
                    "incident)",
                    "règle {0} déclenchée (retenue pour la corrélation {1}, rattachée aussitôt : elle partage une "
                    "entité avec un incident ouvert)"),
    "correlation_fired": ("correlation {0} fired ({1} of {2} by {3} within {4})",
                          "corrélation {0} déclenchée ({1} de {2} par {3} en {4})"),
    "unmapped_link": ("a signal on an asset no profile declares, linked to this controller's open incident",
                      "un signal sur un actif qu'aucun profil ne déclare, rattaché à l'incident ouvert de ce "
                      "responsable de traitement"),
    # How it met its incident.
    "opened_for": ("opened for {0}", "ouvert pour {0}"),
    "opened_for_asset": ("opened for its asset", "ouvert pour son actif"),
    "joined_by": ("joined by shared {0} within {1}", "rattaché par {0} en commun, en {1}"),
    "merges": ("merges incident {0} into this one", "fusionne l'incident {0} dans celui-ci"),
    "fingerprint": ("fingerprint {0}", "empreinte {0}"),
    # Notes said right after the part before them.
    "late": (" (late: {0} behind the newest signal)", " (en retard : {0} derrière le signal le plus récent)"),
    "unmapped": (" (no profile declares the asset)", " (aucun profil ne déclare l'actif)"),
    # Why two incidents are one.
    "merge_shares": ("signal {0}{1} shares {2} with it and {3} with incident {4} within {5}",
                     "le signal {0}{1} partage {2} avec lui et {3} avec l'incident {4}, en {5}"),
    "linked_by_hand": ("linked by hand by {0}: {1}", "rattaché à la main par {0} : {1}"),
    # Evidence an incident took from one merged into it: the merge's reason, then its own.
    "merged_from": ("merged from incident {0}", "reprise de l'incident fusionné {0}"),
    "attached_there": ("attached there because", "rattachée là-bas car"),
    # Why an incident dismissed as no breach was worked again.
    "confirms_breach": ("signal {0} confirms a breach", "le signal {0} confirme une violation"),
    "merged_was_breach": ("incident {0}, merged into this one, was a breach",
                          "l'incident {0}, fusionné dans celui-ci, était une violation"),
    # Why an obligation was withdrawn or reinstated when the level of risk changed, and what changed it.
    "level_withdrawal": ("not required at the level now in force ({0})",
                         "non requise au niveau désormais en vigueur ({0})"),
    "level_reinstated": ("the level now in force ({0}) calls for it again",
                         "le niveau désormais en vigueur ({0}) l'exige de nouveau"),
    "dpo_override": ("DPO override: {0}", "décision du DPO : {0}"),
    "facts_corrected": ("facts corrected: {0}", "faits corrigés : {0}"),
    # A responder's facts that would lower the risk, confirmed by the DPO (incident/proposals.py).
    "proposal_confirmed": ("{0}'s proposal confirmed by the DPO: {1}{2}",
                           "proposition de {0} confirmée par le DPO : {1}{2}"),
    "facts_corrected_proposal": ("facts corrected: {0}'s proposal confirmed by the DPO: {1}{2}",
                                 "faits corrigés : proposition de {0} confirmée par le DPO : {1}{2}"),
    "new_evidence": ("new evidence raised the assessed level", "de nouveaux éléments ont relevé le niveau évalué"),
    # Words written before the codes (the English of an older event), or a person's: as they are.
    "recorded": ("{0}", "{0}"),
    "as_written": ("{0}", "{0}"),
}
GLUED = frozenset({"late", "unmapped"})  # said right after the part before, without a separator
# What follows these is said after a colon.
OPENS = frozenset({"merged_from", "attached_there", "level_withdrawal", "level_reinstated"})
# The entities the correlator links on (Config.link_on), before their keyed hash, in French.
ENTITIES_FR = {"host.name": "hôte", "user.name": "utilisateur", "source.ip": "IP source",
               "destination.ip": "IP de destination", "data_store.name": "base de données"}
_ENTITY = re.compile(r"\b([a-z_]+\.[a-z_]+)#")
_ENTITY_PARAMS = {"opened_for": (0,), "joined_by": (0,), "merge_shares": (2, 3)}


# The English of these is the template filled in as is (the rest need _params, or are quoted).
_PLAIN = frozenset(WORDS) - {"held_joined", "merge_shares", "recorded", "as_written", "proposal_confirmed",
                              "facts_corrected_proposal"}
_ENGLISH = {code: english for code, (english, _) in WORDS.items()}


def say(why: Sequence[Part], lang: str = "en", recorded: Callable[[str], str] | None = None) -> str:
    """The reason in ``lang`` ("en" or "fr"); ``recorded``: how this reader words English written
    before the codes (the console's old patterns); without it, as written."""
    if lang != "fr":
        return _english(why)
    out: list[str] = []
    previous = ""
    for code, *params in why:
        if code in ("recorded", "as_written") or code not in WORDS:
            text = params[0] if params else code
            text = recorded(text) if recorded is not None and code == "recorded" else text
        else:
            text = WORDS[code][1].format(*_params(code, params, True))
        if out:
            out.append("" if code in GLUED else " : " if previous in OPENS else " ; ")
        out.append(text)
        previous = code
    return "".join(out)


def _english(why: Sequence[Part]) -> str:
    """The English, as the events keep it: written once per attached signal, so kept cheap."""
    out: list[str] = []
    previous = ""
    for part in why:
        code = part[0]
        if code in _PLAIN:
            text = _ENGLISH[code].format(*part[1:]) if len(part) > 1 else _ENGLISH[code]
        elif code in ("recorded", "as_written") or code not in WORDS:
            text = part[1] if len(part) > 1 else code
        else:
            text = _ENGLISH[code].format(*_params(code, list(part[1:]), False))
        if out:
            out.append("" if code in GLUED else ": " if previous in OPENS else "; ")
        out.append(text)
        previous = code
    return "".join(out)


def _params(code: str, params: list[str], french: bool) -> list[str]:
    if code == "held_joined" and not params[1]:
        params = [params[0], "aucune" if french else "none"]
    elif code == "merge_shares":
        more = params[1]
        params = [params[0], (f" et {more} autres" if french else f" and {more} more") if more else "", *params[2:]]
    elif code == "linked_by_hand" and french:
        params = [actor(params[0], "fr"), *params[1:]]
    elif code in ("proposal_confirmed", "facts_corrected_proposal"):  # the DPO's own reason, if any, after
        params = [actor(params[0], "fr") if french else params[0], params[1],
                  f" ({params[2]})" if len(params) > 2 and params[2] else ""]
    elif code in ("level_withdrawal", "level_reinstated") and french:
        params = [LEVELS_SHORT_FR.get(params[0], params[0])]
    if french:
        for n in _ENTITY_PARAMS.get(code, ()):
            params[n] = _ENTITY.sub(lambda m: f"{ENTITIES_FR.get(m.group(1), m.group(1))} #", params[n])
    return params


def absorbed(incident_id: str, merge: Why, merge_text: str, evidence: Why, evidence_text: str) -> Why:
    """An absorbed signal's reason: the merge's, then why it was attached over there (each its
    English as recorded when it predates the codes)."""
    return (("merged_from", incident_id), *(merge or (("recorded", merge_text),)), ("attached_there",),
            *(evidence or (("recorded", evidence_text),)))
