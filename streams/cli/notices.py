"""`breach subjects` and `breach notices`: the notice to the people affected."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from streams.cli import act as cli_act
from streams.cli.common import _settings, client_options
from streams.cli.console_client import CliError
from streams.settings import Settings


def security_options(settings: Settings) -> dict[str, Any]:
    from streams.kafka.kafka_security import security_options as options

    return options(settings)


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

    from streams.mail import mass
    from streams.mail.render import NoticeRenderer

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

    from streams.mail import mass

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
    from streams.mail import mass

    state = asyncio.run(_incident(args.incident))
    messages = [sys.stdin.buffer.read() if f == "-" else Path(f).read_bytes() for f in args.files]
    settings = _settings()
    result = asyncio.run(mass.publish_bounces(settings.bootstrap_servers, state, messages,
                                              **security_options(settings)))
    for problem in result.problems:
        print(problem, file=sys.stderr)
    print(f"{result.published} bounced recipient(s) sent to the workers")
    return 0 if not result.problems else 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `breach subjects`, `breach notices`."""
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
