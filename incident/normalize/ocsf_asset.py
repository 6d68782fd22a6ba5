"""Which of the controller's systems an OCSF event concerns (issue 15).

In order: the device the event happened on; the cloud resource it names (ARN, instance,
IP of an infected device); the cloud account, project or SaaS tenant; a host the producer
named only among its observables; the data store or endpoint host; the internal side of the
flow. The product that reported the event ("GuardDuty", "Okta System Log") names no system of
the controller, so it comes last, only so that an event naming nothing else is still kept.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize._fields import text_at

_DEVICE = ("device.hostname", "device.name")
_ACCOUNT = ("cloud.account.uid", "cloud.account_uid", "cloud.project_uid", "actor.user.account.uid",
            "actor.user.account_uid", "metadata.tenant_uid", "cloud.org.uid")
# Observables by the names producers give a host of the controller (QRadar: local_*).
_OBSERVED_HOST = ("hostname", "device.hostname", "device.name", "dst_endpoint.hostname", "local_destination_address")
_ENDPOINT = ("dst_endpoint.hostname", "database.name", "databucket.name", "device.ip")
_LAST = ("api.service.name", "metadata.product.name")


def asset(record: Mapping[str, Any]) -> str:
    found = (text_at(record, *_DEVICE) or _resource(record) or text_at(record, *_ACCOUNT)
             or _observed(record) or text_at(record, *_ENDPOINT) or _internal_side(record)
             or text_at(record, *_LAST))
    if not found:
        raise InvalidEvent("missing field 'device.hostname' (nor a resource, a cloud account or tenant, "
                           "an endpoint or metadata.product.name): no asset to attribute")
    return found


def _resource(record: Mapping[str, Any]) -> str | None:
    resources = record.get("resources")
    candidates = resources if isinstance(resources, list) else []
    if isinstance(record.get("resource"), Mapping):
        candidates = [record["resource"], *candidates]
    for key in ("uid", "name"):
        for resource in candidates:
            value = text_at(resource, key)
            if value:
                return value
    return None


def _observed(record: Mapping[str, Any]) -> str | None:
    observables = record.get("observables")
    if not isinstance(observables, list):
        return None
    for name in _OBSERVED_HOST:
        for observable in observables:
            if isinstance(observable, Mapping) and observable.get("name") == name:
                value = text_at(observable, "value")
                if value:
                    return value
    return None


def _internal_side(record: Mapping[str, Any]) -> str | None:
    for path in ("dst_endpoint.ip", "src_endpoint.ip"):
        value = text_at(record, path)
        if value:
            try:
                ip = ipaddress.ip_address(value)
            except ValueError:
                continue
            if ip.is_private and not ip.is_loopback:
                return value
    return None
