"""`breach up` as a newcomer runs it: samples become incidents with 72 h deadlines and notices;
`breach send` adds more while it runs; Ctrl-C stops everything."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from incident.errors import InvalidEvent
from streams.deps import Deps
from streams.embedded.samples import jsonl_lines
from streams.embedded.services import free_port, port_is_free
from streams.mail.mailer import RecordingMailer
from streams.mail.render import NoticeRenderer
from streams.pipeline.ingest import normalise
from streams.profiles_loader import load_directory
from streams.settings import ROOT
from tests.support import eventually

AUTH = "Basic " + base64.b64encode(b"oncall:oncall").decode()


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page carries a CSRF token"
    return match.group(1)


class Up:
    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.ports = {"broker": free_port(), "smtp": free_port(), "console": free_port()}
        self.env = {**os.environ, "BREACH_BROKER_URL": f"kafka://127.0.0.1:{self.ports['broker']}",
                    "BREACH_SMTP_PORT": str(self.ports["smtp"]), "BREACH_CONSOLE_PORT": str(self.ports["console"]),
                    "BREACH_DATA_DIR": str(tmp_path), "BREACH_SESSION_TIMEOUT": "2"}
        # The CLI beside it is told nothing: it finds the console and broker in <data dir>/endpoints.json,
        # and acts as the person logged in (its credentials in its own config dir).
        told = ("BREACH_BROKER_URL", "BREACH_SMTP_PORT", "BREACH_CONSOLE_PORT", "BREACH_CONSOLE_URL")
        self.cli_env = {k: v for k, v in self.env.items() if k not in told}
        self.cli_env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
        # Output goes to files: an unread pipe could fill up and stall the stack.
        self.stderr, self.stdout = tmp_path / "up.stderr", tmp_path / "up.stdout"
        with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
            self.process = subprocess.Popen([sys.executable, "-m", "streams.cli", "up", *args], env=self.env, cwd=ROOT,
                                            stdout=out, stderr=err)

    def stop(self) -> None:
        """Ctrl-C, as a person stops it; SIGKILL if it is not done in 30 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def get(self, path: str) -> Any:
        request = urllib.request.Request(f"http://127.0.0.1:{self.ports['console']}{path}",
                                         headers={"Authorization": AUTH})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return json.load(response)
        except (urllib.error.URLError, ConnectionError):
            return None

    def incidents(self) -> list[dict[str, Any]]:
        return (self.get("/api/incidents") or {"incidents": []})["incidents"]

    def breach(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "streams.cli", *args], input=stdin, text=True, env=self.cli_env,
                              cwd=ROOT, capture_output=True, timeout=60, check=True)


def samples_rejected() -> int:
    """How many of the samples `breach up` publishes the worker refuses: its own normalise()."""
    deps = Deps(directory=load_directory(ROOT / "deploy" / "profiles"), mailer=RecordingMailer(),
                renderer=NoticeRenderer(ROOT / "templates" / "notices"))
    now = datetime.now(UTC)
    return sum(isinstance(result, InvalidEvent)
               for path in sorted((ROOT / "deploy" / "samples").glob("*.jsonl"))
               for n, line in enumerate(jsonl_lines(path.read_bytes()))
               for _, result in normalise(line, now, f"security-events:0:{n}", deps))


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    running = Up(tmp_path)
    try:
        yield running
    finally:
        running.stop()
        # pytest shows this only when the test failed: what the stack said, to know why.
        for log in (running.stdout, running.stderr, tmp_path / "worker.log"):
            if log.exists():
                tail = log.read_text(errors="replace").splitlines()[-40:]
                print(f"--- last lines of {log.name} ---", *tail, sep="\n")


@pytest.mark.asyncio
async def test_make_up_shows_incidents_clocks_and_notices_then_stops_cleanly(up: Up) -> None:
    # A minute on an idle machine; the deadline is wide because CI machines are shared (load 6 seen).
    notified = await eventually(lambda: [i for i in up.incidents() if i["status"] == "drafts_delivered"], timeout=180,
                                what="sample incidents notified via the console API")
    deadline = notified[0]["deadlines"][0]
    assert (datetime.fromisoformat(deadline["deadline"]) - datetime.fromisoformat(deadline["anchor_at"])
            == timedelta(hours=72))
    # The on-call team is paged as the samples' breaches become known: in the mail catcher too.
    mail = await eventually(lambda: (found := up.get("/api/mail")["messages"])
                            and any(m["subject"].startswith(("PAGE · ", "ALERTE · ")) for m in found) and found,
                            timeout=60, what="a page in the mail catcher")
    assert all(any(tag in m["subject"] for tag in ("[PROJET", "[DRAFT", "PAGE · ", "ALERTE · ")) for m in mail)
    assert up.get(f"/api/mail/{mail[0]['id']}")["html"].lstrip().lower().startswith("<!doctype html")
    assert "dpo@ampere.cars" in up.breach("mail").stdout

    before = {i["id"] for i in up.incidents()}
    # The samples' own malformed lines first: counting from a moment when some of them are still on
    # their way would make the one sent below look like several.
    dlq_before = samples_rejected()
    assert dlq_before > 0  # the samples show the dead-letter topic
    await eventually(lambda: sum(up.get("/api/incidents")["dead_letters"].values()) == dlq_before,
                     what="the samples' malformed lines counted in the DLQ")
    new = {"id": "new-1", "time": datetime.now().astimezone().isoformat(), "title": "Customer table exported",
           "host": "ama-crm-db", "confirms_breach": True}
    sent = up.breach("send", "-", stdin=json.dumps(new) + "\n{broken\n")
    assert "sent 2 record(s)" in sent.stdout
    fresh = await eventually(lambda: [i for i in up.incidents() if i["id"] not in before and i["deadlines"]],
                             timeout=30, what="the incident from `breach send`")
    assert fresh[0]["controller"] == "ama"
    await eventually(lambda: sum(up.get("/api/incidents")["dead_letters"].values()) == dlq_before + 1,
                     what="the malformed line counted in the DLQ")
    assert "BR-" in up.breach("incidents").stdout

    # The AMA sample is only suspected; a responder confirms it by its reference.
    (suspected,) = [i for i in up.incidents() if i["status"] == "open"]
    assert "as oncall (responder)" in up.breach("login", "--name", "oncall", stdin="oncall\n").stdout
    assert "awareness sent" in up.breach("aware", suspected["reference"]).stdout
    confirmed = await eventually(lambda: next((i for i in up.incidents()
                                               if i["id"] == suspected["id"] and i["deadlines"]), None),
                                 what="the suspected incident confirmed")
    assert confirmed["awareness"]["by"] == "user:oncall"  # who logged in, not what a flag said

    # The Art. 33(5) register, rebuilt from the event log, lists every breach, notified or not.
    csv_text = up.breach("register", "export", "--format", "csv").stdout
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("reference,incident_id,controller") and len(lines) == 1 + len(up.incidents())
    assert any("not yet submitted" in line for line in lines[1:])

    # Done when: a newcomer logs in with what the banner prints and takes an incident to "submitted".
    banner = up.stdout.read_text()
    logins = dict(re.findall(r"^\s+(\S+) / (\S+)\s+\((?:responder|dpo|admin)\)$", banner, re.MULTILINE))
    assert logins == {"oncall": "oncall", "dpo": "dpo", "admin": "admin"}
    with httpx.Client(base_url=f"http://127.0.0.1:{up.ports['console']}", follow_redirects=True) as browser:
        form = browser.get("/")  # sent to the login page
        assert form.url.path == "/login"
        page = browser.post("/login", data={"username": "dpo", "password": logins["dpo"], "next": "/",
                                            "csrf_token": csrf_of(form.text)})
        assert "dpo (dpo)" in page.text and confirmed["reference"] in page.text
        url = f"/incidents/{confirmed['id']}/act/obligations"
        rule = confirmed["deadlines"][0]["rule_ref"]
        approved = browser.post(url, data={"obligation": rule, "action": "approve", "csrf_token": csrf_of(page.text)})
        assert approved.status_code == 200 and approved.url.path == f"/incidents/{confirmed['id']}"
        await eventually(lambda: up.get(f"/api/incidents/{confirmed['id']}")["deadlines"][0]["workflow"]["status"]
                         == "approved", what="the approval")
        browser.post(url, data={"obligation": rule, "action": "submit", "channel": "portal", "reference": "CNIL-42",
                                "csrf_token": csrf_of(approved.text)})
        await eventually(lambda: up.get(f"/api/incidents/{confirmed['id']}")["status"] == "submitted",
                         what="the authority notified")

    up.process.send_signal(signal.SIGINT)
    assert up.process.wait(30) == 0
    assert "kept nothing" in up.stderr.read_text()
    assert all(port_is_free("127.0.0.1", port) for port in up.ports.values())
