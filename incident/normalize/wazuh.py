"""Wazuh alerts (alerts.json lines, as the Wazuh manager writes them and Filebeat ships them)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize._fields import instant, text
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


def parse(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    rule: Mapping[str, Any] = record["rule"]
    agent: Mapping[str, Any] = record["agent"]
    data = record.get("data") or {}
    if not isinstance(data, Mapping):
        raise InvalidEvent("field 'data' must be an object")
    level = rule.get("level")
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 15:
        raise InvalidEvent("field 'rule.level' must be an integer 0-15")
    groups = rule.get("groups") or []
    category = next((_CATEGORY_BY_GROUP[g] for g in groups if g in _CATEGORY_BY_GROUP), None)
    return SecurityEvent(
        event_id=text(record, "id", required=True) or "",
        source_format="wazuh",
        title=text(rule, "description") or f"Wazuh rule {rule.get('id')}",
        occurred_at=instant(record.get("timestamp"), "timestamp"),
        ingested_at=received_at,
        asset=text(agent, "name", required=True) or "",
        severity=_severity(level),
        category=category,
        rule_id=text(rule, "id"),
        user=text(data, "dstuser") or text(data, "srcuser"),
        source_ip=text(data, "srcip"),
        destination_ip=text(data, "dstip"),
        confirms_breach=level >= CONFIRMING_LEVEL,
    )
