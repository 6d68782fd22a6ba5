"""`breach tasks`, `breach tag` and `breach report`: working an incident from the terminal, through
the console's API as the person logged in (streams/cli/common.py), so the console checks their role
and the timeline names who checked a task or tagged the incident."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from streams.cli.common import act_on, person
from streams.cli.console_client import CliError, incident_id, quoted


def cmd_tasks(args: argparse.Namespace) -> int:
    """The incident's checklist; ``--check KEY`` (or ``--uncheck KEY``) first."""
    console = person()
    found = incident_id(console, args.incident)
    if args.check or args.uncheck:
        key = args.check or args.uncheck
        tasks = console.get(f"/api/incidents/{quoted(found)}")["task_list"]
        if key not in {t["key"] for t in tasks}:  # said now, with the keys there are, not after a round trip
            raise CliError(f"no task {key} on this incident (its tasks: "
                           f"{', '.join(t['key'] for t in tasks) or 'none'})")
        act_on(found, "task", {"task": key, "done": bool(args.check)})
        print(f"task {key} {'checked' if args.check else 'unchecked'} for {found} (the worker records it)")
        return 0
    tasks = console.get(f"/api/incidents/{quoted(found)}")["task_list"]
    if not tasks:
        print("no task on this incident (its controller's playbooks add them)")
    for t in tasks:
        done = f"  — {t['done_by']}, {t['done_at'][:16].replace('T', ' ')} UTC" if t["done"] else ""
        print(f"[{'x' if t['done'] else ' '}] {t['key']}  {t['text']}{done}")
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    found, _ = act_on(args.incident, "untag" if args.remove else "tag", {"tag": args.tag})
    print(f"tag {args.tag} {'removed from' if args.remove else 'added to'} {found} (the worker records it)")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """The incident's report as the console writes it: the page (HTML, to print or save as PDF) or,
    with ``--md``, Markdown; on standard output, or in ``--output``."""
    console = person()
    found = incident_id(console, args.incident)
    path = f"/incidents/{quoted(found)}/report" + (".md" if args.md else "")
    text = console.text(path, "text/markdown" if args.md else "text/html")
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"report of {found} written to {args.output}")
    else:
        print(text, end="")
    return 0


def add_parsers(sub: Any) -> None:
    """The subcommands, on `breach`'s parser (streams/cli/__init__.py)."""
    tasks = sub.add_parser("tasks", help="an incident's playbook tasks; --check KEY marks one done")
    tasks.add_argument("incident", help="the incident id or reference (BR-…)")
    which = tasks.add_mutually_exclusive_group()
    which.add_argument("--check", metavar="KEY", help="mark this task done (its key, as listed)")
    which.add_argument("--uncheck", metavar="KEY", help="mark this task not done again")
    tasks.set_defaults(func=cmd_tasks)
    tag = sub.add_parser("tag", help="tag an incident (--remove: untag it)")
    tag.add_argument("incident", help="the incident id or reference (BR-…)")
    tag.add_argument("tag", help="one word: lower-case letters, digits, '-', '_' or '.'")
    tag.add_argument("--remove", action="store_true", help="remove the tag")
    tag.set_defaults(func=cmd_tag)
    report = sub.add_parser("report", help="an incident's report for the review and the authority (HTML; --md)")
    report.add_argument("incident", help="the incident id or reference (BR-…)")
    report.add_argument("--md", action="store_true", help="Markdown instead of the HTML page")
    report.add_argument("--output", "-o", help="write it to this file instead of standard output")
    report.set_defaults(func=cmd_report)
