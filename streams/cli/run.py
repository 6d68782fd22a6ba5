"""`breach up`, `breach worker` and `breach console`: the service's own processes."""

from __future__ import annotations

import argparse
import asyncio
import os
from dataclasses import replace

from streams.cli.console_client import served_at
from streams.settings import Settings, load_settings


def _server_settings() -> Settings:
    """What `breach up`, `breach worker` and `breach console` run with: the environment only."""
    return load_settings(os.environ)


def cmd_worker(args: argparse.Namespace) -> int:
    from streams.deps import Deps
    from streams.logging import configure_logging
    from streams.worker import WorkerCrashed, run_worker

    settings = _server_settings()
    configure_logging(settings)
    deps = Deps.production(settings)  # an invalid profile stops here, naming file and key
    try:
        asyncio.run(run_worker(settings, deps))
    except WorkerCrashed:
        return 1  # logged as worker.crashed: restart me
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    from streams.cli.stack import run_console_only

    settings = _server_settings()
    asyncio.run(run_console_only(settings))
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from streams.cli.stack import run_up

    settings = _server_settings()
    if not os.environ.get("BREACH_CONSOLE_URL"):  # reminders link to the console as started
        settings = replace(settings, console_url=served_at(settings.console_host, settings.console_port))
    return asyncio.run(run_up(settings, samples=not args.no_samples))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `breach up`, `breach worker`, `breach console`."""
    up = sub.add_parser("up", help="run everything locally: broker, mail catcher, worker, console, samples")
    up.add_argument("--no-samples", action="store_true", help="do not publish deploy/samples/*.jsonl")
    up.set_defaults(func=cmd_up)
    sub.add_parser("worker", help="run a stream worker (BREACH_BROKER_URL)").set_defaults(func=cmd_worker)
    sub.add_parser("console", help="run the console (BREACH_CONSOLE_*)").set_defaults(func=cmd_console)
