"""faust's worker consumer waits up to 1.5 s per fetch; ours waits FETCH_WAIT_MS.

faust-streaming builds that consumer with ``fetch_max_wait_ms=1500`` written in its code, not
taken from a setting. A broker may hold a fetch that long before answering with what arrived
meanwhile (the embedded broker does), so every hop through a faust agent (security-events →
signals → incident-commands) could add up to 1.5 s: at half load the produce → incident command
p99 was ~4 s. 50 ms bounds that wait at the cost of ~20 empty fetches a second per broker when
idle; Apache Kafka answers as soon as a byte is there, so production loses nothing.
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

FETCH_WAIT_MS = 50


def install() -> None:
    """Idempotent: patch faust's consumer factory once per process."""
    if getattr(AIOKafkaConsumerThread, "_breach_fetch_wait", False):
        return
    original = AIOKafkaConsumerThread._create_worker_consumer

    def create_worker_consumer(self: Any, transport: Any) -> Any:
        consumer = original(self, transport)
        # Read by the consumer's start() when it builds its fetcher (aiokafka 0.14).
        consumer._fetch_max_wait_ms = min(consumer._fetch_max_wait_ms, FETCH_WAIT_MS)
        return consumer

    AIOKafkaConsumerThread._create_worker_consumer = create_worker_consumer  # type: ignore[method-assign]
    AIOKafkaConsumerThread._breach_fetch_wait = True  # type: ignore[attr-defined]
