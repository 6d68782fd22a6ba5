"""An incident's report in Markdown, for the post-incident review and the authority: what it is,
where it stands, its decisions, obligations, notices, tasks, evidence and timeline, in the
reader's language (the words people and SIEMs wrote stay as written).

Built from the same detail the page shows (console/views.detail), so the report never says
something the console does not. Every value is escaped for Markdown and HTML: the text comes
from SIEM records and people, and a Markdown viewer may render HTML.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from console import domain_text, i18n, views
from console.site import Site
from incident.notices import reference

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#!~])")
WORDS: dict[str, tuple[str, str]] = {
    "report": ("Incident report", "Rapport d'incident"),
    "generated": ("Written by breach-response at", "Rédigé par breach-response le"),
    "summary": ("Summary", "Résumé"),
    "decisions": ("Decisions", "Décisions"),
    "opened": ("Opened", "Ouvert le"),
    "deadline": ("Deadline", "Échéance"),
    "status": ("Status", "Statut"),
    "obligation": ("Obligation", "Obligation"),
    "assessment": ("Risk assessment", "Évaluation du risque"),
    "override": ("Risk level set by the DPO", "Niveau de risque fixé par le DPO"),
    "dismissal": ("Dismissal", "Classement sans suite"),
    "merged": ("Merged into", "Fusionné dans"),
    "done": ("done", "faite"),
    "todo": ("to do", "à faire"),
    "none": ("none", "aucun"),
}


def escape(value: Any) -> str:
    """One line of text, safe in Markdown (and in the HTML a viewer may render)."""
    text = " ".join(str("" if value is None else value).split())
    return _SPECIAL.sub(r"\\\1", text).replace("&", "&amp;")


def _table(head: Iterable[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    head = list(head)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in rows]
    return lines


def words(lang: str) -> dict[str, str]:
    """The report's own words in ``lang`` (the rest are the console's)."""
    return {key: pair[1 if lang == "fr" else 0] for key, pair in WORDS.items()}


def markdown(d: Mapping[str, Any], t: Mapping[str, str], lang: str, now: str) -> str:
    """The report of ``d`` (views.detail in ``lang``); ``t``: the console's words in it."""
    w = words(lang)

    def when(iso: Any) -> str:  # a time as people read it, in ``lang`` (no ISO timestamps)
        return views.human_time(datetime.fromisoformat(iso), lang) if isinstance(iso, str) and iso else ""

    out = [f"# {w['report']} {escape(d['reference'])}", "",
           f"{w['generated']} {escape(when(now))}.", "", f"## {w['summary']}", ""]
    awareness = d.get("awareness")
    aware_by = domain_text.actor(awareness["by"], lang) if awareness else ""
    out += _table([t["what"], t["value"]], [
        (t["title"], d.get("title") or ""),
        (t["controller"], d.get("controller_name") or t["unmapped"]),
        (t["state"], t.get("status_" + d["status"], d["status"])),
        (t["risk"], i18n.word(d["risk"], lang) if d.get("risk") else t["not_assessed"]),
        (w["opened"], when(d.get("opened_at"))),
        (t["awareness"], f"{when(awareness['aware_at'])} ({t['by']} {aware_by})" if awareness
         else t["not_recorded"]),
        (t["owner"], d.get("owner") or t["nobody"]),
        (t["tags"], ", ".join(d.get("tags", ())) or w["none"]),
        (t["assets"], ", ".join(d.get("assets", ()))),
        (t["signals"], d.get("signal_count")),
    ])
    out += ["", f"## {w['decisions']}", ""]
    decisions: list[tuple[Any, ...]] = []
    if d.get("dismissal"):
        x = d["dismissal"]
        decisions.append((w["dismissal"], when(x["at"]), domain_text.actor(x["by"], lang),
                          f"{t.get('outcome_' + x['outcome'], x['outcome'])}: {x['reason']}"))
    if d.get("merged_into"):
        decisions.append((w["merged"], "", "", f"{d['merged_into_reference']}: "
                          f"{domain_text.signal_reason(d.get('merge_reason'), lang, d.get('merge_why') or ())}"))
    if d.get("override"):
        x = d["override"]
        decisions.append((w["override"], when(x["at"]), domain_text.actor(x["by"], lang),
                          f"{i18n.word(x['level'], lang)}: {x['justification']}"))
    if d.get("assessment"):
        a = d["assessment"]
        decisions.append((w["assessment"], "", "", f"{i18n.word(a['level'], lang)} ({a['method_version']}, ENISA "
                                                   f"{a['severity']['score']:g})"))
    out += _table([t["what"], t["when"], t["by"], t["reason"]], decisions) if decisions else [w["none"]]
    out += ["", f"## {t['obligations']}", ""]
    out += _table([w["obligation"], w["deadline"], w["status"]], [
        (f"{domain_text.legal_ref(c['legal_ref'], lang)} ({i18n.word(c['recipient'], lang)})",
         when(c["deadline"]) if c["timed"] else t.get("standing_" + c["state"], c["time_left"]),
         _workflow(c.get("workflow"), t, when, lang)) for c in d.get("deadlines", ())]) \
        if d.get("deadlines") else [w["none"]]
    out += ["", f"## {t['notices']}", ""]
    out += _table([t["what"], t["recipients"], w["status"]], [
        (f"{i18n.word(n['kind'], lang)} ({n['locale']}, {i18n.word(n['audience'], lang)})", n["recipients"],
         f"{n['delivered']}/{n['recipients']} {t['delivered']}") for n in d.get("notices", ())]) \
        if d.get("notices") else [w["none"]]
    out += ["", f"## {t['tasks']}", ""]
    out += [f"- [{'x' if k['done'] else ' '}] {escape(k['text'])}"
            + (f" — {w['done']} {t['by']} {escape(k['done_by'])}, {escape(when(k['done_at']))}" if k["done"] else "")
            for k in d.get("task_list", ())] or [w["none"]]
    out += ["", f"## {t['evidence']}", ""]
    out += _table([t["when"], t["event"], t["what"], t["reason"]], [
        (when(e.get("occurred_at")), f"{e.get('event_id')} ({e.get('source_format')}, {e.get('asset')})",
         e.get("title"), domain_text.signal_reason(e.get("reason"), lang, e.get("why") or ()))
        for e in d.get("evidence", ())]) \
        if d.get("evidence") else [w["none"]]
    out += ["", f"## {t['timeline']}", ""]
    out += _table([t["when"], t["what"]], [
        (when(e["at"]), e["summary"] if not e.get("reason") else f"{e['command']}: {i18n.refusal(e['reason'], lang)}")
        for e in d.get("timeline", ())])
    return "\n".join(out) + "\n"


def _workflow(workflow: Mapping[str, Any] | None, t: Mapping[str, str], when: Callable[[Any], str],
              lang: str = "en") -> str:
    if not workflow:
        return ""
    parts = [t.get("wf_" + workflow["status"], workflow["status"])]
    if workflow.get("submitted_at"):
        parts.append(f"{when(workflow['submitted_at'])} ({workflow.get('channel') or ''} "
                     f"{domain_text.workflow_reference(workflow.get('reference'), lang)})")
    if workflow.get("closing_reason"):
        parts.append(domain_text.said(workflow["closing_reason"], workflow.get("closing_why"), lang))
    return " — ".join(p.strip() for p in parts)


def routes(site: Site) -> list[BaseRoute]:
    def reported(request: Request) -> tuple[str, dict[str, Any], str, datetime] | None:
        """The incident the path names, as the report shows it: (its reference, its detail in the
        reader's language, that language, now); None if the reader has no such incident."""
        found = site.find(request)
        if found is None:
            return None
        lang, now = site.lang_of(request), site.clock()
        detail = views.detail(found[0], found[1], site.directory, now, lang=lang,
                              evidence=site.model.evidence(found[0].id))
        return reference(found[0].id), detail, lang, now

    async def page_report(request: Request) -> Response:
        """The incident's report in Markdown, in the reader's language."""
        if (found := reported(request)) is None:
            return site.missing(request)
        name, detail, lang, now = found
        return PlainTextResponse(markdown(detail, i18n.translator(lang), lang, now.astimezone(UTC).isoformat()),
                                 media_type="text/markdown; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="{name}.md"'})

    async def page_report_html(request: Request) -> Response:
        """The same report as a page to read or print (to PDF, from the browser)."""
        if (found := reported(request)) is None:
            return site.missing(request)
        _, detail, lang, now = found
        return site.page(request, "report.html", incident=detail, w=words(lang), now=now.astimezone(UTC).isoformat())

    return [Route("/incidents/{incident_id}/report.md", page_report),
            Route("/incidents/{incident_id}/report", page_report_html)]
