"""AWS GuardDuty findings: the native finding (GetFindings, S3 export, Security Hub's copy is
not this shape) and the same finding inside an EventBridge event (``detail-type`` "GuardDuty
Finding", ``detail`` the finding). The AWS CLI and SDKs print keys in PascalCase
(``AccountId``), the console and EventBridge in camelCase; both are read.

The asset is the ARN of the resource the finding is about (instance, EKS cluster, RDS instance,
Lambda function, ECS cluster), which a profile's resource prefixes and cloud accounts both
match, else the account (an S3 bucket is the finding's data store): never "GuardDuty", which
names no system of the controller. ``occurred_at`` is when the activity was first seen: an updated finding keeps
its id and its first time, so a re-sent finding is a duplicate, not a new event.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize._addr import ip_or_none
from incident.normalize._fields import fingerprint, instant, int_at, lookup, text_at
from incident.signals import SecurityEvent

DETECTION_FINDING = 2004
# Action type → the key of its details under service.action.
_ACTIONS = ("awsApiCallAction", "networkConnectionAction", "portProbeAction", "dnsRequestAction",
            "kubernetesApiCallAction", "rdsLoginAttemptAction", "kubernetesPermissionCheckedAction",
            "kubernetesRoleBindingDetails")
# resourceType → (details, the key holding the resource's ARN, the key naming it, the ARN's
# service and resource path when the finding gives only the name).
_RESOURCES = {"Instance": ("instanceDetails", None, "instanceId", "ec2", "instance/"),
              "Container": ("instanceDetails", None, "instanceId", "ec2", "instance/"),
              "EKSCluster": ("eksClusterDetails", "arn", "name", "eks", "cluster/"),
              "RDSDBInstance": ("rdsDbInstanceDetails", "dbInstanceArn", "dbInstanceIdentifier", "rds", "db:"),
              "Lambda": ("lambdaDetails", "functionArn", "functionName", "lambda", "function:"),
              "ECSCluster": ("ecsClusterDetails", "arn", "name", "ecs", "cluster/")}
# Actions whose local side is the instance's own address.
_NETWORK_ACTIONS = ("NETWORK_CONNECTION", "PORT_PROBE")


def _camel(value: Any, depth: int = 0) -> Any:
    """The finding with every key's first letter lower-cased (the CLI's PascalCase → the API's camelCase)."""
    if depth > 30:
        raise InvalidEvent("GuardDuty finding nested too deeply")
    if isinstance(value, Mapping):
        return {(k[:1].lower() + k[1:] if isinstance(k, str) else k): _camel(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v, depth + 1) for v in value]
    return value


def is_eventbridge(record: Mapping[str, Any]) -> bool:
    return record.get("source") == "aws.guardduty" and isinstance(record.get("detail"), Mapping)


def is_finding(record: Mapping[str, Any]) -> bool:
    """A native finding: schemaVersion, a type, and the GuardDuty service block or ARN."""
    get = record.get
    if not ((get("schemaVersion") or get("SchemaVersion")) and (get("type") or get("Type"))):
        return False
    arn = get("arn") or get("Arn")
    service = get("service") or get("Service")
    return (isinstance(arn, str) and ":guardduty:" in arn) or (
        isinstance(service, Mapping) and (service.get("serviceName") or service.get("ServiceName")) == "guardduty")


def _severity(value: object) -> int:
    """GuardDuty's 1.0–10.0 scale: low < 4 ≤ medium < 7 ≤ high < 9 ≤ critical."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise InvalidEvent("field 'severity' must be a number 1-10") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 10:
        raise InvalidEvent("field 'severity' must be a number 1-10")
    return 0 if value == 0 else 2 if value < 4 else 3 if value < 7 else 4 if value < 9 else 5


def _asset(finding: Mapping[str, Any]) -> str:
    """The ARN of the resource the finding's ``resourceType`` names (as given, else in AWS's ARN
    format from the finding's partition, region and account), so that a profile's resource
    prefixes and its cloud accounts both match; an S3 finding, an access key or a type we do not
    know is the account's (a bucket ARN names no account; the bucket is the data store)."""
    account = text_at(finding, "accountId")
    resource = finding.get("resource")
    resource = resource if isinstance(resource, Mapping) else {}
    kind = text_at(resource, "resourceType")
    if kind in _RESOURCES:
        key, arn_key, name_key, service, path = _RESOURCES[kind]
        details = resource.get(key)
        arn = text_at(details, arn_key) if arn_key else None
        if arn and arn.startswith("arn:"):
            return arn
        name = text_at(details, name_key)
        region, partition = text_at(finding, "region"), text_at(finding, "partition") or "aws"
        if name and region and account:
            return f"arn:{partition}:{service}:{region}:{account}:{path}{name}"
    if not account:
        raise InvalidEvent("missing field 'accountId' (nor a resource the finding names): no asset to attribute")
    return account


def _bucket(finding: Mapping[str, Any]) -> str | None:
    buckets = lookup(finding, "resource.s3BucketDetails")
    for bucket in buckets if isinstance(buckets, list) else []:
        found = text_at(bucket, "name")
        if found:
            return found
    return None


def _action(finding: Mapping[str, Any]) -> Mapping[str, Any]:
    action = lookup(finding, "service.action")
    if not isinstance(action, Mapping):
        return {}
    for key in _ACTIONS:
        if isinstance(action.get(key), Mapping):
            return action[key]  # type: ignore[no-any-return]
    return {}


def _remote_ip(details: Mapping[str, Any]) -> str | None:
    return ip_or_none(text_at(details, "remoteIpDetails.ipAddressV4", "remoteIpDetails.ipAddressV6")) or next(
        (ip for ip in (ip_or_none(v) for v in details.get("sourceIPs") or [] if isinstance(v, str)) if ip), None)


def _local_ip(finding: Mapping[str, Any], details: Mapping[str, Any]) -> str | None:
    local = ip_or_none(text_at(details, "localIpDetails.ipAddressV4", "localIpDetails.ipAddressV6"))
    if local:
        return local
    interfaces = lookup(finding, "resource.instanceDetails.networkInterfaces")
    if isinstance(interfaces, list) and interfaces:
        return ip_or_none(text_at(interfaces[0], "privateIpAddress"))
    return None


Ends = tuple[str | None, str | None, int | None, int | None]


def _endpoints(finding: Mapping[str, Any], details: Mapping[str, Any]) -> Ends:
    """(source IP, destination IP, source port, destination port): the remote side is the
    source, the instance the destination, unless the connection went out. A port probe's
    first probe stands for the others."""
    probes = details.get("portProbeDetails")
    if isinstance(probes, list) and probes:
        details = probes[0] if isinstance(probes[0], Mapping) else {}
    remote = _remote_ip(details)
    network = text_at(finding, "service.action.actionType") in _NETWORK_ACTIONS
    local = _local_ip(finding, details) if network else None
    remote_port = int_at(details, "remotePortDetails.port", high=65535)
    local_port = int_at(details, "localPortDetails.port", high=65535)
    if text_at(details, "connectionDirection") == "OUTBOUND":
        return local, remote, local_port, remote_port
    return remote, (local if remote else None), remote_port, local_port


def _user(finding: Mapping[str, Any]) -> str | None:
    return text_at(finding, "resource.accessKeyDetails.userName",
                   "resource.kubernetesDetails.kubernetesUserDetails.username",
                   "resource.rdsDbUserDetails.user", "resource.rdsLimitlessDbUserDetails.user",
                   "service.runtimeDetails.process.user")


def _outcome(details: Mapping[str, Any]) -> str | None:
    status = details.get("statusCode")
    if isinstance(status, int) and not isinstance(status, bool):
        return "success" if status < 400 else "failure"
    if text_at(details, "errorCode"):
        return "failure"
    return None


def parse(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    if not isinstance(record, Mapping):
        raise InvalidEvent("expected a GuardDuty finding (a JSON object)")
    finding = record["detail"] if is_eventbridge(record) else record
    if "SchemaVersion" in finding or "AccountId" in finding:  # the CLI's PascalCase; the API's is camelCase
        finding = _camel(finding)
    details = _action(finding)
    when_field = "service.eventFirstSeen" if lookup(finding, "service.eventFirstSeen") else "createdAt"
    source_ip, destination_ip, source_port, destination_port = _endpoints(finding, details)
    kind = text_at(finding, "type", required=True)
    return SecurityEvent(
        event_id=text_at(finding, "id", "arn") or fingerprint("guardduty", finding),
        source_format="guardduty",
        title=(text_at(finding, "title") or kind or "").strip(),
        occurred_at=instant(text_at(finding, when_field, required=True), when_field),
        ingested_at=received_at,
        asset=_asset(finding),
        severity=_severity(finding.get("severity", 0)),
        category="intrusion_detection",
        rule_id=kind,
        user=_user(finding),
        source_ip=source_ip,
        destination_ip=destination_ip,
        action=text_at(details, "api") or text_at(finding, "service.action.actionType"),
        outcome=_outcome(details),
        destination_domain=text_at(details, "domain"),
        data_store=_bucket(finding) or text_at(finding, "resource.rdsDbUserDetails.database"),
        tags=tuple(p for p in (kind or "").replace(":", "/").split("/")[:1] if p),
        class_uid=DETECTION_FINDING,
        source_port=source_port,
        destination_port=destination_port,
        observer_vendor="AWS",
        observer_product="GuardDuty",
    )
