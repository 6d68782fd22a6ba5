"""`breach assess`: the risk of a breach from a facts file, as the worker assesses it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from streams.cli.common import _settings


def cmd_assess(args: argparse.Namespace) -> int:
    """Facts file in, Assessment JSON out: the same function the worker runs."""
    from incident.facts import FactsError, parse_facts
    from incident.risk import assess
    from streams.kafka.codec import to_jsonable
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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `breach assess`."""
    assess = sub.add_parser("assess", help="assess the risk of a breach from a facts JSON file (docs/risk.md)")
    assess.add_argument("file", help="a facts .json file, or - for standard input")
    assess.set_defaults(func=cmd_assess)
