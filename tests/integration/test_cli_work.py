"""`breach tasks`, `breach tag` and `breach report` (issue 17) act and read through the console as the
person logged in: a viewer's check is refused in one line (exit 2), a responder's goes through and
the timeline names the task by its title; the report is the console's own. The world is
test_cli_login's (a console on loopback; commands decided in process), with the playbooks of
tests/unit/test_tasks.py in its controller's profile."""

from __future__ import annotations

import pytest

from incident.decide import Rules
from incident.notices import reference
from incident.profiles import Directory, parse_profile
from tests.integration import test_cli_login
from tests.integration.test_cli_login import World, breach, login, one_line, world  # noqa: F401 - the fixture
from tests.unit.builders import FakeCalendar, profile_doc
from tests.unit.test_tasks import PLAYBOOK

DIRECTORY = Directory.of([parse_profile(profile_doc(playbooks=[PLAYBOOK]), source="acme.toml")])


@pytest.fixture
def playbooks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The world's console and its decisions read this directory (requested before ``world``)."""
    monkeypatch.setattr(test_cli_login, "directory", lambda: DIRECTORY)
    monkeypatch.setattr(test_cli_login, "RULES", Rules(DIRECTORY, FakeCalendar()))


@pytest.mark.asyncio
async def test_tasks_and_tags_from_the_cli_as_the_person_logged_in(
        playbooks: None, world: World, capsys: pytest.CaptureFixture[str],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    w, ref = world, reference(world.aware)
    assert "not logged in" in one_line(await breach(capsys, monkeypatch, "tasks", ref))
    await login(w, capsys, monkeypatch, "vera")  # a viewer reads the checklist, and may not check it
    listed = await breach(capsys, monkeypatch, "tasks", ref)
    assert listed.code == 0, listed.err
    assert "[ ] gdpr-breach/contain  Contain" in listed.out and "gdpr-breach/notify-authority" in listed.out
    line = one_line(await breach(capsys, monkeypatch, "tasks", ref, "--check", "gdpr-breach/contain"))
    assert line == "breach: refused by the console (HTTP 403): the viewer role may read, not act"
    assert "refused" in one_line(await breach(capsys, monkeypatch, "tag", ref, "phishing"))
    assert w.sent == []

    await login(w, capsys, monkeypatch, "rita")
    assert "no task x/y on this incident" in one_line(await breach(capsys, monkeypatch, "tasks", ref, "--check",
                                                                   "x/y"))
    run = await breach(capsys, monkeypatch, "tasks", ref, "--check", "gdpr-breach/contain")
    assert run.code == 0, run.err
    (task,) = [t for t in w.model.incidents[w.aware].tasks if t.key == "gdpr-breach/contain"]
    assert task.done_by == "user:rita"
    listed = await breach(capsys, monkeypatch, "tasks", ref)
    assert "[x] gdpr-breach/contain  Contain  — user:rita" in listed.out

    assert (await breach(capsys, monkeypatch, "tag", ref, "Phishing")).code == 0
    assert w.model.incidents[w.aware].tags == ("phishing",)
    assert "a tag is one word" in one_line(await breach(capsys, monkeypatch, "tag", ref, "two words"))
    assert (await breach(capsys, monkeypatch, "tag", ref, "phishing", "--remove")).code == 0
    assert w.model.incidents[w.aware].tags == ()


@pytest.mark.asyncio
async def test_the_report_from_the_cli_is_the_consoles(
        playbooks: None, world: World, capsys: pytest.CaptureFixture[str],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    w, ref = world, reference(world.aware)
    assert "not logged in" in one_line(await breach(capsys, monkeypatch, "report", ref))
    await login(w, capsys, monkeypatch, "rita")
    assert (await breach(capsys, monkeypatch, "tasks", ref, "--check", "gdpr-breach/contain")).code == 0
    md = await breach(capsys, monkeypatch, "report", ref, "--md")
    assert md.code == 0, md.err
    assert md.out.startswith(f"# Incident report {ref}") and "- [x] Contain — done by user:rita" in md.out
    # The timeline names the checked task by its title, as the checklist does.
    assert "Task “Contain” done, checked by user:rita" in md.out
    page = await breach(capsys, monkeypatch, "report", ref)
    assert page.code == 0 and page.out.lstrip().lower().startswith("<!doctype html>") and ref in page.out
    assert "no incident with reference BR-00000000" in one_line(await breach(capsys, monkeypatch, "report",
                                                                             "BR-00000000"))
