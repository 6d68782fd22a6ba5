"""Suricata EVE JSON: ``alert`` events, and ``fileinfo`` (a file seen crossing the wire).

Suricata writes EVE to files, sockets or redis, never to Kafka: these records arrive through
a shipper (Filebeat, Logstash, Vector), which the envelope unwrapping removes first (and AWS
Network Firewall's envelope, whose stateful engine is Suricata). The other event types are
refused, naming their type: flow, netflow, stats, dns, http, tls… are traffic metadata, and
``anomaly`` reports malformed packets (truncated, invalid values) — network noise by the thousand,
each of which would otherwise open an incident as an unclaimed SIEM alert.

An IDS sees both ends of a connection; the asset is the system the sensor is named after
(``host``, when its EVE output sets one), else the rule's target when the signature names one
(``alert.target``), else the end that belongs to the controller: the internal (private)
address, else the destination.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize._fields import fingerprint, instant, int_at, lookup, text_at
from incident.signals import SecurityEvent

EVENT_TYPES = ("alert", "fileinfo")
DETECTION_FINDING = 2004


def _severity(value: int | None) -> int:
    # Suricata: 1 is the most severe (classification.config priorities 1-4, rules may go higher).
    if value is None:
        return 0
    return {1: 4, 2: 3, 3: 2}.get(value, 1)


def _internal(address: str | None) -> bool:
    if address is None:
        return False
    try:
        return ipaddress.ip_address(address).is_private
    except ValueError:
        return False


def _asset(record: Mapping[str, Any]) -> str:
    # The sensor's name when its EVE output sets one ("host": deployments name the watched system
    # there, and profiles list host names), else the end that is the controller's.
    named = text_at(record, "host", "alert.target.ip")
    if named is not None:
        return named
    source, destination = text_at(record, "src_ip"), text_at(record, "dest_ip")
    for address in (destination, source):
        if _internal(address):
            return address  # type: ignore[return-value]
    return text_at(record, "dest_ip", "src_ip", required=True) or ""


def _mitre_tags(record: Mapping[str, Any]) -> tuple[str, ...]:
    # ET Open rules name techniques in their metadata (mitre_technique_id, older mitre_attack):
    # Sigma's tag for them ("attack.t1190"), as the Wazuh adapter does.
    found: list[str] = []
    for key in ("alert.metadata.mitre_technique_id", "alert.metadata.mitre_attack"):
        value = lookup(record, key)
        for item in value if isinstance(value, list) else []:
            if isinstance(item, str) and item and len(item) <= 32:
                found.append(f"attack.{item.lower()}")
    return tuple(dict.fromkeys(found))


def _title(event_type: str, record: Mapping[str, Any], protocol: str) -> str:
    if event_type == "alert":
        return text_at(record, "alert.signature", required=True) or ""
    return f"File transferred over {protocol}"


def parse(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    if not isinstance(record, Mapping):
        raise InvalidEvent("expected a Suricata EVE record (a JSON object)")
    event_type = text_at(record, "event_type", required=True) or ""
    if event_type not in EVENT_TYPES:
        raise InvalidEvent(f"field 'event_type' is {event_type[:20]!r}: not a security event, only "
                           f"{list(EVENT_TYPES)} are (send flow, netflow, stats, dns, http, anomaly… to your SIEM, "
                           "not here)")
    if not isinstance(record.get(event_type), Mapping):
        raise InvalidEvent(f"missing field '{event_type}' (an object)")
    alert = event_type == "alert"
    protocol = text_at(record, "app_proto") or text_at(record, "proto") or "the network"
    category = "intrusion_detection" if alert else "file"
    return SecurityEvent(
        # flow_id is per flow, not per alert (one flow can fire several rules): the record's
        # own fingerprint is the id, so a redelivered line is still recognised.
        event_id=fingerprint("suricata", record),
        source_format="suricata",
        title=_title(event_type, record, protocol),
        occurred_at=instant(record.get("timestamp"), "timestamp"),
        ingested_at=received_at,
        asset=_asset(record),
        severity=_severity(int_at(record, "alert.severity", low=1, high=255)) if alert else 1,
        category=category,
        rule_id=text_at(record, "alert.signature_id"),
        source_ip=text_at(record, "src_ip"),
        destination_ip=text_at(record, "dest_ip"),
        action=text_at(record, "alert.action") if alert else "file-transfer",
        bytes_out=int_at(record, "flow.bytes_toserver") if alert else int_at(record, "fileinfo.size"),
        destination_domain=text_at(record, "http.hostname", "tls.sni"),
        tags=tuple(t for t in (text_at(record, "alert.category"),) if t) + _mitre_tags(record),
        class_uid=DETECTION_FINDING if alert else None,
        source_port=int_at(record, "src_port", high=65535),
        destination_port=int_at(record, "dest_port", high=65535),
        observer_vendor="OISF",
        observer_product="Suricata",
        file_name=text_at(record, "fileinfo.filename"),
    )
