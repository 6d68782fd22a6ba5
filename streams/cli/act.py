"""`breach login`, `logout`, `whoami`, and every `breach` command that changes an incident: each
goes through the console's API as the person logged in (streams/cli/console_client.py), so the console
checks their role and the events record who acted. None writes a person's command to Kafka."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.parse
from datetime import datetime
from pathlib import Path
from typing import Any

from console.actions import OBLIGATION_STEPS
from streams.cli.common import accepted, act_on, credentials_path, logged_in, person
from streams.cli.console_client import (
    LOGIN_HINT,
    CliError,
    Console,
    Credentials,
    client_settings,
    console_url,
    incident_id,
    quoted,
    save_credentials,
)


def cmd_login(args: argparse.Namespace) -> int:
    """A name and password for a personal token (POST /api/me/token), kept in the config dir, 0600."""
    import getpass

    settings = client_settings(os.environ)
    url = (args.url or console_url(os.environ, settings.data_dir, settings.console_host,
                                   settings.console_port)).rstrip("/")
    if sys.stdin.isatty():
        name = args.name or input("name: ").strip()
        password = getpass.getpass(f"password for {name}: ")
    else:  # scripts: the password (after the name, when --name is not given) on standard input, never argv
        name = args.name or sys.stdin.readline().strip()
        password = sys.stdin.readline().rstrip("\r\n")
    if not name or not password:
        raise CliError("a name and a password are needed")
    host = urllib.parse.urlsplit(url).hostname or ""
    if url.startswith("http://") and host not in ("127.0.0.1", "::1", "localhost"):
        print(f"breach: warning: {url} is not https: the password and the token cross the network in clear",
              file=sys.stderr)
    body = {"hours": args.hours} if args.hours else {}
    answer = Console.basic(url, name, password).post_json("/api/me/token", body)
    credentials = Credentials(url=url, token=answer["token"], name=answer["name"], role=answer["role"],
                              expires_at=answer["expires_at"])
    path = credentials_path()
    save_credentials(path, credentials)
    print(f"logged in to {url} as {credentials.name} ({credentials.role}) until {credentials.expires_at[:16]} UTC; "
          f"token kept in {path}")
    return 0


def cmd_whoami(args: argparse.Namespace) -> int:
    """Who the console says the kept login is (and so whether it still works)."""
    found = logged_in()
    if found is None:
        raise CliError(f"not logged in: {LOGIN_HINT}")
    me = person().get("/api/me")
    grant = me.get("controllers")  # None: every controller
    controllers = "" if grant is None else "; controllers " + ", ".join(grant)
    print(f"{me['name']} ({me['role']}{controllers}) at {found.url}, until {found.expires_at[:16]} UTC")
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    path = credentials_path()
    if not path.exists():
        print("not logged in")
        return 0
    path.unlink()
    print(f"logged out ({path} removed)")
    return 0


def cmd_aware(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"evidence": list(args.evidence)}
    if args.at:
        try:
            aware_at = datetime.fromisoformat(args.at)
        except ValueError:
            raise CliError(f"--at: {args.at!r} is not an ISO 8601 time") from None
        if aware_at.tzinfo is None:
            raise CliError("--at needs a UTC offset, e.g. 2026-11-22T09:30:00+01:00")
        body["aware_at"] = aware_at.isoformat()
    found, _ = act_on(args.incident_id, "awareness", body)
    print(f"awareness sent for {found} at {body.get('aware_at', 'now')} (the worker records it)")
    return 0


def cmd_triage(args: argparse.Namespace) -> int:
    return accepted(act_on(args.incident, "triage", {})[0], "triage")


def cmd_ack(args: argparse.Namespace) -> int:
    return accepted(act_on(args.incident, "acknowledge", {})[0], "acknowledgement")


def cmd_settle(args: argparse.Namespace) -> int:
    body = {"proposal": args.proposal, "confirm": not args.decline, "reason": args.reason}
    return accepted(act_on(args.incident, "settle", body)[0], "decline" if args.decline else "confirmation")


def cmd_classify(args: argparse.Namespace) -> int:
    body = {"classification": args.classification, **({"at": args.at} if args.at else {})}
    return accepted(act_on(args.incident, "classification", body)[0], "classification")


def cmd_override(args: argparse.Namespace) -> int:
    body = {"level": args.level, "justification": args.justification}
    return accepted(act_on(args.incident, "override", body)[0], "risk override")


def cmd_facts(args: argparse.Namespace) -> int:
    raw = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    try:
        changes = json.loads(raw)
    except ValueError as exc:
        raise CliError(f"{args.file}: not JSON: {exc}") from None
    return accepted(act_on(args.incident, "facts", {"changes": changes, "reason": args.reason})[0], "facts")


def cmd_obligation(args: argparse.Namespace) -> int:
    body = {"obligation": args.obligation, "action": args.action, "channel": args.channel,
            "reference": args.reference, "text": args.text, **({"at": args.at} if args.at else {})}
    return accepted(act_on(args.incident, "obligations", body)[0], f"obligation step {args.action}")


def cmd_subjects_import(args: argparse.Namespace) -> int:
    """Recipients of a notice from CSV or JSONL, through the console in the logged-in person's name;
    bad lines reported by number (addresses never echoed)."""
    from streams.mail import mass

    data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    fmt = args.format or mass.format_of(args.file)
    console = person()
    found = incident_id(console, args.incident)
    answer = console.call("POST", f"/api/incidents/{quoted(found)}/subjects", data,
                          "text/csv" if fmt == "csv" else "application/x-ndjson")
    for invalid in answer["invalid"]:
        print(f"{args.file}:{invalid['line']}: {invalid['reason']}", file=sys.stderr)
    if answer["invalid_count"] > len(answer["invalid"]):
        print(f"{args.file}: {answer['invalid_count'] - len(answer['invalid'])} more invalid line(s)", file=sys.stderr)
    print(f"list {answer['list_id']}: {answer['recipients']} recipient(s) imported, "
          f"{answer['invalid_count']} invalid line(s) reported")
    return 0 if answer["recipients"] else 1


def cmd_notices_send(args: argparse.Namespace) -> int:
    """The DPO logged in approves the notice to the people of one list; the workers send it."""
    console = person()
    found = incident_id(console, args.incident)
    list_id = args.list
    if not list_id:
        lists = console.get(f"/api/incidents/{quoted(found)}")["subject_lists"]
        if not lists:
            raise CliError("no list of affected people imported yet (breach subjects import INCIDENT FILE)")
        list_id = lists[-1]["list_id"]
    console.post_json(f"/api/incidents/{quoted(found)}/subject_notice",
                      {"list_id": list_id, "measures_taken": list(args.measure),
                       "measures_proposed": list(args.proposed)})
    print(f"approval sent for list {list_id} (the worker records it; `breach notices status {args.incident}`)")
    return 0


def cmd_notices_resend(args: argparse.Namespace) -> int:
    """Send again to the recipients left in doubt by a worker crash (the DPO's decision)."""
    answer = act_on(args.incident, "resend_in_doubt", {})[1]
    if not answer["resent"]:
        print("no recipient is in doubt")
    for notice in answer["resent"]:
        print(f"notice {notice['notice_id']}: {notice['in_doubt']} recipient(s) in doubt sent to the workers again")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `breach login`, `breach logout`, `breach whoami`, `breach aware`, `breach triage`, `breach ack`, `breach
    settle`, `breach classify`, `breach override`, `breach facts`, `breach obligation`."""
    login = sub.add_parser("login", help="log in to the console: the commands below act in your name and role")
    login.add_argument("--url", help="the console (default: the one `breach up` started, or BREACH_CONSOLE_URL)")
    login.add_argument("--name", help="your console login (default: asked; or the first line of standard input)")
    login.add_argument("--hours", type=float, help="how long the login lasts (default 8, at most the session length)")
    login.set_defaults(func=cmd_login)
    sub.add_parser("logout", help="forget the login kept by `breach login`").set_defaults(func=cmd_logout)
    sub.add_parser("whoami", help="who you are logged in as, and where").set_defaults(func=cmd_whoami)
    aware = sub.add_parser("aware", help="record that the controller is aware of a breach (starts the clock)")
    aware.add_argument("incident_id", help="the incident id, or its reference (BR-…)")
    aware.add_argument("--at", help="ISO 8601 time with offset (default: now)")
    aware.add_argument("--evidence", action="append", default=[], help="an event id or note; repeatable")
    aware.set_defaults(func=cmd_aware)
    triage = sub.add_parser("triage", help="start triage of an incident")
    triage.add_argument("incident", help="the incident id or reference (BR-…)")
    triage.set_defaults(func=cmd_triage)
    ack = sub.add_parser("ack", help="acknowledge an incident's pages to the on-call team (stops the repeats)")
    ack.add_argument("incident", help="the incident id or reference (BR-…)")
    ack.set_defaults(func=cmd_ack)
    settle = sub.add_parser("settle", help="the DPO confirms (or declines, --decline) facts a responder proposed "
                            "that would lower the risk")
    settle.add_argument("incident", help="the incident id or reference (BR-…)")
    settle.add_argument("proposal", type=int, help="the proposal's number, as the incident lists it")
    settle.add_argument("--decline", action="store_true", help="decline it (a --reason is required)")
    settle.add_argument("--reason", default="", help="why (required to decline)")
    settle.set_defaults(func=cmd_settle)
    classify = sub.add_parser("classify", help="classify an incident (the regime's breach type)")
    classify.add_argument("incident", help="the incident id or reference (BR-…)")
    classify.add_argument("classification")
    classify.add_argument("--at", help="ISO 8601 time with offset (default: now)")
    classify.set_defaults(func=cmd_classify)
    override = sub.add_parser("override", help="override the risk level (the DPO)")
    override.add_argument("incident", help="the incident id or reference (BR-…)")
    override.add_argument("level", choices=("unlikely", "risk", "high"))
    override.add_argument("--justification", required=True)
    override.set_defaults(func=cmd_override)
    facts = sub.add_parser("facts", help="correct the facts of an incident from a JSON object of fields (docs/risk.md)")
    facts.add_argument("incident", help="the incident id or reference (BR-…)")
    facts.add_argument("file", help="a .json file, or - for standard input")
    facts.add_argument("--reason", default="", help="why the facts change")
    facts.set_defaults(func=cmd_facts)
    step = sub.add_parser("obligation", help="a step on a legal obligation (approve, submit, complement, correct, "
                          "delay_reasons, close, withdraw)")
    step.add_argument("incident", help="the incident id or reference (BR-…)")
    step.add_argument("obligation", help="the obligation's id (see `breach incidents --json`)")
    step.add_argument("action", choices=OBLIGATION_STEPS)
    for option in ("--channel", "--reference", "--text"):
        step.add_argument(option, default="")
    step.add_argument("--at", help="ISO 8601 time with offset (default: now)")
    step.set_defaults(func=cmd_obligation)
