"""`breach form` (issue 16): the DPO's answers to the notification form and the measures, shown and
set from the terminal through the real console as the person logged in — a responder's answers are
refused in one line, the DPO's merge over what is recorded and reach a new version of the drafts; a
missing file, a file that is not JSON, an unknown field or a console that does not answer give one
line and exit code 2, never a traceback. The world is test_cli_login's (a console on loopback;
commands decided in process)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from incident.measures import MeasureText
from incident.notices import reference
from incident.notification_form import LocalText
from streams.cli.common import credentials_path
from streams.cli.console_client import Credentials, save_credentials
from streams.embedded.services import free_port
from tests.integration.test_cli_login import World, breach, login, one_line, world  # noqa: F401 - the fixture


@pytest.mark.asyncio
async def test_the_dpo_sets_and_reads_the_forms_answers_from_the_cli(
        world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        tmp_path: Path) -> None:
    w, ref = world, reference(world.aware)
    assert "not logged in" in one_line(await breach(capsys, monkeypatch, "form", ref))
    await login(w, capsys, monkeypatch, "rita")  # a responder reads the answers, and may not give them
    shown = await breach(capsys, monkeypatch, "form", ref)
    assert shown.code == 0 and "(no answer recorded yet)" in shown.out, shown.err
    refused = one_line(await breach(capsys, monkeypatch, "form", ref, "--set", "origin=external"))
    assert refused.startswith("breach: refused by the console (HTTP 403)")
    assert w.model.incidents[w.aware].form is None

    await login(w, capsys, monkeypatch, "dora")
    drafts_before = len(w.model.incidents[w.aware].notices)
    run = await breach(capsys, monkeypatch, "form", ref, "--set", "origin=external", "--set", "ongoing=yes",
                       "--set", "contact_name=Claire Martin", "--set", "started_at=2026-11-19T08:00:00+01:00",
                       "--safeguards", "fr", "Chiffrement des disques", "--safeguards", "en", "Disk encryption")
    assert run.code == 0 and "form answers sent" in run.out, run.err
    form = w.model.incidents[w.aware].form
    assert form is not None and (form.origin, form.ongoing, form.contact_name) == ("external", True, "Claire Martin")
    assert form.started_at == datetime(2026, 11, 19, 7, tzinfo=UTC)
    assert form.safeguards == (LocalText(locale="fr", items=("Chiffrement des disques",)),
                               LocalText(locale="en", items=("Disk encryption",)))
    # The drafts sent to the DPO for review come again with the answers in them.
    assert len(w.model.incidents[w.aware].notices) > drafts_before

    # One answer more: the others stay as recorded; an empty value clears one.
    run = await breach(capsys, monkeypatch, "form", ref, "--set", "intent=accidental", "--set", "contact_name=",
                       "--safeguards", "en", "Two-factor authentication")
    assert run.code == 0, run.err
    form = w.model.incidents[w.aware].form
    assert form is not None and (form.origin, form.intent, form.ongoing) == ("external", "accidental", True)
    assert form.contact_name is None
    assert form.safeguards == (LocalText(locale="fr", items=("Chiffrement des disques",)),
                               LocalText(locale="en", items=("Two-factor authentication",)))

    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"member_states": ["DE"], "police_complaint": False, "measures": {
        "authority": {"fr": {"taken": ["Compte d'export désactivé"], "proposed": ["Audit des accès"]}}}}))
    run = await breach(capsys, monkeypatch, "form", ref, "--file", str(answers))
    assert run.code == 0 and "measures for the authority sent" in run.out, run.err
    state = w.model.incidents[w.aware]
    assert state.form is not None and state.form.member_states == ("DE",) and state.form.police_complaint is False
    measures = state.measures_for("authority")
    assert measures is not None and measures.texts == (
        MeasureText(locale="fr", taken=("Compte d'export désactivé",), proposed=("Audit des accès",)),)

    shown = await breach(capsys, monkeypatch, "form", ref)
    assert shown.code == 0, shown.err
    for line in ("  origin             external", "  intent             accidental", "  ongoing            yes",
                 "  member_states      DE", "  police_complaint   no", "  contact_name       —",
                 "  safeguards (fr)", "    - Chiffrement des disques", "    - Two-factor authentication",
                 "measures for the authority (by user:dora", "  fr taken", "    - Compte d'export désactivé",
                 "measures for the data subjects: —"):
        assert line in shown.out.splitlines() or any(o.startswith(line) for o in shown.out.splitlines()), line


@pytest.mark.asyncio
async def test_what_the_cli_cannot_use_is_said_in_one_line(
        world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        tmp_path: Path) -> None:
    w, ref = world, reference(world.aware)
    await login(w, capsys, monkeypatch, "dora")
    missing = tmp_path / "nope.json"
    assert one_line(await breach(capsys, monkeypatch, "form", ref, "--file", str(missing))) == \
        f"breach: {missing}: no such file"
    broken = tmp_path / "broken.json"
    broken.write_text("{origin: external")
    assert "broken.json: not JSON" in one_line(await breach(capsys, monkeypatch, "form", ref, "--file", str(broken)))
    assert "not a field of the form: colour" in one_line(await breach(capsys, monkeypatch, "form", ref, "--set",
                                                                      "colour=blue"))
    assert "KEY=VALUE expected" in one_line(await breach(capsys, monkeypatch, "form", ref, "--set", "origin"))
    # What the incident refuses (a language its notices are not written in) is refused where it is
    # decided, as every command's refusal: on its timeline, nothing recorded.
    run = await breach(capsys, monkeypatch, "form", ref, "--safeguards", "de", "Verschlüsselung")
    assert run.code == 0, run.err
    assert w.model.incidents[w.aware].form is None and w.sent  # sent, and refused

    # A console that does not answer: one line naming it, not a traceback.
    gone = f"http://127.0.0.1:{free_port()}"
    save_credentials(credentials_path(), Credentials(url=gone, token="brp_x", name="dora", role="dpo",
                                                     expires_at="2999-01-01T00:00:00+00:00"))
    line = one_line(await breach(capsys, monkeypatch, "form", ref))
    assert line.startswith(f"breach: cannot reach the console at {gone}")
