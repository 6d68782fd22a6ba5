"""The JSON API against its own OpenAPI document (schemathesis, in-process), and what the API and the
live stream say about real incidents."""

from __future__ import annotations

import asyncio
import copy
import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import schemathesis
from hypothesis import HealthCheck, given, settings

from console import openapi
from console.app import LEVELS, STATES, create_console
from console.auth import AuthConfig
from console.read_model import ReadModel
from console.throttle import Policy
from console.users import ROLES, SCOPES, TokenStore, UserStore
from incident.commands import Command
from incident.model import Incident, SubjectNotice
from incident.recipients import parse
from streams.deps import Deps
from streams.mail import mass
from tests.integration.console_stack import PEOPLE, ConsoleStack, console_stack

in_module_loop = pytest.mark.asyncio(loop_scope="module")  # the stack lives for the whole module


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ConsoleStack]:
    async with console_stack(tmp_path_factory.mktemp("api")) as running:
        await running.send_sample("02-atometrics-wazuh.jsonl")
        await running.send_sample("03-ama-suspicious-activity.jsonl")
        await running.incident_where(lambda i: i.notices and all(n.settled for n in i.notices), "Atometrics")
        await running.incident_where(lambda i: i.awareness is None, "AMA")
        yield running


@in_module_loop
async def test_incidents_are_filtered_and_the_nearest_deadline_comes_first(stack: ConsoleStack) -> None:
    async with stack.client("viewer") as api:
        every = (await api.get("/api/incidents")).json()["incidents"]
        assert [i["controller"] for i in every] == ["atometrics", "ama"]  # a running clock before none
        assert every[0]["next_deadline"] and every[1]["next_deadline"] is None
        only_open = (await api.get("/api/incidents", params={"state": "open"})).json()["incidents"]
        assert [i["controller"] for i in only_open] == ["ama"]
        high = (await api.get("/api/incidents", params={"risk": "high", "controller": "atometrics"})).json()
        assert [i["controller"] for i in high["incidents"]] == ["atometrics"]
        assert (await api.get("/api/incidents", params={"overdue": "1"})).json()["incidents"] == []
        page = (await api.get("/", params={"state": "open"})).text
        assert "AMA" in page and "Atometrics" not in page.split('<tbody id="rows">')[1]


@in_module_loop
async def test_the_preview_is_the_message_that_was_sent(stack: ConsoleStack) -> None:
    incident = next(i for i in stack.model.incidents.values() if i.notices)
    async with stack.client("dpo") as api:
        for notice in incident.notices:
            shown = (await api.get(f"/api/incidents/{incident.id}/notices/{notice.notice_id}")).json()
            (mail,) = [m for m in stack.catcher.messages if m.summary()["notice_id"] == notice.notice_id]
            sent = mail.parsed()
            assert shown["subject"] == str(sent["Subject"])
            # Byte for byte, but for the CRLF line ends SMTP puts on the wire.
            for part, kind in (("text", "plain"), ("html", "html")):
                assert shown[part] == sent.get_body(preferencelist=(kind,)).get_content().replace("\r\n", "\n")
            assert shown["recipients"] == mail.recipients
        page = await api.get(f"/incidents/{incident.id}/notices/{incident.notices[0].notice_id}")
        assert page.status_code == 200 and 'sandbox=""' in page.text  # the HTML part runs no script
        assert (await api.get(f"/api/incidents/{incident.id}/notices/nope")).status_code == 404


@in_module_loop
async def test_a_draft_is_read_in_another_language_and_still_sent_in_its_own(stack: ConsoleStack) -> None:
    """Atometrics' notices are French; its DPO (or the README's screenshots) may read the same
    draft in English: the renderer's English templates over the same facts."""
    incident = next(i for i in stack.model.incidents.values() if i.controller == "atometrics")
    notice = next(n for n in incident.notices if n.kind == "authority_notification")
    url = f"/api/incidents/{incident.id}/notices/{notice.notice_id}"
    async with stack.client("dpo") as api:
        own, english = (await api.get(url)).json(), (await api.get(url, params={"locale": "en"})).json()
        assert (own["locale"], own["shown_locale"], own["locales"]) == ("fr", "fr", ["fr", "en"])
        assert (english["locale"], english["shown_locale"]) == ("fr", "en")
        assert own["subject"].startswith("[PROJET à valider par le DPO] Notification de violation")
        assert english["subject"].startswith("[DRAFT for DPO review] Personal data breach notification")
        assert english["recipients"] == own["recipients"]
        assert (await api.get(url, params={"locale": "de"})).json()["shown_locale"] == "fr"  # no such templates
        page = (await api.get(f"/incidents/{incident.id}/notices/{notice.notice_id}", params={"locale": "en"},
                              headers={"accept-language": "en"})).text
        assert "the notice is sent in fr, as drafted" in page and "Personal data breach notification" in page
        assert 'id="locale-note"' not in (await api.get(f"/incidents/{incident.id}/notices/{notice.notice_id}")).text


@in_module_loop
async def test_the_live_stream_pushes_the_ids_of_changed_incidents(stack: ConsoleStack) -> None:
    """Through uvicorn, as a browser's EventSource reads it."""
    name, password = PEOPLE["viewer"]
    received: list[str] = []
    async with (httpx.AsyncClient(base_url=stack.url, auth=(name, password), timeout=30) as client,
                client.stream("GET", "/events") as stream):
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        assert (await anext(lines)).startswith("retry:")
        await stack.send_sample("01-ampere-crm-export.jsonl")
        ampere = await stack.incident_where(lambda i: i.controller == "ampere", "the AMPERE incident")

        async def until_ampere() -> None:
            async for line in lines:
                received.append(line)
                if line.startswith("data:") and ampere.id in json.loads(line[5:]):
                    return

        await asyncio.wait_for(until_ampere(), 30)
    assert "event: incidents" in received


@in_module_loop
async def test_the_register_exports_every_breach_as_csv(stack: ConsoleStack) -> None:
    async with stack.client("viewer") as api:
        csv_text = (await api.get("/api/register", params={"format": "csv"})).text
        page = (await api.get("/register")).text
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("reference,incident_id") and len(lines) == 1 + len(stack.model.incidents)
    assert all(line.split(",")[0] in page for line in lines[1:])
    # The console gives the register the controllers' profiles: their systems and people are named.
    rows = [r for r in csv.DictReader(io.StringIO(csv_text)) if r["controller"] == "atometrics"]
    assert rows and all(r["subject_categories"] and r["what_happened"] for r in rows)
    assert all(r["not_communicated_because"] or r["data_subjects_communicated"] == "yes" for r in rows)


@in_module_loop
async def test_french_or_english_from_the_browser_or_the_readers_choice(stack: ConsoleStack) -> None:
    async with stack.client("viewer") as api:
        french = await api.get("/", headers={"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.8"})
        assert '<html lang="fr">' in french.text and "Prochaine échéance" in french.text
        english = await api.get("/", headers={"Accept-Language": "de-DE, en;q=0.5"})
        assert '<html lang="en">' in english.text and "Next deadline" in english.text


# --- schemathesis: every operation, a few examples each, against a snapshot of real incidents -------

@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def snapshot(stack: ConsoleStack) -> ReadModel:
    model = ReadModel()
    model.incidents, model.timeline = dict(stack.model.incidents), copy.deepcopy(stack.model.timeline)
    return model


@pytest.fixture(scope="module")
def api_schema(snapshot: ReadModel, stack: ConsoleStack) -> Any:
    """The document the app serves, with the real incident and notice ids as examples, bound to an app
    whose commands are kept in a list (the commands' way to the broker is tested above)."""
    tokens = TokenStore(None)
    token = tokens.issue("schemathesis", "dpo", SCOPES)
    sent: list[Command] = []

    async def keep(command: Command) -> None:
        sent.append(command)

    async def parse_only(incident_id: str, data: bytes, *, fmt: str, default_locale: str, by: str) -> mass.Imported:
        # The real parser; publishing to the broker is tested in test_console_subjects.py.
        parsed = parse(data.decode("utf-8-sig"), fmt=fmt, default_locale=default_locale)
        return mass.Imported(list_id=mass.list_id_for(incident_id, data), parsed=parsed)

    async def resend_none(incident: Incident, notice: SubjectNotice) -> int:
        return 0  # the resend's way to the broker is tested in test_delivery_crash.py

    app = create_console(model=snapshot, directory=Deps.production(stack.settings).directory,
                         templates_dir=stack.settings.templates_dir, users=UserStore(None),
                         clock=lambda: datetime.now(UTC), send_command=keep, mailbox=stack.catcher,
                         # Its invalid-credentials check repeats from one address: the back-off (tested in
                         # test_console_hardening.py) would answer 429 where it looks for 401.
                         auth=AuthConfig(users=UserStore(None), secret="s" * 40, tokens=tokens,
                                         throttle=Policy(client_free=100_000, account_free=100_000)),
                         import_subjects=parse_only, resend_in_doubt=resend_none)
    doc = openapi.document(states=STATES, levels=LEVELS, roles=ROLES, scopes=SCOPES)
    incident = next(i for i in snapshot.incidents.values() if i.notices)
    for path in doc["paths"].values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "incident_id":
                    parameter["schema"] = {"type": "string", "enum": [incident.id, "no-such-incident"]}
                if parameter["name"] == "notice_id":
                    parameter["schema"] = {"type": "string", "enum": [incident.notices[0].notice_id, "nope"]}
    schema = schemathesis.openapi.from_dict(doc)
    schema.app = app
    schema.token, schema.sent = token, sent  # type: ignore[attr-defined]
    return schema


# schemathesis' own strategies draw from `random`; Hypothesis warns about it, not about this test.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module")
def test_the_api_keeps_to_its_openapi_document(api_schema: Any) -> None:
    """Every documented operation, a dozen generated requests each: no server error, and every answer
    (status, content type, body) as the document says. (Not schemathesis' pytest plugin: its lazy
    fixture loader does not run on pytest 9; the same checks, through Hypothesis directly.)"""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 38  # tokens, settle (issue 18); acknowledge; tasks, tags, link (issue 17)
    headers = {"Authorization": f"Bearer {api_schema.token}"}
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
                  database=None)
        def check(case: Any) -> None:
            before = len(api_schema.sent)
            response = case.call_and_validate(headers=headers)
            if response.status_code == 202:  # a command went out, in the token's name whatever the body said
                assert len(api_schema.sent) == before + 1
                assert api_schema.sent[-1].by == "token:schemathesis"

        check()
    assert api_schema.sent, "some generated commands were valid and sent"


def test_the_openapi_document_is_served_and_lists_every_api_route(stack: ConsoleStack, tmp_path: Path) -> None:
    documented = set(openapi.document(states=STATES, levels=LEVELS, roles=ROLES, scopes=SCOPES)["paths"])
    served = {route.path for route in stack.app.app.routes  # type: ignore[attr-defined]
              if getattr(route, "path", "").startswith("/api/") and route.path != "/api/openapi.json"}
    assert served == documented
