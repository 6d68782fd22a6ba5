"""Suricata EVE JSON: ``alert`` events, and ``fileinfo`` (a file seen crossing the wire).

Suricata writes EVE to files, sockets or redis, never to Kafka: these records arrive through
a shipper (Filebeat, Logstash, Vector), which the envelope unwrapping removes first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize._fields import fingerprint, instant, int_at, text_at
from incident.signals import SecurityEvent

EVENT_TYPES = ("alert", "fileinfo")
DETECTION_FINDING = 2004


def _severity(value: int | None) -> int:
    # Suricata: 1 is the most severe (classification.config priorities 1-4, rules may go higher).
    if value is None:
        return 0
    return {1: 4, 2: 3, 3: 2}.get(value, 1)


def parse(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    if not isinstance(record, Mapping):
        raise InvalidEvent("expected a Suricata EVE record (a JSON object)")
    event_type = text_at(record, "event_type", required=True)
    if event_type not in EVENT_TYPES:
        raise InvalidEvent(f"field 'event_type' is {str(event_type)[:20]!r}; only {list(EVENT_TYPES)} are security "
                           "events (send flow, dns, http… to your SIEM, not here)")
    alert = event_type == "alert"
    if alert and not isinstance(record.get("alert"), Mapping):
        raise InvalidEvent("missing field 'alert' (an object)")
    if not alert and not isinstance(record.get("fileinfo"), Mapping):
        raise InvalidEvent("missing field 'fileinfo' (an object)")
    signature = text_at(record, "alert.signature", required=alert)
    protocol = text_at(record, "app_proto") or text_at(record, "proto") or "the network"
    return SecurityEvent(
        # flow_id is per flow, not per alert (one flow can fire several rules): the record's
        # own fingerprint is the id, so a redelivered line is still recognised.
        event_id=fingerprint("suricata", record),
        source_format="suricata",
        title=signature or f"File transferred over {protocol}",
        occurred_at=instant(record.get("timestamp"), "timestamp"),
        ingested_at=received_at,
        # The sensor's name when the EVE output sets one ("host"), else the monitored address.
        asset=text_at(record, "host", "dest_ip", "src_ip", required=True) or "",
        severity=_severity(int_at(record, "alert.severity", low=1, high=255)) if alert else 1,
        category="intrusion_detection" if alert else "file",
        rule_id=text_at(record, "alert.signature_id"),
        source_ip=text_at(record, "src_ip"),
        destination_ip=text_at(record, "dest_ip"),
        action=text_at(record, "alert.action") if alert else "file-transfer",
        bytes_out=int_at(record, "flow.bytes_toserver") if alert else int_at(record, "fileinfo.size"),
        destination_domain=text_at(record, "http.hostname", "tls.sni"),
        tags=tuple(t for t in (text_at(record, "alert.category"),) if t),
        class_uid=DETECTION_FINDING if alert else None,
        source_port=int_at(record, "src_port", high=65535),
        destination_port=int_at(record, "dest_port", high=65535),
        observer_vendor="OISF",
        observer_product="Suricata",
        file_name=text_at(record, "fileinfo.filename"),
    )
