"""The people affected, in the console: import a list (CSV/JSONL upload, the CLI's code path), preview
the notice exactly as sent, the DPO approves it, delivery progress on the incident — against a real
broker, worker and SMTP catcher. Roles, CSRF and the reader's language checked on the new routes."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from structlog.testing import capture_logs

from tests.integration.console_stack import ConsoleStack, console_stack
from tests.integration.test_console_security import logged_in
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")
PEOPLE_CSV = (b"address,name,language\n"
              b"ana@example.org,Ana,en\n"
              b"bruno@example.org,Bruno,fr\n"
              b"chloe@example.org,Chlo\xc3\xa9,fr\n"
              b"secret-but-invalid@,Oops,fr\n")
MEASURE = "Every password of the exposed accounts was reset"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ConsoleStack]:
    async with console_stack(tmp_path_factory.mktemp("subjects")) as running:
        await running.send_sample("02-atometrics-wazuh.jsonl")  # confirmed and assessed: a notice can be written
        await running.incident_where(lambda i: i.assessment and i.notices, "the Atometrics incident")
        yield running


def incident(stack: ConsoleStack) -> Any:
    return next(i for i in stack.model.incidents.values() if i.assessment)


def upload(data: bytes, name: str = "people.csv") -> dict[str, Any]:
    return {"file": (name, data, "text/csv")}


async def test_import_preview_approve_and_follow_the_delivery(stack: ConsoleStack) -> None:
    target = incident(stack)
    async with logged_in(stack, "responder") as (browser, csrf):
        page = (await browser.get(f"/incidents/{target.id}")).text
        assert 'id="subjects-form"' in page and 'enctype="multipart/form-data"' in page
        with capture_logs() as logs:
            answer = await browser.post(f"/incidents/{target.id}/subjects", files=upload(PEOPLE_CSV),
                                        data={"csrf_token": csrf})
        assert answer.status_code == 200, answer.text
        assert re.search(r'id="imported-count">3<', answer.text) and re.search(r'id="invalid-count">1<', answer.text)
        assert "<td>5</td><td>invalid domain after @</td>" in answer.text  # the line, why; not the address
        assert "secret-but-invalid" not in answer.text
        assert not any("@example.org" in str(entry) or "Ana" in str(entry) for entry in logs)
        assert any(e["event"] == "console.subjects_imported" and e["recipients"] == 3 for e in logs)
        listed = await eventually(lambda: [x for x in incident(stack).subject_lists if x.count == 3],
                                  what="the list recorded")
        assert (listed[0].invalid, listed[0].by) == (1, "user:rita")

        # A responder may import but not approve what goes out in the DPO's name.
        refused = await browser.post(f"/incidents/{target.id}/act/subject_notice",
                                     data={"csrf_token": csrf, "list_id": listed[0].list_id,
                                           "measures_taken": MEASURE}, headers={"accept-language": "fr"})
        assert refused.status_code == 403
        assert "seul le DPO peut approuver la notification aux personnes concernées" in html.unescape(refused.text)

    async with logged_in(stack, "dpo") as (browser, csrf):
        form = {"csrf_token": csrf, "list_id": listed[0].list_id, "measures_taken": MEASURE, "locale": "en"}
        shown = await browser.post(f"/incidents/{target.id}/subject_notice/preview", data=form)
        assert shown.status_code == 200, shown.text
        assert MEASURE in shown.text and 'id="subject-approve-form"' in shown.text
        async with stack.client("dpo") as api:
            preview = (await api.post(f"/api/incidents/{target.id}/subject_notice/preview",
                                      json={"list_id": listed[0].list_id, "measures_taken": [MEASURE],
                                            "locale": "en"})).json()
        assert preview["approved"] is False and MEASURE in preview["text"]

        approve = re.search(r'<form method="post" action="(/incidents/[^"]+/act/subject_notice)"', shown.text)
        assert approve
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">',
                                 shown.text.split('id="subject-approve-form"')[1]))
        sent = await browser.post(approve.group(1), data=fields)
        assert sent.status_code == 303
        notice = await eventually(lambda: (n := incident(stack).subject_notices) and n[0].pending == 0 and n[0],
                                  what="every recipient handled", timeout=60)
        assert (notice.sent, notice.failed, notice.bounced, notice.total, notice.by) == (3, 0, 0, 3, "user:dora")

        detail = (await browser.get(f"/incidents/{target.id}")).text
        assert '<progress max="3" value="3">' in detail and '<td class="sent">3</td>' in detail
        assert '<td class="pending">0</td>' in detail
        async with stack.client("viewer") as api:
            progress = (await api.get(f"/api/incidents/{target.id}")).json()["subject_notices"]
        assert progress == [{**progress[0], "sent": 3, "pending": 0, "failed": 0, "bounced": 0, "total": 3}]

        # Preview = sent: the mail Ana received is the preview, subject and text, byte for byte.
        mails = [m for m in stack.catcher.summaries() if m["to"] == ["ana@example.org"]]
        assert len(mails) == 1
        received = stack.catcher.message(mails[0]["id"])
        assert received is not None
        assert received["subject"] == preview["subject"]
        assert received["text"].replace("\r\n", "\n").strip() == preview["text"].strip()
        as_sent = (await browser.get(f"/incidents/{target.id}/subject-notices/{notice.notice_id}",
                                     params={"locale": "en"})).text
        assert preview["subject"] in html.unescape(as_sent) and "subject-approve-form" not in as_sent


async def test_the_new_routes_check_role_csrf_and_content(stack: ConsoleStack) -> None:
    target = incident(stack)
    async with logged_in(stack, "responder") as (browser, csrf):
        no_token = await browser.post(f"/incidents/{target.id}/subjects", files=upload(PEOPLE_CSV))
        assert no_token.status_code == 403  # a multipart form needs its CSRF token too
        wrong = await browser.post(f"/incidents/{target.id}/subjects", files=upload(PEOPLE_CSV),
                                   data={"csrf_token": "forged"})
        assert wrong.status_code == 403
        preview = await browser.post(f"/incidents/{target.id}/subject_notice/preview",
                                     data={"list_id": "x", "measures_taken": MEASURE})
        assert preview.status_code == 403
    async with logged_in(stack, "viewer") as (browser, csrf):
        refused = await browser.post(f"/incidents/{target.id}/subjects", files=upload(PEOPLE_CSV),
                                     data={"csrf_token": csrf}, headers={"accept-language": "fr-FR"})
        assert refused.status_code == 403 and "le rôle viewer permet de lire, pas d'agir" in html.unescape(refused.text)
    async with stack.client("responder") as api:
        jsonl = b'{"address": "dan@example.org", "name": "Dan"}\nnot json\n'
        answer = await api.post(f"/api/incidents/{target.id}/subjects", content=jsonl,
                                headers={"content-type": "application/x-ndjson"})
        assert answer.status_code == 202, answer.text
        assert (answer.json()["recipients"], answer.json()["invalid"]) == (1, [{"line": 2, "reason":
                                                                                "not JSON (Expecting value)"}])
        nothing = await api.post(f"/api/incidents/{target.id}/subjects", content=b"address\nnope\n",
                                 headers={"content-type": "text/csv"})
        assert nothing.status_code == 200 and nothing.json()["invalid_count"] == 1
        assert nothing.json()["recipients"] == 0 and nothing.json()["list_id"] is None
        latin1 = await api.post(f"/api/incidents/{target.id}/subjects", content=b"address\nz\xe9@example.org\n",
                                headers={"content-type": "text/csv"})
        assert latin1.status_code == 400 and "UTF-8" in latin1.json()["error"]
        assert (await api.post(f"/api/incidents/{target.id}/subjects", json={})).status_code == 415
        assert (await api.post("/api/incidents/nope/subjects", content=b"address\n",
                               headers={"content-type": "text/csv"})).status_code == 404
        approve = await api.post(f"/api/incidents/{target.id}/subject_notice",
                                 json={"list_id": "x", "measures_taken": [MEASURE]})
        assert approve.status_code == 403
    async with stack.client("viewer") as api:
        refused = await api.post(f"/api/incidents/{target.id}/subjects", content=b"address\na@example.org\n",
                                 headers={"content-type": "text/csv"})
        assert refused.status_code == 403


async def test_a_refusal_of_the_domain_is_shown_in_the_readers_language(stack: ConsoleStack) -> None:
    """The incident agent refuses an approval without a measure taken: the French page says why, in French."""
    target = incident(stack)
    async with stack.client("dpo") as api:
        imported = await api.post(f"/api/incidents/{target.id}/subjects", content=b"email\nerin@example.org\n",
                                  headers={"content-type": "text/csv"})
        list_id = imported.json()["list_id"]
        await eventually(lambda: incident(stack).subject_list(list_id), what="the list recorded")
        sent = await api.post(f"/api/incidents/{target.id}/subject_notice",
                              json={"list_id": list_id, "measures_taken": []})
        assert sent.status_code == 202
    await eventually(lambda: any(r.command == "SendSubjectNotice" for r in stack.model.rejected),
                     what="the refusal recorded")
    async with logged_in(stack, "dpo") as (browser, _):
        page = html.unescape((await browser.get(f"/incidents/{target.id}",
                                                headers={"accept-language": "fr-FR"})).text)
    assert "Refusé par l'incident" in page
    assert "indiquez ce qui a été fait (au moins une mesure prise)" in page
    assert "say what was done" not in page
    # The rest of the incident's story reads in French too (the API keeps English for machines).
    assert "Liste de personnes concernées importée par rita" in page or \
        "Liste de personnes concernées importée par dora" in page
    assert "SendSubjectNotice refusé</span> — indiquez" in page and "Incident ouvert pour atometrics" in page
    for english in ("Incident opened for", "List of affected people imported", "clock started", "rejected:"):
        assert english not in page, english


async def test_the_dpo_writes_the_measures_in_the_console(stack: ConsoleStack) -> None:
    """Art. 33(3)(d): the measures form (DPO only), one text area per language the notices use; the
    incident records them, and the authority notification the DPO is sent next carries them."""
    target = incident(stack)
    async with logged_in(stack, "responder") as (browser, csrf):
        assert "measures-form" not in (await browser.get(f"/incidents/{target.id}")).text
        refused = await browser.post(f"/incidents/{target.id}/act/measures",
                                     data={"csrf_token": csrf, "audience": "authority", "taken_fr": "x"},
                                     headers={"accept-language": "fr"})
        assert refused.status_code == 403
        assert "seul le DPO peut rédiger les mesures prises et envisagées" in html.unescape(refused.text)

    async with logged_in(stack, "dpo") as (browser, csrf):
        page = (await browser.get(f"/incidents/{target.id}")).text
        assert 'class="actions measures-form" data-audience="authority"' in page
        assert 'name="taken_fr"' in page and 'name="taken_en"' not in page  # Atometrics writes in French only
        drafts_before = len(target.notices)
        sent = await browser.post(f"/incidents/{target.id}/act/measures", data={
            "csrf_token": csrf, "audience": "authority",
            "taken_fr": "Comptes concernés bloqués\nMots de passe réinitialisés",
            "proposed_fr": "Authentification à deux facteurs pour tous les comptes"})
        assert sent.status_code == 303
        written = await eventually(lambda: incident(stack).measures_for("authority"), what="the measures recorded")
        assert written.by == "user:dora" and written.texts[0].taken == ("Comptes concernés bloqués",
                                                                         "Mots de passe réinitialisés")
        redrafted = await eventually(lambda: len(incident(stack).notices) > drafts_before and incident(stack),
                                     what="a new draft for the DPO")
        newest = redrafted.notices[-1]
        assert newest.kind == "authority_notification"
        shown = (await browser.get(f"/incidents/{target.id}/notices/{newest.notice_id}")).text
        assert "Mots de passe réinitialisés" in html.unescape(shown)
        assert "Aucune mesure n&#39;a encore été enregistrée" not in shown
        page = (await browser.get(f"/incidents/{target.id}")).text
        assert "Comptes concernés bloqués\nMots de passe réinitialisés</textarea>" in html.unescape(page)


async def test_the_dpo_answers_the_cnil_form_in_the_console(stack: ConsoleStack) -> None:
    target = incident(stack)
    async with logged_in(stack, "responder") as (browser, csrf):
        assert 'id="form-answers"' not in (await browser.get(f"/incidents/{target.id}")).text
    async with logged_in(stack, "dpo") as (browser, csrf):
        assert 'id="form-answers"' in (await browser.get(f"/incidents/{target.id}")).text
        sent = await browser.post(f"/incidents/{target.id}/act/form", data={
            "csrf_token": csrf, "notification_type": "initial", "started_at": "2026-11-19T08:00:00+01:00",
            "ended_at": "", "ongoing": "yes", "origin": "external", "intent": "malicious", "member_states": "de, be",
            "police_complaint": "no", "anssi_report": ""})
        assert sent.status_code == 303
        answers = await eventually(lambda: incident(stack).form, what="the answers recorded")
        assert (answers.origin, answers.member_states, answers.ongoing, answers.police_complaint,
                answers.anssi_report) == ("external", ("DE", "BE"), True, False, None)
        page = (await browser.get(f"/incidents/{target.id}")).text
        assert '<option value="external" selected>' in page and 'value="DE, BE"' in page


async def test_the_dpo_names_the_notifications_contact_in_the_console(stack: ConsoleStack) -> None:
    """Issue 16, Art. 33(3)(b): the DPO enters their own name and contact in the form that edits the
    notification; it is stored with the other answers, shown back, and in the new draft's preview."""
    target = incident(stack)
    drafts_before = len(incident(stack).notices)
    async with logged_in(stack, "dpo") as (browser, csrf):
        sent = await browser.post(f"/incidents/{target.id}/act/form", data={
            "csrf_token": csrf, "origin": "external", "contact_name": "Claire Martin",
            "contact_details": "+33 1 23 45 67 89 <claire@atometrics.example>"})
        assert sent.status_code == 303
        answers = await eventually(lambda: (f := incident(stack).form) and f.contact_name and f,
                                   what="the contact recorded")
        assert (answers.contact_name, answers.contact_details, answers.origin) == (
            "Claire Martin", "+33 1 23 45 67 89 <claire@atometrics.example>", "external")
        page = (await browser.get(f"/incidents/{target.id}")).text
        assert 'name="contact_name" size="30" maxlength="200" value="Claire Martin"' in page
        assert 'value="+33 1 23 45 67 89 &lt;claire@atometrics.example&gt;"' in page  # escaped
        redrafted = await eventually(lambda: len(incident(stack).notices) > drafts_before and incident(stack),
                                     what="a new draft for the DPO")
        newest = redrafted.notices[-1]
        assert newest.kind == "authority_notification"
        shown = (await browser.get(f"/incidents/{target.id}/notices/{newest.notice_id}")).text
        assert "Claire Martin" in shown and "+33 1 23 45 67 89 &lt;claire@atometrics.example&gt;" in shown
