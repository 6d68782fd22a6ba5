"""GuardDuty, CloudTrail, Okta and Falco records (issue 15): their envelopes and the shapes the
corpus holds one of each only. Records are read from tests/corpus (real published records);
the envelopes around them are built here the way AWS builds them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from incident.errors import InvalidEvent
from incident.normalize import detect, normalize, normalize_all
from incident.signals import SecurityEvent
from tests.unit.test_corpus import _received_at

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
AT = datetime(2026, 1, 1, tzinfo=UTC)


def _record(fmt: str, name: str) -> Any:
    return json.loads((CORPUS / fmt / f"{name}.json").read_text())


def _one(value: object) -> SecurityEvent:
    [result] = normalize_all(json.dumps(value).encode(), AT)
    assert isinstance(result, SecurityEvent), result
    return result


@pytest.mark.parametrize(("fmt", "name"), [
    ("guardduty", "elastic-ec2-tor-client"), ("cloudtrail", "elastic-console-login-failure"),
    ("okta", "elastic-session-start"), ("falco", "elastic-run-shell-untrusted"),
    ("github", "elastic-enterprise-user-login"),  # its epoch @timestamp does not make it ECS
    ("microsoft", "elastic-graph-alert-hidden-file-execution"), ("microsoft", "elastic-defender-active-malware"),
    ("microsoft", "elastic-sentinel-security-alert-entity"), ("splunk", "elastic-notable-crowdstrike-detection"),
])
def test_each_vendor_format_is_detected_by_its_own_keys(fmt: str, name: str) -> None:
    assert detect(_record(fmt, name)) == fmt


def test_a_cloudtrail_log_file_is_one_event_per_record() -> None:
    first = _record("cloudtrail", "elastic-create-group")
    second = _record("cloudtrail", "elastic-create-group-already-exists")
    results = normalize_all(json.dumps({"Records": [first, second]}).encode(), AT)
    assert [r.outcome for r in results if isinstance(r, SecurityEvent)] == ["success", "failure"]


def test_a_guardduty_finding_inside_an_eventbridge_event_is_the_finding() -> None:
    finding = _record("guardduty", "elastic-ec2-tor-client")
    event = {"version": "0", "id": "c8c4daa7-a20c-2f03-0070-b7393dd542ad", "detail-type": "GuardDuty Finding",
             "source": "aws.guardduty", "account": finding["accountId"], "time": "2022-01-28T21:12:25Z",
             "region": "us-east-2", "resources": [], "detail": finding}
    wrapped, bare = _one(event), _one(finding)
    assert wrapped == bare
    assert (wrapped.asset, wrapped.source_ip, wrapped.destination_ip) == (
        "arn:aws:ec2:us-east-2:973743533182:instance/i-99999999", "10.0.0.23", "81.2.69.144")


def test_a_guardduty_finding_printed_by_the_aws_cli_in_pascal_case_maps_the_same() -> None:
    def pascal(value: Any) -> Any:
        if isinstance(value, dict):
            return {k[:1].upper() + k[1:]: pascal(v) for k, v in value.items()}
        return [pascal(v) for v in value] if isinstance(value, list) else value

    finding = _record("guardduty", "elastic-iamuser-tor-ip-caller")
    assert detect(pascal(finding)) == "guardduty"
    assert _one(pascal(finding)) == _one(finding)


def test_a_cloudtrail_record_inside_an_eventbridge_event_is_the_record() -> None:
    record = _record("cloudtrail", "elastic-console-login-failure")
    event = {"version": "0", "id": "6f87d04b-9f74-4f04-a780-7acf4b0a9b38",
             "detail-type": "AWS Console Sign In via CloudTrail", "source": "aws.signin",
             "account": "111122223333", "time": "2014-07-08T17:35:27Z",
             "region": "us-east-2", "resources": [], "detail": record}
    assert detect(event) == "cloudtrail"
    assert _one(event) == _one(record)


def test_the_asset_is_never_the_product_name() -> None:
    for fmt in ("guardduty", "cloudtrail", "falco"):
        for path in (CORPUS / fmt).glob("*.expect.json"):
            record = path.with_name(path.name.replace(".expect.json", ".json")).read_bytes()
            [event] = normalize_all(record, _received_at(json.loads(path.read_text())))  # as the corpus test does
            assert isinstance(event, SecurityEvent), (path, event)
            assert event.asset.lower() not in {"guardduty", "aws", "cloudtrail", "falco", "amazon guardduty"}, path


def test_an_okta_event_by_okta_itself_is_attributed_to_the_user_it_acted_on() -> None:
    event = _one(_record("okta", "elastic-app-user-management-system-actor"))
    assert (event.user, event.asset) == ("domain.user@test.com", "G Suite")


def test_a_failed_okta_sign_in_says_so_in_its_title_and_outcome() -> None:
    record = _record("okta", "elastic-session-start")
    record["outcome"] = {"reason": "INVALID_CREDENTIALS", "result": "FAILURE"}
    event = _one(record)
    assert (event.outcome, event.title) == ("failure", "User login to Okta (FAILURE: INVALID_CREDENTIALS)")


def test_a_falco_alert_without_a_host_is_the_pod_it_names() -> None:
    record = _record("falco", "elastic-read-sensitive-file-k8s-pod")
    del record["hostname"]
    assert _one(record).asset == "kubernetes-pod-1"


def test_a_vendor_record_on_a_topic_forced_to_another_format_is_refused_by_name() -> None:
    with pytest.raises(InvalidEvent, match=r"this topic takes ecs records only.*this one is cloudtrail"):
        normalize(_record("cloudtrail", "elastic-create-group"), AT, "ecs")


@pytest.mark.parametrize(("fmt", "name", "field"), [
    ("guardduty", "elastic-ec2-tor-client", "type"), ("cloudtrail", "elastic-create-group", "eventName"),
    ("okta", "elastic-session-start", "published"), ("falco", "elastic-run-shell-untrusted", "time"),
])
def test_a_record_missing_its_required_field_is_refused_naming_it(fmt: str, name: str, field: str) -> None:
    record = _record(fmt, name)
    del record[field]
    with pytest.raises(InvalidEvent, match=field):
        normalize(record, AT, fmt)


def test_a_github_event_naming_no_organisation_repository_or_enterprise_is_refused() -> None:
    # test-audit-json.log's personal pull-request events carry only actor, action and time.
    record = {"actor": "github-actor", "created_at": 1619474375960, "action": "pull_request.merge",
              "actor_location": {"country_code": "US"}}
    with pytest.raises(InvalidEvent, match="no organisation, repository or enterprise"):
        normalize(record, AT)


def test_a_graph_or_defender_api_page_is_one_event_per_alert() -> None:
    first = _record("microsoft", "elastic-defender-active-malware")
    second = _record("microsoft", "elastic-defender-process-injection")
    page = {"@odata.context": "https://api.securitycenter.microsoft.com/api/$metadata#Alerts", "value": [first, second]}
    results = normalize_all(json.dumps(page).encode(), AT)
    assert [r.title for r in results if isinstance(r, SecurityEvent)] == [first["title"], second["title"]]


def test_a_sentinel_security_alert_row_from_log_analytics_is_a_microsoft_alert() -> None:
    # The SecurityAlert table's columns (Azure Monitor reference), as a Log Analytics export writes a row.
    row = {"TenantId": "b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c", "TimeGenerated": "2024-03-01T10:02:00Z",
           "DisplayName": "Mass download by a single user", "AlertName": "Mass download by a single user",
           "AlertSeverity": "Medium", "ProviderName": "MCAS", "VendorName": "Microsoft",
           "SystemAlertId": "4c3ad2d6-7c4b-4b8e-9b3e-5a1d2a0c9e11", "CompromisedEntity": "fileserver-01",
           "AlertType": "MCAS_ALERT_ANUBIS_DETECTION_MASS_DOWNLOAD", "StartTime": "2024-03-01T09:41:12Z",
           "ProductName": "Microsoft Cloud App Security", "Type": "SecurityAlert"}
    event = _one(row)
    assert (event.source_format, event.asset, event.severity, event.event_id) == (
        "microsoft", "fileserver-01", 3, "4c3ad2d6-7c4b-4b8e-9b3e-5a1d2a0c9e11")
    assert event.occurred_at == datetime(2024, 3, 1, 9, 41, 12, tzinfo=UTC)


VENDOR_FORMATS = ("guardduty", "cloudtrail", "okta", "falco", "github", "microsoft", "splunk")
ODD_VALUES: tuple[object, ...] = (None, 7, -1, 1.5, True, "x", "", [], [1], {}, {"a": None}, [{}], 10**30)


def _odd_shapes(value: Any, depth: int = 0) -> Any:
    """Every record obtained by putting one odd value in place of one value, at any depth."""
    if depth > 3:
        return
    if isinstance(value, dict):
        for key, inner in value.items():
            for odd in ODD_VALUES:
                yield {**value, key: odd}
            for shape in _odd_shapes(inner, depth + 1):
                yield {**value, key: shape}
    elif isinstance(value, list) and value:
        for shape in _odd_shapes(value[0], depth + 1):
            yield [shape, *value[1:]]


@pytest.mark.parametrize("fmt", VENDOR_FORMATS)
def test_a_real_record_with_any_value_of_the_wrong_type_is_refused_never_crashes(fmt: str) -> None:
    from incident.normalize import ADAPTERS

    for path in sorted((CORPUS / fmt).glob("*.expect.json"))[:4]:
        record = json.loads(path.with_name(path.name.replace(".expect.json", ".json")).read_text())
        for shape in _odd_shapes(record):
            try:
                result = ADAPTERS[fmt](shape, AT)
            except InvalidEvent:
                continue
            assert result.title and result.asset, (path.name, shape)


def test_an_expanded_splunk_notable_names_its_destination_as_the_asset() -> None:
    # The fields the ES `notable` macro / Incident Review API give a notable (CIM names).
    notable = {"event_id": "3F2C8D4A-1B2E-4C1D-9A7B-5E6F7A8B9C0D@@notable@@8f14e45fceea167a5a36dedd4bea2543",
               "rule_name": "Excessive Failed Logins", "rule_title": "Excessive failed logins on db-01",
               "security_domain": "access", "urgency": "high", "dest": "db-01", "src": "203.0.113.7",
               "user": "alice", "orig_time": "1739168412", "_time": "2025-02-10T06:25:16.000+00:00",
               "orig_tag": ["authentication", "failure"]}
    event = _one(notable)
    assert (event.source_format, event.asset, event.severity, event.user, event.outcome) == (
        "splunk", "db-01", 4, "alice", "failure")
    assert (event.title, event.category, event.source_ip) == (
        "Excessive failed logins on db-01", "access", "203.0.113.7")
    assert event.occurred_at == datetime(2025, 2, 10, 6, 20, 12, tzinfo=UTC)


def test_the_vendor_assets_are_found_by_what_a_profile_declares() -> None:
    """A profile declaring the AWS account, the GitHub organisation and the Azure subscription
    gets the findings, trails, audit events and alerts of them (incident.profiles' attribution)."""
    from incident.profiles import Directory, parse_profile
    from tests.unit.builders import PROFILE, profile_doc

    system = {**PROFILE["systems"][0], "cloud_accounts": ["973743533182", "000000000",
                                                          "a123456-4d29-4647-9105-6339bfdb4e6a"],
              "tenants": ["Example-Org"]}
    directory = Directory.of([parse_profile(profile_doc(systems=[system]), source="acme.toml")])
    for fmt, name in (("guardduty", "elastic-ec2-tor-client"), ("guardduty", "elastic-iamuser-tor-ip-caller"),
                      ("guardduty", "elastic-kubernetes-exposed-dashboard"), ("cloudtrail", "elastic-copy-object"),
                      ("github", "elastic-repo-create-1583763373109"),
                      ("microsoft", "elastic-sentinel-security-alert-entity")):
        asset = _one(_record(fmt, name)).asset
        _, found = directory.locate(asset)
        assert found is not None and found.id == system["id"], (fmt, name, asset)


def test_an_okta_event_hook_delivery_names_the_org_each_event_is_attributed_to() -> None:
    # Okta's Event Hook request body (developer.okta.com, "Event hooks"): the events under data.
    first, second = _record("okta", "elastic-session-start"), _record("okta", "xsoar-readme-sso-saml-app")
    delivery = {"eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
                "source": "https://acme.okta.com/api/v1/eventHooks/whoql0HfiLGPWc8Jx0g3", "eventId": "b5a188b9",
                "eventTime": "2019-03-27T16:59:53.032Z", "contentType": "application/json",
                "data": {"events": [first, second]}}
    results = normalize_all(json.dumps(delivery).encode(), AT)
    assert [(r.asset, r.user) for r in results if isinstance(r, SecurityEvent)] == [
        ("acme.okta.com", "xxxxxx@elastic.co"), ("acme.okta.com", "Test@demisto.com")]
