"""Sending commands from outside the worker (console, CLI): one producer, keyed by incident id,
every command signed (streams/kafka/command_signing.py) so the worker knows it came from us."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer

from incident.commands import Command
from streams.kafka import codec
from streams.kafka.command_signing import Keyring
from streams.kafka.topics import INCIDENT_COMMANDS


class CommandSender:
    def __init__(self, bootstrap_servers: str, *, keys: Keyring, **security: Any) -> None:
        # ``security``: Kafka TLS/SASL options (streams.kafka.kafka_security.client_options).
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", **security)
        self._keys = keys

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send(self, command: Command) -> None:
        """Returns once the broker has the command; the worker decides, asynchronously."""
        value = codec.encode(command)  # signed as these exact bytes: what the worker reads
        await self._producer.send_and_wait(INCIDENT_COMMANDS, value, key=command.incident_id.encode(),
                                           headers=self._keys.headers(value))
