"""Agent output in batches: one producer with normal batching, flushed once per input batch.

faust's own producer runs with one record per batch on the embedded broker (a Tansu bug would
otherwise corrupt table recovery, research/runtime.md §2), and aiokafka then waits a broker
round trip for every record sent. Signals and commands are not table changelogs, so they go
through this producer: sent without waiting, then awaited together before the input batch is
acknowledged — at-least-once as before, one round trip per batch instead of per record. Keys
are partitioned by aiokafka's default partitioner, the one faust and the console use too.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from aiokafka import AIOKafkaProducer
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from streams.stopping import client_running

# The Kafka TLS/SASL options of the app each broker list was taken from (see bootstrap_of).
_SECURITY: dict[str, dict[str, Any]] = {}


def bootstrap_of(app: Any) -> str:
    """host:port list of a faust app's broker URLs. Also notes the app's Kafka credentials for
    that list, so that ``BatchOut(bootstrap_of(app))`` connects as the app does (TLS, SASL)."""
    bootstrap = ",".join(f"{url.host}:{url.port or 9092}" for url in app.conf.broker)
    _SECURITY[bootstrap] = security_of(app)
    return bootstrap


def security_of(app: Any) -> dict[str, Any]:
    """The aiokafka TLS/SASL options of a faust app: converted by faust itself from the app's
    ``broker_credentials`` (streams.kafka.kafka_security), so the two can never disagree."""
    return dict(credentials_to_aiokafka_auth(app.conf.broker_credentials, app.conf.ssl_context))


class BatchOut:
    def __init__(self, bootstrap_servers: str, *, max_request_size: int = 1_048_576, **security: Any) -> None:
        # ``security``: explicit options, else those of the app the broker list came from.
        security = security or _SECURITY.get(bootstrap_servers, {})
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=0,
                                          max_batch_size=256 * 1024, max_request_size=max_request_size,
                                          **security)
        self._pending: list[asyncio.Future[Any]] = []

    async def __aenter__(self) -> BatchOut:
        self._running = client_running(self._producer)  # stopped to the end, even when cancelled
        await self._running.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._running.__aexit__(exc_type, exc, tb)

    async def send(self, topic: str, value: bytes, key: bytes | None) -> None:
        self._pending.append(await self._producer.send(topic, value, key=key))

    async def flush(self) -> int:
        """Wait until the broker has every record sent since the last flush; their count."""
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending)
        return len(pending)
