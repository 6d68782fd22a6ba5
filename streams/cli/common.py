"""What several `breach` commands share: settings from the environment, the broker's options,
the console's API as the person logged in (or a reader), an incident by reference, and the one
line that says a command went to the console."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from streams.cli.console_client import (
    CREDENTIALS_FILE,
    LOGIN_HINT,
    CliError,
    Console,
    Credentials,
    client_settings,
    config_dir,
    console_url,
    incident_id,
    load_credentials,
    quoted,
)
from streams.settings import EMBEDDED_USERS, Settings


def client_options(settings: Settings) -> dict[str, Any]:
    """Broker list and Kafka TLS/SASL options: every command reaches Kafka as the workers do."""
    from streams.kafka.kafka_security import client_options as options

    return options(settings)


def _settings() -> Settings:
    return client_settings(os.environ)


def credentials_path() -> Path:
    return config_dir(os.environ) / CREDENTIALS_FILE


def logged_in() -> Credentials | None:
    found = load_credentials(credentials_path())
    if found is not None and found.expired(datetime.now(UTC)):
        raise CliError(f"your login to {found.url} expired at {found.expires_at}: {LOGIN_HINT} again")
    return found


def person() -> Console:
    """The console, as the person logged in: what every command that changes an incident uses."""
    found = logged_in()
    if found is None:
        raise CliError(f"not logged in: {LOGIN_HINT}")
    return Console(found.url, f"Bearer {found.token}")


def reader() -> Console:
    """Reading: as the person logged in, else the embedded stack's first demo login (loopback only)."""
    found = logged_in()
    if found is not None:
        return Console(found.url, f"Bearer {found.token}")
    settings = client_settings(os.environ)
    users = settings.console_users or EMBEDDED_USERS
    name, password, _ = users.split(",")[0].split(":")
    return Console.basic(console_url(os.environ, settings.data_dir, settings.console_host, settings.console_port),
                         name, password, via="demo")


def act_on(incident: str, action: str, body: dict[str, Any]) -> tuple[str, Any]:
    """One command through the console's API, in the logged-in person's name (their role checked
    there): the incident's id (``incident`` may be its reference) and the console's answer."""
    console = person()
    found = incident_id(console, incident)
    return found, console.post_json(f"/api/incidents/{quoted(found)}/{action}", body)


def accepted(found: str, what: str) -> int:
    print(f"{what} sent for {found} (the worker records it; a refusal shows on its timeline)")
    return 0


def _api(path: str) -> Any:
    return reader().get(path)
