"""The limit of everything Kafka-bound: raw aiokafka produce and consume rates, 1 KB records."""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from benchmarks import Context, Figure, measurement
from streams.kafka.partitions import current_partitions

RAW_N = 20_000


@measurement(order=10)
async def raw_kafka(ctx: Context) -> list[Figure]:
    payload = b"x" * 1000
    producer = AIOKafkaProducer(bootstrap_servers=ctx.bootstrap, linger_ms=10, max_batch_size=512 * 1024)
    await producer.start()
    started = time.perf_counter()
    futures = [await producer.send("bench-raw", payload) for _ in range(RAW_N)]
    await asyncio.gather(*futures)
    produce = RAW_N / (time.perf_counter() - started)
    await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=ctx.bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    consumer.assign(sorted(await current_partitions(consumer, ("bench-raw",))))
    await consumer.seek_to_beginning()
    seen, started = 0, time.perf_counter()
    while seen < RAW_N:
        seen += sum(len(b) for b in (await consumer.getmany(timeout_ms=1000, max_records=5000)).values())
    consume = RAW_N / (time.perf_counter() - started)
    await consumer.stop()
    return [Figure("raw_produce_per_s", "raw aiokafka produce", produce, "msg/s", note="limit"),
            Figure("raw_consume_per_s", "raw aiokafka consume", consume, "msg/s", note="limit"),
            Figure("raw_kafka_per_s", "raw Kafka limit (min of the two)", min(produce, consume), "msg/s",
                   note="limit")]
