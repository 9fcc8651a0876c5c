"""Pagination, throttling retries and denied calls in the collector.

moto does not paginate, so pages come from botocore's ``Stubber``. Stubber answers in
``before-call``, before botocore's retry handler runs (a stubbed throttling error is
raised at once, never retried), so retries are exercised on the wire instead: a
``before-send`` hook answers the first attempt with EC2's ``RequestLimitExceeded``
HTTP response and lets the retry reach moto.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from iacscan.live.collect import SessionClients, client_config, collect, enabled_regions, fetch
from iacscan.live.progress import Progress
from iacscan.live.services import REGION_CALLS, Call
from iacscan.parsers.live import parse_snapshot

REGION = "us-east-1"
SGS = next(c for c in REGION_CALLS if c.key == "security_groups")
INSTANCES = next(c for c in REGION_CALLS if c.key == "instances")


def stubbed(service: str) -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing",
                          config=client_config())
    return client, Stubber(client)


def group(ident: str) -> dict[str, Any]:
    return {"GroupId": ident, "GroupName": ident, "Description": "d", "OwnerId": "123456789012", "VpcId": "vpc-1",
            "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                               "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}], "IpPermissionsEgress": []}


def test_security_groups_are_read_across_pages() -> None:
    client, stub = stubbed("ec2")
    stub.add_response("describe_security_groups", {"SecurityGroups": [group("sg-3"), group("sg-1")], "NextToken": "t1"},
                      expected_params={})
    stub.add_response("describe_security_groups", {"SecurityGroups": [group("sg-2")]},
                      expected_params={"NextToken": "t1"})
    with stub:
        found = fetch(client, SGS)
    stub.assert_no_pending_responses()
    assert [g["GroupId"] for g in found] == ["sg-1", "sg-2", "sg-3"]


def test_instances_are_flattened_from_reservations_across_pages() -> None:
    client, stub = stubbed("ec2")
    stub.add_response("describe_instances", {"Reservations": [{"Instances": [{"InstanceId": "i-2"}, {"InstanceId": "i-9"}]}],
                                             "NextToken": "n"})
    stub.add_response("describe_instances", {"Reservations": [{"Instances": [{"InstanceId": "i-1"}]}]},
                      expected_params={"NextToken": "n"})
    with stub:
        found = fetch(client, INSTANCES)
    assert [i["InstanceId"] for i in found] == ["i-1", "i-2", "i-9"]


def test_a_write_operation_is_refused_before_any_request() -> None:
    client, stub = stubbed("ec2")
    with stub, pytest.raises(ValueError, match="not a read operation"):
        fetch(client, Call("x", "ec2", "RevokeSecurityGroupIngress", "", ""))
    stub.assert_no_pending_responses()


class StubbedSource:
    """Every client stubbed: each region call answers an empty page, except those listed."""

    def __init__(self, errors: dict[str, tuple[str, int]], pages: dict[str, list[dict[str, Any]]]) -> None:
        self.clients: dict[str, Any] = {}
        self.stubs: list[Stubber] = []
        sts, sts_stub = self._client("sts")
        sts_stub.add_response("get_caller_identity", {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/x",
                                                      "UserId": "AIDA"})
        for call in REGION_CALLS:
            _, stub = self._client(call.service)
            if call.operation in errors:
                code, status = errors[call.operation]
                stub.add_client_error(call.method, code, f"You are not authorized to perform: {call.operation}", status)
                continue
            for page in pages.get(call.operation, [{call.result: []}]):
                stub.add_response(call.method, page)

    def _client(self, service: str) -> tuple[Any, Stubber]:
        if service not in self.clients:
            client, stub = stubbed(service)
            stub.activate()
            self.clients[service] = client
            self.stubs.append(stub)
        client = self.clients[service]
        return client, next(s for s in self.stubs if s.client is client)

    def client(self, service: str, region: str) -> Any:
        return self.clients[service]


def test_a_denied_call_gives_a_partial_snapshot_and_the_rest_is_read() -> None:
    pages: dict[str, list[dict[str, Any]]] = {"DescribeSecurityGroups": [{"SecurityGroups": [group("sg-b")], "NextToken": "x"},
                                        {"SecurityGroups": [group("sg-a")]}],
             "DescribeVpcs": [{"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}]}]}
    source = StubbedSource({"DescribeFlowLogs": ("UnauthorizedOperation", 403),
                            "DescribeDBInstances": ("AccessDenied", 403)}, pages)
    snapshot = collect([REGION], source=source)
    for stub in source.stubs:
        stub.assert_no_pending_responses()
    region = snapshot["regions"][REGION]
    assert snapshot["account"] == "123456789012"
    assert [g["GroupId"] for g in region["security_groups"]] == ["sg-a", "sg-b"]
    assert "flow_logs" not in region and "db_instances" not in region
    assert region["db_clusters"] == [] and region["volumes"] == []
    assert snapshot["failures"] == [
        {"region": REGION, "service": "ec2", "operation": "DescribeFlowLogs", "error": "UnauthorizedOperation",
         "message": "You are not authorized to perform: DescribeFlowLogs"},
        {"region": REGION, "service": "rds", "operation": "DescribeDBInstances", "error": "AccessDenied",
         "message": "You are not authorized to perform: DescribeDBInstances"},
    ]
    estate = parse_snapshot(snapshot)
    assert sorted(g.address for g in estate.groups.values()) == ["sg-a", "sg-b"]
    assert {(n.resource, n.what) for n in estate.unresolved} == {
        ("live:123456789012:us-east-1", "flow logs (ec2 DescribeFlowLogs)"),
        ("live:123456789012:us-east-1", "db instances (rds DescribeDBInstances)"),
    }
    assert [f["operation"] for f in estate.live_failures] == ["DescribeFlowLogs", "DescribeDBInstances"]


THROTTLED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code>'
             b"<Message>Request limit exceeded.</Message></Error></Errors><RequestID>r-1</RequestID></Response>")


def test_a_throttled_call_is_retried_and_collected_once(aws_client: Callable[..., Any], moto_url: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    aws_client("ec2").create_security_group(GroupName="web", Description="web")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    sent: list[str] = []

    def throttle_first(request: Any, **kwargs: Any) -> AWSResponse | None:
        sent.append(kwargs["event_name"])
        if len(sent) == 1:
            return AWSResponse(request.url, 400, {"Content-Type": "text/xml"}, _Raw(THROTTLED))
        return None

    def session(**kwargs: Any) -> boto3.Session:
        made = boto3.Session(**kwargs)
        made.events.register("before-send.ec2.DescribeSecurityGroups", throttle_first)
        return made

    snapshot = collect([REGION], source=SessionClients(make_session=session))
    assert sent == ["before-send.ec2.DescribeSecurityGroups"] * 2
    assert snapshot["failures"] == []
    names = [g["GroupName"] for g in snapshot["regions"][REGION]["security_groups"]]
    assert sorted(names) == ["default", "web"]


class _Raw:
    """The raw body of a canned HTTP response."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs: Any) -> Any:
        yield self.body


def test_all_regions_are_the_enabled_ones() -> None:
    client, stub = stubbed("ec2")
    stub.add_response("describe_regions", {"Regions": [
        {"RegionName": "us-west-2", "OptInStatus": "opt-in-not-required"},
        {"RegionName": "af-south-1", "OptInStatus": "opted-in"},
    ]}, expected_params={})  # no AllRegions: only regions enabled for the account

    class Source:
        def client(self, service: str, region: str) -> Any:
            return client

    with stub:
        assert enabled_regions(Source(), REGION) == ["af-south-1", "us-west-2"]


def test_progress_names_regions_and_operations_only_when_enabled() -> None:
    shown, hidden = io.StringIO(), io.StringIO()
    for progress in (Progress(enabled=True, stream=shown), Progress(enabled=False, stream=hidden)):
        collect([REGION], source=StubbedSource({}, {}), progress=progress)
    text = shown.getvalue()
    assert "\r\x1b[Ksnapshot: 0/1 regions done; us-east-1 DescribeSecurityGroups" in text
    assert "snapshot: 1/1 regions done; us-east-1 done" in text and text.endswith("\r\x1b[K")
    assert hidden.getvalue() == ""
