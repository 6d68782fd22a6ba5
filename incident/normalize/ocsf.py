"""OCSF events (Open Cybersecurity Schema Framework 1.x), any class; mapped in detail for
Detection Finding 2004 (and the deprecated Security Finding 2001), Authentication 3002,
API Activity 6003 and Datastore Activity 6005."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize._fields import epoch_millis, fingerprint, instant, int_at, strings_at, text_at
from incident.signals import SecurityEvent

# class_uid → ECS event.category, so rules written on ECS categories match OCSF sources too.
CATEGORY_BY_CLASS = {
    1001: "file", 2001: "intrusion_detection", 2004: "intrusion_detection", 2006: "intrusion_detection",
    3001: "iam", 3002: "authentication", 3005: "iam", 4001: "network", 4009: "email",
    6003: "api", 6005: "database",
}
OUTCOME_BY_STATUS = {0: "unknown", 1: "success", 2: "failure", 99: "unknown"}
OTHER = 99  # OCSF's "Other" in every enumeration


def _occurred(record: Mapping[str, Any]) -> datetime:
    # time_dt (the "datetime" profile) is explicit about its zone; producers get the
    # millisecond `time` wrong often enough (ocsf/examples' Okta sample has seconds) that
    # the explicit one wins when both are there.
    if record.get("time_dt") is not None:
        return instant(record.get("time_dt"), "time_dt")
    if record.get("time") is None:
        raise InvalidEvent("missing field 'time'")
    return epoch_millis(record.get("time"), "time")


def _severity(record: Mapping[str, Any]) -> int:
    value = record.get("severity_id")
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not (0 <= value <= 6 or value == OTHER):
        raise InvalidEvent("field 'severity_id' must be an OCSF severity 0-6 or 99")
    return 0 if value == OTHER else value


def _outcome(record: Mapping[str, Any]) -> str | None:
    status_id = int_at(record, "status_id", high=OTHER)
    if status_id is not None:
        return OUTCOME_BY_STATUS.get(status_id, "unknown")
    status = text_at(record, "status")
    if status is None:
        return None
    return {"success": "success", "failure": "failure"}.get(status.lower(), "unknown")


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


def parse(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    if not isinstance(record, Mapping):
        raise InvalidEvent("expected an OCSF event (a JSON object)")
    class_uid = int_at(record, "class_uid", high=999_999)
    if class_uid is None:
        raise InvalidEvent("missing field 'class_uid'")
    if not isinstance(record.get("metadata"), Mapping):
        raise InvalidEvent("missing field 'metadata' (an object)")
    title = text_at(record, "finding_info.title", "type_name", "class_name") or f"OCSF class {class_uid}"
    api_activity = class_uid == 6003
    return SecurityEvent(
        event_id=text_at(record, "metadata.uid", "finding_info.uid") or fingerprint("ocsf", record),
        source_format="ocsf",
        title=title,
        occurred_at=_occurred(record),
        ingested_at=received_at,
        asset=text_at(record, "device.hostname", "device.name", "dst_endpoint.hostname", "api.service.name",
                      "database.name", "databucket.name", "device.ip", "metadata.product.name",
                      required=True) or "",
        severity=_severity(record),
        category=CATEGORY_BY_CLASS.get(class_uid) or (text_at(record, "class_name") or "").lower() or None,
        rule_id=text_at(record, "finding_info.analytic.uid", "finding_info.analytic.name", "metadata.event_code"),
        user=text_at(record, "actor.user.name", "user.name", "actor.user.uid", "user.uid"),
        source_ip=text_at(record, "src_endpoint.ip") or _first_evidence(record, "src_endpoint.ip"),
        destination_ip=text_at(record, "dst_endpoint.ip") or _first_evidence(record, "dst_endpoint.ip"),
        data_store=_data_store(record),
        action=text_at(record, "api.operation") if api_activity else text_at(record, "activity_name"),
        outcome=_outcome(record),
        bytes_out=int_at(record, "traffic.bytes_out"),
        destination_domain=text_at(record, "dst_endpoint.domain"),
        tags=strings_at(record, "finding_info.types"),
        class_uid=class_uid,
        source_port=int_at(record, "src_endpoint.port", high=65535),
        destination_port=int_at(record, "dst_endpoint.port", high=65535),
        observer_vendor=text_at(record, "metadata.product.vendor_name"),
        observer_product=text_at(record, "metadata.product.name"),
        file_name=text_at(record, "file.name"),
    )


