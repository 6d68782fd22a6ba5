"""The `breach` command: up, worker, console, send, incidents, mail, assess, register, login, the commands
on incidents (streams/cli/act.py: through the console, as the person logged in), subjects, notices."""

from __future__ import annotations

import argparse
import logging
import sys

from aiokafka.errors import KafkaError

from incident.errors import ProfileError
from streams.cli import accounts, act, assess, events, notices, operations, records, run, views
from streams.cli import form as cli_form
from streams.cli import work as cli_work
from streams.cli.common import _settings
from streams.cli.console_client import LOGIN_HINT, CliError
from streams.settings import SettingsError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="breach", description="Security events in, handled personal-data breaches out.")
    sub = p.add_subparsers(dest="command", required=True)
    run.register(sub)
    events.register(sub)
    views.register(sub)
    assess.register(sub)
    records.register(sub)
    act.register(sub)
    cli_work.add_parsers(sub)  # tasks, tag, report
    cli_form.register(sub)  # form
    accounts.register(sub)
    notices.register(sub)
    operations.register(sub)
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
