"""`breach up` and `breach console`: the processes around the worker, started and stopped in order,
and watched while they run (streams/embedded/supervise.py restarts a worker or console that dies)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Generator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import structlog
import uvicorn
from starlette.types import ASGIApp

from console.app import Mailbox, create_console
from console.auth import AuthConfig
from console.projection import Projection
from console.read_model import ReadModel
from console.wiring import auth_from, embedded_logins
from incident.correlation import entity_hash
from streams.cli.console_client import served_at, write_endpoints
from streams.deps import clock_from
from streams.embedded.children import die_with_parent, how_it_ended
from streams.embedded.samples import jsonl_lines, publish, shift_to
from streams.embedded.services import Broker, EmbeddedError, MailCatcher, port_is_free
from streams.embedded.supervise import supervise
from streams.kafka.command_signing import command_keys, embedded_keys
from streams.kafka.commands_out import CommandSender
from streams.kafka.kafka_security import client_options, security_options
from streams.logging import configure_logging
from streams.mail import mass
from streams.mail.render import NoticeRenderer
from streams.profiles_loader import load_directory
from streams.settings import Settings
from streams.worker import READY

log = structlog.get_logger("breach.up")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # `breach up` owns the signals and stops the server itself


def _host_port(broker_url: str) -> tuple[str, int]:
    host, _, port = broker_url.split(",")[0].split("://", 1)[-1].rpartition(":")
    return host or "127.0.0.1", int(port)


@dataclass
class _Console:
    server: _Server
    task: asyncio.Task[None]
    projection: Projection
    commands: CommandSender
    auth: AuthConfig

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(Exception):
            await self.task
        await self.projection.stop()
        await self.commands.stop()


async def _serve_console(settings: Settings, mailbox: Mailbox | None, *, embedded: bool) -> _Console:
    directory = load_directory(settings.profiles_dir)
    auth, oidc = auth_from(settings, embedded=embedded)
    if not len(auth.users) and oidc is None:
        raise SystemExit("breach: no console users: add one with `breach users add NAME --role ROLE`, "
                         "or set BREACH_OIDC_ISSUER (the console refuses to run without logins)")
    keys = command_keys(settings)  # before anything starts: no key, no console (its commands would be refused)
    model = ReadModel()
    # The console reaches Kafka as the workers do (BREACH_KAFKA_*: TLS, SASL).
    projection = Projection(model=model, **client_options(settings))
    await projection.start()
    commands = CommandSender(keys=keys, **client_options(settings))
    await commands.start()
    app = create_console(model=model, directory=directory, templates_dir=settings.templates_dir,
                         users=auth.users, clock=clock_from(settings), send_command=commands.send,
                         mailbox=mailbox, auth=auth, oidc=oidc, clock_speed=settings.clock_speed,
                         import_subjects=functools.partial(mass.import_subjects, settings.bootstrap_servers,
                                                           keys=keys, **security_options(settings)),
                         resend_in_doubt=functools.partial(mass.resend_in_doubt, settings.bootstrap_servers,
                                                           NoticeRenderer(settings.templates_dir / "notices"),
                                                           **security_options(settings)),
                         entity_hash=functools.partial(entity_hash, salt=settings.correlation_salt))
    server = _Server(console_config(app, settings))
    task = asyncio.create_task(server.serve(), name="console")
    while not server.started:
        if task.done():
            task.result()
            raise EmbeddedError(f"the console could not listen on {settings.console_host}:{settings.console_port} "
                                "(move it with BREACH_CONSOLE_PORT)")
        await asyncio.sleep(0.05)
    return _Console(server, task, projection, commands, auth)


def console_config(app: ASGIApp, settings: Settings) -> uvicorn.Config:
    """How uvicorn serves the console: the client address behind a proxy comes from X-Forwarded-For
    only when the proxy is one of BREACH_CONSOLE_TRUSTED_PROXIES (the login back-off counts by it)."""
    # Open SSE streams would hold a graceful shutdown forever: give them a few seconds.
    return uvicorn.Config(app, host=settings.console_host, port=settings.console_port, log_level="warning",
                          lifespan="off", timeout_graceful_shutdown=3,
                          forwarded_allow_ips=settings.console_trusted_proxies or None)


def _stop_signal() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def run_console_only(settings: Settings) -> None:
    configure_logging(settings)
    stop = _stop_signal()
    console = await _serve_console(settings, None, embedded=False)
    log.info("console.ready", url=f"http://{settings.console_host}:{settings.console_port}")
    await stop.wait()
    await console.stop()


WORKER_COMMAND = [sys.executable, "-m", "streams.cli", "worker"]


def open_log(path: Path) -> BinaryIO:
    """The worker's log, appended to (a new run's lines follow the last run's: nothing of a crash is
    lost to a restart) and readable by its owner only (a crash's lines can carry what it handled)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)  # a log an earlier version left world-readable
    return os.fdopen(fd, "ab")


def _spawn_worker(settings: Settings, log_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BREACH_BROKER_URL": settings.broker_url, "BREACH_SMTP_HOST": settings.smtp_host,
           "BREACH_SMTP_PORT": str(settings.smtp_port), "BREACH_SMTP_TLS": "none", "BREACH_LOG_FORMAT": "json",
           "BREACH_CLOCK_EPOCH": settings.clock_epoch, "BREACH_COMMAND_KEYS": settings.command_keys,
           "BREACH_CONSOLE_URL": settings.console_url}  # reminders link to the console as started
    with open_log(log_path) as out:  # a restarted worker's lines follow those of the one that died
        return subprocess.Popen(WORKER_COMMAND,  # noqa: S603 - our own interpreter and module
                                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                # Its broker dies with `breach up`: nothing left to stop cleanly for.
                                preexec_fn=die_with_parent(signal.SIGKILL))


def _read_from(path: Path, offset: int) -> bytes:
    with path.open("rb") as log:  # the log is appended to across runs: only this process's lines
        log.seek(offset)
        return log.read()


async def _wait_ready(process: subprocess.Popen[bytes], log_path: Path, since: int = 0, within: float = 90.0) -> None:
    """``since``: where this process's lines start in the log (earlier ones are a previous worker's)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmbeddedError(f"the worker exited ({how_it_ended(process.returncode)}); see {log_path}")
        if READY.encode() in await asyncio.to_thread(_read_from, log_path, since):
            return
        await asyncio.sleep(0.1)  # the worker joins its group in ~3 s; look again
    process.terminate()
    raise EmbeddedError(f"the worker was not ready within {within:g} s; see {log_path}")


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class _Worker:
    """The worker process of `breach up`, started again by streams/embedded/supervise.py when it dies."""

    name = "the worker"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.log = settings.data_dir / "logs" / "worker.log"
        self.where = str(self.log)
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        since = self.log.stat().st_size if self.log.exists() else 0
        self.process = _spawn_worker(self.settings, self.log)
        await _wait_ready(self.process, self.log, since)

    restart = start

    def ended(self) -> str | None:
        code = self.process.poll() if self.process is not None else None
        return None if code is None else how_it_ended(code)

    def stop(self) -> None:
        if self.process is not None:
            _stop_process(self.process)


class _ConsoleUnit:
    """The console (in this process): it died when its server or its projection ended on its own."""

    name = "the console"
    where = "the lines above"

    def __init__(self, settings: Settings, mailbox: Mailbox) -> None:
        self.settings, self.mailbox = settings, mailbox
        self.console: _Console | None = None

    async def start(self) -> None:
        self.console = await _serve_console(self.settings, self.mailbox, embedded=True)

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def ended(self) -> str | None:
        if self.console is None:
            return None
        task = self.console.task
        if task.done():
            error = None if task.cancelled() else task.exception()
            return f"its web server ended: {type(error).__name__}" if error else "its web server ended"
        failure = self.console.projection.failure()
        return f"its read model stopped: {failure}" if failure else None

    async def stop(self) -> None:
        if self.console is not None:
            await self.console.stop()
            self.console = None


async def run_up(settings: Settings, *, samples: bool = True) -> int:
    if not settings.clock_epoch:  # one timeline for the worker and the console
        settings = replace(settings, clock_epoch=datetime.now(UTC).isoformat())
    # One signing key for the worker, the console and the CLI beside them, with nothing to configure.
    settings = replace(settings, command_keys=embedded_keys(settings))
    configure_logging(settings)
    load_directory(settings.profiles_dir)  # refuse to start anything on an invalid profile
    broker = Broker(*_host_port(settings.broker_url))
    catcher = MailCatcher(settings.smtp_host, settings.smtp_port)
    stop = _stop_signal()
    worker = _Worker(settings)
    console = _ConsoleUnit(settings, catcher)
    started = time.monotonic()
    try:
        _ports_free(settings)
        broker.start()
        await catcher.start()
        await worker.start()
        await console.start()
        assert console.console is not None
        # Where the CLI beside this stack finds it (`BREACH_CONSOLE_PORT=8100 make up`, then `breach incidents`).
        write_endpoints(settings.data_dir, console_url=served_at(settings.console_host, settings.console_port),
                        broker_url=settings.broker_url)
        published = 0
        if samples:
            for path in sorted(settings.samples_dir.glob("*.jsonl")):
                published += await publish(settings.bootstrap_servers,
                                           shift_to(jsonl_lines(path.read_bytes()), datetime.now(UTC)))
        _banner(settings, published, time.monotonic() - started,
                await asyncio.to_thread(embedded_logins, console.console.auth))
        return await supervise([worker, console], broker, stop)
    except EmbeddedError as exc:
        print(f"breach up: {exc}", file=sys.stderr)
        return 1
    finally:
        print("\nStopping: console, worker, mail catcher, broker…", file=sys.stderr)
        await console.stop()
        worker.stop()
        await catcher.stop()
        broker.stop()
        print("Stopped. The embedded broker kept nothing: the next `make up` starts empty.", file=sys.stderr)


def _ports_free(settings: Settings) -> None:
    """Every port of the stack, checked before anything starts, each with the variable that moves it."""
    taken = [f"{host}:{port} ({variable})" for host, port, variable in (
        (*_host_port(settings.broker_url), "BREACH_BROKER_URL, e.g. kafka://127.0.0.1:19092"),
        (settings.smtp_host, settings.smtp_port, "BREACH_SMTP_PORT"),
        (settings.console_host, settings.console_port, "BREACH_CONSOLE_PORT"),
    ) if not port_is_free(host, port)]
    if taken:
        raise EmbeddedError(f"port(s) taken: {'; '.join(taken)}. Stop what uses them, or move the stack with "
                            "the variable(s) named.")


def _paging(settings: Settings) -> str:
    """Where pages go in this run (never a webhook's URL: it is a secret)."""
    to = settings.oncall_emails or "the controller's DPO"
    hooks = [name for name, url in (("JSON", settings.page_webhook_url), ("Slack", settings.page_slack_url),
                                    ("Teams", settings.page_teams_url)) if url]
    mail = f"e-mail to {to} (in the mail catcher: subject PAGE …)" if settings.page_email else "no e-mail"
    return mail + (f", webhooks: {', '.join(hooks)}" if hooks else "") + "; acknowledge on the incident page"


def _banner(settings: Settings, published: int, seconds: float, logins: list[tuple[str, str, str]]) -> None:
    url = f"http://{settings.console_host}:{settings.console_port}"
    shown = "\n".join(f"                  {name} / {password}   ({role})" for name, password, role in logins)
    name, password = (logins[0][0], logins[0][1]) if logins else ("NAME", "PASSWORD")
    print(f"""
breach-response is running (embedded mode, ready in {seconds:.1f} s)

  console       {url}   log in as one of:
{shown or "                  (the demo logins were changed: use yours, or `breach users add`)"}
  API           curl -u {name}:{password} {url}/api/incidents   (OpenAPI: {url}/api/openapi.json)
  mail catcher  smtp://{settings.smtp_host}:{settings.smtp_port}   — `breach mail`, or {url}/api/mail
  paging        {_paging(settings)}
  broker        {settings.broker_url}   (Tansu, MEMORY ONLY: everything is lost when it stops)
  worker log    {settings.data_dir / 'logs' / 'worker.log'}

  {published} sample record(s) published from {settings.samples_dir}.
  Send more:    .venv/bin/breach send FILE.jsonl      List:  .venv/bin/breach incidents
  Act:          .venv/bin/breach login    (then `breach aware BR-…` and the others, in your name)
  Stop:         Ctrl-C
""", flush=True)
