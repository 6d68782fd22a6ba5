"""`breach topics create` and `breach replay`: the topics, made and read again."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from streams.cli.common import _settings


def cmd_topics_create(args: argparse.Namespace) -> int:
    from streams.kafka.topics_admin import TopicsError, as_json, create_topics, report

    try:
        outcomes = asyncio.run(create_topics(_settings()))
    except TopicsError as exc:
        print(f"breach topics create: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(as_json(outcomes), indent=2) if args.json else report(outcomes))
    return 0


def cmd_replay_projections(args: argparse.Namespace) -> int:
    """Every incident and the register folded again from incident-events."""
    from streams.cli.replay import as_text, replay_projections
    from streams.kafka.codec import to_jsonable

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
    from streams.cli.replay import ReplayError, as_text, parse_instant, replay_correlation

    try:
        start, end = parse_instant(args.start, "--from"), parse_instant(args.end, "--to")
        run = asyncio.run(replay_correlation(_settings(), start, end, args.namespace))
    except ReplayError as exc:
        print(f"breach replay correlation: {exc}", file=sys.stderr)
        return 2
    print(as_text(run.summary()))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `breach topics`, `breach replay`."""
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
