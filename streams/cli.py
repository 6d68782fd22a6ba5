"""The `breach` command: up, worker, console, send, incidents, mail."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from incident.errors import ProfileError
from streams.settings import EMBEDDED_USERS, Settings, SettingsError, load_settings


def client_options(settings: Settings) -> dict[str, Any]:
    from streams.kafka_security import client_options as options

    return options(settings)


def _settings() -> Settings:
    return load_settings(os.environ)


def cmd_worker(args: argparse.Namespace) -> int:
    from streams.deps import Deps
    from streams.logging import configure_logging
    from streams.worker import run_worker

    settings = _settings()
    configure_logging(settings)
    deps = Deps.production(settings)  # an invalid profile stops here, naming file and key
    asyncio.run(run_worker(settings, deps))
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    from streams.embedded_run import run_console_only

    settings = _settings()
    asyncio.run(run_console_only(settings))
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from streams.embedded_run import run_up

    return asyncio.run(run_up(_settings(), samples=not args.no_samples))


def cmd_send(args: argparse.Namespace) -> int:
    from streams.samples import jsonl_lines, publish

    data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    lines = jsonl_lines(data)
    count = asyncio.run(publish(lines=lines, **client_options(_settings())))
    print(f"sent {count} record(s) to security-events")
    return 0


def _api(path: str) -> Any:
    settings = _settings()
    users = settings.console_users or EMBEDDED_USERS
    name, password, _ = users.split(",")[0].split(":")
    token = base64.b64encode(f"{name}:{password}".encode()).decode()
    url = f"http://{settings.console_host}:{settings.console_port}{path}"
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.load(response)
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"breach: {url}: HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise SystemExit(f"breach: cannot reach the console at {url} ({exc.reason}); is `make up` running?") from None


def cmd_incidents(args: argparse.Namespace) -> int:
    data = _api("/api/incidents")
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    rows = [("REFERENCE", "CONTROLLER", "STATE", "RISK", "NEXT DEADLINE (UTC)", "OBLIGATION", "TIME LEFT")]
    for i in data["incidents"]:
        d = i["deadlines"][0] if i["deadlines"] else None
        rows.append((i["reference"], i["controller_name"] or "unmapped", i["status"], i["risk"] or "-",
                     d["deadline"][:16].replace("T", " ") if d else "-", d["legal_ref"] if d else "-",
                     d["time_left"] if d else "-"))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_aware(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from incident.commands import RecordAwareness
    from streams.commands_out import CommandSender

    aware_at = datetime.fromisoformat(args.at) if args.at else datetime.now(UTC)
    if aware_at.tzinfo is None:
        raise SystemExit("breach: --at needs a UTC offset, e.g. 2026-11-22T09:30:00+01:00")
    incident_id = args.incident_id
    if incident_id.upper().startswith("BR-"):  # the reference people read out; resolve it via the console
        matches = [i["id"] for i in _api("/api/incidents")["incidents"] if i["reference"] == incident_id.upper()]
        if len(matches) != 1:
            raise SystemExit(f"breach: no incident with reference {incident_id}")
        incident_id = matches[0]
    command = RecordAwareness(incident_id=incident_id, aware_at=aware_at, by=f"user:{args.by}",
                              evidence=tuple(args.evidence))

    async def send() -> None:
        sender = CommandSender(**client_options(_settings()))
        await sender.start()
        try:
            await sender.send(command)
        finally:
            await sender.stop()

    asyncio.run(send())
    print(f"awareness sent for {incident_id} at {aware_at.isoformat()} (the worker records it)")
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
    from incident import register

    model = asyncio.run(read_all(_settings().bootstrap_servers))
    entries = [register.entry(i) for i in sorted(model.incidents.values(), key=lambda i: i.opened_at)]
    text = register_csv(entries) if args.format == "csv" else json.dumps({"register": entries}, indent=2,
                                                                         ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"{len(entries)} breach(es) written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_mail(args: argparse.Namespace) -> int:
    if args.id:
        message = _api(f"/api/mail/{args.id}")
        print(message["raw"] if args.raw else message["text"])
        return 0
    for m in _api("/api/mail")["messages"]:
        print(f"{m['id']:>4}  {m['received_at'][:19]}  {', '.join(m['to'])}  {m['subject']}")
    return 0


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
    assess = sub.add_parser("assess", help="assess the risk of a breach from a facts JSON file (docs/risk.md)")
    assess.add_argument("file", help="a facts .json file, or - for standard input")
    assess.set_defaults(func=cmd_assess)
    reg = sub.add_parser("register", help="the Art. 33(5) register of every breach")
    reg_sub = reg.add_subparsers(dest="register_command", required=True)
    export = reg_sub.add_parser("export", help="export it, rebuilt from incident-events")
    export.add_argument("--format", choices=("csv", "json"), default="json")
    export.add_argument("--output", "-o", help="a file (default: standard output)")
    export.set_defaults(func=cmd_register)
    aware = sub.add_parser("aware", help="record that the controller is aware of a breach (starts the clock)")
    aware.add_argument("incident_id", help="the incident id, or its reference (BR-…)")
    aware.add_argument("--by", required=True, help="who decided (name or role)")
    aware.add_argument("--at", help="ISO 8601 time with offset (default: now)")
    aware.add_argument("--evidence", action="append", default=[], help="an event id or note; repeatable")
    aware.set_defaults(func=cmd_aware)
    mail = sub.add_parser("mail", help="messages held by the embedded mail catcher")
    mail.add_argument("id", nargs="?", help="show one message (its text part)")
    mail.add_argument("--raw", action="store_true", help="with an id: the whole MIME message")
    mail.set_defaults(func=cmd_mail)
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


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except (ProfileError, SettingsError) as exc:
        print(f"breach: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
