"""Shapes the read model for people and for the JSON API (times in ISO 8601 UTC)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from incident.events import CommandRejected
from incident.model import Incident, SubjectNotice
from incident.notices import reference, subject_notice_id
from incident.profiles import Directory
from streams.codec import to_jsonable


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def time_left(deadline: datetime, now: datetime) -> str:
    seconds = int((deadline - now).total_seconds())
    sign, seconds = ("", seconds) if seconds >= 0 else ("overdue by ", -seconds)
    hours, minutes = divmod(seconds // 60, 60)
    text = f"{hours} h {minutes:02d} min"
    return f"{sign}{text}" if sign else f"{text} left"


def summary(incident: Incident, directory: Directory, now: datetime) -> dict[str, Any]:
    profile = directory.profiles.get(incident.controller or "")
    zone = ZoneInfo(profile.timezone if profile else "UTC")
    # The nearest deadline first (what to do next); "without undue delay" ones after the timed.
    clocks = sorted(incident.clocks, key=lambda c: (not c.timed, c.deadline))
    # A merged incident's clocks stopped: the incident it merged into carries them (and the
    # deadline that counts), so nothing here is due and no countdown may suggest otherwise.
    running = incident.merged_into is None
    pending = [c for c in clocks
               if running and c.timed and not ((o := incident.obligation(c.rule_ref)) and o.settled)]
    return {
        "id": incident.id,
        "reference": reference(incident.id),
        "controller": incident.controller,
        "controller_name": profile.name if profile else None,
        "status": incident.status,
        "merged_into": incident.merged_into,
        "merged_into_reference": reference(incident.merged_into) if incident.merged_into else None,
        "merge_reason": incident.merge_reason or None,
        "risk": incident.level,
        "opened_at": _iso(incident.opened_at),
        "first_event_at": _iso(incident.first_event_at),
        "last_event_at": _iso(incident.last_event_at),
        "assets": list(incident.assets),
        "unmapped_assets": list(incident.unmapped_assets),
        "signal_count": len(incident.evidence),
        "triage": None if incident.triage is None else {"started_at": _iso(incident.triage.aware_at),
                                                        "by": incident.triage.by},
        "awareness": None if incident.awareness is None else {
            "aware_at": _iso(incident.awareness.aware_at), "by": incident.awareness.by,
            "evidence": list(incident.awareness.evidence)},
        "deadlines": [{
            "regime": c.regime, "obligation": c.obligation, "legal_ref": c.legal_ref, "recipient": c.recipient,
            "anchor": c.anchor, "anchor_at": _iso(c.anchor_at), "deadline": _iso(c.deadline),
            "deadline_local": c.deadline.astimezone(zone).isoformat(), "time_zone": str(zone),
            "timed": c.timed, "running": running,
            "seconds_left": int((c.deadline - now).total_seconds()) if c.timed and running else None,
            "time_left": (time_left(c.deadline, now) if c.timed else "without undue delay") if running
            else f"stopped: merged into {incident.merged_into}",
            "rule_ref": c.rule_ref, "profile_ref": c.profile_ref, "unit": c.unit, "amount": c.amount,
            "workflow": _workflow(incident, c.rule_ref)} for c in clocks],
        "notices": [{
            "notice_id": n.notice_id, "kind": n.kind, "locale": n.locale, "audience": n.audience,
            "recipients": len(n.recipients), "delivered": len(n.delivered), "failed": len(n.failed)}
            for n in incident.notices],
        # The clock that matters now: the nearest deadline of an obligation not yet settled.
        "next_deadline": _iso(pending[0].deadline) if pending else None,
        "seconds_left": int((pending[0].deadline - now).total_seconds()) if pending else None,
        "overdue": any(c.deadline < now for c in pending),
    }


def _workflow(incident: Incident, rule_ref: str) -> dict[str, Any] | None:
    o = incident.obligation(rule_ref)
    return None if o is None else {
        "status": o.status, "approved_by": o.approved_by, "submitted_at": _iso(o.submitted_at),
        "channel": o.channel, "reference": o.reference, "late": o.late, "delay_reasons": o.delay_reasons,
        "complements": o.complements, "corrections": o.corrections, "closing_reason": o.closing_reason}


def detail(incident: Incident, timeline: list[Any], directory: Directory, now: datetime, lang: str = "en",
           ) -> dict[str, Any]:
    """The incident for a page (``lang``: the timeline's words) or for the API (English)."""
    out = summary(incident, directory, now)
    out["assessment"] = None if incident.assessment is None else to_jsonable(incident.assessment)
    out["override"] = None if incident.override is None else to_jsonable(incident.override)
    out["corrections"] = incident.corrections or {}
    out["evidence"] = [to_jsonable(e) for e in incident.evidence]
    words = describe_fr if lang == "fr" else describe
    out["timeline"] = [{"type": type(e).__name__, "version": getattr(e, "version", None), "at": _iso(e.at),
                        "summary": words(e), "command": getattr(e, "command", None),
                        "reason": e.reason if isinstance(e, CommandRejected) else None} for e in timeline]
    # The refusals since the incident last changed: what the reader just asked and was not allowed.
    last = max((i for i, e in enumerate(timeline) if type(e).__name__ != "CommandRejected"), default=-1)
    out["rejections"] = [{"command": e.command, "reason": e.reason, "at": _iso(e.at)} for e in timeline[last + 1:]]
    out["subject_lists"] = [{"list_id": x.list_id, "count": x.count, "invalid": x.invalid, "by": x.by,
                             "at": _iso(x.at), "notice_id": subject_notice_id(incident.id, x.list_id),
                             "notified": incident.subject_notice(subject_notice_id(incident.id, x.list_id))
                             is not None} for x in incident.subject_lists]
    out["subject_notices"] = [subject_progress(n) for n in incident.subject_notices]
    return out


def subject_progress(n: SubjectNotice) -> dict[str, Any]:
    """How far a notice to the people affected has gone (counts only: no address)."""
    return {"notice_id": n.notice_id, "list_id": n.list_id, "by": n.by, "requested_at": _iso(n.requested_at),
            "default_locale": n.default_locale, "total": n.total, "sent": n.sent, "pending": n.pending,
            "failed": n.failed, "bounced": n.bounced, "in_doubt": n.in_doubt, "done": n.total - n.pending}


def describe(event: Any) -> str:
    """One line a responder can read at 3 a.m.; no personal data."""
    name = type(event).__name__
    data = asdict(event)
    match name:
        case "IncidentOpened":
            return f"Incident opened for {data['controller'] or 'an unmapped asset'}"
        case "SignalAttached":
            e = data["evidence"]
            return f"Signal {e['event_id']} ({e['source_format']}): {e['title']} — {e['reason']}"
        case "IncidentClassified":
            return f"Classified {data['classification']} by {data['by']} at {_iso(data['classified_at'])}"
        case "TriageStarted":
            return f"Triage started by {data['by']} at {_iso(data['started_at'])}"
        case "AwarenessRecorded":
            return f"Awareness recorded by {data['by']} at {_iso(data['aware_at'])}"
        case "RiskAssessed":
            a = data["assessment"]
            score = a["severity"]["score"]
            return f"Risk assessed: {a['level']} (method {a['method_version']}, ENISA severity {score:g})"
        case "FactsCorrected":
            return f"Facts corrected by {data['by']} ({', '.join(data['changes'])}): {data['reason']}"
        case "RiskOverridden":
            return f"Risk level set to {data['level']} by {data['by']}: {data['justification']}"
        case "ObligationActed":
            late = " (late)" if data["late"] else ""
            text = f" — {data['text']}" if data["text"] else ""
            ref = f" [ref {data['reference']}]" if data["reference"] else ""
            return f"{data['obligation']}: {data['action']}{late} by {data['by']}{text}{ref}"
        case "ReminderDue":
            return f"Reminder {data['step']} for {data['legal_ref']}" + (
                f" (skipped: {', '.join(data['skipped'])})" if data["skipped"] else "")
        case "ClockStarted":
            c = data["clock"]
            return f"{c['legal_ref']} clock started: deadline {_iso(c['deadline'])}"
        case "IncidentMerged":
            return f"Merged into incident {data['into']}: {data['reason']}"
        case "AwarenessAdvanced":
            return f"Awareness moved back to {_iso(data['aware_at'])} (was {_iso(data['previous_aware_at'])}): " \
                   f"incident {data['absorbed']}, merged into this one, was aware first ({data['by']})"
        case "ClockMoved":
            return f"{data['rule_ref']} deadline moved to {_iso(data['deadline'])} " \
                   f"(was {_iso(data['previous_deadline'])})"
        case "NoticeRequested":
            d = data["draft"]
            recipients = len(d["recipients"])
            return f"Notice requested: {d['kind']} ({d['locale']}, {d['audience']}, {recipients} recipient(s))"
        case "NoticeDelivered":
            return f"Notice {data['notice_id'][:8]} delivered ({data['message_id']})"
        case "NoticeFailed":
            return f"Notice {data['notice_id'][:8]} failed: {data['reason']}"
        case "SubjectsListed":
            return f"List of affected people imported by {data['by']}: {data['count']} recipient(s), " \
                   f"{data['invalid']} invalid line(s)"
        case "SubjectNoticeRequested":
            return f"Notice to the people affected approved by {data['by']} (list {data['list_id'][:8]})"
        case "DeliveryProgressed":
            return f"Delivery of notice {data['notice_id'][:8]} (partition {data['partition']}): " \
                   f"{data['accepted']} accepted, {data['failed']} failed, {data['bounced']} bounced"
        case "CommandRejected":
            return f"Command {data['command']} rejected: {data['reason']}"
    return name


def describe_fr(event: Any) -> str:
    """describe() for a French reader: the same facts, the same order; values (titles, reasons
    people typed, ids) as they were recorded."""
    name = type(event).__name__
    data = asdict(event)
    match name:
        case "IncidentOpened":
            return f"Incident ouvert pour {data['controller'] or 'un actif non répertorié'}"
        case "SignalAttached":
            e = data["evidence"]
            return f"Signal {e['event_id']} ({e['source_format']}) : {e['title']} — {e['reason']}"
        case "IncidentClassified":
            return f"Classé {data['classification']} par {data['by']} le {_iso(data['classified_at'])}"
        case "TriageStarted":
            return f"Analyse commencée par {data['by']} le {_iso(data['started_at'])}"
        case "AwarenessRecorded":
            return f"Prise de connaissance enregistrée par {data['by']} le {_iso(data['aware_at'])}"
        case "RiskAssessed":
            a = data["assessment"]
            score = a["severity"]["score"]
            return f"Risque évalué : {a['level']} (méthode {a['method_version']}, gravité ENISA {score:g})"
        case "FactsCorrected":
            return f"Faits corrigés par {data['by']} ({', '.join(data['changes'])}) : {data['reason']}"
        case "RiskOverridden":
            return f"Niveau de risque fixé à {data['level']} par {data['by']} : {data['justification']}"
        case "ObligationActed":
            late = " (en retard)" if data["late"] else ""
            text = f" — {data['text']}" if data["text"] else ""
            ref = f" [réf. {data['reference']}]" if data["reference"] else ""
            return f"{data['obligation']} : {data['action']}{late} par {data['by']}{text}{ref}"
        case "ReminderDue":
            return f"Rappel {data['step']} pour {data['legal_ref']}" + (
                f" (ignorés : {', '.join(data['skipped'])})" if data["skipped"] else "")
        case "ClockStarted":
            c = data["clock"]
            return f"Délai {c['legal_ref']} démarré : échéance {_iso(c['deadline'])}"
        case "IncidentMerged":
            return f"Fusionné dans l'incident {data['into']} : {data['reason']}"
        case "AwarenessAdvanced":
            return f"Prise de connaissance avancée au {_iso(data['aware_at'])} (au lieu du " \
                   f"{_iso(data['previous_aware_at'])}) : l'incident {data['absorbed']}, fusionné dans celui-ci, " \
                   f"en avait connaissance avant ({data['by']})"
        case "ClockMoved":
            return f"Échéance {data['rule_ref']} avancée au {_iso(data['deadline'])} " \
                   f"(au lieu du {_iso(data['previous_deadline'])})"
        case "NoticeRequested":
            d = data["draft"]
            recipients = len(d["recipients"])
            return f"Notification demandée : {d['kind']} ({d['locale']}, {d['audience']}, " \
                   f"{recipients} destinataire(s))"
        case "NoticeDelivered":
            return f"Notification {data['notice_id'][:8]} remise ({data['message_id']})"
        case "NoticeFailed":
            return f"Notification {data['notice_id'][:8]} en échec : {data['reason']}"
        case "SubjectsListed":
            return f"Liste de personnes concernées importée par {data['by']} : {data['count']} destinataire(s), " \
                   f"{data['invalid']} ligne(s) invalide(s)"
        case "SubjectNoticeRequested":
            return f"Notification aux personnes concernées approuvée par {data['by']} (liste {data['list_id'][:8]})"
        case "DeliveryProgressed":
            return f"Envoi de la notification {data['notice_id'][:8]} (partition {data['partition']}) : " \
                   f"{data['accepted']} acceptés, {data['failed']} en échec, {data['bounced']} revenus en erreur"
        case "CommandRejected":
            return f"Commande {data['command']} refusée : {data['reason']}"
    return name
