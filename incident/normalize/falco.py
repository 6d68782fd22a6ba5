"""Falco alerts in its JSON output (``json_output: true``; falcosidekick forwards the same
object, with a ``uuid``): ``time``, ``rule``, ``priority``, ``output`` and ``output_fields``.

The asset is the machine the syscall happened on: ``hostname`` (the node Falco runs on), else
the Kubernetes node, pod or container the fields name. Plugin sources (k8s_audit, cloudtrail,
okta…) carry their user and addresses under their own field names.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize._addr import ip_or_none, person
from incident.normalize._fields import fingerprint, instant, int_at, strings_at, text_at
from incident.signals import SecurityEvent

DETECTION_FINDING = 2004
_SEVERITIES = {"emergency": 5, "alert": 5, "critical": 5, "error": 4, "warning": 3, "notice": 2,
               "informational": 1, "info": 1, "debug": 1}
_USERS = ("user.name", "ka.user.name", "ct.user", "okta.actor.name", "github.user", "user.loginname")
_ASSETS = ("k8s.node.name", "k8s.pod.name", "container.name", "container.id", "ct.request.bucket")
_FILE_EVENTS = ("open", "openat", "openat2", "creat", "unlink", "unlinkat", "rename", "renameat", "renameat2")


def is_alert(record: Mapping[str, Any]) -> bool:
    return (isinstance(record.get("rule"), str) and isinstance(record.get("priority"), str)
            and "output" in record and "time" in record)


def _field(fields: Mapping[str, Any], name: str) -> str | None:
    """An output field by its Falco name ("user.name"): always a flat key, never a path."""
    value = fields.get(name)
    if value is None or isinstance(value, (Mapping, list, bool)):
        return None
    return text_at({"v": value}, "v") if value != "<NA>" else None


def _first(fields: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        found = person(_field(fields, name))
        if found:
            return found
    return None


def _outcome(fields: Mapping[str, Any]) -> str | None:
    if fields.get("evt.failed") is True:
        return "failure"
    result = _field(fields, "evt.res")
    if result is None:
        return None
    return "success" if result == "SUCCESS" else "failure"


def parse(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    if not isinstance(record, Mapping):
        raise InvalidEvent("expected a Falco alert (a JSON object)")
    fields = record.get("output_fields")
    if not isinstance(fields, Mapping):
        fields = {}
    rule = text_at(record, "rule", required=True) or ""
    priority = text_at(record, "priority") or ""
    asset = person(text_at(record, "hostname")) or _first(fields, _ASSETS)
    if not asset:
        raise InvalidEvent("missing field 'hostname' (nor k8s.node.name, k8s.pod.name, container.name in "
                           "output_fields): no asset to attribute")
    event_type = _field(fields, "evt.type")
    path = _field(fields, "fd.name")
    return SecurityEvent(
        event_id=text_at(record, "uuid") or fingerprint("falco", record),
        source_format="falco",
        title=rule,
        occurred_at=instant(text_at(record, "time", required=True), "time"),
        ingested_at=received_at,
        asset=asset,
        severity=_SEVERITIES.get(priority.lower(), 0),
        category="intrusion_detection",
        rule_id=rule,
        user=_first(fields, _USERS),
        source_ip=ip_or_none(_field(fields, "fd.cip")) or ip_or_none(_field(fields, "ct.srcip")),
        destination_ip=ip_or_none(_field(fields, "fd.sip")),
        action=event_type or _field(fields, "ka.verb") or _field(fields, "ct.name"),
        outcome=_outcome(fields),
        tags=strings_at(record, "tags"),
        class_uid=DETECTION_FINDING,
        source_port=int_at(fields, "fd.cport", high=65535) if "fd.cport" in fields else None,
        destination_port=int_at(fields, "fd.sport", high=65535) if "fd.sport" in fields else None,
        observer_vendor="Falco",
        observer_product="Falco",
        file_name=(posixpath.basename(path) if path and path.startswith("/") and _file_event(fields, event_type)
                   else None),
    )


def _file_event(fields: Mapping[str, Any], event_type: str | None) -> bool:
    """An open/create/rename of ``fd.name``: told by the syscall, or, for a custom rule whose
    output leaves ``evt.type`` out, by the open flags it shows (``O_WRONLY|O_CREAT``…)."""
    if event_type is not None:
        return event_type in _FILE_EVENTS
    flags = _field(fields, "evt.arg.flags") or ""
    return any(flag.startswith("O_") for flag in flags.split("|"))
