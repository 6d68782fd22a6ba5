"""Wazuh alerts (alerts.json lines, as the Wazuh manager writes them and Filebeat ships them)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize._fields import instant, strings_at, text, text_at
from incident.signals import SecurityEvent

# Wazuh rule levels 0-15 onto OCSF severity_id. Level 12+ is what Wazuh itself calls a
# "high importance event"; we treat it as confirming a breach until rules (issue 3) say more.
CONFIRMING_LEVEL = 12

_CATEGORY_BY_GROUP = {
    "authentication_failed": "authentication",
    "authentication_failures": "authentication",
    "authentication_success": "authentication",
    "exfiltration": "exfiltration",
    "data_loss": "exfiltration",
    "ransomware": "malware",
    "malware": "malware",
    "rootcheck": "malware",
    "web": "web",
    "attack": "intrusion",
}


def _severity(level: int) -> int:
    if level >= 15:
        return 5
    if level >= 12:
        return 4
    if level >= 8:
        return 3
    if level >= 4:
        return 2
    return 1


def _object(record: Mapping[str, Any], name: str, *, required: bool) -> Mapping[str, Any]:
    value = record.get(name)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidEvent(f"field '{name}' must be an object")
    return value


def parse(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    if not isinstance(record, Mapping):
        raise InvalidEvent("expected a Wazuh alert (a JSON object)")
    rule = _object(record, "rule", required=True)
    _object(record, "agent", required=True)
    _object(record, "data", required=False)
    level = rule.get("level")
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 15:
        raise InvalidEvent("field 'rule.level' must be an integer 0-15")
    groups = strings_at(record, "rule.groups")
    category = next((_CATEGORY_BY_GROUP[g] for g in groups if g in _CATEGORY_BY_GROUP), None)
    rule_id = text_at(record, "rule.id")
    return SecurityEvent(
        event_id=text(record, "id", required=True) or "",
        source_format="wazuh",
        title=text_at(record, "rule.description") or f"Wazuh rule {rule_id}",
        occurred_at=instant(record.get("timestamp"), "timestamp"),
        ingested_at=received_at,
        asset=text_at(record, "agent.name", required=True) or "",
        severity=_severity(level),
        category=category,
        rule_id=rule_id,
        user=text_at(record, "data.dstuser", "data.srcuser"),
        source_ip=text_at(record, "data.srcip"),
        destination_ip=text_at(record, "data.dstip"),
        observer_vendor="Wazuh",
        observer_product="Wazuh",
        confirms_breach=level >= CONFIRMING_LEVEL,
    )
