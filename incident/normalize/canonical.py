"""The canonical event JSON (documented in docs/events.md)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize._fields import codes, count, instant, text
from incident.profiles import DATA_CATEGORIES
from incident.signals import BREACH_TYPES, OUTCOMES, SEVERITIES, SecurityEvent

# Every key parse() reads. None of them is a key another format's detector looks for (the
# detection test checks it), so a record holding only these is canonical or nothing.
KEYS = frozenset({"id", "time", "title", "host", "severity", "category", "rule", "controller", "user", "source_ip",
                  "destination_ip", "data_store", "records", "action", "outcome", "bytes_out", "destination_domain",
                  "tags", "breach_types", "data_categories", "confirms_breach"})


def _severity(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, str) and value.lower() in SEVERITIES:
        return SEVERITIES[value.lower()]
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    raise InvalidEvent(f"field 'severity' must be 0-6 or one of {list(SEVERITIES)}")


def _outcome(value: object) -> str | None:
    if value is None:
        return None
    if value not in OUTCOMES:
        raise InvalidEvent(f"field 'outcome' must be one of {list(OUTCOMES)}")
    return str(value)


def parse(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    if not isinstance(record, Mapping):
        raise InvalidEvent("expected a canonical event (a JSON object)")
    confirms = record.get("confirms_breach", False)
    if not isinstance(confirms, bool):
        raise InvalidEvent("field 'confirms_breach' must be true or false")
    return SecurityEvent(
        event_id=text(record, "id", required=True) or "",
        source_format="canonical",
        title=text(record, "title", required=True) or "",
        occurred_at=instant(record.get("time"), "time"),
        ingested_at=received_at,
        asset=text(record, "host", required=True) or "",
        severity=_severity(record.get("severity")),
        category=text(record, "category"),
        rule_id=text(record, "rule"),
        controller=text(record, "controller"),
        user=text(record, "user"),
        source_ip=text(record, "source_ip"),
        destination_ip=text(record, "destination_ip"),
        data_store=text(record, "data_store"),
        records=count(record.get("records"), "records"),
        action=text(record, "action"),
        outcome=_outcome(record.get("outcome")),
        bytes_out=count(record.get("bytes_out"), "bytes_out"),
        destination_domain=text(record, "destination_domain"),
        tags=codes(record.get("tags"), "tags"),
        breach_types=codes(record.get("breach_types"), "breach_types", BREACH_TYPES),
        data_categories=codes(record.get("data_categories"), "data_categories", DATA_CATEGORIES),
        confirms_breach=confirms,
    )
