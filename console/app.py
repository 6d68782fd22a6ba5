"""create_console(...) -> an ASGI app: HTML pages, forms, live updates (SSE) and the JSON API,
every route behind console.auth.Guard (authentication, roles, CSRF)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import jinja2
import structlog
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from console import (
    actions,
    i18n,
    openapi,
    paging,
    personal_tokens,
    proposals,
    report,
    resend,
    tasks,
    tenants,
    views,
    work,
)
from console.auth import AuthConfig, Guard, check_password, client_of, login, wants_json
from console.limits import BodyTooLarge
from console.oidc import Oidc, OidcConfig
from console.read_model import ReadModel
from console.throttle import Busy, PasswordCheck, Throttled
from console.users import (
    ROLES,
    SCOPES,
    UNCHANGED,
    Unchanged,
    User,
    UserError,
    UserStore,
    check_controllers,
    parse_controllers,
)
from incident import register
from incident.commands import Command, CorrectFacts
from incident.decide import facts_lower_risk
from incident.events import NoticeRequested
from incident.notices import read_in, reference, subject_notice_id
from incident.profiles import Directory
from incident.recipients import RecipientList
from incident.work import OUTCOMES
from streams import mass
from streams.render import NoticeRenderer, TemplateMissing

log = structlog.get_logger("breach.console")
STATIC_DIR = Path(__file__).resolve().parent / "static"
STATES = ("open", "triage", "aware", "assessed", "drafts_requested", "drafts_delivered", "draft_failed", "submitted",
          "closed", "merged", "dismissed")
FILTERS = ("controller", "state", "risk", "overdue", "q", "mine", "tag")
BUILDERS = {**actions.BUILDERS, **work.BUILDERS, **paging.BUILDERS, **tasks.BUILDERS, **proposals.BUILDERS}
LEVELS = ("unlikely", "risk", "high")
SSE_KEEPALIVE_SECONDS = 15.0
SHOWN_INVALID = 200  # invalid lines listed on the page (the count is always complete)
LIST_TYPES = {"text/csv": "csv", "application/x-ndjson": "jsonl", "application/jsonl": "jsonl"}


# A cell starting so is run as a formula by spreadsheets (CSV injection): OWASP's rule prefixes a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def register_csv(entries: list[dict[str, Any]]) -> str:
    """The register as CSV (the console's export and `breach register --format csv`); SIEM fields
    and people's words reach its cells, so none is left for a spreadsheet to run."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=register.CSV_COLUMNS)
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(v) for k, v in register.csv_row(e).items()} for e in entries)
    return out.getvalue()


class SendCommand(Protocol):
    async def __call__(self, command: Command) -> None: ...


class ImportSubjects(Protocol):
    """streams.mass.import_subjects bound to the broker: the CLI's own code path (the valid recipients
    to ``affected-subjects``, then a RecordSubjects command with the counts)."""

    async def __call__(self, incident_id: str, data: bytes, *, fmt: str, default_locale: str,
                       by: str) -> mass.Imported: ...


class Mailbox(Protocol):
    def summaries(self) -> list[dict[str, Any]]: ...

    def message(self, message_id: str) -> dict[str, Any] | None: ...


def _local_path(target: str | None, default: str = "/") -> str:
    """Where to go after a login or a form: a path on this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def create_console(*, model: ReadModel, directory: Directory, templates_dir: Path, users: UserStore,
                   clock: Callable[[], datetime], send_command: SendCommand | None = None,
                   mailbox: Mailbox | None = None, auth: AuthConfig | None = None,
                   oidc: OidcConfig | None = None, clock_speed: float = 1.0,
                   import_subjects: ImportSubjects | None = None,
                   entity_hash: Callable[[str], str] | None = None,
                   resend_in_doubt: resend.ResendInDoubt | None = None) -> ASGIApp:
    """``entity_hash``: the correlator's keyed hash of an entity's value (its salt), so the list's
    search finds the incidents a user name or an IP address linked; None: search by words only."""
    config = auth or AuthConfig(users=users, secret=secrets.token_urlsafe(48))
    passwords = PasswordCheck(config.users, config.throttle)  # the login page's and the Guard's (HTTP Basic)
    identity = Oidc(oidc, config.audit) if oidc is not None else None
    renderer = NoticeRenderer(templates_dir / "notices")  # the notifier's own templates
    pages = Environment(loader=FileSystemLoader(templates_dir / "console"), autoescape=select_autoescape(["html"]),
                        undefined=jinja2.StrictUndefined)
    # Server-side text is UTC (unambiguous without JavaScript); the page script adds the reader's zone.
    pages.filters["utc"] = lambda iso: datetime.fromisoformat(iso).astimezone(UTC).strftime("%d %b %Y %H:%M UTC")
    pages.filters["words"] = lambda value: str(value).replace("_", " ")

    # --- reading -------------------------------------------------------------------------------------
    def incidents(now: datetime, filters: Mapping[str, str], me: User) -> list[dict[str, Any]]:
        """The incidents ``me`` is granted (console/tenants.py), filtered and the most urgent first."""
        rows = [views.summary(i, directory, now) for i in model.incidents.values() if me.sees(i.controller)]
        rows = work_filtered(rows, filters, me)
        if filters.get("controller"):
            rows = [r for r in rows if r["controller"] == filters["controller"]]
        if filters.get("state"):
            rows = [r for r in rows if r["status"] == filters["state"]]
        if filters.get("risk"):
            rows = [r for r in rows if r["risk"] == filters["risk"]]
        if filters.get("overdue") in ("1", "true", "on"):
            rows = [r for r in rows if r["overdue"]]
        # The most urgent first: the nearest open deadline; then incidents without a clock, newest first.
        rows.sort(key=lambda r: r["opened_at"] or "", reverse=True)
        rows.sort(key=lambda r: (r["seconds_left"] is None, r["seconds_left"] or 0))
        return rows

    def work_filtered(rows: list[dict[str, Any]], filters: Mapping[str, str], me: User) -> list[dict[str, Any]]:
        """The list's search (``q``) and "mine" (the reader owns it): console/work.py."""
        if filters.get("mine") in ("1", "true", "on"):
            rows = [r for r in rows if r["owner"] == me.actor]
        if filters.get("q", "").strip():
            rows = [r for r in rows if work.matches(filters["q"], r, reasons, entity_hash)]
        if filters.get("tag", "").strip():
            rows = [r for r in rows if tasks.tag_matches(filters["tag"], r)]
        return rows

    def reasons(incident_id: str) -> list[str]:
        return [e.reason for e in model.evidence(incident_id)]

    def people(controller: str | None) -> list[str]:
        """Who may own an incident of ``controller``: the console users who may act and are granted it."""
        return [u.name for u in config.users.list() if u.role in actions.RESPONDERS and u.sees(controller)]

    def find(request: Request) -> tuple[Any, list[Any]] | None:
        """The incident the path names, if it exists for the reader (console/tenants.py checks it
        before the route runs too: another controller's incident is missing, never forbidden)."""
        incident_id = request.path_params["incident_id"]
        incident = model.incidents.get(incident_id)
        if incident is None or not user_of(request).sees(incident.controller):
            return None
        return incident, model.timeline.get(incident_id, [])

    def drafts(incident_id: str) -> dict[str, Any]:
        return {e.draft.notice_id: e.draft for e in model.timeline.get(incident_id, [])
                if isinstance(e, NoticeRequested)}

    def preview(incident_id: str, notice_id: str, locale: str | None = None) -> dict[str, Any] | None:
        """The notice rendered by the notifier's own renderer: what the mail carries, byte for byte.
        ``locale``: the same draft read in another language its templates exist in (the mail is
        still sent in the draft's)."""
        draft = drafts(incident_id).get(notice_id)
        if draft is None:
            return None
        offered = preview_locales(draft.regime, draft.kind, draft.locale)
        shown = locale if locale in offered else draft.locale
        context = draft.context if shown == draft.locale else read_in(draft.context, shown)
        common = {"notice_id": notice_id, "kind": draft.kind, "locale": draft.locale, "shown_locale": shown,
                  "locales": offered, "recipients": list(draft.recipients)}
        try:
            rendered = renderer.render(regime=draft.regime, locale=shown, kind=draft.kind, context=context)
        except (jinja2.TemplateError, TemplateMissing, ValueError) as exc:
            return {**common, "error": str(exc), "subject": None, "text": None, "html": None}
        return {**common, "audience": draft.audience, "subject": rendered.subject, "text": rendered.text,
                "html": rendered.html, "error": None}

    def preview_locales(regime: str, kind: str, locale: str) -> list[str]:
        """The languages a draft can be read in: its own first, then those its templates exist in."""
        found = sorted(d.name for d in (renderer.templates_dir / regime).glob("*") if (d / f"{kind}.txt.j2").is_file())
        return list(dict.fromkeys([locale, *found]))

    def user_of(request: Request) -> User:
        user: User = request.scope["state"]["user"]
        return user

    def lang_of(request: Request) -> str:
        return i18n.pick(request.headers.get("accept-language", ""), request.scope.get("session", {}).get("lang"))

    def page(request: Request, template: str, status: int = 200, headers: Mapping[str, str] | None = None,
             **values: Any) -> Response:
        session = request.scope.get("session", {})
        lang = lang_of(request)
        user = request.scope["state"].get("user")
        html = pages.get_template(template).render(
            t=i18n.translator(lang), lang=lang, user=user, csrf_token=session.get("csrf", ""),
            refusal=lambda reason: i18n.refusal(reason, lang),
            flash=session.pop("flash", None), mail=mailbox is not None, oidc=identity is not None,
            server_now=clock().isoformat(), clock_speed=clock_speed, path=request.url.path, **values)
        return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store", **(headers or {})})

    # --- pages -------------------------------------------------------------------------------------
    async def page_list(request: Request) -> Response:
        now = clock()
        me = user_of(request)
        filters = {k: request.query_params.get(k, "") for k in FILTERS}
        letters = me.every_controller  # dead letters carry no controller: for users of every one only
        values: dict[str, Any] = {
            "incidents": incidents(now, filters, me), "dead_letters": dict(model.dead_letters) if letters else {},
            "letters_by_topic": dict(model.letters_by_topic) if letters else {}, "filters": filters,
            "controllers": sorted((p.id, p.name) for p in directory.profiles.values() if me.sees(p.id)),
            "states": STATES, "levels": LEVELS}
        return page(request, "_rows.html" if request.query_params.get("partial") else "list.html", **values)

    async def page_detail(request: Request) -> Response:
        found = find(request)
        if found is None:
            return page(request, "missing.html", 404)
        detail = views.detail(found[0], found[1], directory, clock(), lang=lang_of(request),
                              chain=model.chain(found[0].id), evidence=model.evidence(found[0].id))
        detail["refused_commands"] = [asdict(d) for d in model.refused_commands(found[0].id)]
        detail["paging"] = paging.state(found[0])
        detail["proposals"] = proposals.state(found[0])
        template = "_detail.html" if request.query_params.get("partial") else "detail.html"
        return page(request, template, incident=detail, levels=LEVELS, people=people(found[0].controller),
                    outcomes=OUTCOMES,
                    may_dismiss=work.may_dismiss(found[0], user_of(request)) is None)

    async def page_report(request: Request) -> Response:
        """The incident's report in Markdown, in the reader's language (console/report.py)."""
        found = find(request)
        if found is None:
            return page(request, "missing.html", 404)
        lang, now = lang_of(request), clock()
        detail = views.detail(found[0], found[1], directory, now, lang=lang, evidence=model.evidence(found[0].id))
        name = reference(found[0].id)
        return PlainTextResponse(report.markdown(detail, i18n.translator(lang), lang, now.astimezone(UTC).isoformat()),
                                 media_type="text/markdown; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="{name}.md"'})

    async def page_report_html(request: Request) -> Response:
        """The same report as a page to read or print (to PDF, from the browser)."""
        found = find(request)
        if found is None:
            return page(request, "missing.html", 404)
        lang, now = lang_of(request), clock()
        detail = views.detail(found[0], found[1], directory, now, lang=lang, evidence=model.evidence(found[0].id))
        return page(request, "report.html", incident=detail, w=report.words(lang), now=now.astimezone(UTC).isoformat())

    async def page_notice(request: Request) -> Response:
        shown = preview(request.path_params["incident_id"], request.path_params["notice_id"],
                        request.query_params.get("locale"))
        if shown is None:
            return page(request, "missing.html", 404)
        return page(request, "notice.html", notice=shown, incident_id=request.path_params["incident_id"])

    def register_of(request: Request) -> list[dict[str, Any]]:
        """The register's entries of the controllers the reader is granted."""
        me = user_of(request)
        return [e for e in model.register(directory) if me.sees(e["controller"])]

    async def page_register(request: Request) -> Response:
        entries = [register.csv_row(e) for e in register_of(request)]
        return page(request, "register.html", entries=entries, columns=register.CSV_COLUMNS)

    def letters_refused(request: Request) -> str | None:
        if user_of(request).every_controller:
            return None
        return "the rejected records name no controller: only a user of every controller reads them"

    async def page_rejected(request: Request) -> Response:
        if (refusal := letters_refused(request)) is not None:
            return page(request, "refused.html", 403, reason=refusal, incident_id=None)
        return page(request, "rejected.html", letters=list(reversed(model.letters)),
                    by_topic=dict(model.letters_by_topic))

    async def api_rejected(request: Request) -> Response:
        if (refusal := letters_refused(request)) is not None:
            return JSONResponse({"error": refusal}, status_code=403)
        return JSONResponse({"by_topic": dict(model.letters_by_topic), "by_reason": dict(model.dead_letters),
                             "latest": [asdict(d) for d in reversed(model.letters)]})

    async def page_mail(request: Request) -> Response:
        if mailbox is None:
            return page(request, "missing.html", 404)
        return page(request, "mail.html", messages=list(reversed(mails(request))))

    def mails(request: Request) -> list[dict[str, Any]]:
        """The caught mails of the incidents the reader is granted (console/tenants.py)."""
        me = user_of(request)
        return [m for m in mailbox.summaries() if tenants.sees_mail(model, me, m)] if mailbox else []

    def mail(request: Request) -> dict[str, Any] | None:
        """One caught mail, if it exists for the reader: another controller's is missing."""
        message = mailbox.message(request.path_params["message_id"]) if mailbox else None
        return message if message is not None and tenants.sees_mail(model, user_of(request), message) else None

    async def page_mail_message(request: Request) -> Response:
        message = mail(request)
        if message is None:
            return page(request, "missing.html", 404)
        return page(request, "mail_message.html", message=message)

    async def page_users(request: Request) -> Response:
        if user_of(request).role != "admin":
            return page(request, "missing.html", 403)
        return page(request, "users.html", users=config.users.list(), roles=ROLES,
                    sessions=config.session_store.of_user(), tokens=config.tokens.list(),
                    logins=config.audit.latest())

    # --- logging in and out ------------------------------------------------------------------------
    async def login_page(request: Request) -> Response:
        if request.method == "GET":
            return page(request, "login.html", next=_local_path(request.query_params.get("next")), failed=False)
        form = await request.form()
        name, password = str(form.get("username", "")), str(form.get("password", ""))
        again = _local_path(str(form.get("next", "")))
        try:  # argon2 in the checker's pool, off the event loop; guessing backs off (console.throttle)
            user = await check_password(passwords, config.users, config.audit, name, password,
                                        client_of(request.scope), "password")
        except Throttled as exc:
            return page(request, "login.html", 429, next=again, failed=True,
                        headers={"retry-after": str(max(1, round(exc.retry_after)))})
        except Busy:
            return page(request, "login.html", 503, next=again, failed=True, headers={"retry-after": "1"})
        if user is None:
            return page(request, "login.html", 401, next=again, failed=True)
        login(request.scope["session"], user)
        return RedirectResponse(_local_path(str(form.get("next", ""))), status_code=303)

    async def logout(request: Request) -> Response:
        request.scope["session"].clear()  # the Guard ends the server-side session: its cookie is worth nothing
        return RedirectResponse("/login", status_code=303)

    async def logout_everywhere(request: Request) -> Response:
        """An admin ends every session of one user (the users page's button, or JSON)."""
        is_form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        if user_of(request).role != "admin":
            return page(request, "missing.html", 403) if is_form else \
                JSONResponse({"error": "only an admin manages users"}, status_code=403)
        name = request.path_params["name"]
        ended = await asyncio.to_thread(config.session_store.end_user, name)
        log.info("console.sessions_ended", ended=ended)
        if is_form:
            request.session["flash"] = f"{name}: {ended}"
            return RedirectResponse("/admin/users", status_code=303)
        return JSONResponse({"name": name, "ended": ended})

    async def set_language(request: Request) -> Response:
        form = await request.form()
        if form.get("lang") in i18n.LANGUAGES:
            request.scope["session"]["lang"] = str(form["lang"])
        return RedirectResponse(_local_path(str(form.get("next", ""))), status_code=303)

    async def oidc_login(request: Request) -> Response:
        if identity is None:
            return PlainTextResponse("Single sign-on is not configured on this console.", 404)
        return await identity.start(request)

    async def oidc_callback(request: Request) -> Response:
        if identity is None:
            return PlainTextResponse("Single sign-on is not configured on this console.", 404)
        return await identity.callback(request)

    # --- acting: the same builders for forms and for the API -------------------------------------
    async def act(request: Request, name: str, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        if send_command is None:
            return 405, {"error": "this console is read-only"}
        found = find(request)
        if found is None:
            return 404, {"error": "no such incident"}
        user = user_of(request)
        body = tasks.resolved(name, body, model.incidents)  # a merge target named by its reference
        refusal = (actions.allowed(name, body, user)
                   or work.refused(name, body, user, found[0], lambda: people(found[0].controller))
                   or paging.refused(name, user, found[0]) or proposals.refused(name, user, found[0])
                   or tasks.refused(name, body, user, found[0], model.incidents))
        if refusal is not None:
            log.warning("console.refused", action=name, role=user.role)
            return 403, {"error": refusal}
        try:
            command = BUILDERS[name](body, request.path_params["incident_id"], user, clock)
        except actions.ActionError as exc:
            return 400, {"error": f"invalid request: {exc}"}
        await send_command(command)
        log.info("console.command", command=type(command).__name__, incident_id=command.incident_id)
        accepted = {"accepted": type(command).__name__, "incident_id": command.incident_id}
        if isinstance(command, CorrectFacts) and user.role not in actions.DPO and \
                facts_lower_risk(model.incidents[command.incident_id], command.changes, directory):
            # What the incident will do with it: keep it for the DPO (incident/proposals.py).
            accepted["proposed"] = "these facts lower the risk: recorded as a proposal the DPO confirms or declines"
        return 202, accepted

    async def json_object(request: Request) -> dict[str, Any] | Response:
        """The JSON object a POST to the API sends, or the error response to answer it with."""
        if request.headers.get("content-type", "").split(";")[0] != "application/json":
            return JSONResponse({"error": "send application/json"}, status_code=415)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "invalid request: the body is not JSON"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "invalid request: the body must be a JSON object"}, status_code=400)
        return body

    def api_command(name: str) -> Callable[[Request], Any]:
        """A POST that turns a JSON body into one command and answers 202: the incident agent decides
        (a refusal shows up as a CommandRejected event on the incident's timeline)."""
        async def endpoint(request: Request) -> Response:
            body = await json_object(request)
            if isinstance(body, Response):
                return body
            status, answer = await act(request, name, body)
            return JSONResponse(answer, status_code=status)
        return endpoint

    async def form_command(request: Request) -> Response:
        name = request.path_params["action"]
        incident_id = request.path_params["incident_id"]
        if name not in BUILDERS:
            return page(request, "missing.html", 404)
        form = await request.form()
        body = {k: str(v) for k, v in form.items() if k != "csrf_token"}
        status, answer = await act(request, name, body)
        if status == 404:
            return page(request, "missing.html", 404)
        if status == 403:
            return page(request, "refused.html", 403, reason=answer["error"], incident_id=incident_id)
        lang = lang_of(request)
        request.session["flash"] = i18n.translator(lang)["sent"] if status == 202 else \
            i18n.refusal(answer["error"], lang)
        return RedirectResponse(f"/incidents/{incident_id}", status_code=303)

    # --- the people affected: import, preview, progress ---------------------------------------
    async def import_list(request: Request, data: bytes, fmt: str) -> tuple[int, dict[str, Any]]:
        """The CLI's import (streams.mass) for one incident: counts and line numbers back, never an address."""
        if import_subjects is None:
            return 405, {"error": "this console is read-only"}
        found = find(request)
        if found is None:
            return 404, {"error": "no such incident"}
        user = user_of(request)
        if user.role not in actions.RESPONDERS:
            log.warning("console.refused", action="subjects", role=user.role)
            return 403, {"error": f"the {user.role} role may read, not act"}
        if len(data) > config.max_import_bytes:  # the Guard cut the body off there already; a last check
            return 413, {"error": f"invalid request: the list is larger than {config.max_import_bytes} bytes"}
        profile = directory.profiles.get(found[0].controller or "")
        default_locale = profile.languages[0] if profile else "en"
        try:
            await asyncio.to_thread(data.decode, "utf-8-sig")  # up to the import limit: off the event loop
        except UnicodeDecodeError:
            return 400, {"error": "invalid request: the list is not UTF-8 text"}
        imported = await import_subjects(found[0].id, data, fmt=fmt, default_locale=default_locale, by=user.actor)
        parsed: RecipientList = imported.parsed
        log.info("console.subjects_imported", incident_id=found[0].id, list_id=imported.list_id,
                 recipients=len(parsed.recipients), invalid=len(parsed.invalid))
        answer = {"list_id": imported.list_id, "recipients": len(parsed.recipients),
                  "invalid_count": len(parsed.invalid),
                  "invalid": [{"line": x.line, "reason": x.reason} for x in parsed.invalid[:SHOWN_INVALID]]}
        if not parsed.recipients:  # read and reported, but nothing to import (and no list recorded)
            return 200, {**answer, "list_id": None}
        return 202, answer

    async def page_import(request: Request) -> Response:
        form = await request.form(max_part_size=config.max_import_bytes)
        try:
            upload = form.get("file")
            data, name = (await upload.read(), upload.filename or "") if isinstance(upload, UploadFile) else (b"", "")
            chosen = str(form.get("format", ""))
        finally:
            await form.close()
        fmt = chosen if chosen in ("csv", "jsonl") else mass.format_of(name)
        status, answer = await import_list(request, data, fmt)
        if status == 404:
            return page(request, "missing.html", 404)
        if status == 403:
            return page(request, "refused.html", 403, reason=answer["error"],
                        incident_id=request.path_params["incident_id"])
        return page(request, "subjects_imported.html", 200 if status == 202 else status, result=answer,
                    incident_id=request.path_params["incident_id"])

    async def api_import(request: Request) -> Response:
        fmt = LIST_TYPES.get(request.headers.get("content-type", "").split(";")[0].strip())
        if fmt is None:
            return JSONResponse({"error": "send text/csv or application/x-ndjson"}, status_code=415)
        status, answer = await import_list(request, await request.body(), fmt)
        return JSONResponse(answer, status_code=status)

    def subject_preview(request: Request, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """The notice to the people of one list as they will receive it: the approved notice from
        its fixed context, or, before approval, from the function the approval runs (streams.mass.preview,
        which the CLI's preview and the senders' renderer share)."""
        found = find(request)
        if found is None:
            return 404, {"error": "no such incident"}
        incident = found[0]
        try:
            list_id = actions.text_field(body, "list_id", required=True)
            locale = actions.text_field(body, "locale") or None
            taken, proposed = actions.measures(body, "measures_taken"), actions.measures(body, "measures_proposed")
        except actions.ActionError as exc:
            return 400, {"error": f"invalid request: {exc}"}
        if incident.subject_list(list_id) is None:
            return 404, {"error": f"no list {list_id} of affected people on this incident"}
        profile = directory.profiles.get(incident.controller or "")
        if profile is None or incident.assessment is None or incident.awareness is None or not incident.clocks:
            return 409, {"error": "the incident has no controller profile or assessment to write the notice from"}
        if locale is not None and locale not in renderer_locales(profile):
            return 400, {"error": f"invalid request: locale must be one of {', '.join(renderer_locales(profile))}"}
        try:
            shown = mass.preview(renderer, incident, profile, now=clock(), list_id=list_id, locale=locale,
                                 measures_taken=taken, measures_proposed=proposed)
        except (jinja2.TemplateError, TemplateMissing, ValueError) as exc:
            return 409, {"error": str(exc)}
        approved = incident.subject_notice(subject_notice_id(incident.id, list_id))
        return 200, {"list_id": list_id, "locale": locale or (approved.default_locale if approved else
                                                              profile.languages[0]),
                     "approved": approved is not None, "measures_taken": list(taken),
                     "measures_proposed": list(proposed), "subject": shown.subject, "text": shown.text,
                     "html": shown.html, "locales": renderer_locales(profile),
                     "progress": views.subject_progress(approved) if approved else None}

    def renderer_locales(profile: Any) -> list[str]:
        return list(dict.fromkeys([*profile.languages, *i18n.LANGUAGES]))

    async def page_subject_preview(request: Request) -> Response:
        form = await request.form()
        body = {k: str(v) for k, v in form.items() if k != "csrf_token"}
        status, shown = subject_preview(request, body)
        if status != 200:
            return page(request, "refused.html" if status != 404 else "missing.html", status,
                        reason=shown["error"], incident_id=request.path_params["incident_id"])
        return page(request, "subject_notice.html", notice=shown, incident_id=request.path_params["incident_id"],
                    measures_taken="\n".join(shown["measures_taken"]),
                    measures_proposed="\n".join(shown["measures_proposed"]))

    async def page_subject_notice(request: Request) -> Response:
        """An approved notice to the people affected, as sent (a locale chosen in the query)."""
        found = find(request)
        notice = found[0].subject_notice(request.path_params["notice_id"]) if found else None
        if notice is None:
            return page(request, "missing.html", 404)
        status, shown = subject_preview(request, {"list_id": notice.list_id,
                                                  "locale": request.query_params.get("locale", "")})
        if status != 200:
            return page(request, "refused.html", status, reason=shown["error"],
                        incident_id=request.path_params["incident_id"])
        return page(request, "subject_notice.html", notice=shown, incident_id=request.path_params["incident_id"],
                    measures_taken="", measures_proposed="")

    async def api_subject_preview(request: Request) -> Response:
        body = await json_object(request)
        if isinstance(body, Response):
            return body
        status, shown = subject_preview(request, body)
        return JSONResponse(shown, status_code=status)

    # --- live updates ------------------------------------------------------------------------------
    async def events(request: Request) -> Response:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1000)
        me = user_of(request)
        # A local user's password, role or grant changed: the stream ends rather than go on with the
        # grant it opened with (the browser reconnects, as whoever it is now, if anyone).
        stamp = config.users.stamp(me.name) if me.kind == "user" else None

        def listener(what: str) -> None:
            if not tenants.sees_change(model, me, what):  # another controller's incident: not even its id
                return
            with contextlib.suppress(asyncio.QueueFull):  # a stalled reader only misses coalesced pings
                queue.put_nowait(what)

        # Listen before answering: a change between this and the first byte the browser reads is queued,
        # and one before it is caught by the refresh the page makes on "hello".
        model.listeners.append(listener)

        async def stream() -> AsyncIterator[str]:
            try:
                yield "retry: 2000\nevent: hello\ndata: []\n\n"
                while True:
                    try:
                        first = await asyncio.wait_for(queue.get(), SSE_KEEPALIVE_SECONDS)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    changed = {first}
                    while not queue.empty():
                        changed.add(queue.get_nowait())
                    if stamp is not None and config.users.stamp(me.name) != stamp:
                        return
                    yield f"event: incidents\ndata: {json.dumps(sorted(changed))}\n\n"
            finally:
                model.listeners.remove(listener)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"cache-control": "no-store", "x-accel-buffering": "no"})

    # --- the JSON API -----------------------------------------------------------------------------
    async def api_incidents(request: Request) -> Response:
        filters = {k: request.query_params.get(k, "") for k in FILTERS}
        me = user_of(request)
        return JSONResponse({"incidents": incidents(clock(), filters, me),
                             "dead_letters": dict(model.dead_letters) if me.every_controller else {}})

    async def api_incident(request: Request) -> Response:
        found = find(request)
        if found is None:
            return JSONResponse({"error": "no such incident"}, status_code=404)
        detail = views.detail(found[0], found[1], directory, clock(), chain=model.chain(found[0].id),
                              evidence=model.evidence(found[0].id))
        detail["refused_commands"] = [asdict(d) for d in model.refused_commands(found[0].id)]
        detail["paging"] = paging.state(found[0])
        detail["proposals"] = proposals.state(found[0])
        return JSONResponse(detail)

    async def api_notice(request: Request) -> Response:
        shown = preview(request.path_params["incident_id"], request.path_params["notice_id"],
                        request.query_params.get("locale"))
        if shown is None:
            return JSONResponse({"error": "no such notice"}, status_code=404)
        return JSONResponse(shown)

    async def api_register(request: Request) -> Response:
        entries = register_of(request)
        if request.query_params.get("format") == "csv":
            return PlainTextResponse(register_csv(entries), media_type="text/csv; charset=utf-8",
                                     headers={"content-disposition": 'attachment; filename="breach-register.csv"'})
        return JSONResponse({"register": entries})

    async def api_mail(request: Request) -> Response:
        if mailbox is None:
            return JSONResponse({"error": "no mail catcher in this deployment"}, status_code=404)
        return JSONResponse({"messages": mails(request)})

    async def api_mail_message(request: Request) -> Response:
        message = mail(request)
        if message is None:
            return JSONResponse({"error": "no such message"}, status_code=404)
        return JSONResponse(message)

    async def api_me(request: Request) -> Response:
        user = user_of(request)
        return JSONResponse({"name": user.name, "role": user.role, "kind": user.kind, "actor": user.actor,
                             "scopes": list(user.scopes), "controllers": grant_json(user)})

    async def users_endpoint(request: Request) -> Response:
        """Admins list users (GET) or add/replace one (POST, JSON or the users page's form)."""
        is_form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        if user_of(request).role != "admin":
            return page(request, "missing.html", 403) if is_form else \
                JSONResponse({"error": "only an admin manages users"}, status_code=403)
        if request.method == "GET":
            return JSONResponse({"users": [{"name": u.name, "role": u.role, "controllers": grant_json(u)}
                                           for u in config.users.list()]})
        try:
            body: Any = dict(await request.form()) if is_form else await request.json()
            if not isinstance(body, dict):
                raise UserError("the body must be a JSON object")
            values = [body.get(k) for k in ("name", "password", "role")]
            if not all(isinstance(v, str) for v in values):
                raise UserError("name, password and role are required strings")
            grant = grant_of_body(body.get("controllers", UNCHANGED))
            added = await asyncio.to_thread(config.users.add, str(values[0]), str(values[1]), str(values[2]),
                                            replace=True, controllers=grant)
        except (UserError, ValueError) as exc:
            if is_form:
                request.session["flash"] = str(exc)
                return RedirectResponse("/admin/users", status_code=303)
            return JSONResponse({"error": str(exc)}, status_code=400)
        log.info("console.user_saved", role=added.role)
        if is_form:
            request.session["flash"] = f"{added.name}: {added.role}"
            return RedirectResponse("/admin/users", status_code=303)
        return JSONResponse({"name": added.name, "role": added.role, "controllers": grant_json(added)},
                            status_code=201)

    def grant_of_body(value: Any) -> frozenset[str] | Unchanged | None:
        """A user's grant as the API (a list of ids; null: all; absent: unchanged) or the form ("a, b";
        "*": all; empty: unchanged) sends it. Unchanged is all for a new user."""
        if isinstance(value, Unchanged) or value == "":
            return UNCHANGED
        if value is None or isinstance(value, str):
            return parse_controllers(value or "*")
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return check_controllers(value)
        raise UserError("controllers must be a list of controller ids, or null for all of them")

    async def tokens_endpoint(request: Request) -> Response:
        """Admins list the API tokens (never their secret: console.users.TokenStore.list)."""
        if user_of(request).role != "admin":
            return JSONResponse({"error": "only an admin manages tokens"}, status_code=403)
        return JSONResponse({"tokens": await asyncio.to_thread(config.tokens.list)})

    async def revoke_token(request: Request) -> Response:
        """An admin revokes a token (the users page's button, or JSON): refused from its next request."""
        is_form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        if user_of(request).role != "admin":
            return page(request, "missing.html", 403) if is_form else \
                JSONResponse({"error": "only an admin manages tokens"}, status_code=403)
        label = request.path_params["label"]
        try:
            await asyncio.to_thread(config.tokens.revoke, label)
        except UserError as exc:
            if is_form:
                request.session["flash"] = str(exc)
                return RedirectResponse("/admin/users", status_code=303)
            return JSONResponse({"error": str(exc)}, status_code=404)
        log.info("console.token_revoked")
        if is_form:
            request.session["flash"] = f"{label}: revoked"
            return RedirectResponse("/admin/users", status_code=303)
        return JSONResponse({"label": label, "revoked": True})

    def grant_json(user: User) -> list[str] | None:
        return None if user.controllers is None else sorted(user.controllers)

    async def api_openapi(request: Request) -> Response:
        return JSONResponse(openapi.document(states=STATES, levels=LEVELS, roles=ROLES, scopes=SCOPES))

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def too_large(request: Request, exc: Exception) -> Response:
        """A body cut off by the Guard's limit while a route read it (console.limits.bounded)."""
        message = f"the request body is larger than {getattr(exc, 'limit', '?')} bytes"
        close = {"connection": "close"}  # what is left of the body is not read
        if wants_json(request.scope):
            return JSONResponse({"error": message}, status_code=413, headers=close)
        return PlainTextResponse(f"Refused: {message}.", status_code=413, headers=close)

    command_routes: list[BaseRoute] = [
        Route(f"/api/incidents/{{incident_id}}/{name}", api_command(name), methods=["POST"], name=f"api_{name}")
        for name in BUILDERS]
    app = Starlette(exception_handlers={BodyTooLarge: too_large}, routes=tenants.guard_incident_routes([
        Route("/", page_list),
        Route("/incidents/{incident_id}", page_detail),
        Route("/incidents/{incident_id}/notices/{notice_id}", page_notice),
        Route("/incidents/{incident_id}/report.md", page_report),
        Route("/incidents/{incident_id}/report", page_report_html),
        Route("/incidents/{incident_id}/act/{action}", form_command, methods=["POST"]),
        Route("/incidents/{incident_id}/subjects", page_import, methods=["POST"]),
        Route("/incidents/{incident_id}/subject_notice/preview", page_subject_preview, methods=["POST"]),
        Route("/incidents/{incident_id}/subject-notices/{notice_id}", page_subject_notice),
        Route("/register", page_register),
        Route("/rejected", page_rejected),
        Route("/mail", page_mail),
        Route("/mail/{message_id}", page_mail_message),
        Route("/admin/users", page_users),
        Route("/login", login_page, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/settings/language", set_language, methods=["POST"]),
        Route("/login/oidc", oidc_login),
        Route("/auth/callback", oidc_callback, name="oidc_callback"),
        Route("/events", events),
        Route("/api/openapi.json", api_openapi),
        Route("/api/me", api_me),
        Route("/api/me/token", personal_tokens.endpoint(config.secret, config.session_hours, config.users),
              methods=["POST"]),
        Route("/api/incidents", api_incidents),
        Route("/api/incidents/{incident_id}", api_incident),
        *command_routes,
        Route("/api/incidents/{incident_id}/subjects", api_import, methods=["POST"]),
        Route("/api/incidents/{incident_id}/subject_notice/preview", api_subject_preview, methods=["POST"]),
        Route("/api/incidents/{incident_id}/resend_in_doubt", resend.endpoint(model, resend_in_doubt),
              methods=["POST"]),
        Route("/api/incidents/{incident_id}/notices/{notice_id}", api_notice),
        Route("/api/register", api_register),
        Route("/api/rejected", api_rejected),
        Route("/api/mail", api_mail),
        Route("/api/mail/{message_id}", api_mail_message),
        Route("/api/users", users_endpoint, methods=["GET", "POST"]),
        Route("/api/users/{name}/logout", logout_everywhere, methods=["POST"]),
        Route("/api/tokens", tokens_endpoint),
        Route("/api/tokens/{label}/revoke", revoke_token, methods=["POST"]),
        Route("/healthz", healthz),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ], model, lambda request: page(request, "missing.html", 404)))
    return Guard(app, config, passwords, refresh=identity.refresh if identity is not None else None)
