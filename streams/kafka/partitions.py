"""The partitions a topic has on the broker now: what readers without a consumer group (the
console's projection, replays, the benches and tests) assign themselves."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition


async def current_partitions(consumer: AIOKafkaConsumer, topics: tuple[str, ...]) -> set[TopicPartition]:
    """The partitions the broker has now for these topics (None-safe for topics not created yet).

    ``partitions_for_topic`` only knows the metadata the client already holds, and aiokafka
    offers no public call to refresh it for an unassigned consumer, hence the client call."""
    cluster = await consumer._client.fetch_all_metadata()
    return {TopicPartition(t, p) for t in topics for p in (cluster.partitions_for_topic(t) or ())}
