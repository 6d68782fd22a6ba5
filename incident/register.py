"""The Art. 33(5) register: one entry per breach, notified or not, with the facts, effects,
remedial action, the assessment and its reasoning, and every obligation with its times.

An entry is plain data built from the incident's state; the shell writes it as JSON or CSV. Its prose
is English, and each sentence also comes as the codes and parameters it was written from
(``facts.what_happened_from``, ``not_notified``, ``not_communicated``…): ``csv_row`` words an entry
in English or French (incident/register_prose.py), for the console's page and the CSV export.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from incident import register_prose as prose
from incident import standing
from incident.commitments import POLICY_REGIME
from incident.deadlines import in_force
from incident.model import Incident
from incident.notices import reference
from incident.profiles import LANGUAGES, Profile
from incident.reassessment import LEVEL_WITHDRAWAL
from incident.register_words import (
    CONSEQUENCES,
    CONSEQUENCES_FR,
    DATA_CATEGORIES,
    LEVELS_SHORT_FR,
    MITIGATIONS,
    MITIGATIONS_FR,
    SHORT_FR,
    STATUSES_FR,
    SUBJECT_KINDS_FR,
    YES_NO,
    actor,
    words,
)
from incident.work import headline

SETTLED = ("submitted", "closed")


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def entry(incident: Incident, audit_chain: str = "not checked", profile: Profile | None = None) -> dict[str, Any]:
    """``audit_chain``: what the incident's hash chain on incident-events says (incident/chain.py
    ``Verdict.label``), checked by whoever read the events. ``profile``: the controller's, for
    the names of its systems and the categories of people they hold (without it, the assets)."""
    a, aware = incident.assessment, incident.awareness
    obligations: list[dict[str, Any]] = []
    for clock in incident.clocks:
        o = incident.obligation(clock.rule_ref)
        obligations.append({
            "obligation": clock.rule_ref, "legal_ref": clock.legal_ref, "recipient": clock.recipient,
            "anchor": clock.anchor, "anchor_at": _iso(clock.anchor_at), "deadline": _iso(clock.deadline),
            "status": standing.workflow(incident, clock), "submitted_at": _iso(o.submitted_at) if o else None,
            "channel": o.channel if o else "", "reference": o.reference if o else "",
            "late": o.late if o else False, "delay_reasons": o.delay_reasons if o else "",
            "complements": o.complements if o else 0, "corrections": o.corrections if o else 0,
            "closing_reason": o.closing_reason if o else "",
            # The closing reason as codes when the domain wrote it (a level's withdrawal): incident/reasons.py.
            "closing_why": [list(part) for part in o.closing_why] if o else [],
        })
    authority = [o for o in obligations if o["recipient"] == "authority"]
    # Each sentence's codes and parameters, kept in the entry beside the English written from them.
    happened, people_from = _happened(incident, profile), _people_from(incident)
    unnotified = _why_not_notified(incident, authority)
    untold = None if _communicated(incident, obligations) else _why_not_told(incident, obligations)
    mitigations = list((incident.corrections or {}).get("mitigations", []))
    taken = _measures(incident, profile, "taken")
    closed = [o["closing_reason"] for o in obligations
              if o["closing_reason"] and not o["closing_reason"].startswith(LEVEL_WITHDRAWAL)]
    return {
        "reference": reference(incident.id),
        "incident_id": incident.id,
        "controller": incident.controller,
        "status": incident.status,
        "opened_at": _iso(incident.opened_at),
        "first_event_at": _iso(incident.first_event_at),
        "aware_at": _iso(aware.aware_at) if aware else None,
        "awareness_by": aware.by if aware else None,
        "awareness_evidence": list(aware.evidence) if aware else [],
        "facts": {
            "what_happened": prose.what_happened(happened, "en"),
            "what_happened_from": happened,
            "breach_types": list(a.breach_types) if a else [],
            "data_categories": list(a.data_categories) if a else [],
            "data_categories_described": words(DATA_CATEGORIES, a.data_categories) if a else [],
            "subjects_estimate": a.subjects_estimate if a else None,
            "subjects_estimate_from": prose.people_from(people_from, "en") or None,
            "subjects_estimate_from_code": people_from,
            "records_estimate": incident.records_estimate,
            "subject_categories": _subject_categories(incident, profile),
            "subject_categories_by_locale": {lang: _subject_categories(incident, profile, lang) for lang in LANGUAGES},
            "assets": list(incident.assets),
            "signals": incident.signal_count,
            "corrections": incident.corrections or {},
        },
        "effects": list(a.consequences) if a else [],
        "effects_described": words(CONSEQUENCES, a.consequences) if a else [],
        # Measures a responder recorded (facts mitigations), the measures taken the DPO wrote
        # for the authority (Art. 33(3)(d)), then what closed each obligation (not an obligation
        # the level stopped calling for: "not_notified_because" says that).
        "remedial_action": [*words(MITIGATIONS, mitigations), *taken, *closed],
        # The same, as it was put together: the mitigations' codes, then people's words.
        "remedial_action_from": {"mitigations": mitigations, "measures_taken": taken, "closing_reasons": closed},
        "remedial_action_proposed": _measures(incident, profile, "proposed"),
        "assessment": None if a is None else {
            "level": a.level, "method": a.method_version, "severity": a.severity.score,
            "reasoning": next((f.reason for f in a.factors if f.name == "decision"), ""),
            # The decision as a factor (name, value, reason, params): what a reader words it from.
            "decision": next(({"name": f.name, "value": f.value, "reason": f.reason, "params": dict(f.params or {})}
                              for f in a.factors if f.name == "decision"), None),
            "exceptions": [e.article for e in a.exceptions],
        },
        "override": None if incident.override is None else {
            "level": incident.override.level, "by": incident.override.by,
            "justification": incident.override.justification, "at": _iso(incident.override.at)},
        "level": incident.level,
        "authority_notified": any(o["status"] in ("submitted", "closed") for o in authority),
        # Why it was not notified, when it was not: the register must say (EDPB 9/2022 ¶121-125).
        "not_notified_because": prose.not_notified(unnotified, "en"),
        "not_notified": unnotified,
        # Art. 34: whether the people were told, and for every breach where they were not, why.
        "data_subjects_communicated": _communicated(incident, obligations),
        "not_communicated_because": prose.not_communicated(untold, "en"),
        "not_communicated": untold,
        "dismissal": None if incident.dismissal is None else {
            "outcome": incident.dismissal.outcome, "reason": incident.dismissal.reason,
            "by": incident.dismissal.by, "at": _iso(incident.dismissal.at)},
        "obligations": obligations,
        # Whether the events this entry was rebuilt from are the ones the agent wrote.
        "audit_chain": audit_chain,
    }


def _happened(incident: Incident, profile: Profile | None) -> dict[str, Any]:
    """What happened, as codes and parameters: the kind of breach, where, what the detection tools
    saw and when (incident/register_prose.py what_happened says it)."""
    a = incident.assessment
    systems = [s for s in profile.systems if s.id in incident.systems] if profile else []
    own = profile.languages[0] if profile else "en"
    assets = ", ".join(incident.assets[:10])
    return {"breach_types": list(a.breach_types) if a else [],
            "where": ", ".join(s.name for s in systems) or assets,
            # The systems as the profile names them in each language (issue 16): the French
            # register never quotes the English name the profile also gives.
            "where_by_locale": {lang: ", ".join(s.name_in(lang, own) for s in systems) or assets
                                for lang in LANGUAGES},
            "signals": incident.signal_count, "first": _iso(incident.first_event_at),
            "last": _iso(incident.last_event_at), "strongest": headline(incident)}


def _people_from(incident: Incident) -> str | None:
    """Where the number of people comes from: a number of records is not a number of people."""
    a = incident.assessment
    if a is None or a.subjects_estimate is None:
        return None
    if "subjects_count" in (incident.corrections or {}):
        return "responder"
    if incident.records_estimate is not None:
        return "records"
    return "population"


def _subject_categories(incident: Incident, profile: Profile | None, lang: str | None = None) -> list[str]:
    """The kinds of people, as given (``lang`` None: the codes the French table words), or as the
    profile words them for a reader of ``lang`` (else in its own language, else as given)."""
    if profile is None:
        return []
    systems = [s for s in profile.systems if s.id in incident.systems]
    if lang is None:
        return list(dict.fromkeys(k for s in systems for k in s.data_subjects))
    return list(dict.fromkeys(k for s in systems for k in s.subjects_in(lang, profile.languages[0], SUBJECT_KINDS_FR)))


def _measures(incident: Incident, profile: Profile | None, which: str) -> list[str]:
    """The DPO's measures for the authority, in its language (else the first language written)."""
    recorded = incident.measures_for("authority")
    if recorded is None or not recorded.texts:
        return []
    text = (recorded.in_locale(profile.authority.language) if profile else None) or recorded.texts[0]
    return list(text.taken if which == "taken" else text.proposed)


def _communicated(incident: Incident, obligations: list[dict[str, Any]]) -> bool:
    return bool(incident.subject_notices) or any(
        o["recipient"] == "data_subjects" and o["status"] in SETTLED for o in obligations)


def _closing(o: dict[str, Any]) -> dict[str, Any]:
    """An obligation's closing reason: its English, and its codes when the domain wrote it."""
    return {"text": o["closing_reason"], "why": o["closing_why"]}


def _stopped(incident: Incident) -> dict[str, Any] | None:
    """Merged or dismissed: neither the authority nor the people are told, and the register says why."""
    if incident.merged_into is not None:
        return {"code": "merged", "into": incident.merged_into}
    d = incident.dismissal
    # Examined and found not to be a breach: the CNIL expects these traceable too.
    return None if d is None else {"code": "dismissed", "outcome": d.outcome, "by": d.by, "reason": d.reason}


def _why_not_notified(incident: Incident, authority: list[dict[str, Any]]) -> dict[str, Any] | None:
    if any(o["status"] in SETTLED for o in authority):
        return None
    withdrawn = [_closing(o) for o in authority if o["status"] == "withdrawn"]
    return (_stopped(incident) or ({"code": "unlikely"} if incident.level == "unlikely" else None)
            or ({"code": "withdrawn", "reasons": withdrawn} if withdrawn else None)
            or {"code": "not_submitted" if authority else "not_aware"})


def _why_not_told(incident: Incident, obligations: list[dict[str, Any]]) -> dict[str, Any]:
    """Why the people were not told: the Art. 34(3) exception, or the level assessed (Art. 34(1)
    asks it only of a high risk), or what is still owed to them (the law's, or a promise)."""
    a, level = incident.assessment, incident.level
    stopped = _stopped(incident)
    if stopped is not None:
        return stopped
    if a is None or level is None:
        return {"code": "not_aware"}
    owed = [o for o in obligations if o["recipient"] == "data_subjects"]
    withdrawn = [o for o in owed if o["status"] == "withdrawn"]
    done = {o["obligation"] for o in owed if o["status"] in (*SETTLED, "withdrawn")}
    promised = [c for c in incident.clocks if c.recipient == "data_subjects" and c.regime == POLICY_REGIME
                and in_force(c, level) and c.rule_ref not in done]
    promise = promised[0].legal_ref if promised else None
    if a.exceptions:  # (a) and (b) lower the level too; (c) keeps it high, told publicly instead
        return {"code": "exceptions", "exceptions": [{"article": e.article, "reason": e.reason} for e in a.exceptions],
                "promised": promise}
    if level == "high" and withdrawn:
        return {"code": "withdrawn", "reasons": [_closing(o) for o in withdrawn]}
    if level == "high":
        return {"code": "high"}
    return {"code": "below_high", "level": level, "override": incident.override is not None, "promised": promise,
            "policy_withdrawn": [_closing(o) for o in withdrawn]
            if any(o["obligation"].startswith(POLICY_REGIME + ":") for o in withdrawn) else []}


CSV_COLUMNS = ("reference", "incident_id", "controller", "status", "opened_at", "aware_at", "awareness_by", "level",
               "authority_notified", "not_notified_because", "breach_types", "data_categories",
               "subjects_estimate", "effects", "assessment_reasoning", "override", "obligations", "audit_chain",
               # Issue 16, at the end so a spreadsheet reading the columns above by position still does.
               "what_happened", "records_estimate", "subjects_estimate_from", "subject_categories",
               "effects_described", "remedial_action", "remedial_action_proposed", "data_subjects_communicated",
               "not_communicated_because")


def csv_row(e: dict[str, Any], lang: str = "en",
            reasoning: Callable[[Mapping[str, Any]], str] | None = None) -> dict[str, str]:
    """One flat row per breach; lists joined with "; ", obligations summarised. ``lang``: "en" (the
    codes and the register's English, as the CSV always was) or "fr" (codes and prose in French;
    times stay ISO-8601, people's and tools' words as written). ``reasoning``: words the
    assessment's decision factor in ``lang`` (the notices' labels; without it, its English)."""
    def join(values: Iterable[Any]) -> str:
        return "; ".join(str(v) for v in values)

    french = lang == "fr"
    facts, a = e["facts"], e["assessment"]

    def codes(table: Mapping[str, str], values: Iterable[str]) -> str:
        return join(words(table, values) if french else values)

    decision = a.get("decision") if a else None
    remedial = e["remedial_action_from"]
    return {
        "reference": e["reference"], "incident_id": e["incident_id"], "controller": e["controller"] or "",
        "status": STATUSES_FR.get(e["status"], e["status"]) if french else e["status"],
        "opened_at": e["opened_at"] or "", "aware_at": e["aware_at"] or "",
        "awareness_by": actor(e["awareness_by"], lang), "level": LEVELS_SHORT_FR.get(e["level"], e["level"])
        if french and e["level"] else e["level"] or "",
        "authority_notified": YES_NO[lang if french else "en"][bool(e["authority_notified"])],
        "not_notified_because": prose.not_notified(e["not_notified"], lang) or ""
        if french else e["not_notified_because"] or "",
        "breach_types": codes(SHORT_FR, facts["breach_types"]),
        "data_categories": codes(SHORT_FR, facts["data_categories"]),
        "subjects_estimate": "" if facts["subjects_estimate"] is None else str(facts["subjects_estimate"]),
        "effects": codes(CONSEQUENCES_FR, e["effects"]),
        "assessment_reasoning": (reasoning(decision) if reasoning and decision and french else a["reasoning"])
        if a else "",
        "override": prose.override(e["override"], lang),
        "obligations": join(prose.obligation(o, lang) for o in e["obligations"]),
        "audit_chain": prose.audit_chain(e["audit_chain"], lang),
        # One line per breach: measures and titles are people's and SIEMs' words, which may break lines.
        "what_happened": _one_line(prose.what_happened(_where_in(facts["what_happened_from"], lang), lang) if french
                                   else facts["what_happened"]),
        "records_estimate": "" if facts["records_estimate"] is None else str(facts["records_estimate"]),
        "subjects_estimate_from": prose.people_from(facts.get("subjects_estimate_from_code"), lang)
        if french else facts["subjects_estimate_from"] or "",
        "subject_categories": join(words(SUBJECT_KINDS_FR, facts["subject_categories_by_locale"]["fr"]))
        if french and "subject_categories_by_locale" in facts else codes(SUBJECT_KINDS_FR, facts["subject_categories"]),
        "effects_described": join(words(CONSEQUENCES_FR, e["effects"]) if french else e["effects_described"]),
        "remedial_action": _one_line(join(
            [*words(MITIGATIONS_FR, remedial["mitigations"]), *remedial["measures_taken"],
             *(prose.closing_reason(r, lang) for r in remedial["closing_reasons"])]
            if french else e["remedial_action"])),
        "remedial_action_proposed": _one_line(join(e["remedial_action_proposed"])),
        "data_subjects_communicated": YES_NO[lang if french else "en"][bool(e["data_subjects_communicated"])],
        "not_communicated_because": _one_line(prose.not_communicated(e["not_communicated"], lang) or ""
                                              if french else e["not_communicated_because"] or ""),
    }


def _where_in(happened: Mapping[str, Any], lang: str) -> Mapping[str, Any]:
    """What happened, its systems named in ``lang`` when the entry holds them (older ones do not)."""
    where = (happened.get("where_by_locale") or {}).get(lang)
    return {**happened, "where": where} if where else happened


def _one_line(text: str) -> str:
    return " ".join(text.split())
