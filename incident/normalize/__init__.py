"""SIEM adapters: each module holds a pure ``parse(record, received_at) -> SecurityEvent``.

``normalize_all()`` takes one Kafka value (bytes), removes shipper envelopes, detects the
format of each record inside (or uses the one forced for the topic) and calls its adapter.
Every failure is an :class:`incident.errors.InvalidEvent` whose reason names the field, or
says what the record is not; a batch's bad element never hides its good ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize import (
    canonical,
    cef,
    cloudtrail,
    ecs,
    falco,
    github,
    guardduty,
    microsoft,
    ocsf,
    okta,
    splunk,
    suricata,
    wazuh,
)
from incident.normalize._fields import lookup
from incident.normalize.admission import admit
from incident.normalize.envelope import unwrap
from incident.signals import SecurityEvent

Parser = Callable[[Any, datetime], SecurityEvent]

ADAPTERS: dict[str, Parser] = {
    "canonical": canonical.parse, "wazuh": wazuh.parse, "ecs": ecs.parse, "ocsf": ocsf.parse,
    "suricata": suricata.parse, "cef": cef.parse, "guardduty": guardduty.parse, "cloudtrail": cloudtrail.parse,
    "okta": okta.parse, "falco": falco.parse, "github": github.parse,
    "microsoft": microsoft.parse, "splunk": splunk.parse,
}
FORMATS = ("auto", *ADAPTERS)


def detect(record: object) -> str:
    """Name the format of one unwrapped record (a JSON object or a CEF line), or raise InvalidEvent."""
    # The common case first: a canonical event has no key any other detector looks at, so
    # the dozen vendor probes below would all say no (about a quarter of normalising it).
    if type(record) is dict and "id" in record and "time" in record and record.keys() <= canonical.KEYS:
        return "canonical"
    return _detect(record)


def _detect(record: object) -> str:
    if isinstance(record, str):
        if cef.is_cef(record):
            return "cef"
        raise InvalidEvent("not JSON and not a CEF line")
    if not isinstance(record, Mapping):
        raise InvalidEvent(f"expected a JSON object, got {type(record).__name__}")
    if "class_uid" in record:
        return "ocsf"
    if "event_type" in record and (any(k in record for k in ("src_ip", "dest_ip", "flow_id", "in_iface"))
                                   or isinstance(record.get(str(record["event_type"])), Mapping)):
        return "suricata"  # EVE names its payload after its type: {"event_type": "stats", "stats": {…}}
    if isinstance(record.get("rule"), Mapping) and "level" in record["rule"] and isinstance(record.get("agent"),
                                                                                            Mapping):
        return "wazuh"
    vendor = _vendor(record)  # before ECS: a GitHub event carries an epoch @timestamp
    if vendor:
        return vendor
    if ecs.is_alert(record) or "@timestamp" in record or any(
            lookup(record, name) is not None for name in ("ecs.version", "event.kind", "event.dataset")):
        return "ecs"
    if "id" in record and "time" in record:
        return "canonical"
    raise InvalidEvent("unrecognised format: not a canonical event (id, time), a Wazuh alert (rule.level, agent), "
                       "an ECS document (@timestamp), an OCSF event (class_uid), a Suricata EVE record "
                       "(event_type, src_ip), a CEF line, a GuardDuty finding, a CloudTrail record, an Okta "
                       "System Log event, a Falco alert, a GitHub audit log event, a Microsoft security alert "
                       "or a Splunk notable event")


def _vendor(record: Mapping[str, Any]) -> str | None:
    """The native formats of one vendor, each told by a combination of keys only it writes."""
    if guardduty.is_finding(record) or guardduty.is_eventbridge(record):
        return "guardduty"
    if cloudtrail.is_record(record) or cloudtrail.is_eventbridge(record):
        return "cloudtrail"
    if okta.is_event(record):
        return "okta"
    if falco.is_alert(record):
        return "falco"
    if github.is_event(record):
        return "github"
    if microsoft.is_alert(record):
        return "microsoft"
    if splunk.is_notable(record):
        return "splunk"
    return None


def normalize(record: object, received_at: datetime, fmt: str = "auto") -> SecurityEvent:
    """One unwrapped record → SecurityEvent; ``fmt`` forces a format (others are refused). What
    the domain cannot take (bad text, impossible times: incident.normalize.admission) is refused."""
    return admit(_parse(record, received_at, fmt), received_at)


def _parse(record: object, received_at: datetime, fmt: str) -> SecurityEvent:
    if fmt not in FORMATS:
        raise InvalidEvent(f"unknown format {fmt!r}; expected one of {list(FORMATS)}")
    if fmt == "auto":
        return ADAPTERS[detect(record)](record, received_at)
    try:
        found = detect(record)
    except InvalidEvent:
        found = fmt  # unrecognised: the forced adapter says which field is missing
    if found != fmt:
        raise InvalidEvent(f"this topic takes {fmt} records only (BREACH_INGEST_FORMAT, BREACH_INGEST_TOPICS); "
                           f"this one is {found}")
    return ADAPTERS[fmt](record, received_at)


def normalize_all(value: object, received_at: datetime, fmt: str = "auto") -> list[SecurityEvent | InvalidEvent]:
    """Every security record in one Kafka value, normalised, in order; failures stay in place
    (with the offending element on ``InvalidEvent.record``) so the caller dead-letters them."""
    out: list[SecurityEvent | InvalidEvent] = []
    for item in unwrap(value):
        if isinstance(item, InvalidEvent):
            out.append(item)
            continue
        try:
            out.append(normalize(item, received_at, fmt))
        except InvalidEvent as exc:
            out.append(InvalidEvent(exc.reason, record=_element(item)))
        except (ArithmeticError, LookupError, TypeError, ValueError, RecursionError) as exc:
            # An adapter's own fault on a shape nobody foresaw: this record's failure, never the
            # batch's. Named by type only (the message may quote the record's content).
            out.append(InvalidEvent(f"could not be read: {type(exc).__name__} in the adapter", record=_element(item)))
    return out


def _element(item: object) -> bytes:
    """The rejected element itself, as bytes, for the dead letter."""
    if isinstance(item, str):
        return item.encode("utf-8", "surrogatepass")
    try:
        text = json.dumps(item, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return f"<unserialisable {type(item).__name__}>".encode()
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: escaped again (\ud800), as the sender wrote it
        return json.dumps(item).encode("ascii")
