"""`breach send` (records into security-events) and `breach dlq` (the records a stage refused)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from streams.cli.common import _api, _settings, client_options


def cmd_send(args: argparse.Namespace) -> int:
    from streams.embedded.samples import jsonl_lines, publish

    data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    lines = jsonl_lines(data)
    count = asyncio.run(publish(lines=lines, **client_options(_settings())))
    print(f"sent {count} record(s) to security-events")
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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `breach send`, `breach dlq`."""
    send = sub.add_parser("send", help="publish JSONL records to security-events")
    send.add_argument("file", help="a .jsonl file, or - for standard input")
    send.set_defaults(func=cmd_send)
    dlq = sub.add_parser("dlq", help="records a stage refused (dead letters): where from, when, why (from the "
                         "console API; all-controller users only)")
    dlq.add_argument("--limit", type=int, default=50, help="how many of the latest to list (default 50)")
    dlq.add_argument("--json", action="store_true")
    dlq.set_defaults(func=cmd_dlq)
