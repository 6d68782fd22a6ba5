"""`breach incidents` and `breach mail`: what the console shows, in a terminal."""

from __future__ import annotations

import argparse
import json

from streams.cli.common import _api


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


def cmd_mail(args: argparse.Namespace) -> int:
    if args.id:
        message = _api(f"/api/mail/{args.id}")
        print(message["raw"] if args.raw else message["text"])
        return 0
    for m in _api("/api/mail")["messages"]:
        print(f"{m['id']:>4}  {m['received_at'][:19]}  {', '.join(m['to'])}  {m['subject']}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `breach incidents`, `breach mail`."""
    inc = sub.add_parser("incidents", help="list incidents (from the console API)")
    inc.add_argument("--json", action="store_true")
    inc.set_defaults(func=cmd_incidents)
    mail = sub.add_parser("mail", help="messages held by the embedded mail catcher")
    mail.add_argument("id", nargs="?", help="show one message (its text part)")
    mail.add_argument("--raw", action="store_true", help="with an id: the whole MIME message")
    mail.set_defaults(func=cmd_mail)
