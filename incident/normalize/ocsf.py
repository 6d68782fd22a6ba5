"""OCSF events (Open Cybersecurity Schema Framework 0.x–1.x), any class; mapped in detail for
Detection Finding 2004 (and the deprecated Security Finding 2001, whose 1.0 title is
``finding.title``), Authentication 3002, Account Change 3001, API Activity 6003 (3005 before
1.0), Datastore Activity 6005 and the Windows/network classes producers emit.

The asset is where the event happened, in the controller's terms: the device, else the cloud
resource or account (or SaaS tenant) — never the product that reported it, which names no
system of the controller (incident.normalize.ocsf_asset says the order).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize._fields import fingerprint, instant, int_at, strings_at, text_at
from incident.normalize.epoch import epoch
from incident.normalize.ocsf_asset import asset
from incident.signals import SecurityEvent

# class_uid → ECS event.category, so rules written on ECS categories match OCSF sources too.
CATEGORY_BY_CLASS = {
    1001: "file", 1007: "process", 2001: "intrusion_detection", 2004: "intrusion_detection",
    2006: "intrusion_detection", 3001: "iam", 3002: "authentication", 3005: "iam", 4001: "network",
    4003: "network", 4009: "email", 6003: "api", 6005: "database",
}
OUTCOME_BY_STATUS = {0: "unknown", 1: "success", 2: "failure", 99: "unknown"}
OTHER = 99  # OCSF's "Other" in every enumeration
AUTHENTICATION = 3002
# Where a value names nobody: Windows writes "-" for an absent account or address.
_PLACEHOLDERS = frozenset({"", "-", "n/a", "null", "none", "unknown"})
# A message longer than this is a payload, not a title.
_TITLE_MAX = 200


def _occurred(record: Mapping[str, Any]) -> datetime:
    """``time`` (the required attribute) in its own unit, told by magnitude: producers write
    seconds, milliseconds or microseconds. ``time_dt`` only when ``time`` is missing, and then
    only with its offset: a ``time_dt`` without one is local time we cannot place."""
    value = record.get("time")
    if (isinstance(value, int | float) and not isinstance(value, bool)) or (isinstance(value, str) and value.isdigit()):
        return epoch(value, "time")
    if record.get("time_dt") is not None:
        return instant(record.get("time_dt"), "time_dt")
    if value is None:
        raise InvalidEvent("missing field 'time'")
    return epoch(value, "time")  # names the field and what is wrong with it


def _severity(record: Mapping[str, Any]) -> int:
    value = record.get("severity_id")
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not (-1 <= value <= 6 or value == OTHER):
        raise InvalidEvent("field 'severity_id' must be an OCSF severity 0-6 or 99")
    return 0 if value in (OTHER, -1) else value  # -1: "Other" before OCSF 1.0


def _outcome(record: Mapping[str, Any]) -> str | None:
    status_id = record.get("status_id")
    if isinstance(status_id, int) and not isinstance(status_id, bool) and status_id in OUTCOME_BY_STATUS:
        return OUTCOME_BY_STATUS[status_id]
    status = text_at(record, "status")
    if status is None:
        return None
    return {"success": "success", "failure": "failure", "failed": "failure"}.get(status.lower(), "unknown")


def _data_store(record: Mapping[str, Any]) -> str | None:
    store = text_at(record, "database.name", "databucket.name")
    table = text_at(record, "table.name")
    if store and table:
        return f"{store}.{table}"
    return store or table


def _first_evidence(record: Mapping[str, Any], path: str) -> str | None:
    evidences = record.get("evidences")
    if isinstance(evidences, list):
        for evidence in evidences:
            found = text_at(evidence, path)
            if found:
                return found
    return None


def _ip(record: Mapping[str, Any], path: str) -> str | None:
    """An address, or None for Windows' "-" and other text that is not one."""
    value = text_at(record, path) or _first_evidence(record, path)
    if value is None:
        return None
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return None
    return value


def _person(record: Mapping[str, Any], *paths: str) -> str | None:
    for path in paths:
        value = text_at(record, path)
        if value is not None and value.strip().lower() not in _PLACEHOLDERS:
            return value
    return None


def _user(record: Mapping[str, Any], class_uid: int) -> str | None:
    # In Authentication the `user` is the account logging on, the `actor` whoever asked for
    # it (often the system); elsewhere the actor is who acted.
    if class_uid == AUTHENTICATION:
        return _person(record, "user.name", "actor.user.name", "user.uid", "actor.user.uid")
    return _person(record, "actor.user.name", "user.name", "actor.user.uid", "user.uid")


def _title(record: Mapping[str, Any], class_uid: int) -> str:
    title = text_at(record, "finding_info.title", "finding.title")
    if title and title.strip():
        return title.strip()
    message = (text_at(record, "message") or "").strip()
    # A one-word message is a status ("ResponseComplete"), not a description of the event.
    if " " in message and "\n" not in message and len(message) <= _TITLE_MAX:
        return message
    return text_at(record, "type_name", "class_name") or f"OCSF class {class_uid}"


def parse(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    if not isinstance(record, Mapping):
        raise InvalidEvent("expected an OCSF event (a JSON object)")
    class_uid = int_at(record, "class_uid", high=999_999)
    if class_uid is None:
        raise InvalidEvent("missing field 'class_uid'")
    if not isinstance(record.get("metadata"), Mapping):
        raise InvalidEvent("missing field 'metadata' (an object)")
    return SecurityEvent(
        event_id=text_at(record, "metadata.uid", "finding_info.uid", "finding.uid") or fingerprint("ocsf", record),
        source_format="ocsf",
        title=_title(record, class_uid),
        occurred_at=_occurred(record),
        ingested_at=received_at,
        asset=asset(record),
        severity=_severity(record),
        category=CATEGORY_BY_CLASS.get(class_uid) or (text_at(record, "class_name") or "").lower() or None,
        rule_id=text_at(record, "finding_info.analytic.uid", "finding_info.analytic.name", "metadata.event_code"),
        user=_user(record, class_uid),
        source_ip=_ip(record, "src_endpoint.ip"),
        destination_ip=_ip(record, "dst_endpoint.ip"),
        data_store=_data_store(record),
        action=text_at(record, "api.operation", "activity_name"),
        outcome=_outcome(record),
        bytes_out=int_at(record, "traffic.bytes_out"),
        destination_domain=text_at(record, "dst_endpoint.domain"),
        tags=strings_at(record, "finding_info.types") or strings_at(record, "finding.types"),
        class_uid=class_uid,
        source_port=int_at(record, "src_endpoint.port", high=65535),
        destination_port=int_at(record, "dst_endpoint.port", high=65535),
        observer_vendor=text_at(record, "metadata.product.vendor_name"),
        observer_product=text_at(record, "metadata.product.name"),
        file_name=text_at(record, "file.name"),
    )
