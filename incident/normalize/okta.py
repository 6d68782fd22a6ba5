"""Okta System Log events (the ``/api/v1/logs`` LogEvent, as pulled by the API, Event Hooks or a
SIEM connector).

The asset is the Okta org (the tenant a profile lists) when the event came through an Event
Hook, whose source URL names it (incident.normalize.envelope); a LogEvent itself names no
org, so otherwise it is the application the event concerns (an ``AppInstance`` target: the
controller's system reached through Okta), else ``okta`` (docs/events.md). The user is the
actor unless the actor is Okta itself acting on a user (lockouts, password resets by the
system), where the target user is meant.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize._addr import ip_or_none, person
from incident.normalize._fields import fingerprint, instant, lookup, text_at
from incident.normalize.envelope import OKTA_ORG
from incident.signals import SecurityEvent

AUTHENTICATION = 3002
ACCOUNT_CHANGE = 3001
TENANT = "okta"  # what the System Log itself is, when no application is named
_OUTCOMES = {"success": "success", "allow": "success", "failure": "failure", "deny": "failure"}
_SEVERITIES = {"debug": 1, "info": 1, "warn": 3, "error": 4}
_SYSTEM_ACTORS = ("system@okta.com", "Okta System")


def is_event(record: Mapping[str, Any]) -> bool:
    return "eventType" in record and "published" in record and isinstance(record.get("actor"), Mapping)


def _targets(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    targets = record.get("target")
    return [t for t in targets if isinstance(t, Mapping)] if isinstance(targets, list) else []


def _target(record: Mapping[str, Any], kind: str) -> str | None:
    for target in _targets(record):
        if target.get("type") == kind:
            found = person(text_at(target, "alternateId")) or person(text_at(target, "displayName"))
            if found:
                return found
    return None


def _user(record: Mapping[str, Any]) -> str | None:
    actor = person(text_at(record, "actor.alternateId")) or person(text_at(record, "actor.displayName"))
    if actor in _SYSTEM_ACTORS or text_at(record, "actor.type") not in (None, "User"):
        return _target(record, "User") or actor
    return actor


def _category(event_type: str) -> str | None:
    if event_type.startswith(("user.session", "user.authentication", "user.mfa", "policy.evaluate_sign_on")):
        return "authentication"
    if event_type.startswith(("user.account", "user.lifecycle", "group.", "application.user_membership",
                              "system.api_token", "user.credential")):
        return "iam"
    if event_type.startswith("security."):
        return "intrusion_detection"
    return None


def _severity(record: Mapping[str, Any]) -> int:
    value = text_at(record, "severity")
    return _SEVERITIES.get(value.lower(), 0) if value else 0


def parse(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    if not isinstance(record, Mapping):
        raise InvalidEvent("expected an Okta System Log event (a JSON object)")
    event_type = text_at(record, "eventType", required=True) or ""
    result = text_at(record, "outcome.result")
    outcome = _OUTCOMES.get(result.lower(), "unknown") if result else None
    title = (text_at(record, "displayMessage") or event_type).strip()
    if result and outcome != "success":
        reason = text_at(record, "outcome.reason")
        title = f"{title} ({result}: {reason})" if reason else f"{title} ({result})"
    category = _category(event_type)
    chain = lookup(record, "request.ipChain")
    first_hop = text_at(chain[0], "ip") if isinstance(chain, list) and chain else None
    return SecurityEvent(
        event_id=text_at(record, "uuid") or fingerprint("okta", record),
        source_format="okta",
        title=title,
        occurred_at=instant(text_at(record, "published", required=True), "published"),
        ingested_at=received_at,
        asset=text_at(record, OKTA_ORG) or _target(record, "AppInstance") or TENANT,
        severity=_severity(record),
        category=category,
        user=_user(record),
        source_ip=ip_or_none(text_at(record, "client.ipAddress")) or ip_or_none(first_hop),
        action=event_type,
        outcome=outcome,
        class_uid=AUTHENTICATION if category == "authentication" else ACCOUNT_CHANGE if category == "iam" else None,
        observer_vendor="Okta",
        observer_product="Okta System Log",
    )
