"""SIEM adapters: each module holds a pure ``parse(record, received_at) -> SecurityEvent``.

``normalize()`` detects the format of one decoded record and calls its adapter. Every
adapter raises :class:`incident.errors.InvalidEvent` with a reason a person can act on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize import canonical, wazuh
from incident.signals import SecurityEvent

Parser = Callable[[Mapping[str, Any], datetime], SecurityEvent]

ADAPTERS: dict[str, Parser] = {"canonical": canonical.parse, "wazuh": wazuh.parse}


def detect(record: Mapping[str, Any]) -> str:
    """Name the format of a decoded record, or raise InvalidEvent."""
    if isinstance(record.get("rule"), Mapping) and isinstance(record.get("agent"), Mapping):
        return "wazuh"
    if "id" in record and "time" in record:
        return "canonical"
    raise InvalidEvent("unrecognised format: neither a canonical event (id, time) nor a Wazuh alert (rule, agent)")


def normalize(record: object, received_at: datetime) -> SecurityEvent:
    """One decoded JSON value → SecurityEvent, whatever SIEM produced it."""
    if not isinstance(record, Mapping):
        raise InvalidEvent(f"expected a JSON object, got {type(record).__name__}")
    return ADAPTERS[detect(record)](record, received_at)
