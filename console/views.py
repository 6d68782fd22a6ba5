"""Shapes the read model for people and for the JSON API (times in ISO 8601 UTC)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from console import domain_text
from console.tasks import task_rows
from incident import standing
from incident.chain import Verdict
from incident.decide import AUTOMATIC_AWARENESS
from incident.events import CommandRejected, NoteAdded
from incident.model import Incident, SubjectNotice
from incident.notices import reference, subject_notice_id
from incident.profiles import Directory, Profile
from incident.signals import Evidence
from incident.tape import facts_of
from incident.work import headline
from streams.kafka.codec import to_jsonable


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def summary(incident: Incident, directory: Directory, now: datetime) -> dict[str, Any]:
    profile = directory.profiles.get(incident.controller or "")
    zone = ZoneInfo(profile.timezone if profile else "UTC")
    # The nearest deadline first (what to do next); "without undue delay" ones after the timed.
    clocks = sorted(incident.clocks, key=lambda c: (not c.timed, c.deadline))
    # A merged incident's clocks stopped: the incident it merged into carries them (and the
    # deadline that counts), so nothing here is due and no countdown may suggest otherwise.
    # A dismissed one's stopped too, until it is reopened.
    running = incident.merged_into is None and incident.dismissal is None
    # Every clock text below comes from incident/standing.py: the list, the page, the CLI and the
    # register say the same thing.
    line = standing.standing(incident, now)
    each = {c.rule_ref: standing.obligation(incident, c, now) for c in clocks}
    pending = line.state in (standing.DUE, standing.OVERDUE)
    return {
        "id": incident.id,
        "reference": reference(incident.id),
        "controller": incident.controller,
        "controller_name": profile.name if profile else None,
        "status": incident.status,
        "merged_into": incident.merged_into,
        "merged_into_reference": reference(incident.merged_into) if incident.merged_into else None,
        "merge_reason": incident.merge_reason or None, "merge_why": incident.merge_why,
        "title": headline(incident),
        "title_given": bool(incident.title),
        "owner": incident.owner or None,
        "owner_name": incident.owner.partition(":")[2] or incident.owner or None,
        "dismissal": None if incident.dismissal is None else {
            "outcome": incident.dismissal.outcome, "reason": incident.dismissal.reason, "by": incident.dismissal.by,
            "at": _iso(incident.dismissal.at), "was_aware": incident.dismissal.was_aware},
        "tags": list(incident.tags),
        # Someone was paged and nobody acknowledged it yet (not once it is merged or dismissed).
        "paged_waiting": running and any(p.unacknowledged for p in incident.pages),
        "tasks": {"done": sum(t.done for t in incident.tasks), "total": len(incident.tasks)},
        "risk": incident.level,
        "opened_at": _iso(incident.opened_at),
        "first_event_at": _iso(incident.first_event_at),
        "last_event_at": _iso(incident.last_event_at),
        "assets": list(incident.assets),
        "unmapped_assets": list(incident.unmapped_assets),
        "signal_count": incident.signal_count,
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
            "time_left": standing.text(each[c.rule_ref], incident.merged_into), "state": each[c.rule_ref].state,
            "rule_ref": c.rule_ref, "profile_ref": c.profile_ref, "unit": c.unit, "amount": c.amount,
            "workflow": _workflow(incident, c.rule_ref)} for c in clocks],
        "notices": [{
            "notice_id": n.notice_id, "kind": n.kind, "locale": n.locale, "audience": n.audience,
            "recipients": len(n.recipients), "delivered": len(n.delivered), "failed": len(n.failed)}
            for n in incident.notices],
        # The clock that matters now: the nearest deadline of an obligation not yet settled.
        "next_deadline": _iso(line.deadline) if pending else None,
        "seconds_left": line.seconds_left if pending else None,
        "overdue": line.overdue,
        "standing": {"state": line.state, "legal_ref": line.legal_ref, "deadline": _iso(line.deadline),
                     "text": standing.text(line, incident.merged_into)},
    }


def _workflow(incident: Incident, rule_ref: str) -> dict[str, Any] | None:
    o = incident.obligation(rule_ref)
    return None if o is None else {
        "status": o.status, "approved_by": o.approved_by, "submitted_at": _iso(o.submitted_at),
        "channel": o.channel, "reference": o.reference, "late": o.late, "delay_reasons": o.delay_reasons,
        "complements": o.complements, "corrections": o.corrections, "closing_reason": o.closing_reason,
        "closing_why": o.closing_why}


def detail(incident: Incident, timeline: list[Any], directory: Directory, now: datetime, lang: str = "en",
           chain: Verdict | None = None, evidence: Sequence[Evidence] | None = None) -> dict[str, Any]:
    """The incident for a page (``lang``: the timeline's words) or for the API (English).
    ``chain``: its audit chain's verdict, when the reader checked it. ``evidence``: every signal
    (the read model's, from the events); else the items the aggregate keeps (its first and latest)."""
    out = summary(incident, directory, now)
    out["audit_chain"] = audit_chain(chain)
    out["task_list"] = task_rows(incident, lang)
    out["assessment"] = None if incident.assessment is None else to_jsonable(incident.assessment)
    out["override"] = None if incident.override is None else to_jsonable(incident.override)
    out["corrections"] = incident.corrections or {}
    out["evidence"] = [to_jsonable(e) for e in (incident.evidence if evidence is None else evidence)]
    # A checked task is named by its title (as the checklist shows it), an obligation by its legal
    # reference: not by their keys.
    titles = {**{c.rule_ref: c.legal_ref for c in incident.clocks}, **{t.key: t.text(lang) for t in incident.tasks}}
    profile = directory.profiles.get(incident.controller or "")
    titles.update({f"playbook:{p.id}": p.titles[lang] for p in (profile.playbooks if profile else ())
                   if lang in p.titles})
    out["timeline"] = [{"type": type(e).__name__, "version": getattr(e, "version", None), "at": _iso(e.at),
                        "summary": describe(e, lang, titles), "command": getattr(e, "command", None),
                        # A note's text, for the page to render its Markdown (console/notes.py).
                        "note": e.text if isinstance(e, NoteAdded) else None,
                        "reason": e.reason if isinstance(e, CommandRejected) else None} for e in timeline]
    # The refusals since the incident last changed: what the reader just asked and was not allowed.
    last = max((i for i, e in enumerate(timeline) if type(e).__name__ != "CommandRejected"), default=-1)
    out["rejections"] = [{"command": e.command, "reason": e.reason, "at": _iso(e.at)} for e in timeline[last + 1:]]
    out["subject_lists"] = [{"list_id": x.list_id, "count": x.count, "invalid": x.invalid, "by": x.by,
                             "at": _iso(x.at), "notice_id": subject_notice_id(incident.id, x.list_id),
                             "notified": incident.subject_notice(subject_notice_id(incident.id, x.list_id))
                             is not None} for x in incident.subject_lists]
    out["subject_notices"] = [subject_progress(n) for n in incident.subject_notices]
    out["measures"] = {m.audience: to_jsonable(m) for m in incident.measures}
    out["form"] = to_jsonable(incident.form) if incident.form is not None else {}
    profile = directory.profiles.get(incident.controller or "")
    out["data_stores"] = data_stores(incident, profile, lang)
    # The languages the DPO writes the measures in: those the controller's notices are written in.
    out["measure_locales"] = list(dict.fromkeys((*profile.languages, profile.authority.language))) if profile else []
    return out


def data_stores(incident: Incident, profile: Profile | None, lang: str = "en") -> list[dict[str, str | None]]:
    """The tables and buckets the facts say its signals read or exported, each with the name of
    the controller's system declaring it (None: no system does; the profile may be missing it),
    in the reader's language where the profile gives it."""
    systems = profile.systems if profile else ()
    own = profile.languages[0] if profile else lang
    return [{"name": store, "system": next((s.name_in(lang, own) for s in systems if s.holds(store)), None)}
            for store in facts_of(incident, profile).data_stores]


def audit_chain(v: Verdict | None) -> dict[str, Any]:
    """Versions only, no hashes: the page says whether to worry; ``breach audit verify`` says why."""
    if v is None:
        return {"status": "not checked", "label": "not checked"}
    return {"status": v.status, "label": v.label, "chained_from": v.chained_from, "broken_at": v.broken_at,
            "forked_at": v.forks[0] if v.forks else None}


def subject_progress(n: SubjectNotice) -> dict[str, Any]:
    """How far a notice to the people affected has gone (counts only: no address)."""
    return {"notice_id": n.notice_id, "list_id": n.list_id, "by": n.by, "requested_at": _iso(n.requested_at),
            "default_locale": n.default_locale, "total": n.total, "sent": n.sent, "pending": n.pending,
            "failed": n.failed, "bounced": n.bounced, "in_doubt": n.in_doubt, "done": n.total - n.pending}


# The timeline's lines: (English, French), the same facts in the same order; values (titles, reasons
# people typed, ids) as they were recorded. A field in braces is the event's own (dataclasses.asdict,
# times in ISO 8601 UTC); ``:.8`` shows the first eight characters of an id.
_TIMELINE: dict[str, tuple[str, str]] = {
    "IncidentOpened": ("Incident opened for {controller}", "Incident ouvert pour {controller}"),
    "SignalAttached": (
        "Signal {evidence[event_id]} ({evidence[source_format]}): {evidence[title]} — {evidence[reason]}",
        "Signal {evidence[event_id]} ({evidence[source_format]}) : {evidence[title]} — {evidence[reason]}"),
    "IncidentClassified": ("Classified {classification} by {by} at {classified_at}",
                           "Classé {classification} par {by} le {classified_at}"),
    "TriageStarted": ("Triage started by {by} at {started_at}", "Analyse commencée par {by} le {started_at}"),
    "AwarenessRecorded": ("Awareness recorded by {by} at {aware_at}",
                          "Prise de connaissance enregistrée par {by} le {aware_at}"),
    "RiskAssessed": (
        "Risk assessed: {assessment[level]} (method {assessment[method_version]}, "
        "ENISA severity {assessment[severity][score]:g})",
        "Risque évalué : {assessment[level]} (méthode {assessment[method_version]}, "
        "gravité ENISA {assessment[severity][score]:g})"),
    "FactsCorrected": ("Facts corrected by {by} ({changes}): {reason}",
                       "Faits corrigés par {by} ({changes}) : {reason}"),
    "FormAnswered": ("Notification form answered by {by}", "Formulaire de notification renseigné par {by}"),
    "MeasuresRecorded": ("Measures taken and proposed for the {audience} written by {by}",
                         "Mesures prises et envisagées pour {audience} rédigées par {by}"),
    "RiskOverridden": ("Risk level set to {level} by {by}: {justification}",
                       "Niveau de risque fixé à {level} par {by} : {justification}"),
    "ObligationActed": ("{obligation}: {action}{late} by {by}{text}{reference}",
                        "{obligation} : {action}{late} par {by}{text}{reference}"),
    "ReminderDue": ("Reminder {step} for {legal_ref}{skipped}", "Rappel {step} pour {legal_ref}{skipped}"),
    "ClockStarted": ("{clock[legal_ref]} clock started: deadline {clock[deadline]}",
                     "Délai {clock[legal_ref]} démarré : échéance {clock[deadline]}"),
    "NoticeRequested": (
        "Notice requested: {draft[kind]} ({draft[locale]}, {draft[audience]}, {draft[recipients]} recipient(s))",
        "Notification demandée : {draft[kind]} ({draft[locale]}, {draft[audience]}, "
        "{draft[recipients]} destinataire(s))"),
    "NoticeDelivered": ("Notice {notice_id:.8} delivered ({message_id})",
                        "Notification {notice_id:.8} remise ({message_id})"),
    "NoticeFailed": ("Notice {notice_id:.8} failed: {reason}", "Notification {notice_id:.8} en échec : {reason}"),
    "SubjectsListed": (
        "List of affected people imported by {by}: {count} recipient(s), {invalid} invalid line(s)",
        "Liste de personnes concernées importée par {by} : {count} destinataire(s), {invalid} ligne(s) invalide(s)"),
    "SubjectNoticeRequested": (
        "Notice to the people affected approved by {by} (list {list_id:.8})",
        "Notification aux personnes concernées approuvée par {by} (liste {list_id:.8})"),
    "DeliveryProgressed": (
        "Delivery of notice {notice_id:.8} (partition {partition}): "
        "{accepted} accepted, {failed} failed, {bounced} bounced",
        "Envoi de la notification {notice_id:.8} (partition {partition}) : "
        "{accepted} acceptés, {failed} en échec, {bounced} revenus en erreur"),
    "CommandRejected": ("Command {command} rejected: {reason}", "Commande {command} refusée : {reason}"),
    "IncidentMerged": ("Merged into incident {into}: {reason}", "Fusionné dans l'incident {into} : {reason}"),
    "SignalsAbsorbed": ("{signals[count]} more signals of merged incident {absorbed}",
                        "{signals[count]} signaux de plus de l'incident fusionné {absorbed}"),
    "AwarenessAdvanced": (
        "Awareness moved back to {aware_at} (was {previous_aware_at}): incident {absorbed}, merged into this "
        "one, was aware first ({by})",
        "Prise de connaissance avancée au {aware_at} (au lieu du {previous_aware_at}) : l'incident {absorbed}, "
        "fusionné dans celui-ci, en avait connaissance avant ({by})"),
    "IncidentDismissed": ("Dismissed as {outcome} by {by}: {reason}", "Classé ({outcome}) par {by} : {reason}"),
    "IncidentReopened": ("Reopened by {by}: {reason}", "Rouvert par {by} : {reason}"),
    "OwnerAssigned": ("{owner} by {by}", "{owner} par {by}"),
    # A note's text is the person's own words, shown as written (the page keeps its line breaks).
    "NoteAdded": ("Note by {by}:\n{text}", "Note de {by} :\n{text}"),
    "TitleSet": ("Title set to “{title}” by {by}", "Titre fixé à « {title} » par {by}"),
    "Paged": ("On-call paged ({page[reason]}: {page[trigger]}){repeat}",
              "Astreinte alertée ({page[reason]} : {page[trigger]}){repeat}"),
    "PageAcknowledged": ("Page acknowledged by {by}", "Alerte acquittée par {by}"),
    "FactsProposed": ("Facts proposed by {by}, for the DPO (they would lower the risk to {level}): {reason}",
                      "Faits proposés par {by}, pour le DPO (ils abaisseraient le risque à {level}) : {reason}"),
    "ProposalSettled": ("Proposal {proposal} confirmed by {by}", "Proposition {proposal} confirmée par {by}"),
    "TasksAdded": ("Tasks of playbook {playbook} due: {tasks}", "Tâches du guide {playbook} à faire : {tasks}"),
    "TaskChecked": ("Task {task} done, checked by {by}", "Tâche {task} faite, cochée par {by}"),
    "IncidentTagged": ("Tag {tag} added by {by}", "Étiquette {tag} ajoutée par {by}"),
    "ClockMoved": ("{rule_ref} deadline moved to {deadline} (was {previous_deadline})",
                   "Échéance {rule_ref} avancée au {deadline} (au lieu du {previous_deadline})"),
}

# The optional parts of a line, filled in before it is formatted: (English, French).
_TIMELINE_PARTS: dict[str, tuple[str, str]] = {
    "unmapped": ("an unmapped asset", "un actif non répertorié"),
    "late": (" (late)", " (en retard)"),
    "reference": (" [ref {}]", " [réf. {}]"),
    "skipped": (" (skipped: {})", " (ignorés : {})"),
    "not_a_breach": ("not a breach", "pas une violation"),
    "false_positive": ("false positive", "faux positif"),
    "duplicate": ("duplicate", "doublon"),
    "owned": ("Owner: {}", "Responsable : {}"),
    "repeat": (", repeat {}", ", rappel {}"),
    "released": ("Owner removed", "Plus de responsable"),
    "unchecked": ("Task {task} unchecked by {by}", "Tâche {task} décochée par {by}"),
    "untagged": ("Tag {tag} removed by {by}", "Étiquette {tag} retirée par {by}"),
    "untitled": ("Title removed (derived from the signals again) by {by}",
                 "Titre retiré (de nouveau tiré des signaux) par {by}"),
}


_MONTHS_FR = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
# Words the events carry as keys (levels, notice kinds and audiences, page reasons, obligation
# steps): read in the reader's language, never as the key.
_WORDS: dict[str, tuple[str, str]] = {
    "unlikely": ("unlikely", "improbable"), "risk": ("risk", "risque"), "high": ("high", "élevé"),
    "authority_notification": ("authority notification", "notification à l'autorité"),
    "data_subject_notice": ("notice to the people affected", "notification aux personnes concernées"),
    "dpo-review": ("DPO review", "relecture par le DPO"), "authority": ("authority", "autorité"),
    "data_subjects": ("people affected", "personnes concernées"),
    "aware": ("aware of a breach", "violation connue"), "awareness": ("awareness", "prise de connaissance"),
    "severity": ("severe signal", "signal grave"), "escalated": ("escalation", "escalade"),
    "approve": ("approve", "approbation"), "submit": ("submit", "transmission"), "complement": ("complement",
                                                                                                "complément"),
    "correct": ("correct", "correction"), "delay_reasons": ("delay reasons", "motifs du retard"),
    "close": ("close", "clôture"), "withdraw": ("withdraw", "retrait"),
}


def human_time(at: datetime, lang: str = "en") -> str:
    """A time people read: "20 Nov 2026 09:12 UTC" (French month names in French), no seconds."""
    at = at.astimezone(UTC)
    if lang == "fr":
        return f"{at.day} {_MONTHS_FR[at.month - 1]} {at.year} {at:%H:%M} UTC"
    return at.strftime("%d %b %Y %H:%M UTC")


def _readable(value: Any, lang: str = "en") -> Any:
    """An event's fields (as dataclasses.asdict gives them) with every time as people read it."""
    if isinstance(value, dict):
        return {k: _readable(v, lang) for k, v in value.items()}
    return human_time(value, lang) if isinstance(value, datetime) else value


def _word(value: Any, french: bool) -> Any:
    return _WORDS[value][french] if isinstance(value, str) and value in _WORDS else value


def describe(event: Any, lang: str = "en", titles: Mapping[str, str] | None = None) -> str:
    """One line a responder can read at 3 a.m., in French when ``lang`` is "fr", else in English;
    no personal data. ``titles``: the incident's names of its task keys and obligation ids
    (their titles and legal references), in ``lang``."""
    name = type(event).__name__
    if name not in _TIMELINE:
        return name
    french = lang == "fr"
    part = {key: words[french] for key, words in _TIMELINE_PARTS.items()}
    data = _readable(asdict(event), lang)
    named = titles or {}
    for key in ("level", "audience"):
        if key in data:
            data[key] = _word(data[key], french)
    for outer, keys in (("assessment", ("level",)), ("draft", ("kind", "audience")), ("page", ("reason", "trigger"))):
        if isinstance(data.get(outer), dict):
            data[outer].update({k: _word(data[outer].get(k), french) for k in keys})
    for ref in ("obligation", "rule_ref"):  # an obligation's id: its legal reference
        if isinstance(data.get(ref), str):
            data[ref] = named.get(data[ref], data[ref])
    if french and "action" in data:
        data["action"] = _word(data["action"], french)
    if french:  # "par règle : signal confirmé", not "par rule:confirmed-signal"; the API keeps the id
        for key in ("by", "settled_by"):
            if isinstance(data.get(key), str):
                data[key] = domain_text.actor(data[key], lang)
        if isinstance(data.get("legal_ref"), str):
            data["legal_ref"] = domain_text.legal_ref(data["legal_ref"], lang)
        # A person's reopening keeps their words; the domain's is worded (by its codes, or an older
        # event's by the patterns of its English).
        domain_reopening = name == "IncidentReopened" and (data.get("why") or getattr(event, "by", None)
                                                           == AUTOMATIC_AWARENESS)
        if isinstance(data.get("reason"), str) and (name == "IncidentMerged" or domain_reopening):
            data["reason"] = domain_text.signal_reason(data["reason"], lang, data.get("why") or ())
        if isinstance(data.get("evidence"), dict):
            data["evidence"]["reason"] = domain_text.signal_reason(data["evidence"].get("reason"), lang,
                                                                   data["evidence"].get("why") or ())
        if name in ("ObligationActed", "FactsCorrected"):  # the domain's words, from their codes
            key = "text" if name == "ObligationActed" else "reason"
            data[key] = domain_text.said(data[key], data.get("why"), lang)
    match name:
        case "IncidentOpened":
            data["controller"] = data["controller"] or part["unmapped"]
        case "FactsCorrected":
            data["changes"] = ", ".join(data["changes"])
        case "ObligationActed":
            data["late"] = part["late"] if data["late"] else ""
            data["text"] = f" — {data['text']}" if data["text"] else ""
            data["reference"] = (part["reference"].format(domain_text.workflow_reference(data["reference"], lang))
                                 if data["reference"] else "")
        case "ReminderDue":
            if french and data["step"] == "overdue":
                data["step"] = "délai dépassé"
            data["skipped"] = part["skipped"].format(", ".join(data["skipped"])) if data["skipped"] else ""
        case "NoticeRequested":
            data["draft"]["recipients"] = len(data["draft"]["recipients"])
        case "IncidentDismissed":
            data["outcome"] = part.get(data["outcome"], data["outcome"])
        case "Paged":
            data["repeat"] = part["repeat"].format(data["repeat"]) if data["repeat"] else ""
            if french and str(data["page"]["trigger"]).startswith("severity "):  # "severity 4", as pages say it
                data["page"]["trigger"] = "sévérité " + str(data["page"]["trigger"]).removeprefix("severity ")
        case "OwnerAssigned":
            data["owner"] = part["owned"].format(data["owner"]) if data["owner"] else part["released"]
        case "TasksAdded":
            # Its title, not its id: the profile's as it is now, else the one the event kept (a
            # rule pack's playbook is in no profile).
            title = named.get(f"playbook:{data['playbook']}") or (data.get("titles") or {}).get(lang)
            if french and title:
                data["playbook"] = f"« {title} »"
            texts = [t["texts"].get("fr" if french else "en") or next(iter(t["texts"].values())) for t in data["tasks"]]
            data["tasks"] = "; ".join(texts)
        case "TaskChecked":
            title = named.get(data["task"])
            if title:
                data["task"] = f"« {title} »" if french else f"“{title}”"
            if not data["done"]:
                return part["unchecked"].format_map(data)
        case "IncidentTagged" if not data["added"]:
            return part["untagged"].format_map(data)
        case "ProposalSettled" if not data["confirmed"]:
            return ("Proposition {proposal} refusée par {by} : {reason}" if french
                    else "Proposal {proposal} declined by {by}: {reason}").format_map(data)
        case "TitleSet" if not data["title"]:
            return part["untitled"].format_map(data)
    return _TIMELINE[name][french].format_map(data)
