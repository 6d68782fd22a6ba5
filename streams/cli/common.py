"""What several `breach` commands share: settings from the environment, the broker's options,
the console's API, an incident by reference."""

from __future__ import annotations

import os
from typing import Any

from streams.cli.act import reader
from streams.cli.console_client import client_settings
from streams.settings import Settings


def client_options(settings: Settings) -> dict[str, Any]:
    """Broker list and Kafka TLS/SASL options: every command reaches Kafka as the workers do."""
    from streams.kafka.kafka_security import client_options as options

    return options(settings)


def _settings() -> Settings:
    return client_settings(os.environ)


def _api(path: str) -> Any:
    return reader().get(path)
