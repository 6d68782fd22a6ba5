"""Splunk Enterprise Security notable events: a search result from ``index=notable``
(``sourcetype=stash``; the correlation search's fields are in ``_raw`` as ``key="value"``
pairs after the event's epoch time) or a notable expanded by the ``notable`` macro / the
Incident Review API (``rule_name``, ``urgency``, ``security_domain``, ``event_id``).

Fields follow the Splunk Common Information Model: ``dest``/``src``/``user``/``action``. The
asset is the destination the notable names; a notable naming none is attributed to the Splunk
server that raised it (``host``), as a CEF record is to its device.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize._addr import ip_or_none, person
from incident.normalize._fields import MAX_TEXT, fingerprint, instant, text_at
from incident.normalize.epoch import epoch
from incident.signals import SEVERITIES, SecurityEvent

DETECTION_FINDING = 2004
# key="value" pairs of a stash _raw (values escape " and \ with a backslash).
_PAIR = re.compile(r'([\w.:\[\]{}-]+)="((?:[^"\\]|\\.)*)"')
_ASSETS = ("dest", "dest_host", "dest_nt_host", "dest_ip", "orig_host", "dvc", "host")
_USERS = ("user", "src_user", "dest_user", "user_name", "event.UserName")


def is_notable(record: Mapping[str, Any]) -> bool:
    bucket = record.get("_bkt")
    stash = (record.get("index") == "notable" or record.get("sourcetype") == "stash"
             or (isinstance(bucket, str) and bucket.startswith("notable~")))
    expanded = "rule_name" in record and "urgency" in record and ("security_domain" in record or "event_id" in record)
    return (stash and ("_raw" in record or "search_name" in record)) or expanded


def _raw_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """The stash ``_raw`` as fields; a key given several times (``orig_tag``) is a list."""
    raw = record.get("_raw")
    if not isinstance(raw, str) or len(raw) > 16 * MAX_TEXT:
        return {}
    fields: dict[str, Any] = {}
    head = raw.split(",", 1)[0].strip()
    if head.replace(".", "", 1).isdigit():
        fields["_raw_time"] = head
    for key, value in _PAIR.findall(raw):
        value = re.sub(r"\\(.)", r"\1", value)
        if key in fields and key != "_raw_time":
            previous = fields[key]
            fields[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[key] = value
    return fields


def _time(fields: Mapping[str, Any]) -> datetime:
    """The original event's time (``orig_time``), else the notable's (``_time``, ``_raw``'s)."""
    for name in ("orig_time", "_time", "_raw_time"):
        value = fields.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, str) and "T" in value:
            return instant(value, name)
        return epoch(float(value) if isinstance(value, str) and value.replace(".", "", 1).isdigit() else value, name)
    raise InvalidEvent("missing field '_time' (nor orig_time)")


def _tags(fields: Mapping[str, Any]) -> tuple[str, ...]:
    out: list[str] = []
    for name in ("orig_tag", "annotations.mitre_attack.mitre_technique_id", "annotations.mitre_attack"):
        value = fields.get(name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item and len(item) <= MAX_TEXT:
                out.append(item)
    return tuple(dict.fromkeys(out))


def _outcome(tags: tuple[str, ...]) -> str | None:
    if "failure" in tags:
        return "failure"
    return "success" if "success" in tags else None


def parse(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    if not isinstance(record, Mapping):
        raise InvalidEvent("expected a Splunk notable event (a JSON object)")
    fields: dict[str, Any] = {**_raw_fields(record), **{k: v for k, v in record.items() if v not in (None, "")}}

    def first(*names: str) -> str | None:
        for name in names:
            found = person(text_at(fields, name)) if not isinstance(fields.get(name), list) else None
            if found:
                return found
        return None

    title = first("rule_title", "rule_name", "search_name", "source")
    if not title:
        raise InvalidEvent("missing field 'search_name' (nor rule_name, source): no rule names the notable")
    asset = first(*_ASSETS)
    if not asset:
        raise InvalidEvent("missing field 'dest' (nor dest_host, orig_host, dvc, host): no asset")
    tags = _tags(fields)
    urgency = (first("urgency", "severity") or "").lower()
    return SecurityEvent(
        event_id=first("event_id") or fingerprint("splunk", record),
        source_format="splunk",
        title=title,
        occurred_at=_time(fields),
        ingested_at=received_at,
        asset=asset,
        severity=SEVERITIES.get(urgency, 0),
        category=first("security_domain") or "intrusion_detection",
        rule_id=first("rule_id", "search_name", "source"),
        user=first(*_USERS),
        source_ip=ip_or_none(first("src_ip", "src")),
        destination_ip=ip_or_none(first("dest_ip", "dest")),
        action=first("action"),
        outcome=_outcome(tags),
        tags=tags,
        class_uid=DETECTION_FINDING,
        observer_vendor="Splunk",
        observer_product="Splunk Enterprise Security",
        file_name=first("file_name"),
    )
