"""The Art. 33(5) register: one entry per breach, notified or not, with the facts, effects,
remedial action, the assessment and its reasoning, and every obligation with its times.

An entry is plain data built from the incident's state; the shell writes it as JSON or CSV.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from incident.model import Incident
from incident.notices import reference


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def entry(incident: Incident, audit_chain: str = "not checked") -> dict[str, Any]:
    """``audit_chain``: what the incident's hash chain on incident-events says (incident/chain.py
    ``Verdict.label``), checked by whoever read the events."""
    a, aware = incident.assessment, incident.awareness
    obligations: list[dict[str, Any]] = []
    for clock in incident.clocks:
        o = incident.obligation(clock.rule_ref)
        obligations.append({
            "obligation": clock.rule_ref, "legal_ref": clock.legal_ref, "recipient": clock.recipient,
            "anchor": clock.anchor, "anchor_at": _iso(clock.anchor_at), "deadline": _iso(clock.deadline),
            "status": o.status if o else "running", "submitted_at": _iso(o.submitted_at) if o else None,
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
            "breach_types": list(a.breach_types) if a else [],
            "data_categories": list(a.data_categories) if a else [],
            "subjects_estimate": a.subjects_estimate if a else None,
            "assets": list(incident.assets),
            "signals": incident.signal_count,
            "corrections": incident.corrections or {},
        },
        "effects": list(a.consequences) if a else [],
        # Measures a responder recorded (facts mitigations), then what closed each obligation.
        "remedial_action": [*(incident.corrections or {}).get("mitigations", []),
                            *(o["closing_reason"] for o in obligations if o["closing_reason"])],
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
        "dismissal": None if incident.dismissal is None else {
            "outcome": incident.dismissal.outcome, "reason": incident.dismissal.reason,
            "by": incident.dismissal.by, "at": _iso(incident.dismissal.at)},
        "obligations": obligations,
        # Whether the events this entry was rebuilt from are the ones the agent wrote.
        "audit_chain": audit_chain,
    }


CSV_COLUMNS = ("reference", "incident_id", "controller", "status", "opened_at", "aware_at", "awareness_by", "level",
               "authority_notified", "not_notified_because", "breach_types", "data_categories",
               "subjects_estimate", "effects", "assessment_reasoning", "override", "obligations", "audit_chain")


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
    }
