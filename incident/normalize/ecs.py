"""Elastic Security detection alerts and plain ECS events (Beats, Elastic Agent, Logstash).

Alert documents mix flattened ``kibana.alert.*`` keys with nested ECS objects copied from
the source event; ``lookup`` reads both. The alert's own ``@timestamp`` is when the rule ran;
the event time is ``kibana.alert.original_time`` when present.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize._fields import fingerprint, instant, int_at, lookup, one, strings_at, text_at
from incident.signals import OUTCOMES, SEVERITIES, SecurityEvent

DETECTION_FINDING = 2004  # OCSF class of an alert, whatever produced it
# A message longer than this, or on several lines (Windows' event text), is not a title.
_TITLE_MESSAGE_MAX = 160


def is_alert(record: Mapping[str, Any]) -> bool:
    return lookup(record, "kibana.alert.uuid") is not None or one(lookup(record, "event.kind")) == "signal"


def _severity(record: Mapping[str, Any]) -> int:
    name = text_at(record, "kibana.alert.severity", "kibana.alert.rule.severity")
    if name is not None:
        if name.lower() not in SEVERITIES:
            raise InvalidEvent(f"field 'kibana.alert.severity' must be one of low, medium, high, critical; "
                               f"got {name[:20]!r}")
        return SEVERITIES[name.lower()]
    score = int_at(record, "kibana.alert.risk_score", high=100)
    if score is None:
        return 0
    # Elastic's own bands: low < 22 ≤ medium < 48 ≤ high < 74 ≤ critical.
    return 2 if score < 22 else 3 if score < 48 else 4 if score < 74 else 5


def _outcome(record: Mapping[str, Any]) -> str | None:
    value = text_at(record, "event.outcome", "kibana.alert.original_event.outcome")
    if value is not None and value not in OUTCOMES:
        raise InvalidEvent(f"field 'event.outcome' must be one of {list(OUTCOMES)}")
    if value is None and text_at(record, "system.auth.sudo.error"):
        return "failure"  # sudo refused the command ("user NOT in sudoers"); the module sets no outcome
    return value


def _short_message(record: Mapping[str, Any]) -> str | None:
    message = text_at(record, "message")
    if message is None:
        return None
    message = message.strip()
    return message if message and "\n" not in message and len(message) <= _TITLE_MESSAGE_MAX else None


def _title(record: Mapping[str, Any]) -> str:
    """The rule's name for an alert; else what happened, in words a responder reads: the action
    and its outcome ("ssh_login failure") with the line's message, or — when the module sets no
    action (system.auth's sudo, useradd, groupadd, PAM lines) — the program and what it did."""
    rule = text_at(record, "kibana.alert.rule.name", "rule.name")
    if rule:
        return rule
    message = _short_message(record)
    action = text_at(record, "event.action", "kibana.alert.original_event.action")
    if action:
        outcome = text_at(record, "event.outcome")
        said = f"{action} {outcome}" if outcome in ("success", "failure") else action
        return f"{said}: {message}" if message else said
    program = text_at(record, "process.name") or text_at(record, "event.dataset", "event.module")
    command = text_at(record, "system.auth.sudo.command")
    what = message or command or " ".join(strings_at(record, "event.type")) or None
    if command and not message and text_at(record, "system.auth.sudo.error"):
        what = f"{command}: {text_at(record, 'system.auth.sudo.error')}"
    if program and what:
        return f"{program}: {what}"
    if program or what:
        return program or what or ""
    raise InvalidEvent("missing field 'event.action' (nor kibana.alert.rule.name, rule.name, message, "
                       "process.name or event.dataset): nothing says what happened")


def parse(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    if not isinstance(record, Mapping):
        raise InvalidEvent("expected an ECS document (a JSON object)")
    alert = is_alert(record)
    # An alert's @timestamp is when the rule ran; the event happened at original_time.
    time_field = "kibana.alert.original_time" if lookup(record, "kibana.alert.original_time") else "@timestamp"
    when = text_at(record, time_field, required=True)
    category = strings_at(record, "event.category") or strings_at(record, "kibana.alert.original_event.category")
    return SecurityEvent(
        event_id=text_at(record, "kibana.alert.uuid", "event.id") or fingerprint("ecs", record),
        source_format="ecs",
        title=_title(record),
        occurred_at=instant(when, time_field),
        ingested_at=received_at,
        asset=text_at(record, "host.name", "host.hostname", "observer.hostname", "observer.name", "agent.name",
                      required=True) or "",
        severity=_severity(record),
        category=category[0] if category else None,
        # The rule's uuid is what Kibana links an alert to (rule_id is the prebuilt rule's id,
        # shared by every copy of it).
        rule_id=text_at(record, "kibana.alert.rule.uuid", "kibana.alert.rule.rule_id", "rule.id"),
        user=text_at(record, "user.name", "source.user.name", "user.id"),
        source_ip=text_at(record, "source.ip", "client.ip"),
        destination_ip=text_at(record, "destination.ip"),
        action=text_at(record, "event.action", "kibana.alert.original_event.action"),
        outcome=_outcome(record),
        bytes_out=int_at(record, "source.bytes"),
        destination_domain=text_at(record, "destination.domain"),
        tags=tuple(dict.fromkeys(strings_at(record, "tags") + strings_at(record, "kibana.alert.rule.tags"))),
        class_uid=DETECTION_FINDING if alert else None,
        source_port=int_at(record, "source.port", high=65535),
        destination_port=int_at(record, "destination.port", high=65535),
        observer_vendor=text_at(record, "observer.vendor"),
        observer_product=text_at(record, "observer.product", "event.module"),
        file_name=text_at(record, "file.name"),
    )
