"""A whole console stack for the console's tests: a real broker, worker, SMTP catcher and projection,
the console app in-process (httpx) and served by uvicorn on loopback (the browser)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from console.app import create_console
from console.auth import AuthConfig
from console.read_model import ReadModel
from console.users import TokenStore, UserStore
from streams.deps import Deps
from streams.embedded.samples import jsonl_lines, publish, shift_to
from streams.embedded.services import Broker, MailCatcher, free_port
from streams.kafka.commands_out import CommandSender
from streams.mail import mass
from streams.settings import ROOT, Settings
from streams.worker import running
from tests.support import KEYS, Watcher, eventually, settings_for

SAMPLES = ROOT / "deploy" / "samples"
# name, password, role: one person per role (passwords long enough for `breach users add`).
PEOPLE = {"viewer": ("vera", "viewer-password"), "responder": ("rita", "responder-password"),
          "dpo": ("dora", "dpo-password"), "admin": ("adam", "admin-password")}


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield  # pytest owns the signals


@dataclass
class ConsoleStack:
    settings: Settings
    model: ReadModel
    catcher: MailCatcher
    auth: AuthConfig
    app: ASGIApp
    url: str  # the console served on loopback, for the browser
    users_file: Path

    def client(self, role: str | None = None) -> httpx.AsyncClient:
        """An in-process client; with a role, it authenticates with that person's Basic credentials."""
        auth = PEOPLE[role] if role else None
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://console", auth=auth)

    async def send_sample(self, name: str) -> int:
        lines = shift_to(jsonl_lines((SAMPLES / name).read_bytes()), datetime.now(UTC))
        return await publish(self.settings.bootstrap_servers, lines)

    async def incident_where(self, predicate: Any, what: str) -> Any:
        return await eventually(lambda: next((i for i in self.model.incidents.values() if predicate(i)), None),
                                what=what, timeout=60)


@contextlib.asynccontextmanager
async def console_stack(tmp_path: Path) -> AsyncIterator[ConsoleStack]:
    broker = Broker(port=free_port())
    broker.start()
    catcher = MailCatcher(port=free_port())
    await catcher.start()
    settings = settings_for(broker.bootstrap, tmp_path, smtp_port=catcher.port)
    users = UserStore(tmp_path / "console-users.json")
    for role, (name, password) in PEOPLE.items():
        users.add(name, password, role)
    auth = AuthConfig(users=users, secret="test-secret-" + "x" * 32, tokens=TokenStore(tmp_path / "tokens.json"))
    commands = CommandSender(broker.bootstrap, keys=KEYS)
    try:
        await commands.start()
        async with running(settings, Deps.production(settings)), Watcher(broker.bootstrap) as watcher:
            app = create_console(model=watcher.model, directory=Deps.production(settings).directory,
                                 templates_dir=settings.templates_dir, users=users, clock=lambda: datetime.now(UTC),
                                 send_command=commands.send, mailbox=catcher, auth=auth,
                                 import_subjects=functools.partial(mass.import_subjects, broker.bootstrap, keys=KEYS))
            port = free_port()
            server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                            timeout_graceful_shutdown=1))
            task = asyncio.create_task(server.serve())
            await eventually(lambda: server.started or task.done(), what="the console listening")
            try:
                yield ConsoleStack(settings, watcher.model, catcher, auth, app, f"http://127.0.0.1:{port}",
                                   tmp_path / "console-users.json")
            finally:
                server.should_exit = True
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(task, 10)
        await commands.stop()
    finally:
        await catcher.stop()
        broker.stop()
