"""`breach up` and `breach console`: the processes around the worker, started and stopped in order."""

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

import structlog
import uvicorn

from console.app import Mailbox, create_console
from console.auth import AuthConfig
from console.projection import Projection
from console.read_model import ReadModel
from console.wiring import auth_from, embedded_logins
from streams import mass
from streams.command_signing import command_keys, embedded_keys
from streams.commands_out import CommandSender
from streams.deps import clock_from
from streams.embedded import Broker, EmbeddedError, MailCatcher
from streams.kafka_security import client_options, security_options
from streams.logging import configure_logging
from streams.profiles_loader import load_directory
from streams.samples import jsonl_lines, publish, shift_to
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
                                                           keys=keys, **security_options(settings)))
    # Open SSE streams would hold a graceful shutdown forever: give them a few seconds.
    server = _Server(uvicorn.Config(app, host=settings.console_host, port=settings.console_port,
                                    log_level="warning", lifespan="off", timeout_graceful_shutdown=3))
    task = asyncio.create_task(server.serve(), name="console")
    while not server.started:
        if task.done():
            task.result()
            raise EmbeddedError(f"the console could not listen on {settings.console_host}:{settings.console_port}")
        await asyncio.sleep(0.05)
    return _Console(server, task, projection, commands, auth)


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


def _spawn_worker(settings: Settings, log_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BREACH_BROKER_URL": settings.broker_url, "BREACH_SMTP_HOST": settings.smtp_host,
           "BREACH_SMTP_PORT": str(settings.smtp_port), "BREACH_SMTP_TLS": "none", "BREACH_LOG_FORMAT": "json",
           "BREACH_CLOCK_EPOCH": settings.clock_epoch, "BREACH_COMMAND_KEYS": settings.command_keys}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"],
                                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)


async def _wait_ready(process: subprocess.Popen[bytes], log_path: Path, within: float = 90.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmbeddedError(f"the worker exited (code {process.returncode}); see {log_path}")
        if READY.encode() in await asyncio.to_thread(log_path.read_bytes):
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
    worker: subprocess.Popen[bytes] | None = None
    console: _Console | None = None
    started = time.monotonic()
    try:
        broker.start()
        await catcher.start()
        worker = _spawn_worker(settings, settings.data_dir / "logs" / "worker.log")
        await _wait_ready(worker, settings.data_dir / "logs" / "worker.log")
        console = await _serve_console(settings, catcher, embedded=True)
        published = 0
        if samples:
            for path in sorted(settings.samples_dir.glob("*.jsonl")):
                published += await publish(settings.bootstrap_servers,
                                           shift_to(jsonl_lines(path.read_bytes()), datetime.now(UTC)))
        _banner(settings, published, time.monotonic() - started,
                await asyncio.to_thread(embedded_logins, console.auth))
        waiter = asyncio.ensure_future(stop.wait())
        while not waiter.done() and worker.poll() is None:
            await asyncio.wait([waiter], timeout=1.0)
        if worker.poll() is not None:
            print(f"\nThe worker stopped (code {worker.returncode}); see {settings.data_dir / 'logs' / 'worker.log'}",
                  file=sys.stderr)
            return 1
        return 0
    except EmbeddedError as exc:
        print(f"breach up: {exc}", file=sys.stderr)
        return 1
    finally:
        print("\nStopping: console, worker, mail catcher, broker…", file=sys.stderr)
        if console is not None:
            await console.stop()
        if worker is not None:
            _stop_process(worker)
        await catcher.stop()
        broker.stop()
        print("Stopped. The embedded broker kept nothing: the next `make up` starts empty.", file=sys.stderr)


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
  broker        {settings.broker_url}   (Tansu, MEMORY ONLY: everything is lost when it stops)
  worker log    {settings.data_dir / 'logs' / 'worker.log'}

  {published} sample record(s) published from {settings.samples_dir}.
  Send more:    .venv/bin/breach send FILE.jsonl      List:  .venv/bin/breach incidents
  Stop:         Ctrl-C
""", flush=True)
