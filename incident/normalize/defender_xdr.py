"""Microsoft Defender XDR streaming API records (Advanced Hunting tables streamed to an Event
Hub or a storage account): ``{"category": "AdvancedHunting-<Table>", "properties": {…},
"tenantId", "time"}``, one table row each.

- ``AlertInfo`` is an alert (title, severity, MITRE techniques); ``AlertEvidence`` one entity
  of an alert (its device, account, address or file), keyed to the alert by ``AlertId``.
- ``Device*Events`` rows are what the endpoint saw: logons (``LogonFailed``…), network
  connections, processes, files, registry. The asset is the device; the title the table and
  its ``ActionType``.
- Inventory snapshots (``DeviceInfo``, ``DeviceNetworkInfo``, ``DeviceFileCertificateInfo``,
  the ``DeviceTvm*`` tables) describe a device, not something that happened: refused, naming
  the table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize._addr import ip_or_none, person
from incident.normalize._fields import fingerprint, instant, int_at, text_at
from incident.signals import SecurityEvent

PREFIX = "AdvancedHunting-"
DETECTION_FINDING = 2004
AUTHENTICATION = 3002
NETWORK_ACTIVITY = 4001
_SEVERITIES = {"informational": 1, "low": 2, "medium": 3, "high": 4}
_INVENTORY = ("DeviceInfo", "DeviceNetworkInfo", "DeviceFileCertificateInfo", "DeviceTvm")
_FAILED = ("LogonFailed", "ConnectionFailed")
_SUCCEEDED = ("LogonSuccess", "ConnectionSuccess", "InboundConnectionAccepted")
_TECHNIQUE = re.compile(r"\((T\d{4}(?:\.\d{3})?)\)")


def is_record(record: Mapping[str, Any]) -> bool:
    category = record.get("category")
    return isinstance(category, str) and category.startswith(PREFIX) and isinstance(record.get("properties"), Mapping)


def _techniques(value: str | None) -> tuple[str, ...]:
    """``AttackTechniques`` is a JSON list held as text: "[\\"Valid Accounts (T1078)\\"]"."""
    return tuple(dict.fromkeys(_TECHNIQUE.findall(value))) if value else ()


def _port(row: Mapping[str, Any], name: str) -> int | None:
    return int_at(row, name, high=65535) or None


def _alert(table: str, row: Mapping[str, Any], record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    alert_id = text_at(row, "AlertId", required=True) or ""
    evidence = table == "AlertEvidence"
    severity = text_at(row, "Severity")
    entity = text_at(row, "EntityType") or "entity"
    asset = text_at(row, "DeviceName") or text_at(record, "tenantId")
    if not asset:
        raise InvalidEvent("missing field 'tenantId' (nor properties.DeviceName): no asset")
    return SecurityEvent(
        # An alert's evidence rows share its AlertId: each row is its own record.
        event_id=fingerprint("microsoft", record) if evidence else alert_id,
        source_format="microsoft",
        title=f"Alert evidence: {entity}" if evidence else text_at(row, "Title", required=True) or "",
        occurred_at=instant(text_at(row, "Timestamp", required=True), "Timestamp"),
        ingested_at=received_at,
        asset=asset,
        severity=_SEVERITIES.get(severity.lower(), 0) if severity else 0,
        category="intrusion_detection",
        rule_id=alert_id,
        user=person(text_at(row, "AccountUpn", "AccountName")),
        source_ip=ip_or_none(text_at(row, "RemoteIP")),
        tags=_techniques(text_at(row, "AttackTechniques")),
        class_uid=DETECTION_FINDING,
        observer_vendor="Microsoft",
        observer_product=text_at(row, "ServiceSource") or "Microsoft Defender XDR",
        file_name=text_at(row, "FileName"),
    )


def _device(table: str, row: Mapping[str, Any], record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    action = text_at(row, "ActionType", required=True) or ""
    logon = table == "DeviceLogonEvents"
    network = table == "DeviceNetworkEvents"
    outcome = "failure" if action in _FAILED else "success" if action in _SUCCEEDED else None
    return SecurityEvent(
        event_id=fingerprint("microsoft", record),
        source_format="microsoft",
        title=f"{table}: {action}",
        occurred_at=instant(text_at(row, "Timestamp", required=True), "Timestamp"),
        ingested_at=received_at,
        asset=text_at(row, "DeviceName", required=True) or "",
        category="authentication" if logon else "network" if network else None,
        # The account the row is about (the one logging on, the process's); else the account
        # of the process that did it.
        user=person(text_at(row, "AccountUpn", "AccountName", "InitiatingProcessAccountUpn",
                            "InitiatingProcessAccountName")),
        # A logon comes from RemoteIP; a connection goes from the device (LocalIP) to RemoteIP.
        source_ip=ip_or_none(text_at(row, "RemoteIP" if logon else "LocalIP")),
        destination_ip=ip_or_none(text_at(row, "RemoteIP")) if network else None,
        source_port=_port(row, "LocalPort") if network else None,
        destination_port=_port(row, "RemotePort") if network else None,
        destination_domain=text_at(row, "RemoteUrl") if network else None,
        action=action,
        outcome=outcome,
        class_uid=AUTHENTICATION if logon else NETWORK_ACTIVITY if network else None,
        observer_vendor="Microsoft",
        observer_product="Microsoft Defender XDR",
        file_name=text_at(row, "FileName"),
    )


def parse(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    table = str(record["category"]).removeprefix(PREFIX)
    row: Mapping[str, Any] = record["properties"]
    if table.startswith(_INVENTORY):
        raise InvalidEvent(f"not a security event: Defender XDR inventory table {PREFIX}{table}")
    if table in ("AlertInfo", "AlertEvidence"):
        return _alert(table, row, record, received_at)
    if table.startswith("Device") and table.endswith("Events"):
        return _device(table, row, record, received_at)
    raise InvalidEvent(f"Defender XDR table {PREFIX}{table} is not mapped (alerts and Device*Events are)")

