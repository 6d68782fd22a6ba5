"""AWS CloudTrail records: one record of a trail's log file (the file's ``{"Records": [...]}``
is unwrapped by incident.normalize.envelope, so each record is one event), a CloudTrail Lake or
CloudWatch Logs line, or the record inside an EventBridge event (``detail-type`` "AWS API
Call via CloudTrail", "AWS Console Sign In via CloudTrail"…).

The asset is the account the call was recorded in (``recipientAccountId``): CloudTrail is the
account's own log, and the account is what a profile lists. The bucket or table an API call
touched is the data store.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize._addr import ip_or_none, person
from incident.normalize._fields import fingerprint, instant, text_at
from incident.signals import SecurityEvent

API_ACTIVITY = 6003
AUTHENTICATION = 3002
_SIGN_IN = ("signin.amazonaws.com", "sso.amazonaws.com")
_IAM = ("iam.amazonaws.com", "sts.amazonaws.com", "identitycenter.amazonaws.com", "sso-directory.amazonaws.com")


def is_record(record: Mapping[str, Any]) -> bool:
    return all(k in record for k in ("eventVersion", "eventSource", "eventName")) and (
        "eventTime" in record or "userIdentity" in record)


def is_eventbridge(record: Mapping[str, Any]) -> bool:
    detail = record.get("detail")
    source = record.get("source")
    return (isinstance(source, str) and source.startswith("aws.") and isinstance(detail, Mapping)
            and "via CloudTrail" in str(record.get("detail-type", "")) and "eventName" in detail)


def _user(record: Mapping[str, Any]) -> str | None:
    """The IAM user name; else the last part of the ARN (an assumed role's session name, "root");
    else the AWS service that acted, else the principal id."""
    name = person(text_at(record, "userIdentity.userName"))
    if name:
        return name
    arn = text_at(record, "userIdentity.arn")
    if arn:
        tail = arn.rsplit("/", 1)[-1] if "/" in arn else arn.rsplit(":", 1)[-1]
        if person(tail):
            return tail
    return person(text_at(record, "userIdentity.invokedBy", "userIdentity.principalId"))


def _outcome(record: Mapping[str, Any]) -> str:
    said = text_at(record, "responseElements.ConsoleLogin", "responseElements.CredentialVerification")
    if said:
        return "success" if said.lower() == "success" else "failure"
    return "failure" if text_at(record, "errorCode") or text_at(record, "errorMessage") else "success"


def _data_store(record: Mapping[str, Any]) -> str | None:
    return text_at(record, "requestParameters.bucketName", "requestParameters.tableName",
                   "requestParameters.dBInstanceIdentifier", "requestParameters.dbInstanceIdentifier")


def _title(record: Mapping[str, Any], name: str, source: str, outcome: str) -> str:
    title = f"{name} ({source})"
    if outcome == "failure":
        why = text_at(record, "errorMessage") or text_at(record, "errorCode")
        return f"{title} failed: {why}" if why else f"{title} failed"
    return title


def parse(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    if not isinstance(record, Mapping):
        raise InvalidEvent("expected a CloudTrail record (a JSON object)")
    if is_eventbridge(record):
        record = record["detail"]
    name = text_at(record, "eventName", required=True) or ""
    source = text_at(record, "eventSource", required=True) or ""
    outcome = _outcome(record)
    asset = text_at(record, "recipientAccountId", "userIdentity.accountId")
    if not asset:
        raise InvalidEvent("missing field 'recipientAccountId' (nor userIdentity.accountId): no account to attribute")
    sign_in = source in _SIGN_IN
    return SecurityEvent(
        event_id=text_at(record, "eventID") or fingerprint("cloudtrail", record),
        source_format="cloudtrail",
        title=_title(record, name, source, outcome),
        occurred_at=instant(text_at(record, "eventTime", required=True), "eventTime"),
        ingested_at=received_at,
        asset=asset,
        severity=0,
        category="authentication" if sign_in else "iam" if source in _IAM else "api",
        user=_user(record),
        source_ip=ip_or_none(text_at(record, "sourceIPAddress")),
        data_store=_data_store(record),
        action=name,
        outcome=outcome,
        class_uid=AUTHENTICATION if sign_in else API_ACTIVITY,
        observer_vendor="AWS",
        observer_product="CloudTrail",
    )
