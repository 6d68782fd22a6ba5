"""The console's locks: every route needs a login, roles limit who acts, forms need their CSRF token,
sessions are kept server-side, tokens are scoped, the events name the real actor, and a grant's
controllers bound what anyone sees (another controller's incident is a 404 on every route that
names one, walked from the route table).

The rest of issue 18's security checks live beside the machinery they need:
test_console_hardening.py (40 concurrent wrong Basic logins while /healthz answers before the flood
ends; an oversized anonymous body refused with 413 before it is read) and test_console_sessions.py
(a cookie replayed after logout gets 401; a password, role or grant change ends sessions and CLI
tokens)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.routing import Mount, Route
from structlog.testing import capture_logs

from console import refusals
from console.app import BUILDERS
from console.auth import OPEN_PATHS, Guard
from incident.events import CommandRejected, ObligationActed, TriageStarted
from tests.integration.console_stack import PEOPLE, ConsoleStack, console_stack
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ConsoleStack]:
    async with console_stack(tmp_path_factory.mktemp("console")) as running:
        await running.send_sample("02-atometrics-wazuh.jsonl")  # confirmed: clocks and drafts
        await running.send_sample("03-ama-suspicious-activity.jsonl")  # suspected only
        await running.incident_where(lambda i: i.clocks and i.notices, "the Atometrics incident with its clocks")
        await running.incident_where(lambda i: i.awareness is None, "the AMA incident")
        yield running


def routes(stack: ConsoleStack) -> list[tuple[str, str]]:
    """(method, concrete path) for every route the app has: a new route cannot be forgotten here."""
    assert isinstance(stack.app, Guard)
    found = []
    for route in stack.app.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Mount):
            found.append(("GET", route.path + "/console.css"))
            continue
        assert isinstance(route, Route)
        path = re.sub(r"\{[^}]+\}", "x", route.path)
        found.extend((method, path) for method in sorted(route.methods or ()) if method != "HEAD")
    return found


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page carries a CSRF token"
    return match.group(1)


@contextlib.asynccontextmanager
async def logged_in(stack: ConsoleStack, role: str, base_url: str = "http://console",
                    ) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A browser-like client with a session cookie for the person of ``role``, and its CSRF token."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=stack.app), base_url=base_url) as client:
        token = csrf_of((await client.get("/login")).text)
        name, password = PEOPLE[role]
        answer = await client.post("/login", data={"username": name, "password": password, "csrf_token": token,
                                                   "next": "/"})
        assert answer.status_code == 303, answer.text
        yield client, csrf_of((await client.get("/")).text)


def atometrics(stack: ConsoleStack) -> Any:
    return next(i for i in stack.model.incidents.values() if i.clocks)


def ama(stack: ConsoleStack) -> Any:
    return next(i for i in stack.model.incidents.values() if i.awareness is None)


async def test_every_route_refuses_anonymous_requests(stack: ConsoleStack) -> None:
    """All routes but the login round trip, health and static assets: 401 for the API and for any
    unsafe method, a redirect to the login page for pages."""
    every = routes(stack)
    assert len(every) > 25
    opened = set()
    async with stack.client() as anonymous:
        for method, path in every:
            response = await anonymous.request(method, path)
            if path in OPEN_PATHS or path.startswith("/static/"):
                opened.add(path)
                assert response.status_code != 401 and "/login?" not in response.headers.get("location", ""), path
                continue
            if path.startswith("/api/") or path == "/events" or method != "GET":
                assert response.status_code == 401, (method, path, response.status_code)
                assert response.json() == {"error": "authentication required"}
            else:
                assert response.status_code == 303, (method, path, response.status_code)
                assert response.headers["location"] == "/login?next=" + path
    # Adding an open route is a decision, made here.
    assert opened == {"/login", "/settings/language", "/login/oidc", "/auth/callback", "/healthz",
                      "/static/console.css"}


async def test_wrong_credentials_of_every_kind_are_refused(stack: ConsoleStack) -> None:
    async with stack.client() as anonymous:
        assert (await anonymous.get("/api/incidents", auth=("dora", "not-her-password"))).status_code == 401
        assert (await anonymous.get("/api/incidents", auth=("nobody", "x" * 10))).status_code == 401
        bearer = await anonymous.get("/api/incidents", headers={"Authorization": "Bearer brt_forged"})
        assert bearer.status_code == 401
        anonymous.cookies.set("breach_session", "eyJ1c2VyIjp7Im5hbWUiOiJkb3JhIn19.forged")
        assert (await anonymous.get("/")).status_code == 303


async def test_login_gives_an_httponly_lax_cookie_secure_over_https(stack: ConsoleStack) -> None:
    async with stack.client() as browser:
        page = await browser.get("/login")
        token = csrf_of(page.text)
        wrong = await browser.post("/login", data={"username": "dora", "password": "nope", "csrf_token": token})
        assert wrong.status_code == 401 and "Wrong name or password" in wrong.text
        with capture_logs() as logs:
            right = await browser.post("/login", data={"username": "dora", "password": PEOPLE["dpo"][1],
                                                       "csrf_token": token, "next": "//evil.example/"})
        assert right.status_code == 303 and right.headers["location"] == "/"  # no open redirect
        cookie = right.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
        # The login audit names who logged in, and how; no log entry carries the password, and
        # only the audit's events carry the name.
        assert [(e["who"], e["method"], e["ok"]) for e in logs if e["event"] == "console.login_attempt"] == [
            ("user:dora", "password", True)]
        assert all(PEOPLE["dpo"][1] not in str(entry) for entry in logs)
        assert all("dora" not in str(entry) for entry in logs if entry["event"] != "console.login_attempt")
        home = await browser.get("/")
        assert home.status_code == 200 and 'id="whoami">dora (dpo)' in home.text
        # Logging out ends the session.
        assert (await browser.post("/logout", data={"csrf_token": csrf_of(home.text)})).status_code == 303
        assert (await browser.get("/")).status_code == 303
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=stack.app), base_url="https://console") as https:
        token = csrf_of((await https.get("/login")).text)
        name, password = PEOPLE["viewer"]
        logged = await https.post("/login", data={"username": name, "password": password, "csrf_token": token})
        assert "Secure" in logged.headers["set-cookie"]
        assert "set-cookie" not in (await https.get("/")).headers  # the session's id, not re-sent each time


async def test_a_form_without_a_valid_csrf_token_is_refused(stack: ConsoleStack) -> None:
    incident = ama(stack)
    async with logged_in(stack, "responder") as (client, token):
        url = f"/incidents/{incident.id}/act/triage"
        assert (await client.post(url, data={})).status_code == 403
        tampered = ("y" if token[0] == "x" else "x") + token[1:]  # never the token itself
        assert (await client.post(url, data={"csrf_token": tampered})).status_code == 403
        # The same for the JSON API when the session cookie is what authenticates it.
        api = await client.post(f"/api/incidents/{incident.id}/triage", json={})
        assert api.status_code == 403 and "CSRF" in api.json()["error"]
        # Every unsafe route refuses a session request without its token, before anything else.
        for method, path in routes(stack):
            if method == "POST" and path != "/login":
                assert (await client.post(path, data={})).status_code == 403, path
        assert stack.model.incidents[incident.id].triage is None  # nothing reached the incident
        # With the token, the form is accepted and the event names the person who acted.
        accepted = await client.post(url, data={"csrf_token": token})
        assert accepted.status_code == 303 and accepted.headers["location"] == f"/incidents/{incident.id}"
        started = await eventually(lambda: next((e for e in stack.model.timeline[incident.id]
                                                 if isinstance(e, TriageStarted)), None), what="triage started")
        assert started.by == "user:rita"
        page = await client.get(f"/incidents/{incident.id}")
        assert "the incident records it" in page.text  # the flash message


async def test_a_responder_cannot_approve_and_the_dpo_can(stack: ConsoleStack) -> None:
    incident = atometrics(stack)
    rule = incident.clocks[0].rule_ref
    async with logged_in(stack, "responder") as (client, token):
        refused = await client.post(f"/incidents/{incident.id}/act/obligations",
                                    data={"csrf_token": token, "obligation": rule, "action": "approve"})
        assert refused.status_code == 403 and "only the DPO approves" in refused.text
    async with stack.client("responder") as api:
        answer = await api.post(f"/api/incidents/{incident.id}/obligations", json={"obligation": rule,
                                                                                   "action": "approve"})
        assert answer.status_code == 403 and answer.json() == {"error": "only the DPO approves or submits a "
                                                                         "notification"}
    async with stack.client("viewer") as viewer:
        answer = await viewer.post(f"/api/incidents/{incident.id}/triage", json={})
        assert answer.status_code == 403 and "may read, not act" in answer.json()["error"]
    assert stack.model.incidents[incident.id].obligation(rule).status == "running"
    # The DPO approves; the actor comes from the login, whatever the body claims.
    async with stack.client("dpo") as dpo:
        answer = await dpo.post(f"/api/incidents/{incident.id}/obligations",
                                json={"obligation": rule, "action": "approve", "by": "user:eve", "role": "dpo"})
        assert answer.status_code == 202
    acted = await eventually(lambda: next((e for e in stack.model.timeline[incident.id]
                                           if isinstance(e, ObligationActed)), None), what="the approval")
    assert (acted.action, acted.by) == ("approve", "user:dora")
    assert not [e for e in stack.model.timeline[incident.id] if isinstance(e, CommandRejected)]


async def test_an_email_submission_without_a_submission_address_is_refused_before_it_is_sent(
        stack: ConsoleStack) -> None:
    """The sample profiles give the authority no address: the console says so at once (and the page
    does not offer it) instead of a command the incident would refuse later."""
    incident = atometrics(stack)
    rule = incident.clocks[0].rule_ref
    async with stack.client("dpo") as dpo:
        answer = await dpo.post(f"/api/incidents/{incident.id}/obligations",
                                json={"obligation": rule, "action": "submit", "channel": "email"})
    assert answer.status_code == 403
    assert answer.json() == {"error": refusals.NO_SUBMISSION_ADDRESS}


async def test_api_tokens_are_scoped(stack: ConsoleStack) -> None:
    reader = stack.auth.tokens.issue("dashboard", "viewer", ("read",))
    actor = stack.auth.tokens.issue("soar", "responder", ("read", "act"))
    incident = ama(stack)
    async with stack.client() as machine:
        read = {"Authorization": f"Bearer {reader}"}
        assert (await machine.get("/api/incidents", headers=read)).status_code == 200
        refused = await machine.post(f"/api/incidents/{incident.id}/classification", headers=read,
                                     json={"classification": "major"})
        assert refused.status_code == 403 and "scopes" in refused.json()["error"]
        me = await machine.get("/api/me", headers={"Authorization": f"Bearer {actor}"})
        assert me.json()["actor"] == "token:soar"
        # No cookie, no CSRF: a token is not sent by browsers on their own.
        sent = await machine.post(f"/api/incidents/{incident.id}/classification",
                                  headers={"Authorization": f"Bearer {actor}"}, json={"classification": "major"})
        assert sent.status_code == 202
    assert not (stack.auth.tokens.path and actor in Path(stack.auth.tokens.path).read_text())  # digests only


async def test_only_an_admin_manages_users(stack: ConsoleStack) -> None:
    async with stack.client("dpo") as dpo:
        assert (await dpo.get("/api/users")).status_code == 403
        assert (await dpo.post("/api/users", json={"name": "mallory", "password": "x" * 12,
                                                    "role": "admin"})).status_code == 403
    async with stack.client("admin") as admin:
        short = await admin.post("/api/users", json={"name": "nina", "password": "short", "role": "responder"})
        assert short.status_code == 400 and "8 characters" in short.json()["error"]
        added = await admin.post("/api/users", json={"name": "nina", "password": "nina-password",
                                                      "role": "responder"})
        assert added.status_code == 201
        assert {"name": "nina", "role": "responder", "controllers": None} in (await admin.get("/api/users")).json()[
            "users"]
    async with stack.client() as nina:
        me = await nina.get("/api/me", auth=("nina", "nina-password"))
        assert me.status_code == 200 and me.json()["role"] == "responder"
    stored = stack.users_file.read_text()
    assert "nina-password" not in stored and "$argon2id$" in stored
    assert stack.users_file.stat().st_mode & 0o777 == 0o600


async def test_the_admin_page_manages_users_with_a_form(stack: ConsoleStack) -> None:
    async with logged_in(stack, "dpo") as (dpo, _):
        assert (await dpo.get("/admin/users")).status_code == 403
    async with logged_in(stack, "admin") as (admin, token):
        page = await admin.get("/admin/users")
        assert page.status_code == 200 and "dora" in page.text
        saved = await admin.post("/api/users", data={"name": "otto", "password": "otto-password", "role": "viewer",
                                                     "csrf_token": token})
        assert saved.status_code == 303 and saved.headers["location"] == "/admin/users"
        assert "otto: viewer" in (await admin.get("/admin/users")).text  # the flash, then the list
    assert stack.auth.users.verify("otto", "otto-password") is not None


async def test_the_reader_switches_language_and_pages_carry_security_headers(stack: ConsoleStack) -> None:
    async with logged_in(stack, "viewer") as (client, token):
        english = await client.get("/", headers={"Accept-Language": "en"})
        assert "Next deadline" in english.text
        assert "script-src 'self'" in english.headers["content-security-policy"]
        assert english.headers["x-frame-options"] == "DENY"
        switched = await client.post("/settings/language", data={"lang": "fr", "next": "/", "csrf_token": token})
        assert switched.status_code == 303
        assert "Prochaine échéance" in (await client.get("/", headers={"Accept-Language": "en"})).text


async def test_password_guessing_backs_off_that_client(stack: ConsoleStack) -> None:
    elsewhere = httpx.ASGITransport(app=stack.app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=elsewhere, base_url="http://console") as guesser:
        token = csrf_of((await guesser.get("/login")).text)
        answers = [(await guesser.post("/login", data={"username": "vera", "password": f"guess-{n}",
                                                       "csrf_token": token})) for n in range(6)]
        assert [a.status_code for a in answers] == [401] * 5 + [429]  # console.throttle.Policy.client_free
        assert int(answers[-1].headers["retry-after"]) >= 1
        right = await guesser.post("/login", data={"username": "vera", "password": PEOPLE["viewer"][1],
                                                   "csrf_token": token})
        assert right.status_code == 429  # even the right password waits out the pause from this client
    async with logged_in(stack, "viewer") as (_, token):  # the person, from their own address, is not locked out
        assert token


# --- tenants: a grant names the controllers; another controller's incident does not exist -----------

MISSING = "00000000-0000-4000-8000-000000000000"


def granted(stack: ConsoleStack, name: str, role: str, controllers: list[str] | None) -> tuple[str, str]:
    """A person of ``role`` granted ``controllers`` (None: all): their Basic credentials."""
    password = f"{name}-password"
    stack.auth.users.add(name, password, role, replace=True, controllers=controllers)
    return name, password


def same_page(html: str) -> str:
    return re.sub(r'data-now="[^"]*"', "", html)  # the only part of a page that moves with the clock


def request_for(method: str, path: str) -> dict[str, Any]:
    """A body each route reads without refusing it first (so only the incident decides the answer)."""
    if method != "POST":
        return {}
    if path.endswith("/subjects") and path.startswith("/api/"):
        return {"content": b"address\nsomeone@example.org\n", "headers": {"content-type": "text/csv"}}
    if path.startswith("/api/"):
        return {"json": {}}
    return {"data": {"outcome": "false_positive", "reason": "probe"}}


async def test_another_controllers_incident_is_missing_on_every_route_that_names_one(stack: ConsoleStack) -> None:
    """Walk the route table: every route with an {incident_id} answers a DPO granted AMA only the same
    404 for the Atometrics incident as for one that does not exist — never 403, never the incident."""
    other = atometrics(stack)
    notice = other.notices[0].notice_id
    ama_dpo = granted(stack, "amelie", "dpo", ["ama"])
    checked = []
    async with stack.client() as client, stack.client("dpo") as everyone:
        every = [(method, route) for route in stack.app.app.routes  # type: ignore[attr-defined]
                 if isinstance(route, Route) for method in sorted(route.methods or ()) if method != "HEAD"]
        for method, route in every:
            if "{incident_id}" not in route.path:
                continue
            values = {"notice_id": notice, "action": "dismiss", "incident_id": other.id}
            concrete = route.path.format(**{k: values.get(k, "x") for k in route.param_convertors})
            missing = route.path.format(**{**{k: values.get(k, "x") for k in route.param_convertors},
                                           "incident_id": MISSING})
            hidden = await client.request(method, concrete, auth=ama_dpo, **request_for(method, concrete))
            absent = await client.request(method, missing, auth=ama_dpo, **request_for(method, missing))
            assert (hidden.status_code, absent.status_code) == (404, 404), (method, route.path, hidden.text)
            # Word for word the missing one's answer (a page names its own path, the id in it).
            assert same_page(hidden.text.replace(other.id, MISSING)) == same_page(absent.text), route.path
            assert str(other.controller) not in hidden.text
            if method == "GET" and "subject-notices" not in route.path:  # the same read by the DPO of all
                assert (await everyone.get(concrete)).status_code == 200, route.path
            checked.append((method, route.path))
    # A route that names an incident is checked here as soon as it exists.
    assert len(checked) >= len(BUILDERS) + 10, checked  # the API's commands, the pages, previews, imports
    assert {("GET", "/incidents/{incident_id}"), ("GET", "/api/incidents/{incident_id}"),
            ("POST", "/api/incidents/{incident_id}/resend_in_doubt"),
            ("POST", "/incidents/{incident_id}/subjects")} <= set(checked)
    assert not [e for e in stack.model.timeline[other.id] if getattr(e, "by", "") == "user:amelie"]


async def test_every_other_route_is_a_list_filtered_by_grant_or_holds_no_incident(stack: ConsoleStack) -> None:
    """The routes that name no incident, each placed: a new one fails here until its reads are
    filtered by the grant (and tested below) or it is shown to hold nothing of an incident."""
    filtered = {"/", "/register", "/rejected", "/dlq", "/mail", "/mail/{message_id}", "/events", "/api/incidents",
                "/api/register", "/api/rejected", "/api/mail", "/api/mail/{message_id}"}
    no_incident = {"/login", "/logout", "/settings/language", "/login/oidc", "/auth/callback", "/healthz",
                   "/api/openapi.json", "/api/me", "/api/me/token", "/admin/users", "/api/users",
                   "/api/users/{name}/logout", "/api/tokens", "/api/tokens/{label}/revoke"}
    others = {route.path for route in stack.app.app.routes  # type: ignore[attr-defined]
              if isinstance(route, Route) and "{incident_id}" not in route.path}
    assert others == filtered | no_incident


async def test_the_lists_register_search_mail_and_dead_letters_hold_only_the_granted_controllers(
        stack: ConsoleStack) -> None:
    theirs, ours = atometrics(stack), ama(stack)
    ama_viewer = granted(stack, "amadou", "viewer", ["ama"])
    mails = await eventually(lambda: [m for m in stack.catcher.summaries() if m["notice_id"] in
                                      {n.notice_id for n in theirs.notices}], what="the Atometrics drafts caught")
    async with stack.client() as client:
        me = (await client.get("/api/me", auth=ama_viewer)).json()
        assert me["controllers"] == ["ama"]
        listed = (await client.get("/api/incidents", auth=ama_viewer)).json()
        assert {r["id"] for r in listed["incidents"]} == {i.id for i in stack.model.incidents.values()
                                                          if i.controller == "ama"} >= {ours.id}
        assert listed["dead_letters"] == {}
        page = (await client.get("/", auth=ama_viewer)).text
        assert ours.id in page and theirs.id not in page and 'value="atometrics"' not in page
        reference = "BR-" + theirs.id.replace("-", "")[:8].upper()
        for query in (reference, theirs.id, "atometrics"):
            found = (await client.get("/api/incidents", params={"q": query}, auth=ama_viewer)).json()
            assert found["incidents"] == [], query
        register = (await client.get("/api/register", auth=ama_viewer)).json()["register"]
        assert {e["controller"] for e in register} == {"ama"}
        exported = (await client.get("/api/register", params={"format": "csv"}, auth=ama_viewer)).text
        assert ours.id in exported and theirs.id not in exported
        assert theirs.id not in (await client.get("/register", auth=ama_viewer)).text
        # The mail catcher: the Atometrics drafts are another controller's, so missing.
        shown = {m["id"] for m in (await client.get("/api/mail", auth=ama_viewer)).json()["messages"]}
        assert not shown & {m["id"] for m in mails}
        assert theirs.id not in (await client.get("/mail", auth=ama_viewer)).text
        for mail in mails:
            assert (await client.get(f"/api/mail/{mail['id']}", auth=ama_viewer)).json() == \
                (await client.get("/api/mail/999999", auth=ama_viewer)).json()
            assert (await client.get(f"/mail/{mail['id']}", auth=ama_viewer)).status_code == 404
        # Dead letters name no controller: only a user of every controller reads them.
        assert (await client.get("/api/rejected", auth=ama_viewer)).status_code == 403
        assert (await client.get("/rejected", auth=ama_viewer)).status_code == 403
        assert (await client.get("/dlq", auth=ama_viewer)).status_code == 403  # the same page, the same check
        # The one granted Atometrics reads its mails; the viewer of every controller reads everything.
        atometrics_viewer = granted(stack, "atom", "viewer", ["atometrics"])
        theirs_shown = {m["id"] for m in (await client.get("/api/mail", auth=atometrics_viewer)).json()["messages"]}
        assert {m["id"] for m in mails} <= theirs_shown
        assert (await client.get(f"/mail/{mails[0]['id']}", auth=atometrics_viewer)).status_code == 200
    async with stack.client("viewer") as everyone:
        assert {r["id"] for r in (await everyone.get("/api/incidents")).json()["incidents"]} >= {ours.id, theirs.id}
        assert (await everyone.get("/api/rejected")).status_code == 200


async def test_tokens_carry_their_grant(stack: ConsoleStack) -> None:
    """A machine token granted AMA, and a person's CLI token carrying the grant of its user."""
    theirs, ours = atometrics(stack), ama(stack)
    machine = stack.auth.tokens.issue("ama-soar", "responder", ("read", "act"), controllers=["ama"])
    cli_user = granted(stack, "amaury", "responder", ["ama"])
    async with stack.client() as client:
        personal = (await client.post("/api/me/token", auth=cli_user)).json()
        assert personal["controllers"] == ["ama"]
        for token in (machine, personal["token"]):
            bearer = {"Authorization": f"Bearer {token}"}
            listed = (await client.get("/api/incidents", headers=bearer)).json()["incidents"]
            assert ours.id in {r["id"] for r in listed} and theirs.id not in {r["id"] for r in listed}
            assert (await client.get(f"/api/incidents/{theirs.id}", headers=bearer)).status_code == 404
            refused = await client.post(f"/api/incidents/{theirs.id}/note", headers=bearer, json={"text": "x"})
            assert refused.status_code == 404 and refused.json() == {"error": "no such incident"}
    assert not [e for e in stack.model.timeline[theirs.id] if getattr(e, "by", "") in ("token:ama-soar",
                                                                                        "user:amaury")]


async def test_an_owner_must_be_granted_the_incidents_controller(stack: ConsoleStack) -> None:
    theirs = atometrics(stack)
    granted(stack, "amandine", "responder", ["ama"])
    async with stack.client("dpo") as dpo:
        answer = await dpo.post(f"/api/incidents/{theirs.id}/owner", json={"owner": "amandine"})
        assert answer.status_code == 403 and "console user who may act" in answer.json()["error"]
        page = (await dpo.get(f"/incidents/{theirs.id}")).text
        assert "amandine" not in page


async def test_a_merge_into_another_controllers_incident_is_refused_as_into_a_missing_one(
        stack: ConsoleStack) -> None:
    theirs, ours = atometrics(stack), ama(stack)
    ama_responder = granted(stack, "amadeo", "responder", ["ama"])
    async with stack.client() as client:
        answers = [await client.post(f"/api/incidents/{ours.id}/link", auth=ama_responder,
                                     json={"into": into, "reason": "probe"}) for into in (theirs.id, MISSING)]
    assert [a.status_code for a in answers] == [403, 403]
    assert answers[0].json() == answers[1].json(), answers[0].text  # word for word: nothing says it exists


async def test_the_live_stream_names_only_the_granted_controllers_incidents(stack: ConsoleStack) -> None:
    """Through uvicorn, as a browser's EventSource reads it: a change to the Atometrics incident is not
    even named to a viewer granted AMA; the AMA change after it is."""
    theirs, ours = atometrics(stack), ama(stack)
    ama_viewer = granted(stack, "amael", "viewer", ["ama"])
    seen: dict[str, list[str]] = {"amael": [], "vera": []}
    async with (httpx.AsyncClient(base_url=stack.url, auth=ama_viewer, timeout=30) as mine,
                httpx.AsyncClient(base_url=stack.url, auth=PEOPLE["viewer"], timeout=30) as all_of_them,
                mine.stream("GET", "/events") as amael, all_of_them.stream("GET", "/events") as vera,
                stack.client("responder") as rita):
        streams = {"amael": amael.aiter_lines(), "vera": vera.aiter_lines()}
        for lines in streams.values():
            assert (await anext(lines)).startswith("retry:")
        notes = len(stack.model.timeline[theirs.id])
        assert (await rita.post(f"/api/incidents/{theirs.id}/note", json={"text": "on Atometrics"})).status_code == 202
        await eventually(lambda: len(stack.model.timeline[theirs.id]) > notes, what="the Atometrics note applied")
        assert (await rita.post(f"/api/incidents/{ours.id}/note", json={"text": "on AMA"})).status_code == 202

        async def until(who: str, incident_id: str) -> None:
            async for line in streams[who]:
                if line.startswith("data:"):
                    seen[who].extend(json.loads(line[5:]))
                    if incident_id in seen[who]:
                        return

        await asyncio.wait_for(until("vera", ours.id), 30)
        await asyncio.wait_for(until("amael", ours.id), 30)
    assert theirs.id in seen["vera"]  # the viewer of every controller was told of both, in order
    assert theirs.id not in seen["amael"]


async def test_the_live_stream_ends_when_its_readers_grant_changes(stack: ConsoleStack) -> None:
    """A stream opened under one grant does not go on under it: the next change ends it (the
    browser reconnects, and the Guard decides again who it is)."""
    ours = ama(stack)
    reader = granted(stack, "amalia", "viewer", ["ama", "atometrics"])
    lines: list[str] = []
    async with (httpx.AsyncClient(base_url=stack.url, auth=reader, timeout=30) as mine,
                mine.stream("GET", "/events") as stream, stack.client("responder") as rita):
        received = stream.aiter_lines()
        assert (await anext(received)).startswith("retry:")
        granted(stack, "amalia", "viewer", ["ama"])  # the admin narrows the grant
        assert (await rita.post(f"/api/incidents/{ours.id}/note", json={"text": "after"})).status_code == 202

        async def to_the_end() -> None:
            async for line in received:
                lines.append(line)

        await asyncio.wait_for(to_the_end(), 30)  # the server ended the stream
    assert "event: incidents" not in lines  # (only the greeting came: "hello")
    async with stack.client() as again:
        assert (await again.get("/api/me", auth=reader)).json()["controllers"] == ["ama"]


async def test_a_responders_facts_that_lower_the_risk_wait_for_the_dpo_who_confirms_them(
        stack: ConsoleStack) -> None:
    """Issue 18: an override in all but name is the DPO's; what the responder learned is kept as a
    proposal on the incident (real broker and worker), confirmed by the DPO from the page's form.
    Last in the module: it lowers the Atometrics incident's risk."""
    from incident.decide import facts_lower_risk
    from streams.deps import Deps
    theirs = atometrics(stack)
    directory = Deps.production(stack.settings).directory
    candidates = ({"encrypted": True, "key_compromised": False}, {"subjects_count": 1, "data_categories": ["contact"]},
                  {"breach_types": ["availability"], "backup_available": True, "unavailability_hours": 1})
    lowering = next(c for c in candidates if facts_lower_risk(theirs, c, directory))
    level = theirs.level
    async with stack.client("responder") as responder:
        answer = await responder.post(f"/api/incidents/{theirs.id}/facts",
                                      json={"changes": lowering, "reason": "the export held salted hashes only"})
        assert answer.status_code == 202 and "proposal" in answer.json()["proposed"]
    proposed = await stack.incident_where(lambda i: i.id == theirs.id and i.proposals, "the proposal recorded")
    assert proposed.level == level and proposed.proposals[0].pending
    async with logged_in(stack, "responder") as (client, _):
        page = (await client.get(f"/incidents/{theirs.id}")).text
        assert 'id="proposals"' in page and "settle-form" not in page  # shown, not theirs to settle
    async with logged_in(stack, "dpo") as (client, token):
        page = (await client.get(f"/incidents/{theirs.id}")).text
        assert "settle-form" in page and "the export held salted hashes only" in page
        answer = await client.post(f"/incidents/{theirs.id}/act/settle", data={
            "csrf_token": token, "proposal": str(proposed.proposals[0].number), "confirm": "true",
            "reason": "checked the export myself"})
        assert answer.status_code == 303, answer.text
    settled = await stack.incident_where(lambda i: i.id == theirs.id and not i.proposals[0].pending,
                                         "the proposal settled")
    assert settled.proposals[0].outcome == "confirmed" and settled.level != level
    corrected = [e for e in stack.model.timeline[theirs.id] if type(e).__name__ == "FactsCorrected"]
    assert corrected and corrected[-1].by == "user:dora" and "proposal confirmed" in corrected[-1].reason
