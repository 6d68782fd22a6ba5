"""create_app(settings) -> faust.App, and build() wiring topics, tables and agents onto it."""

from __future__ import annotations

import faust

from streams import agent_health, stopping
from streams.agents import clock, deliver, notify, page
from streams.deps import Deps
from streams.kafka import faust_fetch, faust_offsets, faust_revoke
from streams.kafka.command_signing import command_keys
from streams.kafka.kafka_security import faust_credentials
from streams.kafka.topics import Tables, Topics, declare
from streams.pipeline import correlate, incident, ingest
from streams.settings import Settings, input_topics


def create_app(settings: Settings, *, app_id: str | None = None) -> faust.App:
    faust_offsets.install()  # commit only offsets whose records were processed (see the module)
    faust_fetch.install()  # a fetch waits 50 ms for records, not faust's fixed 1.5 s
    stopping.install()  # a service thread's stop never blocks the loop, nor waits for ever
    faust_revoke.install()  # a rebalance never waits for records dropped from agents' buffers
    app = faust.App(
        app_id or settings.app_id,
        broker=settings.broker_url,
        store=settings.store,
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        # Session and heartbeat are short by default because the embedded broker (Tansu)
        # holds every JoinGroup for session_timeout/2 (research/runtime.md §1); production
        # sets BREACH_SESSION_TIMEOUT to 10-30 s.
        broker_session_timeout=settings.session_timeout,
        broker_heartbeat_interval=settings.heartbeat_interval,
        broker_rebalance_timeout=settings.session_timeout,
        # One record per producer batch: Tansu answers ListOffsets wrongly after multi-record
        # batches, which makes table recovery skip records. Harmless on Apache Kafka but slower.
        producer_max_batch_size=1 if settings.one_record_batches else 16384,
        # A controller's correlation state is one table record (docs/rules.md); on Apache Kafka
        # raise the changelog topic's max.message.bytes to match.
        producer_max_request_size=max(1_000_000, settings.max_state_bytes + 100_000),
        processing_guarantee="at_least_once",
        table_standby_replicas=0,
        web_enabled=False,
        topic_allow_declare=True,
        # Topics faust makes itself (its assignor's, or any `breach topics create` did not) get the
        # same replication as those the command makes.
        topic_replication_factor=settings.topic_replication,
        broker_credentials=faust_credentials(settings),  # Kafka TLS / SASL (BREACH_KAFKA_*)
        Agent=agent_health.Agent,  # crashes counted, logged without record content, shown by /readyz
    )
    agent_health.install(app)
    return app


def build(settings: Settings, deps: Deps, *, app_id: str | None = None) -> tuple[faust.App, Topics, Tables]:
    keys = command_keys(settings)  # no key, no worker: it could not tell a person's command from a forgery
    app = create_app(settings, app_id=app_id)
    topics, tables = declare(app, settings.partitions, inputs=extra_inputs(settings))
    for module in (ingest, correlate):
        module.register(app, topics, tables, deps)
    incident.register(app, topics, tables, deps, keys=keys)
    delivery = deliver.register(app, settings, deps)
    notify.register(app, topics, tables, deps, fan_out=delivery.fan_out)
    clock.register(app, topics, tables, deps, interval=settings.tick_seconds)
    page.register(app, topics, tables, deps)
    return app, topics, tables


def extra_inputs(settings: Settings) -> tuple[str, ...]:
    """The input topics of BREACH_INGEST_TOPICS (security-events is always read)."""
    return tuple(name for name in input_topics(settings) if name != "security-events")
