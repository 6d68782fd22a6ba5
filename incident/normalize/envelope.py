"""Shipper envelopes, removed before any format is parsed.

One Kafka record may hold several security records: a JSON array (a batch), several JSON
objects one after another (Splunk HEC bodies, NDJSON), an Azure Event Hubs ``records``
array. And a record is often wrapped: Filebeat/Logstash put the original line in
``message`` beside ``@metadata``; Splunk HEC puts it in ``event``; a record read back from
Elasticsearch / OpenSearch (the Wazuh indexer) is a search hit's ``_source``, or a whole search
response's ``hits.hits``; AWS Network Firewall puts Suricata's EVE in ``event``. ``unwrap`` turns one
Kafka value into the list of records inside, each a JSON object or a CEF line — or an
InvalidEvent for a piece that is neither, so one bad element never hides the good ones.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from incident.errors import InvalidEvent
from incident.normalize.cef import is_cef

# A record nested deeper than this (HEC inside Filebeat inside a batch…) is a mistake or an
# attack; the limit keeps unwrapping linear.
MAX_DEPTH = 4
MAX_ITEMS = 10_000
SHIPPER_KEYS = ("@metadata", "@version", "input", "log", "agent", "ecs", "fields")
HEC_KEYS = ("time", "host", "source", "sourcetype", "index", "fields")
# A search hit's own keys (Elasticsearch / OpenSearch), and what Logstash's elasticsearch input
# adds beside ``_source`` when it copies hits (docinfo): none of them is the security record.
HIT_KEYS = frozenset({"_index", "_id", "_type", "_score", "_version", "_seq_no", "_primary_term", "_routing",
                      "_ignored", "_shard", "_node", "_explanation", "sort", "fields", "highlight",
                      "matched_queries", "inner_hits", "@version", "@timestamp", "@metadata"})
SEARCH_RESPONSE_KEYS = frozenset({"took", "timed_out", "_shards", "hits", "aggregations", "_scroll_id",
                                  "pit_id", "terminated_early", "num_reduce_phases", "profile", "status"})
AWS_FIREWALL_KEYS = frozenset({"firewall_name", "availability_zone", "event_timestamp", "event"})
ODATA_KEYS = {"value", "@odata.context", "@odata.nextLink", "@odata.count"}
OKTA_HOOK = "com.okta.event_hook"
OKTA_ORG = "_okta_org"  # set on each event of an Okta Event Hook: the org its source URL names
# A DNS host name; Okta's documented samples name the org "{yourOktaDomain}", which names none.
_HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")

Item = Mapping[str, Any] | str | InvalidEvent
_DECODER = json.JSONDecoder()  # stateless between calls (json.loads shares one the same way); built once


def decode_text(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidEvent(f"not UTF-8 text: invalid byte at position {exc.start}") from None


def unwrap(value: object) -> list[Item]:
    """Every security record inside one Kafka value (bytes, text or decoded JSON)."""
    out: list[Item] = []
    try:
        if isinstance(value, bytes | bytearray):
            value = decode_text(bytes(value))
        _unwrap(value, 0, out)
    except InvalidEvent as exc:
        out.append(exc)
    if len(out) > MAX_ITEMS:
        return [InvalidEvent(f"batch holds more than {MAX_ITEMS} records: split it")]
    return out or [InvalidEvent("empty record: no JSON value and no CEF line")]


def _unwrap(value: object, depth: int, out: list[Item]) -> None:
    if depth > MAX_DEPTH:
        out.append(InvalidEvent(f"envelopes nested more than {MAX_DEPTH} deep"))
    elif isinstance(value, str):
        _text(value, depth, out)
    elif isinstance(value, list):
        for element in value:
            _unwrap(element, depth + 1, out)
    elif isinstance(value, Mapping):
        inner = _inner(value)
        if inner is None:
            out.append(value)
        else:
            _unwrap(inner, depth + 1, out)
    else:
        out.append(InvalidEvent(f"expected a JSON object, got {type(value).__name__}"))


def _inner(record: Mapping[str, Any]) -> object | None:
    """What an envelope wraps, or None when the record is itself the security record."""
    found = _search_result(record)
    if found is not None:
        return found
    records = record.get("records", record.get("Records"))
    if isinstance(records, list) and len(record) == 1:  # Azure Event Hubs / Monitor export; CloudTrail log file
        return records
    value = record.get("value")
    if isinstance(value, list) and set(record) <= ODATA_KEYS:  # a Microsoft Graph / Defender API page
        return value
    if record.get("eventType") == OKTA_HOOK:
        return _okta_hook(record)
    event = record.get("event")
    if event is not None and set(record) - {"event"} <= set(HEC_KEYS) and not isinstance(record.get("host"), Mapping):
        # Splunk HEC: {"time", "host", …, "event": {...} | "..."}. An ECS document also has an
        # "event" object, but beside @timestamp and a host *object*, never alone with HEC's keys.
        return event  # type: ignore[no-any-return]
    message = record.get("message")
    if isinstance(message, str) and any(k in record for k in SHIPPER_KEYS) and _wrapped(message):
        return message  # Filebeat / Logstash: the original line, when it is JSON or CEF
    return None


def _search_result(record: Mapping[str, Any]) -> object | None:
    """A search hit's ``_source``, a search response's hits, or AWS Network Firewall's ``event``.

    Only when every other key belongs to the envelope: a record that merely has a ``hits`` or
    ``event`` field of its own is left alone.
    """
    source = record.get("_source")
    if isinstance(source, Mapping) and set(record) - {"_source"} <= HIT_KEYS:
        return source
    hits = record.get("hits")
    found = hits.get("hits") if isinstance(hits, Mapping) else None
    if isinstance(found, list) and "took" in record and set(record) <= SEARCH_RESPONSE_KEYS:
        return found
    event = record.get("event")
    if isinstance(event, Mapping) and "firewall_name" in record and set(record) <= AWS_FIREWALL_KEYS:
        return event
    return None


def _okta_hook(record: Mapping[str, Any]) -> object:
    """An Okta Event Hook delivery: its System Log events, each told the org (``source`` is
    ``https://<org>/api/v1/eventHooks/…``), which a LogEvent itself never names."""
    data = record.get("data")
    events = data.get("events") if isinstance(data, Mapping) else None
    if not isinstance(events, list):
        raise InvalidEvent("field 'data.events' of an Okta Event Hook must be a list")
    source = record.get("source")
    try:
        org = urlsplit(source).hostname if isinstance(source, str) else None
    except ValueError:
        org = None
    if org and not _HOST_NAME.fullmatch(org):
        org = None
    return [{**event, OKTA_ORG: org} if org and isinstance(event, Mapping) else event for event in events]


def _wrapped(message: str) -> bool:
    stripped = message.lstrip()
    return stripped.startswith(("{", "[")) or is_cef(stripped)


def _text(text: str, depth: int, out: list[Item]) -> None:
    stripped = text.strip().lstrip("\ufeff")
    if not stripped:
        out.append(InvalidEvent("empty record: no JSON value and no CEF line"))
        return
    if stripped[0] not in "{[" and is_cef(stripped):
        for line in filter(None, (line.strip() for line in stripped.splitlines())):
            out.append(line if is_cef(line) else InvalidEvent("not a CEF line: no 'CEF:' marker"))
    else:
        _json_stream(stripped, depth, out)


def _json_stream(text: str, depth: int, out: list[Item]) -> None:
    """One JSON value, or several back to back (HEC batches, NDJSON)."""
    decoder = _DECODER
    position = 0
    while position < len(text):
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:  # neither JSON nor CEF (CEF text was taken above)
            out.append(InvalidEvent(f"not JSON: {exc}"))
            return
        except (ValueError, RecursionError) as exc:  # over-long numbers, absurd nesting
            reason = "nested too deeply" if isinstance(exc, RecursionError) else "a number is too long"
            out.append(InvalidEvent(f"not JSON we accept: {reason}"))
            return
        _unwrap(value, depth + 1, out)
        position = end
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
