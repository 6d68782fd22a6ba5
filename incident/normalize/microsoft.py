"""Microsoft security alerts, in the three shapes SIEM pipelines receive them:

- Microsoft Graph security ``alerts_v2`` (Defender XDR: Endpoint, Identity, Office 365, Cloud
  Apps…): ``@odata.type`` ``#microsoft.graph.security.alert``, typed ``evidence``;
- the Microsoft Defender for Endpoint API alert (``/api/alerts``): ``alertCreationTime``,
  ``machineId``, ``computerDnsName``;
- a Microsoft Sentinel ``SecurityAlert``: the ARM entity (``kind: SecurityAlert`` with
  ``properties``) or the Log Analytics row (``SystemAlertId``, ``AlertName``);
- a Microsoft Defender for Cloud alert (``type: Microsoft.Security/Locations/alerts`` with
  ``properties``), the shape its REST API and continuous export to an Event Hub give; its
  ``entities`` name the account and the IP address, ``techniques`` the MITRE techniques;
- a Microsoft Defender XDR streaming API row (``category: AdvancedHunting-<Table>``):
  incident.normalize.defender_xdr.

The asset is the device the alert names, else the cloud resource or subscription, else the
Entra tenant — never "Microsoft Defender".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from incident.errors import InvalidEvent
from incident.normalize import defender_xdr
from incident.normalize._addr import ip_or_none, person
from incident.normalize._fields import fingerprint, instant, strings_at, text_at
from incident.signals import SecurityEvent

DETECTION_FINDING = 2004
_SEVERITIES = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
GRAPH_ALERT = "#microsoft.graph.security.alert"
DEFENDER_FOR_CLOUD = "microsoft.security/locations/alerts"


def is_graph_alert(record: Mapping[str, Any]) -> bool:
    return record.get("@odata.type") == GRAPH_ALERT or ("providerAlertId" in record and "serviceSource" in record)


def is_defender_alert(record: Mapping[str, Any]) -> bool:
    return "alertCreationTime" in record and ("machineId" in record or "computerDnsName" in record)


def is_defender_for_cloud_alert(record: Mapping[str, Any]) -> bool:
    kind = record.get("type")
    return (isinstance(kind, str) and kind.lower() == DEFENDER_FOR_CLOUD
            and isinstance(record.get("properties"), Mapping))


def is_sentinel_alert(record: Mapping[str, Any]) -> bool:
    return (record.get("kind") == "SecurityAlert" and isinstance(record.get("properties"), Mapping)) or (
        "SystemAlertId" in record and "AlertName" in record) or is_defender_for_cloud_alert(record)


def is_alert(record: Mapping[str, Any]) -> bool:
    return (is_graph_alert(record) or is_defender_alert(record) or is_sentinel_alert(record)
            or defender_xdr.is_record(record))


def _severity(value: str | None) -> int:
    return _SEVERITIES.get(value.lower(), 0) if value else 0


def _evidence(record: Mapping[str, Any], kind: str) -> list[Mapping[str, Any]]:
    """Graph evidence of one ``@odata.type`` (``deviceEvidence``…), or Defender API evidence of
    one ``entityType`` (``User``…), in order."""
    evidence = record.get("evidence")
    items = evidence if isinstance(evidence, list) else [evidence] if isinstance(evidence, Mapping) else []
    return [e for e in items if isinstance(e, Mapping)
            and (e.get("@odata.type") == f"#microsoft.graph.security.{kind}" or e.get("entityType") == kind)]


def _first(items: list[Mapping[str, Any]], *paths: str) -> str | None:
    for item in items:
        found = person(text_at(item, *paths))
        if found:
            return found
    return None


def _graph(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    when = "firstActivityDateTime" if record.get("firstActivityDateTime") else "createdDateTime"
    asset = (_first(_evidence(record, "deviceEvidence"), "deviceDnsName", "mdeDeviceId")
             or _first(_evidence(record, "azureResourceEvidence"), "resourceId")
             or _first(_evidence(record, "mailboxEvidence"), "primaryAddress")
             or text_at(record, "tenantId"))
    if not asset:
        raise InvalidEvent("missing field 'tenantId' (nor a device, resource or mailbox in evidence): no asset")
    user = (_first(_evidence(record, "userEvidence"), "userAccount.userPrincipalName", "userAccount.accountName")
            or _first(_evidence(record, "processEvidence"), "userAccount.userPrincipalName", "userAccount.accountName"))
    return SecurityEvent(
        event_id=text_at(record, "id", "providerAlertId") or fingerprint("microsoft", record),
        source_format="microsoft",
        title=text_at(record, "title", required=True) or "",
        occurred_at=instant(text_at(record, when, required=True), when),
        ingested_at=received_at,
        asset=asset,
        severity=_severity(text_at(record, "severity")),
        category="intrusion_detection",
        rule_id=text_at(record, "detectorId", "alertPolicyId"),
        user=user,
        source_ip=ip_or_none(_first(_evidence(record, "ipEvidence"), "ipAddress")),
        tags=strings_at(record, "mitreTechniques"),
        class_uid=DETECTION_FINDING,
        observer_vendor="Microsoft",
        observer_product=text_at(record, "serviceSource"),
        file_name=_first(_evidence(record, "fileEvidence"), "fileDetails.fileName"),
    )


def _defender(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    when = "firstEventTime" if record.get("firstEventTime") else "alertCreationTime"
    asset = text_at(record, "computerDnsName", "machineId", "aadTenantId")
    if not asset:
        raise InvalidEvent("missing field 'computerDnsName' (nor machineId, aadTenantId): no asset")
    return SecurityEvent(
        event_id=text_at(record, "id") or fingerprint("microsoft", record),
        source_format="microsoft",
        title=text_at(record, "title", required=True) or "",
        occurred_at=instant(text_at(record, when, required=True), when),
        ingested_at=received_at,
        asset=asset,
        severity=_severity(text_at(record, "severity")),
        category="intrusion_detection",
        rule_id=text_at(record, "detectorId"),
        user=person(text_at(record, "relatedUser.userName")) or _first(
            _evidence(record, "User"), "userPrincipalName", "accountName"),
        source_ip=ip_or_none(_first(_evidence(record, "Ip"), "ipAddress")),
        tags=strings_at(record, "mitreTechniques"),
        class_uid=DETECTION_FINDING,
        observer_vendor="Microsoft",
        observer_product="Microsoft Defender for Endpoint",
        file_name=_first(_evidence(record, "File"), "fileName"),
    )


def _entities(alert: Mapping[str, Any], kind: str) -> list[Mapping[str, Any]]:
    """The ARM alert's ``entities`` of one ``type`` (``account``, ``ip``…), in order."""
    entities = alert.get("entities")
    return [e for e in entities if isinstance(e, Mapping) and str(e.get("type", "")).lower() == kind] if isinstance(
        entities, list) else []


def _sentinel(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    arm = isinstance(record.get("properties"), Mapping)
    alert: Mapping[str, Any] = record["properties"] if arm else record

    def field(camel: str, pascal: str) -> str | None:
        return text_at(alert, camel if arm else pascal)

    when = next((name for name in (("startTimeUtc", "timeGenerated") if arm else ("StartTime", "TimeGenerated"))
                 if alert.get(name)), None)
    if when is None:
        raise InvalidEvent("missing field 'startTimeUtc' (nor timeGenerated)")
    resources = alert.get("resourceIdentifiers")
    resource = resources[0] if isinstance(resources, list) and resources and isinstance(resources[0], Mapping) else {}
    asset = (field("compromisedEntity", "CompromisedEntity") or text_at(resource, "resourceId", "subscriptionId")
             or text_at(alert, "TenantId") or text_at(resource, "workspaceId"))
    if not asset:
        raise InvalidEvent("missing field 'compromisedEntity' (nor a resource, subscription or tenant): no asset")
    return SecurityEvent(
        event_id=field("systemAlertId", "SystemAlertId") or fingerprint("microsoft", record),
        source_format="microsoft",
        title=field("alertDisplayName", "AlertName") or field("friendlyName", "DisplayName")
        or _required(field("alertType", "AlertType"), "alertDisplayName" if arm else "AlertName"),
        occurred_at=instant(text_at(alert, when), when),
        ingested_at=received_at,
        asset=asset,
        severity=_severity(field("severity", "AlertSeverity")),
        category="intrusion_detection",
        rule_id=field("alertType", "AlertType"),
        user=_first(_entities(alert, "account"), "name") if arm else None,
        source_ip=ip_or_none(_first(_entities(alert, "ip"), "address")) if arm else None,
        tags=(strings_at(alert, "techniques") or strings_at(alert, "tactics")) if arm else (),
        class_uid=DETECTION_FINDING,
        observer_vendor=field("vendorName", "VendorName") or "Microsoft",
        observer_product=field("productName", "ProductName"),
    )


def _required(value: str | None, name: str) -> str:
    if not value:
        raise InvalidEvent(f"missing field '{name}'")
    return value


def parse(record: Mapping[str, Any], received_at: datetime) -> SecurityEvent:
    if not isinstance(record, Mapping):
        raise InvalidEvent("expected a Microsoft security alert (a JSON object)")
    if is_graph_alert(record):
        return _graph(record, received_at)
    if is_defender_alert(record):
        return _defender(record, received_at)
    if is_sentinel_alert(record):
        return _sentinel(record, received_at)
    if defender_xdr.is_record(record):
        return defender_xdr.parse(record, received_at)
    raise InvalidEvent("missing field '@odata.type' #microsoft.graph.security.alert (nor alertCreationTime with "
                       "machineId, nor a Sentinel SecurityAlert's kind or SystemAlertId, nor a Defender for Cloud "
                       "alert's type): not a Microsoft alert")
