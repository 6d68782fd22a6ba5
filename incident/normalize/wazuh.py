"""Wazuh alerts (alerts.json lines, as the Wazuh manager writes them and Filebeat ships them, or
read back from the Wazuh indexer: the envelope module removes the search hit around them).

A Wazuh alert says what happened through its rule's groups (``authentication_failed``,
``syscheck``…), not through fields: the groups give the category, the action and the outcome the
pack's rules match on (``event.outcome: failure`` for ``failed_logon``). Who and from where sit in
the decoder's ``data``: ``data.srcip``/``data.dstuser`` for syslog decoders, ``data.win.eventdata``
for Windows eventchannel, ``data.src_ip``/``data.dest_ip`` for the Suricata integration.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize._fields import instant, lookup, strings_at, text, text_at
from incident.signals import SecurityEvent

# Wazuh rule levels 0-15 onto OCSF severity_id. Level 12+ is what Wazuh itself calls a
# "high importance event"; we treat it as confirming a breach until rules (issue 3) say more.
CONFIRMING_LEVEL = 12

# Rule group → (event.category, event.action, event.outcome). An alert has several groups
# (["syslog", "sshd", "invalid_login", "authentication_failed"]): the first one listed here wins,
# so what says an outcome comes before what only says a source.
_MEANING_BY_GROUP: dict[str, tuple[str, str | None, str | None]] = {
    "authentication_failed": ("authentication", "logon", "failure"),
    # Wazuh's own count of failures (5712, 5720 "multiple authentication failures"): an alert in
    # its own right, not one more failure for the pack to count (it would be held, and dropped).
    "authentication_failures": ("authentication", "logon", None),
    "win_authentication_failed": ("authentication", "logon", "failure"),
    "invalid_login": ("authentication", "logon", "failure"),
    "authentication_success": ("authentication", "logon", "success"),
    "exfiltration": ("exfiltration", None, None),
    "data_loss": ("exfiltration", None, None),
    "ransomware": ("malware", None, None),
    "malware": ("malware", None, None),
    "virustotal": ("malware", None, None),
    "yara": ("malware", None, None),
    "rootcheck": ("malware", None, None),
    "syscheck": ("file", None, None),
    "vulnerability-detector": ("vulnerability", None, None),
    "sysmon": ("process", None, None),
    "audit": ("audit", None, None),
    "web": ("web", None, None),
    "accesslog": ("web", None, None),
    "attack": ("intrusion", None, None),
    "ids": ("intrusion_detection", None, None),
    "suricata": ("intrusion_detection", None, None),
}
# Windows Security events that say the outcome of a logon when the rule's groups do not.
_WINDOWS_LOGON = {"4624": "success", "4625": "failure", "4771": "failure"}
# "root(uid=0)": newer pam_unix writes the uid after the name and Wazuh's pam decoder keeps it.
_PAM_UID = re.compile(r"\(uid=\d+\)$")
# What Windows writes where there is no value.
_NO_VALUE = frozenset({"-"})


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


def _meaning(record: Mapping[str, Any], groups: tuple[str, ...]) -> tuple[str | None, str | None, str | None]:
    category, action, outcome = next((meaning for group, meaning in _MEANING_BY_GROUP.items() if group in groups),
                                     (None, None, None))
    if "authentication_failures" in groups or lookup(record, "rule.frequency") is not None:
        outcome = None  # a frequency rule counted many events: Wazuh's conclusion, not one logon
    if category == "file":
        event = text_at(record, "syscheck.event")  # added | modified | deleted
        action = f"file-{event}" if event else None
    event_id = text_at(record, "data.win.system.eventID")
    if category is None and event_id in _WINDOWS_LOGON:
        category, action, outcome = "authentication", "logon", _WINDOWS_LOGON[event_id]
    return category, action, outcome


def _user(record: Mapping[str, Any]) -> str | None:
    user = text_at(record, "data.dstuser", "data.srcuser", "data.win.eventdata.targetUserName",
                   "data.win.eventdata.subjectUserName")
    if user is None or user in _NO_VALUE:
        return None
    return _PAM_UID.sub("", user) or None


def _address(record: Mapping[str, Any], *paths: str) -> str | None:
    value = text_at(record, *paths)
    return None if value is None or value in _NO_VALUE else value


def _port(record: Mapping[str, Any], *paths: str) -> int | None:
    # Decoders keep ports as text ("46980"); Windows writes "0" or "-" when there is none.
    value = text_at(record, *paths)
    if value is None or not value.isdigit() or len(value) > 5 or not 0 < int(value) <= 65535:
        return None
    return int(value)


def _mitre_tags(record: Mapping[str, Any]) -> tuple[str, ...]:
    # Sigma's tag for an ATT&CK technique ("attack.t1110"), so a rule can match on it.
    return tuple(f"attack.{t.lower()}" for t in strings_at(record, "rule.mitre.id"))


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
    category, action, outcome = _meaning(record, groups)
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
        user=_user(record),
        source_ip=_address(record, "data.srcip", "data.src_ip", "data.win.eventdata.ipAddress"),
        # The alert's destination, else the monitored host's own address (agent.ip): what a
        # logon or a file change on that host was aimed at.
        destination_ip=(_address(record, "data.dstip", "data.dest_ip", "data.win.eventdata.destinationIp")
                        or text_at(record, "agent.ip")),
        action=action,
        outcome=outcome,
        destination_domain=text_at(record, "data.win.eventdata.queryName"),
        tags=_mitre_tags(record),
        source_port=_port(record, "data.srcport", "data.src_port", "data.win.eventdata.ipPort"),
        destination_port=_port(record, "data.dstport", "data.dest_port"),
        observer_vendor="Wazuh",
        observer_product="Wazuh",
        file_name=text_at(record, "syscheck.path", "data.win.eventdata.targetFilename"),
        confirms_breach=level >= CONFIRMING_LEVEL,
    )
