"""`breach topics create`: every topic the service uses, made before the first worker starts,
with explicit partition counts, replication and retention (Apache Kafka in production usually
has topic auto-creation off, and its defaults would delete the audit trail after 7 days).

The list is asked of the faust app itself (`streams.kafka.topics.declare` and the delivery agent's
`delivery_topics`), so a topic or table added there is created here too; only the retention
policy of the streams is written down below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from streams.agents.deliver import delivery_topics
from streams.app import create_app, extra_inputs
from streams.kafka.kafka_security import client_options
from streams.kafka.topics import INCIDENT_EVENTS, declare
from streams.settings import Settings

DAY_MS = 24 * 3600 * 1000
FOREVER = "-1"
# incident-events is the record (audit trail, register): never deleted. Dead letters keep a
# rejected record long enough for someone to look at it; the rest is work in flight.
RETENTION_MS = {INCIDENT_EVENTS: FOREVER}
DLQ_RETENTION_MS = str(90 * DAY_MS)
DEFAULT_RETENTION_MS = str(14 * DAY_MS)
TOPIC_ALREADY_EXISTS = 36
MASS_DELIVERY_RECORD_BYTES = 4 * 1024 * 1024  # the producers of streams/mail/mass.py and the delivery agent


def max_message_bytes(settings: Settings) -> int:
    """The largest record the service writes: a controller's correlation state (changelog, and the
    signal batches beside it) or a chunk of imported recipients. Apache Kafka's default is 1 MB."""
    return max(MASS_DELIVERY_RECORD_BYTES, settings.max_state_bytes + 100_000)


class TopicsError(RuntimeError):
    pass


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """Every topic of the app: the streams (delete policy, retention above), each table's
    changelog (compacted: the latest value per key is the table) and the mass-delivery topics
    (retention of the personal data they hold, or compacted, as the delivery agent declares them)."""
    app = create_app(settings)
    topics, tables = declare(app, settings.partitions, inputs=extra_inputs(settings))
    size = {"max.message.bytes": str(max_message_bytes(settings))}
    specs = []
    for name in (name for topic in vars(topics).values() for name in topic.topics):
        retention = RETENTION_MS.get(name, DLQ_RETENTION_MS if name.endswith(".dlq") else DEFAULT_RETENTION_MS)
        configs = {"cleanup.policy": "delete", "retention.ms": retention}
        if retention == FOREVER:
            configs["retention.bytes"] = FOREVER
        specs.append(TopicSpec(name, settings.partitions, configs | size))
    for table in vars(tables).values():
        specs.append(TopicSpec(table.changelog_topic.get_topic_name(), settings.partitions,
                               {"cleanup.policy": "compact"} | size))
    for topic in delivery_topics(app, settings):
        if topic.compacting:
            configs = {"cleanup.policy": "compact"}
        else:
            configs = {"cleanup.policy": "delete", "retention.ms": str(int(topic.retention.total_seconds() * 1000))}
        specs.append(TopicSpec(topic.get_topic_name(), settings.partitions, configs | size))
    return specs


@dataclass(frozen=True)
class Outcome:
    name: str
    created: bool  # False: it existed already (its partition count was checked)
    partitions: int
    configs: dict[str, str]  # as the broker describes them now (only the keys we set)


async def create_topics(settings: Settings) -> list[Outcome]:
    """Create what is missing; leave existing topics as they are but refuse a partition count
    that differs from the settings (co-partitioning would break)."""
    return await ensure_topics(settings, topic_specs(settings))


async def ensure_topics(settings: Settings, specs: list[TopicSpec]) -> list[Outcome]:
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        response = await admin.create_topics([
            NewTopic(s.name, s.partitions, settings.topic_replication, topic_configs=s.configs) for s in specs])
        errors = {name: (code, message) for name, code, message, *_ in response.topic_errors}
        for name, (code, message) in errors.items():
            if code not in (0, TOPIC_ALREADY_EXISTS):
                raise TopicsError(f"{name}: the broker refused to create it (error {code}: {message})")
        described = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics([s.name for s in specs])}
        configs = await _configs(admin, specs)
    finally:
        await admin.close()
    outcomes = []
    for spec in specs:
        found = described.get(spec.name, 0)
        if found != spec.partitions:
            raise TopicsError(f"{spec.name} has {found} partition(s), BREACH_PARTITIONS is {spec.partitions}: "
                              "every topic and table must have the same count")
        outcomes.append(Outcome(spec.name, errors.get(spec.name, (0, ""))[0] == 0, found, configs.get(spec.name, {})))
    return outcomes


async def _configs(admin: AIOKafkaAdminClient, specs: list[TopicSpec]) -> dict[str, dict[str, str]]:
    # Every key, filtered here: the embedded broker (Tansu) closes the connection on a filtered request.
    resources = [ConfigResource(ConfigResourceType.TOPIC, s.name) for s in specs]
    out: dict[str, dict[str, str]] = {}
    for response in await admin.describe_configs(resources):
        for resource in response.resources:
            _code, _message, _type, name, entries = resource[:5]
            out[name] = {entry[0]: entry[1] for entry in entries}
    wanted = {s.name: s.configs.keys() for s in specs}
    return {name: {k: v for k, v in found.items() if k in wanted.get(name, ())} for name, found in out.items()}


def report(outcomes: list[Outcome]) -> str:
    lines = []
    for o in outcomes:
        settings_text = " ".join(f"{k}={v}" for k, v in sorted(o.configs.items()))
        lines.append(f"{'created' if o.created else 'exists '}  {o.name}  partitions={o.partitions}  {settings_text}")
    return "\n".join(lines)


def as_json(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [{"topic": o.name, "created": o.created, "partitions": o.partitions, "configs": o.configs}
            for o in outcomes]
