"""GitHub audit log events (organisation or enterprise audit log: the REST API, audit-log
streaming to S3 / Splunk / Azure Event Hubs, the JSON export): ``action``, ``actor``,
``created_at`` (or ``@timestamp``) in epoch milliseconds, ``org``, ``repo``, ``business``.

The asset is the organisation (the GitHub tenant a profile lists), else the enterprise, else
the owner the repository is under; the repository is the data store. An event naming none (a
personal pull request) is refused by name: no system of a controller can be told from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize._addr import ip_or_none
from incident.normalize._fields import fingerprint, instant, text_at
from incident.normalize.epoch import epoch
from incident.signals import SecurityEvent

ACCOUNT_CHANGE = 3001
AUTHENTICATION = 3002
API_ACTIVITY = 6003
_AUTHENTICATION = ("user.login", "user.logout", "user.failed_login", "user.two_factor")
_IAM = ("org.", "team.", "user.", "business.", "enterprise.", "oauth_", "personal_access_token", "org_credential",
        "two_factor", "repo.add_member", "repo.remove_member", "members_can", "role.")
# Actions whose name says the attempt did not go through.
_FAILED = ("rejected", "failed", "failure", "denied")


def is_event(record: Mapping[str, Any]) -> bool:
    action = record.get("action")
    return (isinstance(action, str) and "." in action and isinstance(record.get("actor"), str)
            and ("created_at" in record or "@timestamp" in record) and "event" not in record)


def _occurred(record: Mapping[str, Any]) -> datetime:
    for name in ("@timestamp", "created_at"):
        value = record.get(name)
        if value is None:
            continue
        if isinstance(value, str) and not value.strip().isdigit():
            return instant(value, name)
        return epoch(value, name)
    raise InvalidEvent("missing field 'created_at' (nor @timestamp)")


def parse(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    if not isinstance(record, Mapping):
        raise InvalidEvent("expected a GitHub audit log event (a JSON object)")
    action = text_at(record, "action", required=True) or ""
    repo = text_at(record, "repo")  # "org/name"; an enterprise stream's "repository" is the bare name
    asset = text_at(record, "org", "business", "enterprise") or (repo.split("/", 1)[0] if repo else None)
    if not asset:
        raise InvalidEvent("missing field 'org' (nor repo, business): no organisation, repository or enterprise "
                           "to attribute")
    iam = action.startswith(_IAM)
    authentication = action.startswith(_AUTHENTICATION)
    named = repo or text_at(record, "repository")
    return SecurityEvent(
        event_id=text_at(record, "_document_id") or fingerprint("github", record),
        source_format="github",
        title=f"{action} on {named}" if named else action,
        occurred_at=_occurred(record),
        ingested_at=received_at,
        asset=asset,
        severity=0,
        category="authentication" if authentication else "iam" if iam else "configuration",
        user=text_at(record, "actor"),
        source_ip=ip_or_none(text_at(record, "actor_ip", "actor_location.ip")),
        data_store=repo,
        action=action,
        outcome="failure" if any(word in action for word in _FAILED) else None,
        class_uid=AUTHENTICATION if authentication else ACCOUNT_CHANGE if iam else API_ACTIVITY,
        observer_vendor="GitHub",
        observer_product="GitHub audit log",
    )
