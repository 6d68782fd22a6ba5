"""The Art. 33(5) register: one entry per breach, notified or not, with the facts, effects,
remedial action, the assessment and its reasoning, and every obligation with its times.

An entry is plain data built from the incident's state; the shell writes it as JSON or CSV.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from incident import standing
from incident.commitments import POLICY_REGIME
from incident.deadlines import in_force
from incident.model import Incident
from incident.notices import reference
from incident.profiles import Profile
from incident.reassessment import LEVEL_WITHDRAWAL
from incident.register_words import BREACH_TYPES, CONSEQUENCES, DATA_CATEGORIES, LEVELS, MITIGATIONS, words
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
        })
    authority = [o for o in obligations if o["recipient"] == "authority"]
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
            "what_happened": what_happened(incident, profile),
            "breach_types": list(a.breach_types) if a else [],
            "data_categories": list(a.data_categories) if a else [],
            "data_categories_described": words(DATA_CATEGORIES, a.data_categories) if a else [],
            "subjects_estimate": a.subjects_estimate if a else None,
            "subjects_estimate_from": _people_from(incident),
            "records_estimate": incident.records_estimate,
            "subject_categories": _subject_categories(incident, profile),
            "assets": list(incident.assets),
            "signals": incident.signal_count,
            "corrections": incident.corrections or {},
        },
        "effects": list(a.consequences) if a else [],
        "effects_described": words(CONSEQUENCES, a.consequences) if a else [],
        # Measures a responder recorded (facts mitigations), the measures taken the DPO wrote
        # for the authority (Art. 33(3)(d)), then what closed each obligation (not an obligation
        # the level stopped calling for: "not_notified_because" says that).
        "remedial_action": [*words(MITIGATIONS, (incident.corrections or {}).get("mitigations", [])),
                            *_measures(incident, profile, "taken"),
                            *(o["closing_reason"] for o in obligations if o["closing_reason"]
                              and not o["closing_reason"].startswith(LEVEL_WITHDRAWAL))],
        "remedial_action_proposed": _measures(incident, profile, "proposed"),
        "assessment": None if a is None else {
            "level": a.level, "method": a.method_version, "severity": a.severity.score,
            "reasoning": next((f.reason for f in a.factors if f.name == "decision"), ""),
            "exceptions": [e.article for e in a.exceptions],
        },
        "override": None if incident.override is None else {
            "level": incident.override.level, "by": incident.override.by,
            "justification": incident.override.justification, "at": _iso(incident.override.at)},
        "level": incident.level,
        "authority_notified": any(o["status"] in ("submitted", "closed") for o in authority),
        # Why it was not notified, when it was not: the register must say (EDPB 9/2022 ¶121-125).
        "not_notified_because": None if any(o["status"] in ("submitted", "closed") for o in authority) else (
            f"merged into incident {incident.merged_into}: the same breach, registered there"
            if incident.merged_into is not None
            # Examined and found not to be a breach: the CNIL expects these traceable too.
            else f"examined, dismissed as {incident.dismissal.outcome.replace('_', ' ')} by {incident.dismissal.by}: "
                 f"{incident.dismissal.reason}" if incident.dismissal is not None
            else "assessed unlikely to result in a risk" if incident.level == "unlikely"
            else "withdrawn: " + "; ".join(o["closing_reason"] for o in authority if o["status"] == "withdrawn")
            if any(o["status"] == "withdrawn" for o in authority)
            else "not yet submitted" if authority else "no awareness recorded yet"),
        # Art. 34: whether the people were told, and for every breach where they were not, why.
        "data_subjects_communicated": _communicated(incident, obligations),
        "not_communicated_because": None if _communicated(incident, obligations) else _why_not_told(
            incident, obligations),
        "dismissal": None if incident.dismissal is None else {
            "outcome": incident.dismissal.outcome, "reason": incident.dismissal.reason,
            "by": incident.dismissal.by, "at": _iso(incident.dismissal.at)},
        "obligations": obligations,
        # Whether the events this entry was rebuilt from are the ones the agent wrote.
        "audit_chain": audit_chain,
    }


def what_happened(incident: Incident, profile: Profile | None) -> str:
    """The facts in a sentence: the kind of breach, where, what the detection tools saw and when."""
    a = incident.assessment
    kinds = "; ".join(words(BREACH_TYPES, a.breach_types)) if a else ""
    systems = [s.name for s in profile.systems if s.id in incident.systems] if profile else []
    where = ", ".join(systems) or ", ".join(incident.assets[:10])
    told = headline(incident)
    parts = [(kinds[:1].upper() + kinds[1:]) if kinds else "Suspected breach, not yet assessed"]
    parts[0] += f" in {where}" if where else ""
    if incident.signal_count:
        first, last = incident.first_event_at, incident.last_event_at
        span = (f" from {_iso(first)} to {_iso(last)}" if first and last and first != last
                else f" at {_iso(first)}" if first else "")
        parts.append(f"{incident.signal_count} security signal(s){span}" + (f", the strongest: {told}" if told else ""))
    elif told:
        parts.append(told)
    return ". ".join(parts) + "."


def _people_from(incident: Incident) -> str | None:
    """Where the number of people comes from: a number of records is not a number of people."""
    a = incident.assessment
    if a is None or a.subjects_estimate is None:
        return None
    if "subjects_count" in (incident.corrections or {}):
        return "stated by a responder"
    if incident.records_estimate is not None:
        return "the number of records the signals report (one person per record assumed)"
    return "the population the controller declares for the systems concerned"


def _subject_categories(incident: Incident, profile: Profile | None) -> list[str]:
    if profile is None:
        return []
    return list(dict.fromkeys(k for s in profile.systems if s.id in incident.systems for k in s.data_subjects))


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


def _why_not_told(incident: Incident, obligations: list[dict[str, Any]]) -> str:
    """Why the people were not told: the Art. 34(3) exception, or the level assessed (Art. 34(1)
    asks it only of a high risk), or what is still owed to them (the law's, or a promise)."""
    a, level = incident.assessment, incident.level
    if incident.merged_into is not None:
        return f"merged into incident {incident.merged_into}: the same breach, registered there"
    if incident.dismissal is not None:
        return (f"examined, dismissed as {incident.dismissal.outcome.replace('_', ' ')} by {incident.dismissal.by}: "
                f"{incident.dismissal.reason}")
    if a is None or level is None:
        return "no awareness recorded yet"
    owed = [o for o in obligations if o["recipient"] == "data_subjects"]
    withdrawn = [o for o in owed if o["status"] == "withdrawn"]
    done = {o["obligation"] for o in owed if o["status"] in (*SETTLED, "withdrawn")}
    promised = [c for c in incident.clocks if c.recipient == "data_subjects" and c.regime == POLICY_REGIME
                and in_force(c, level) and c.rule_ref not in done]
    if a.exceptions:  # (a) and (b) lower the level too; (c) keeps it high, told publicly instead
        why = "; ".join(f"GDPR Art. {e.article}: {e.reason}" for e in a.exceptions)
        return why + (f" (the controller's policy still promises it: {promised[0].legal_ref})" if promised else "")
    if level == "high" and withdrawn:
        return "withdrawn: " + "; ".join(o["closing_reason"] for o in withdrawn)
    if level == "high":
        return "not yet communicated: a high risk, owed without undue delay (GDPR Art. 34(1))"
    assessed = "the DPO assessed" if incident.override is not None else "assessed"
    why = f"{assessed} {LEVELS.get(level, level)}: GDPR Art. 34(1) requires telling the people of a high risk only"
    if promised:
        return f"not yet communicated, though promised by the controller's policy ({promised[0].legal_ref}); {why}"
    if any(o["obligation"].startswith(POLICY_REGIME + ":") for o in withdrawn):
        why += "; the policy's promise withdrawn: " + "; ".join(o["closing_reason"] for o in withdrawn)
    return why


CSV_COLUMNS = ("reference", "incident_id", "controller", "status", "opened_at", "aware_at", "awareness_by", "level",
               "authority_notified", "not_notified_because", "breach_types", "data_categories",
               "subjects_estimate", "effects", "assessment_reasoning", "override", "obligations", "audit_chain",
               # Issue 16, at the end so a spreadsheet reading the columns above by position still does.
               "what_happened", "records_estimate", "subjects_estimate_from", "subject_categories",
               "effects_described", "remedial_action", "remedial_action_proposed", "data_subjects_communicated",
               "not_communicated_because")


def csv_row(e: dict[str, Any]) -> dict[str, str]:
    """One flat row per breach; lists joined with "; ", obligations summarised."""
    def join(values: Iterable[Any]) -> str:
        return "; ".join(str(v) for v in values)

    return {
        "reference": e["reference"], "incident_id": e["incident_id"], "controller": e["controller"] or "",
        "status": e["status"], "opened_at": e["opened_at"] or "", "aware_at": e["aware_at"] or "",
        "awareness_by": e["awareness_by"] or "", "level": e["level"] or "",
        "authority_notified": "yes" if e["authority_notified"] else "no",
        "not_notified_because": e["not_notified_because"] or "",
        "breach_types": join(e["facts"]["breach_types"]), "data_categories": join(e["facts"]["data_categories"]),
        "subjects_estimate": "" if e["facts"]["subjects_estimate"] is None else str(e["facts"]["subjects_estimate"]),
        "effects": join(e["effects"]),
        "assessment_reasoning": e["assessment"]["reasoning"] if e["assessment"] else "",
        "override": f"{e['override']['level']} by {e['override']['by']}: {e['override']['justification']}"
        if e["override"] else "",
        "obligations": join(f"{o['legal_ref']} due {o['deadline']} {o['status']}"
                            + (" LATE" if o["late"] else "") for o in e["obligations"]),
        "audit_chain": e["audit_chain"],
        # One line per breach: measures and titles are people's and SIEMs' words, which may break lines.
        "what_happened": _one_line(e["facts"]["what_happened"]),
        "records_estimate": "" if e["facts"]["records_estimate"] is None else str(e["facts"]["records_estimate"]),
        "subjects_estimate_from": e["facts"]["subjects_estimate_from"] or "",
        "subject_categories": join(e["facts"]["subject_categories"]),
        "effects_described": join(e["effects_described"]),
        "remedial_action": _one_line(join(e["remedial_action"])),
        "remedial_action_proposed": _one_line(join(e["remedial_action_proposed"])),
        "data_subjects_communicated": "yes" if e["data_subjects_communicated"] else "no",
        "not_communicated_because": _one_line(e["not_communicated_because"] or ""),
    }


def _one_line(text: str) -> str:
    return " ".join(text.split())
