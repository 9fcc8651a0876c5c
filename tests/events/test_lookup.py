"""``LookupEvents`` through botocore's Stubber: moto 5.2 does not implement CloudTrail's
``LookupEvents`` (its CloudTrail backend has trails, selectors and tags only), so the API's
request and response shapes are checked against botocore's own service model here."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from iacscan.events import SG_EVENTS
from iacscan.events.lookup import LookupError as CloudTrailError, parse_since, read_live
from iacscan.events.to_model import build_estate
from tests.events.helpers import ALICE, ingress, record

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)
START = NOW - dt.timedelta(days=7)
SG = "sg-0000000000000beef"


class Source:
    """Hands out the stubbed clients (the ``ClientSource`` protocol of iacscan.live.collect)."""

    def __init__(self, clients: dict[str, Any]) -> None:
        self.clients = clients
        self.asked: list[tuple[str, str]] = []

    def client(self, service: str, region: str) -> Any:
        self.asked.append((service, region))
        return self.clients[region]


def _client(region: str = "eu-west-1") -> Any:
    return boto3.client("cloudtrail", region_name=region, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def _item(raw: dict[str, Any]) -> dict[str, Any]:
    return {"EventId": raw["eventID"], "EventName": raw["eventName"], "ReadOnly": "false",
            "EventTime": NOW - dt.timedelta(days=1), "EventSource": "ec2.amazonaws.com", "Username": "alice",
            "Resources": [{"ResourceType": "AWS::EC2::SecurityGroup", "ResourceName": SG}],
            "CloudTrailEvent": json.dumps(raw)}


def _params(name: str, token: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
                              "StartTime": START, "EndTime": NOW}
    if token:
        params["NextToken"] = token
    return params


def _stub_all(stubber: Stubber, pages: dict[str, list[list[dict[str, Any]]]]) -> None:
    """One lookup per event name, in SG_EVENTS order; ``pages`` gives some names several pages."""
    for name in SG_EVENTS:
        chunks = pages.get(name, [[]])
        for number, chunk in enumerate(chunks):
            response: dict[str, Any] = {"Events": chunk}
            if number + 1 < len(chunks):
                response["NextToken"] = f"{name}-{number + 1}"
            stubber.add_response("lookup_events", response, _params(name, f"{name}-{number}" if number else None))


def test_every_security_group_event_name_is_looked_up_and_every_page_read() -> None:
    create = record("CreateSecurityGroup", "2026-11-26T09:00:00Z", {"groupName": "jump", "groupDescription": "j"},
                    {"groupId": SG}, event_id="e-create")
    opened = [record("AuthorizeSecurityGroupIngress", f"2026-11-26T10:0{i}:00Z",
                     ingress(SG, "tcp", 22 + i, ipRanges={"items": [{"cidrIp": "0.0.0.0/0"}]}), event_id=f"e-{i}")
              for i in range(3)]
    failed = record("AuthorizeSecurityGroupIngress", "2026-11-26T11:00:00Z", ingress(SG, "tcp", 3389),
                    event_id="e-denied", errorCode="Client.UnauthorizedOperation")
    client = _client()
    stubber = Stubber(client)
    _stub_all(stubber, {"CreateSecurityGroup": [[_item(create)]],
                        "AuthorizeSecurityGroupIngress": [[_item(opened[0]), _item(opened[1])],
                                                          [_item(opened[2]), _item(failed)]]})
    with stubber:
        read = read_live(Source({"eu-west-1": client}), ["eu-west-1"], START, NOW)
        stubber.assert_no_pending_responses()
    assert read.calls == len(SG_EVENTS) and read.failures == []
    assert [r.event_id for r in read.result.sorted_records()] == ["e-create", "e-0", "e-1", "e-2"]
    assert read.result.skipped == {"failed": 1}
    assert read.result.records[0].file == ""
    estate = build_estate(read.result.records)
    group = estate.groups[f"cloudtrail:111122223333:eu-west-1#{SG}"]
    assert (group.name, sorted(r.from_port for r in group.rules)) == ("jump", [22, 23, 24])  # type: ignore[type-var]
    assert {r.location.actor for r in group.rules} == {ALICE}


def test_a_denied_lookup_is_reported_and_the_others_go_on() -> None:
    client = _client()
    stubber = Stubber(client)
    for name in SG_EVENTS:
        if name == "ModifySecurityGroupRules":
            stubber.add_client_error("lookup_events", "AccessDeniedException", "not allowed", 400,
                                     expected_params=_params(name))
        else:
            stubber.add_response("lookup_events", {"Events": []}, _params(name))
    with stubber:
        read = read_live(Source({"eu-west-1": client}), ["eu-west-1"], START, NOW)
    assert [str(f) for f in read.failures] == [
        "eu-west-1 EventName=ModifySecurityGroupRules: AccessDeniedException: not allowed"]
    assert read.result.records == []


def test_every_lookup_denied_is_an_error() -> None:
    client = _client()
    stubber = Stubber(client)
    for name in SG_EVENTS:
        stubber.add_client_error("lookup_events", "AccessDeniedException", "no", 400, expected_params=_params(name))
    with stubber, pytest.raises(CloudTrailError, match="every LookupEvents call failed"):
        read_live(Source({"eu-west-1": client}), ["eu-west-1"], START, NOW)


def test_resource_lookups_per_region() -> None:
    clients = {"eu-west-1": _client("eu-west-1"), "us-east-1": _client("us-east-1")}
    stubbers = {region: Stubber(client) for region, client in clients.items()}
    for region, stubber in stubbers.items():
        stubber.add_response("lookup_events", {"Events": []}, {
            "LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": SG}],
            "StartTime": START, "EndTime": NOW})
        stubber.activate()
    source = Source(clients)
    read_live(source, ["eu-west-1", "us-east-1"], START, NOW, lookups=[("ResourceName", SG)])
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
    assert source.asked == [("cloudtrail", "eu-west-1"), ("cloudtrail", "us-east-1")]


@pytest.mark.parametrize(("text", "expected"), [
    ("7d", NOW - dt.timedelta(days=7)), ("24h", NOW - dt.timedelta(hours=24)), ("30m", NOW - dt.timedelta(minutes=30)),
    ("2026-11-01", dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)),
    ("2026-11-01T10:00:00+02:00", dt.datetime(2026, 11, 1, 8, tzinfo=dt.timezone.utc)),
])
def test_parse_since(text: str, expected: dt.datetime) -> None:
    assert parse_since(text, NOW) == expected


def test_parse_since_rejects_anything_else() -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_since("a week ago", NOW)


def test_an_unreachable_region_is_asked_once() -> None:
    from botocore.config import Config

    dead = boto3.client("cloudtrail", region_name="eu-west-1", endpoint_url="http://127.0.0.1:9",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"total_max_attempts": 1}, connect_timeout=2))
    with pytest.raises(CloudTrailError, match="EndpointConnectionError"):
        read_live(Source({"eu-west-1": dead}), ["eu-west-1"], START, NOW)
