"""The `breach` command: up, worker, console, send, incidents, mail, assess, register, login, the commands
on incidents (streams/cli_act.py: through the console, as the person logged in), subjects, notices."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka.errors import KafkaError

from console.actions import OBLIGATION_STEPS
from incident.errors import ProfileError
from streams import cli_act, cli_work
from streams.cli_act import reader
from streams.cli_console import LOGIN_HINT, CliError, client_settings, served_at
from streams.settings import Settings, SettingsError, load_settings


def client_options(settings: Settings) -> dict[str, Any]:
    """Broker list and Kafka TLS/SASL options: every command reaches Kafka as the workers do."""
    from streams.kafka_security import client_options as options

    return options(settings)


def security_options(settings: Settings) -> dict[str, Any]:
    from streams.kafka_security import security_options as options

    return options(settings)


def _server_settings() -> Settings:
    """What `breach up`, `breach worker` and `breach console` run with: the environment only."""
    return load_settings(os.environ)


def _settings() -> Settings:
    return client_settings(os.environ)


def cmd_worker(args: argparse.Namespace) -> int:
    from streams.deps import Deps
    from streams.logging import configure_logging
    from streams.worker import run_worker

    settings = _server_settings()
    configure_logging(settings)
    deps = Deps.production(settings)  # an invalid profile stops here, naming file and key
    asyncio.run(run_worker(settings, deps))
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    from streams.embedded_run import run_console_only

    settings = _server_settings()
    asyncio.run(run_console_only(settings))
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from streams.embedded_run import run_up

    settings = _server_settings()
    if not os.environ.get("BREACH_CONSOLE_URL"):  # reminders link to the console as started
        settings = replace(settings, console_url=served_at(settings.console_host, settings.console_port))
    return asyncio.run(run_up(settings, samples=not args.no_samples))


def cmd_send(args: argparse.Namespace) -> int:
    from streams.samples import jsonl_lines, publish

    data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    lines = jsonl_lines(data)
    count = asyncio.run(publish(lines=lines, **client_options(_settings())))
    print(f"sent {count} record(s) to security-events")
    return 0


def _api(path: str) -> Any:
    return reader().get(path)


def cmd_incidents(args: argparse.Namespace) -> int:
    data = _api("/api/incidents")
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    rows = [("REFERENCE", "CONTROLLER", "STATE", "RISK", "NEXT DEADLINE (UTC)", "OBLIGATION", "TIME LEFT")]
    for i in data["incidents"]:
        s = i["standing"]  # the console's own line (incident/standing.py): the list says the same
        rows.append((i["reference"], i["controller_name"] or "unmapped", i["status"], i["risk"] or "-",
                     s["deadline"][:16].replace("T", " ") if s["deadline"] else "-", s["legal_ref"] or "-",
                     s["text"]))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_dlq(args: argparse.Namespace) -> int:
    """Records a stage refused, as the console's Rejected records page lists them: where from, when,
    why — never the record (it may hold personal data)."""
    data = _api("/api/rejected")
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    counts = ", ".join(f"{topic} {count}" for topic, count in sorted(data["by_topic"].items())) or "none"
    print(f"rejected records: {counts}")
    rows = [("TIME (UTC)", "TOPIC", "STAGE", "SOURCE", "INCIDENT", "REASON")]
    for d in data["latest"][:args.limit]:
        rows.append(((d["at"] or "-")[:19].replace("T", " "), d["topic"], d["stage"], d["source"],
                     d["incident_id"] or "-", d["reason"]))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]) - 1)]
    for row in rows if len(rows) > 1 else ():
        print("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]).rstrip())
    return 0


def cmd_assess(args: argparse.Namespace) -> int:
    """Facts file in, Assessment JSON out: the same function the worker runs."""
    from incident.facts import FactsError, parse_facts
    from incident.risk import assess
    from streams.codec import to_jsonable
    from streams.profiles_loader import load_directory

    raw = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise FactsError("(document)", "a facts file holds one JSON object")
        facts = parse_facts(data.get("facts", data) if "facts" in data and isinstance(data["facts"], dict) else data)
    except json.JSONDecodeError as exc:
        print(f"breach assess: {args.file}: not JSON: {exc}", file=sys.stderr)
        return 2
    except FactsError as exc:
        print(f"breach assess: {args.file}: {exc}", file=sys.stderr)
        return 2
    profile = None
    if facts.controller is not None:
        profile = load_directory(_settings().profiles_dir).profiles.get(facts.controller)
        if profile is None:
            print(f"breach assess: {args.file}: controller: no profile {facts.controller!r}", file=sys.stderr)
            return 2
    print(json.dumps(to_jsonable(assess(facts, profile)), indent=2, ensure_ascii=False))
    return 0


def cmd_register(args: argparse.Namespace) -> int:
    """The Art. 33(5) register, rebuilt from incident-events (no console needed)."""
    from console.app import register_csv
    from console.projection import read_all
    from streams.profiles_loader import load_directory

    settings = _settings()
    model = asyncio.run(read_all(**client_options(settings)))
    entries = model.register(load_directory(settings.profiles_dir))
    text = register_csv(entries) if args.format == "csv" else json.dumps({"register": entries}, indent=2,
                                                                         ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"{len(entries)} breach(es) written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Each incident's audit chain checked against incident-events; 1 when one is broken."""
    from streams.audit import read_audit, report

    text, code = report(asyncio.run(read_audit(_settings())), args.incident)
    print(text, file=sys.stderr if code == 2 else sys.stdout)
    return code


def cmd_mail(args: argparse.Namespace) -> int:
    if args.id:
        message = _api(f"/api/mail/{args.id}")
        print(message["raw"] if args.raw else message["text"])
        return 0
    for m in _api("/api/mail")["messages"]:
        print(f"{m['id']:>4}  {m['received_at'][:19]}  {', '.join(m['to'])}  {m['subject']}")
    return 0


def _read_password(prompt: str) -> str:
    """From a prompt on a terminal (asked twice), else the first line of standard input: never argv,
    which other users of the machine can read in the process list."""
    import getpass

    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("again: ") != first:
            raise SystemExit("breach: the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_users(args: argparse.Namespace) -> int:
    """Local console users, in <data_dir>/console-users.json (argon2 hashes); their console sessions
    in console-sessions.json beside it."""
    from console.sessions import SessionStore
    from console.users import UNCHANGED, UserError, UserStore, grant_label

    settings = _settings()
    store = UserStore(settings.users_file)
    try:
        if args.users_command == "add":
            grant_asked = UNCHANGED if args.controller is None else args.controller
            user = store.add(args.name, _read_password(f"password for {args.name}: "), args.role,
                             replace=args.replace, controllers=grant_asked)
            grant = "" if user.controllers is None else f", controllers {grant_label(user.controllers)}"
            print(f"user {user.name} ({user.role}{grant}) saved in {settings.users_file}"
                  + (" (their sessions and CLI logins end at their next request)" if args.replace else ""))
        elif args.users_command == "remove":
            store.remove(args.name)
            print(f"user {args.name} removed (their sessions end at their next request)")
        elif args.users_command == "logout":
            ended = SessionStore(settings.sessions_file).end_user(args.name)
            print(f"{ended} session(s) of {args.name} ended")
        else:
            for user in store.list():
                print(f"{user.name}\t{user.role}\t{grant_label(user.controllers)}")
    except UserError as exc:
        print(f"breach users: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_tokens(args: argparse.Namespace) -> int:
    """Scoped API tokens for machines; the token is printed once and only its digest is kept."""
    from console.users import TokenStore, UserError, grant_label, parse_lifetime

    settings = _settings()
    store = TokenStore(settings.tokens_file)
    try:
        if args.tokens_command == "list":
            print("label\trole\tscopes\tcreated\texpires\tlast used\tcontrollers")
            for t in store.list():
                grant = None if t["controllers"] is None else frozenset(t["controllers"])
                print("\t".join([t["label"], t["role"], ",".join(t["scopes"]), t["created"] or "-",
                                 t["expires"] or "never", t["last_used"] or "never", grant_label(grant)]))
            return 0
        if args.tokens_command == "revoke":
            store.revoke(args.label)
            print(f"token {args.label} revoked (refused from its next request)")
            return 0
        lifetime = parse_lifetime(args.expires) if args.expires else None
        token = store.issue(args.label, args.role, tuple(args.scope or ("read",)), lifetime,
                            controllers=args.controller)
    except UserError as exc:
        print(f"breach tokens: {exc}", file=sys.stderr)
        return 2
    print(token)
    print(f"(shown once; send it as 'Authorization: Bearer …'. Saved as {args.label} in {settings.tokens_file})",
          file=sys.stderr)
    return 0


async def _incident(ref: str) -> Any:
    """The incident (domain state folded from incident-events) by id or reference (BR-…)."""
    from console.projection import read_all

    model = await read_all(**client_options(_settings()))
    found = model.incidents.get(ref) or next(
        (i for i in model.incidents.values() if "BR-" + i.id.replace("-", "")[:8].upper() == ref.upper()), None)
    if found is None:
        raise CliError(f"no incident {ref}")
    return found


def _profile_of(state: Any) -> Any:
    from streams.profiles_loader import load_directory

    profile = load_directory(_settings().profiles_dir).profiles.get(state.controller or "")
    if profile is None:
        raise CliError(f"incident {state.id} has no controller profile")
    return profile


def _list_id(state: Any, given: str | None) -> str:
    if given:
        return given
    if not state.subject_lists:
        raise CliError("no list of affected people imported yet (breach subjects import INCIDENT FILE)")
    return str(state.subject_lists[-1].list_id)


def cmd_notices_preview(args: argparse.Namespace) -> int:
    """Exactly what each recipient receives (subject, text, HTML): the worker renders the same bytes."""

    from streams import mass
    from streams.render import NoticeRenderer

    state = asyncio.run(_incident(args.incident))
    renderer = NoticeRenderer(_settings().templates_dir / "notices")
    notice = mass.preview(renderer, state, _profile_of(state), now=datetime.now(UTC),
                          list_id=_list_id(state, args.list), locale=args.locale,
                          measures_taken=tuple(args.measure), measures_proposed=tuple(args.proposed))
    parts = {"subject": notice.subject, "text": notice.text, "html": notice.html}
    if args.part != "all":
        sys.stdout.write(parts[args.part] + ("\n" if args.part == "subject" else ""))
        return 0
    print(f"Subject: {notice.subject}\n\n--- text ---\n{notice.text}\n--- html ---\n{notice.html}")
    return 0


def cmd_notices_status(args: argparse.Namespace) -> int:
    """sent / pending / failed / bounced / in doubt; with --watch, a progress bar until nothing is pending."""
    import time

    from streams import mass

    while True:
        state = asyncio.run(_incident(args.incident))
        lines = mass.status_lines(state)
        pending = sum(n.pending for n in state.subject_notices)
        if args.watch and sys.stdout.isatty():
            sys.stdout.write("\x1b[2J\x1b[H")
        print("\n".join(lines), flush=True)
        if not args.watch or (state.subject_notices and not pending):
            return 0
        time.sleep(args.interval)  # a terminal refresh, not a test wait


def cmd_notices_bounces(args: argparse.Namespace) -> int:
    """Delivery status notifications (one message per file) → the recipients marked bounced."""
    from streams import mass

    state = asyncio.run(_incident(args.incident))
    messages = [sys.stdin.buffer.read() if f == "-" else Path(f).read_bytes() for f in args.files]
    settings = _settings()
    result = asyncio.run(mass.publish_bounces(settings.bootstrap_servers, state, messages,
                                              **security_options(settings)))
    for problem in result.problems:
        print(problem, file=sys.stderr)
    print(f"{result.published} bounced recipient(s) sent to the workers")
    return 0 if not result.problems else 1


def cmd_topics_create(args: argparse.Namespace) -> int:
    from streams.topics_admin import TopicsError, as_json, create_topics, report

    try:
        outcomes = asyncio.run(create_topics(_settings()))
    except TopicsError as exc:
        print(f"breach topics create: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(as_json(outcomes), indent=2) if args.json else report(outcomes))
    return 0


def cmd_replay_projections(args: argparse.Namespace) -> int:
    """Every incident and the register folded again from incident-events."""
    from streams.codec import to_jsonable
    from streams.replay import as_text, replay_projections

    result = asyncio.run(replay_projections(_settings()))
    if args.output:
        out = Path(args.output)
        out.mkdir(parents=True, exist_ok=True)
        (out / "incidents.json").write_text(json.dumps({"incidents": [to_jsonable(i) for i in result.incidents]},
                                                       indent=2, ensure_ascii=False), encoding="utf-8")
        (out / "register.json").write_text(json.dumps({"register": result.register()}, indent=2,
                                                      ensure_ascii=False), encoding="utf-8")
    print(as_text(result.summary()))
    return 0


def cmd_replay_correlation(args: argparse.Namespace) -> int:
    from streams.replay import ReplayError, as_text, parse_instant, replay_correlation

    try:
        start, end = parse_instant(args.start, "--from"), parse_instant(args.end, "--to")
        run = asyncio.run(replay_correlation(_settings(), start, end, args.namespace))
    except ReplayError as exc:
        print(f"breach replay correlation: {exc}", file=sys.stderr)
        return 2
    print(as_text(run.summary()))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="breach", description="Security events in, handled personal-data breaches out.")
    sub = p.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run everything locally: broker, mail catcher, worker, console, samples")
    up.add_argument("--no-samples", action="store_true", help="do not publish deploy/samples/*.jsonl")
    up.set_defaults(func=cmd_up)
    sub.add_parser("worker", help="run a stream worker (BREACH_BROKER_URL)").set_defaults(func=cmd_worker)
    sub.add_parser("console", help="run the console (BREACH_CONSOLE_*)").set_defaults(func=cmd_console)
    send = sub.add_parser("send", help="publish JSONL records to security-events")
    send.add_argument("file", help="a .jsonl file, or - for standard input")
    send.set_defaults(func=cmd_send)
    inc = sub.add_parser("incidents", help="list incidents (from the console API)")
    inc.add_argument("--json", action="store_true")
    inc.set_defaults(func=cmd_incidents)
    dlq = sub.add_parser("dlq", help="records a stage refused (dead letters): where from, when, why (from the "
                         "console API; all-controller users only)")
    dlq.add_argument("--limit", type=int, default=50, help="how many of the latest to list (default 50)")
    dlq.add_argument("--json", action="store_true")
    dlq.set_defaults(func=cmd_dlq)
    assess = sub.add_parser("assess", help="assess the risk of a breach from a facts JSON file (docs/risk.md)")
    assess.add_argument("file", help="a facts .json file, or - for standard input")
    assess.set_defaults(func=cmd_assess)
    reg = sub.add_parser("register", help="the Art. 33(5) register of every breach")
    reg_sub = reg.add_subparsers(dest="register_command", required=True)
    export = reg_sub.add_parser("export", help="export it, rebuilt from incident-events")
    export.add_argument("--format", choices=("csv", "json"), default="json")
    export.add_argument("--output", "-o", help="a file (default: standard output)")
    export.set_defaults(func=cmd_register)
    audit = sub.add_parser("audit", help="the tamper-evident record of each incident (its events' hash chain)")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="check every incident's hash chain on incident-events; exit 1 "
                                  "if one is broken")
    verify.add_argument("incident", nargs="?", help="only this incident (id or reference BR-…)")
    verify.set_defaults(func=cmd_audit_verify)
    login = sub.add_parser("login", help="log in to the console: the commands below act in your name and role")
    login.add_argument("--url", help="the console (default: the one `breach up` started, or BREACH_CONSOLE_URL)")
    login.add_argument("--name", help="your console login (default: asked; or the first line of standard input)")
    login.add_argument("--hours", type=float, help="how long the login lasts (default 8, at most the session length)")
    login.set_defaults(func=cli_act.cmd_login)
    sub.add_parser("logout", help="forget the login kept by `breach login`").set_defaults(func=cli_act.cmd_logout)
    sub.add_parser("whoami", help="who you are logged in as, and where").set_defaults(func=cli_act.cmd_whoami)
    aware = sub.add_parser("aware", help="record that the controller is aware of a breach (starts the clock)")
    aware.add_argument("incident_id", help="the incident id, or its reference (BR-…)")
    aware.add_argument("--at", help="ISO 8601 time with offset (default: now)")
    aware.add_argument("--evidence", action="append", default=[], help="an event id or note; repeatable")
    aware.set_defaults(func=cli_act.cmd_aware)
    triage = sub.add_parser("triage", help="start triage of an incident")
    triage.add_argument("incident", help="the incident id or reference (BR-…)")
    triage.set_defaults(func=cli_act.cmd_triage)
    ack = sub.add_parser("ack", help="acknowledge an incident's pages to the on-call team (stops the repeats)")
    ack.add_argument("incident", help="the incident id or reference (BR-…)")
    ack.set_defaults(func=cli_act.cmd_ack)
    settle = sub.add_parser("settle", help="the DPO confirms (or declines, --decline) facts a responder proposed "
                            "that would lower the risk")
    settle.add_argument("incident", help="the incident id or reference (BR-…)")
    settle.add_argument("proposal", type=int, help="the proposal's number, as the incident lists it")
    settle.add_argument("--decline", action="store_true", help="decline it (a --reason is required)")
    settle.add_argument("--reason", default="", help="why (required to decline)")
    settle.set_defaults(func=cli_act.cmd_settle)
    classify = sub.add_parser("classify", help="classify an incident (the regime's breach type)")
    classify.add_argument("incident", help="the incident id or reference (BR-…)")
    classify.add_argument("classification")
    classify.add_argument("--at", help="ISO 8601 time with offset (default: now)")
    classify.set_defaults(func=cli_act.cmd_classify)
    override = sub.add_parser("override", help="override the risk level (the DPO)")
    override.add_argument("incident", help="the incident id or reference (BR-…)")
    override.add_argument("level", choices=("unlikely", "risk", "high"))
    override.add_argument("--justification", required=True)
    override.set_defaults(func=cli_act.cmd_override)
    facts = sub.add_parser("facts", help="correct the facts of an incident from a JSON object of fields (docs/risk.md)")
    facts.add_argument("incident", help="the incident id or reference (BR-…)")
    facts.add_argument("file", help="a .json file, or - for standard input")
    facts.add_argument("--reason", default="", help="why the facts change")
    facts.set_defaults(func=cli_act.cmd_facts)
    step = sub.add_parser("obligation", help="a step on a legal obligation (approve, submit, complement, correct, "
                          "delay_reasons, close, withdraw)")
    step.add_argument("incident", help="the incident id or reference (BR-…)")
    step.add_argument("obligation", help="the obligation's id (see `breach incidents --json`)")
    step.add_argument("action", choices=OBLIGATION_STEPS)
    for option in ("--channel", "--reference", "--text"):
        step.add_argument(option, default="")
    step.add_argument("--at", help="ISO 8601 time with offset (default: now)")
    step.set_defaults(func=cli_act.cmd_obligation)
    cli_work.add_parsers(sub)  # tasks, tag, report
    mail = sub.add_parser("mail", help="messages held by the embedded mail catcher")
    mail.add_argument("id", nargs="?", help="show one message (its text part)")
    mail.add_argument("--raw", action="store_true", help="with an id: the whole MIME message")
    mail.set_defaults(func=cmd_mail)
    users = sub.add_parser("users", help="console users (local accounts, argon2-hashed passwords)")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add a user; the password is asked for, or read from standard input")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("viewer", "responder", "dpo", "admin"))
    add.add_argument("--replace", action="store_true",
                     help="change the password, role or controllers of an existing user")
    add.add_argument("--controller", action="append", metavar="ID",
                     help="a controller whose incidents the user sees (repeat for more; '*': all of them; "
                          "default: all for a new user, unchanged with --replace)")
    remove = users_sub.add_parser("remove", help="remove a user")
    remove.add_argument("name")
    users_sub.add_parser("list", help="list users and roles")
    logout = users_sub.add_parser("logout", help="end every console session of a user (log out everywhere)")
    logout.add_argument("name")
    users.set_defaults(func=cmd_users)
    tokens = sub.add_parser("tokens", help="API tokens for machines")
    tokens_sub = tokens.add_subparsers(dest="tokens_command", required=True)
    issue = tokens_sub.add_parser("add", help="issue a token (printed once)")
    issue.add_argument("label")
    issue.add_argument("--role", required=True, choices=("viewer", "responder", "dpo"))
    issue.add_argument("--scope", action="append", choices=("read", "act"), help="read (default) and/or act")
    issue.add_argument("--expires", metavar="LIFETIME", help="e.g. 30d, 12h, 90m (default: never)")
    issue.add_argument("--controller", action="append", metavar="ID",
                       help="a controller whose incidents the token sees (repeat for more; default: all of them)")
    tokens_sub.add_parser("list", help="list tokens: label, role, scopes, created, expires, last used (no secret)")
    revoke = tokens_sub.add_parser("revoke", help="revoke a token")
    revoke.add_argument("label")
    tokens.set_defaults(func=cmd_tokens)
    subjects = sub.add_parser("subjects", help="the people affected by an incident").add_subparsers(
        dest="subjects_command", required=True)
    imp = subjects.add_parser("import", help="import recipients (CSV with an address/email column, or JSONL)")
    imp.add_argument("incident", help="the incident id or reference (BR-…)")
    imp.add_argument("file", help="a .csv or .jsonl file, or - for standard input")
    imp.add_argument("--format", choices=("csv", "jsonl"), help="default: from the file name")
    imp.set_defaults(func=cli_act.cmd_subjects_import)
    notices = sub.add_parser("notices", help="the notice to the people affected").add_subparsers(
        dest="notices_command", required=True)
    for name, func, text in (("preview", cmd_notices_preview, "show exactly what recipients receive"),
                             ("send", cli_act.cmd_notices_send, "approve and send it (the DPO)")):
        n = notices.add_parser(name, help=text)
        n.add_argument("incident", help="the incident id or reference (BR-…)")
        n.add_argument("--list", help="the list id (default: the latest imported)")
        n.add_argument("--measure", action="append", default=[], help="a measure taken; repeatable")
        n.add_argument("--proposed", action="append", default=[], help="a measure proposed; repeatable")
        n.set_defaults(func=func)
        if name == "preview":
            n.add_argument("--locale", help="the language to show (default: the controller's first)")
            n.add_argument("--part", choices=("all", "subject", "text", "html"), default="all")
    status = notices.add_parser("status", help="sent / pending / failed / bounced / in doubt")
    status.add_argument("incident", help="the incident id or reference (BR-…)")
    status.add_argument("--watch", action="store_true", help="refresh with a progress bar until nothing is pending")
    status.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes")
    status.set_defaults(func=cmd_notices_status)
    bounces = notices.add_parser("bounces", help="mark recipients of delivery status notifications as bounced")
    bounces.add_argument("incident", help="the incident id or reference (BR-…)")
    bounces.add_argument("files", nargs="+", help="DSN messages, one per file (.eml), or - for standard input")
    bounces.set_defaults(func=cmd_notices_bounces)
    resend = notices.add_parser("resend", help="send again to the recipients in doubt after a worker crash")
    resend.add_argument("incident", help="the incident id or reference (BR-…)")
    resend.add_argument("--in-doubt", action="store_true", required=True,
                        help="required: only those in doubt (some may have received it already)")
    resend.set_defaults(func=cli_act.cmd_notices_resend)
    topics = sub.add_parser("topics", help="Kafka topics of the service")
    topics_sub = topics.add_subparsers(dest="topics_command", required=True)
    create = topics_sub.add_parser("create", help="create every topic (partitions, retention, compaction); "
                                   "idempotent")
    create.add_argument("--json", action="store_true")
    create.set_defaults(func=cmd_topics_create)
    replay = sub.add_parser("replay", help="derive projections or correlations again from the topics")
    replay_sub = replay.add_subparsers(dest="replay_command", required=True)
    projections = replay_sub.add_parser("projections", help="fold every incident and the register again from "
                                        "incident-events; print counts")
    projections.add_argument("--output", "-o", help="also write incidents.json and register.json to this folder")
    projections.set_defaults(func=cmd_replay_projections)
    corr = replay_sub.add_parser("correlation", help="normalise and correlate a time range of security-events "
                                 "again into <namespace>.* topics (live incidents untouched)")
    corr.add_argument("--from", dest="start", required=True, help="ISO 8601 time with offset (broker time)")
    corr.add_argument("--to", dest="end", required=True, help="ISO 8601 time with offset, exclusive")
    corr.add_argument("--namespace", required=True, help="prefix of the topics written, e.g. try-rules-2")
    corr.set_defaults(func=cmd_replay_correlation)
    return p


def _refuse_by(argv: list[str]) -> None:
    """`--by NAME` let anyone act as anyone: it is gone, and saying so beats argparse's usage dump."""
    if any(a == "--by" or a.startswith("--by=") for a in argv):
        raise CliError(f"--by is gone: {LOGIN_HINT}, and commands are recorded in your name")


def _broker_named() -> str:
    try:
        return _settings().bootstrap_servers
    except (SettingsError, CliError):
        return "the configured address"


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    # Client libraries' own complaints (aiokafka's connection errors, an unclosed client collected
    # after a failed start) would follow the one line below; processes that configure logging
    # (worker, console) still get them through their handlers.
    for name in ("aiokafka", "asyncio"):
        logging.getLogger(name).addHandler(logging.NullHandler())
    try:
        _refuse_by(given)
        args = parser().parse_args(given)
        result: int = args.func(args)
        return result
    except (ProfileError, SettingsError, CliError) as exc:
        print(f"breach: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a missing or unreadable file, mostly: one line, not a traceback
        where = f": {exc.filename}" if exc.filename else ""
        print(f"breach: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KafkaError as exc:
        print(f"breach: cannot reach the broker at {_broker_named()} ({type(exc).__name__}); is `make up` running, "
              "or BREACH_BROKER_URL right?", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
