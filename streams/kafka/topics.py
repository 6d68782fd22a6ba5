"""Every topic and table, declared once per app and passed to the agents.

Partition counts are equal everywhere on purpose: each table is co-partitioned with the
topic its agent consumes (faust writes a table's changelog to the partition of the
message being processed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust

SECURITY_EVENTS = "security-events"
SECURITY_EVENTS_DLQ = "security-events.dlq"
SIGNALS = "signals"
SIGNALS_DLQ = "signals.dlq"  # signals the correlator could not take (each with its reason)
INCIDENT_COMMANDS = "incident-commands"
INCIDENT_COMMANDS_DLQ = "incident-commands.dlq"
INCIDENT_EVENTS = "incident-events"
INCIDENT_EVENTS_DLQ = "incident-events.dlq"  # events the notify agent could not act on (read, render)
# Mass delivery (streams/agents/deliver.py). The first two hold addresses and names: they are
# kept BREACH_SUBJECTS_RETENTION_DAYS (retention.ms), then deleted by the broker. The ledger and
# the bodies hold no personal data (Message-IDs carry a hash of the address, not the address).
AFFECTED_SUBJECTS = "affected-subjects"  # keyed by incident id: chunks of an imported list
NOTICE_DELIVERIES = "notice-deliveries"  # keyed by recipient address: one delivery (or bounce) each
NOTICE_DELIVERIES_DLQ = "notice-deliveries.dlq"  # records the delivery agent could not read (addresses: same retention)
# The dead letters the console lists (streams/kafka/dlq.py). Not notice-deliveries.dlq: its letters hold
# the people's addresses, which the console's principal has no reason to read (its count is in
# the worker's /metrics).
DEAD_LETTER_TOPICS = (SECURITY_EVENTS_DLQ, SIGNALS_DLQ, INCIDENT_COMMANDS_DLQ, INCIDENT_EVENTS_DLQ)
NOTICE_LEDGER = "notice-ledger"  # keyed by Message-ID, same partition as its delivery; compacted
NOTICE_BODIES = "notice-bodies"  # keyed by notice id|locale: the rendered notice, read by every worker


@dataclass(frozen=True)
class Topics:
    security_events: Any
    dlq: Any
    signals: Any
    signals_dlq: Any
    commands: Any
    commands_dlq: Any
    events: Any
    events_dlq: Any


@dataclass(frozen=True)
class Tables:
    windows: Any  # partition key (controller) -> encoded Window envelope (bytes)
    incidents: Any  # incident id -> Incident envelope
    schedule: Any  # incident id -> epoch seconds of its next reminder (same key and partitions)
    ledger: Any  # Message-ID -> when the SMTP server accepted it (the notify agent's memory)


def declare(app: faust.App, partitions: int, inputs: tuple[str, ...] = ()) -> tuple[Topics, Tables]:
    """``inputs``: more topics ingest reads besides security-events (BREACH_INGEST_TOPICS)."""
    def topic(*names: str) -> Any:
        return app.topic(*names, partitions=partitions, key_serializer="raw", value_serializer="raw")

    topics = Topics(security_events=topic(SECURITY_EVENTS, *inputs), dlq=topic(SECURITY_EVENTS_DLQ),
                    signals=topic(SIGNALS), signals_dlq=topic(SIGNALS_DLQ), commands=topic(INCIDENT_COMMANDS),
                    commands_dlq=topic(INCIDENT_COMMANDS_DLQ), events=topic(INCIDENT_EVENTS),
                    events_dlq=topic(INCIDENT_EVENTS_DLQ))
    tables = Tables(
        # Keys are str (raw bytes on the changelog, decoded back to str on recovery); values are
        # our JSON envelopes, written with the app's default json serializer.
        # Windows are stored as encoded bytes: the correlator knows each value's size before it
        # reaches the producer (a controller's state can outgrow a record; it is trimmed first).
        windows=app.Table("correlation-windows", partitions=partitions, key_type=str, value_type=bytes),
        incidents=app.Table("incidents", partitions=partitions, key_type=str),
        schedule=app.Table("schedule", partitions=partitions, key_type=str),
        ledger=app.Table("delivery-ledger", partitions=partitions, key_type=str),
    )
    return topics, tables
