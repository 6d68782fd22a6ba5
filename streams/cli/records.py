"""`breach register export` and `breach audit verify`: the Art. 33(5) register and each incident's
audit chain, rebuilt from incident-events."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from streams.cli.common import _settings, client_options


def cmd_register(args: argparse.Namespace) -> int:
    """The Art. 33(5) register, rebuilt from incident-events (no console needed)."""
    from console.app import register_csv
    from console.projection import read_all
    from streams.mail.render import NoticeRenderer
    from streams.profiles_loader import load_directory

    settings = _settings()
    model = asyncio.run(read_all(**client_options(settings)))
    entries = model.register(load_directory(settings.profiles_dir))
    # The JSON is data (codes, and the register's English); the CSV is read by people, in --lang.
    text = (register_csv(entries, args.lang, NoticeRenderer(settings.templates_dir / "notices"))
            if args.format == "csv" else json.dumps({"register": entries}, indent=2, ensure_ascii=False) + "\n")
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"{len(entries)} breach(es) written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Each incident's audit chain checked against incident-events; 1 when one is broken."""
    from streams.cli.audit import read_audit, report

    text, code = report(asyncio.run(read_audit(_settings())), args.incident)
    print(text, file=sys.stderr if code == 2 else sys.stdout)
    return code


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `breach register`, `breach audit`."""
    reg = sub.add_parser("register", help="the Art. 33(5) register of every breach")
    reg_sub = reg.add_subparsers(dest="register_command", required=True)
    export = reg_sub.add_parser("export", help="export it, rebuilt from incident-events")
    export.add_argument("--format", choices=("csv", "json"), default="json")
    export.add_argument("--lang", choices=("en", "fr"), default="en",
                        help="the CSV's language (default en: codes and English, as before; fr for a French "
                             "controller's register)")
    export.add_argument("--output", "-o", help="a file (default: standard output)")
    export.set_defaults(func=cmd_register)
    audit = sub.add_parser("audit", help="the tamper-evident record of each incident (its events' hash chain)")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="check every incident's hash chain on incident-events; exit 1 "
                                  "if one is broken")
    verify.add_argument("incident", nargs="?", help="only this incident (id or reference BR-…)")
    verify.set_defaults(func=cmd_audit_verify)
