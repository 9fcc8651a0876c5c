"""Drift attribution: each DRIFT finding names who made the change and when.

End to end against the moto server of the drift tests: the changes are made through the
EC2 API, snapshotted, compared with fixtures/drift/basic, and attributed from a CloudTrail
file holding the records of those same calls (moto does not implement ``LookupEvents``, so
``--attribute-from`` stands in for the event history here). The ``LookupEvents`` path of
``--attribute`` is exercised with botocore's Stubber on an in-process drift result.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import Stubber

from iacscan.cli import build_parser
from iacscan.commands.drift import run_drift
from iacscan.events.attribute import attribute, lookup_for
from tests.events.helpers import ingress, record, write
from tests.live.conftest import ACCOUNT, REGION
from tests.live.test_drift_live import FIXTURE, _deployed, _ingress

Run = Callable[..., subprocess.CompletedProcess[str]]
MALLORY, BOB = (f"arn:aws:iam::{ACCOUNT}:user/{u}" for u in ("mallory", "bob"))


def _trail(ids: dict[str, str], postgres: str, stray: str) -> list[dict[str, Any]]:
    """The CloudTrail records of the calls the test made (as AWS writes them)."""
    where = {"account": ACCOUNT, "region": REGION}
    return [
        record("AuthorizeSecurityGroupIngress", "2026-11-01T09:00:00Z",
               ingress(ids["db"], "tcp", 5432, groups={"items": [{"groupId": ids["web"], "userId": ACCOUNT}]}),
               {"_return": True, "securityGroupRuleSet": {"items": [{
                   "groupOwnerId": ACCOUNT, "groupId": ids["db"], "securityGroupRuleId": postgres, "isEgress": False,
                   "ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432,
                   "referencedGroupInfo": {"groupId": ids["web"], "userId": ACCOUNT}}]}},
               event_id="ev-terraform", user="terraform", **where),
        record("AuthorizeSecurityGroupIngress", "2026-11-20T22:14:05Z",
               ingress(ids["web"], "tcp", 22, ipRanges={"items": [{"cidrIp": "0.0.0.0/0"}]}),
               {"_return": True}, event_id="ev-ssh", user="mallory", **where),
        record("CreateSecurityGroup", "2026-11-20T22:15:00Z",
               {"groupName": "drift-stray", "groupDescription": "made by hand", "vpcId": ids["vpc"]},
               {"_return": True, "groupId": stray}, event_id="ev-stray", user="mallory", **where),
        record("RevokeSecurityGroupIngress", "2026-11-21T08:00:00Z",
               {"groupId": ids["db"], "securityGroupRuleIds": {"items": [{"securityGroupRuleId": postgres}]}},
               {"_return": True}, event_id="ev-revoke", user="bob", **where),
        record("ModifyInstanceAttribute", "2026-11-21T08:05:00Z",
               {"instanceId": ids["instance"], "groupSet": {"items": [{"groupId": ids["web"]}, {"groupId": ids["db"]}]}},
               {"_return": True}, event_id="ev-attach", user="bob", **where),
    ]


def test_drift_findings_name_who_made_each_change(ec2: Any, run_iacscan: Run, tmp_path: Path) -> None:
    ids = _deployed(ec2)
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [ids["db"]]}])
    postgres = next(r["SecurityGroupRuleId"] for r in rules["SecurityGroupRules"] if r.get("FromPort") == 5432)
    _ingress(ec2, ids["web"], 22, cidr="0.0.0.0/0")
    stray = ec2.create_security_group(GroupName="drift-stray", Description="made by hand",
                                      VpcId=ids["vpc"])["GroupId"]
    ec2.revoke_security_group_ingress(GroupId=ids["db"], SecurityGroupRuleIds=[postgres])
    ec2.modify_instance_attribute(InstanceId=ids["instance"], Groups=[ids["web"], ids["db"]])
    shutil.copytree(FIXTURE, tmp_path / "code")
    (tmp_path / "vpc.tfvars").write_text(f'vpc_id = "{ids["vpc"]}"\n')
    write(tmp_path / "trail.json", _trail(ids, postgres, stray))
    assert run_iacscan("snapshot", "--region", REGION, "--output", "snap.json").returncode == 0
    done = run_iacscan("drift", "code", "--snapshot", "snap.json", "--var-file", "vpc.tfvars", "--format", "json",
                       "--attribute-from", "trail.json")
    assert done.returncode == 1, done.stderr
    assert "iacscan: 4 of 4 drift finding(s) attributed to CloudTrail events" in done.stderr
    report = json.loads(done.stdout)
    got = {(f["rule_id"], f["resource"], f["event"]["event_id"], f["event"]["actor"], f["event"]["event_time"])
           for f in report["findings"] if f["rule_id"].startswith("DRIFT")}
    assert got == {
        ("DRIFT501", "aws_security_group.web", "ev-ssh", MALLORY, "2026-11-20T22:14:05Z"),
        ("DRIFT501", stray, "ev-stray", MALLORY, "2026-11-20T22:15:00Z"),
        ("DRIFT502", "aws_security_group.db", "ev-revoke", BOB, "2026-11-21T08:00:00Z"),
        ("DRIFT504", "aws_instance.web", "ev-attach", BOB, "2026-11-21T08:05:00Z"),
    }
    ssh = next(f for f in report["findings"] if f["event"]["event_id"] == "ev-ssh")
    assert ssh["message"].endswith(f"; added by {MALLORY} at 2026-11-20T22:14:05Z")
    assert ssh["details"] == {"live_id": ids["web"], "direction": "ingress", "protocol": "tcp", "ports": "22",
                              "peer": "0.0.0.0/0"}  # attribution never changes the fingerprint's facts
    text = run_iacscan("drift", "code", "--snapshot", "snap.json", "--var-file", "vpc.tfvars",
                       "--attribute-from", "trail.json")
    assert (f"        event: AuthorizeSecurityGroupIngress at 2026-11-20T22:14:05Z by {MALLORY} from 203.0.113.9 "
            f"({REGION}, event ev-ssh)") in text.stdout.splitlines()


# ------------------------------------------------------------------ --attribute: LookupEvents (Stubber)

TF = '''resource "aws_security_group" "web" {
  name        = "web"
  description = "web servers"
  vpc_id      = "vpc-0aaa"
}
'''
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)


def _drift_result(tmp_path: Path) -> Any:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "main.tf").write_text(TF)
    ssh = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    snapshot = {"version": 1, "account": ACCOUNT, "failures": [], "regions": {REGION: {
        "vpcs": [{"VpcId": "vpc-0aaa", "CidrBlock": "10.0.0.0/16"}],
        "security_groups": [{"GroupId": "sg-0web", "GroupName": "web", "Description": "web servers",
                             "VpcId": "vpc-0aaa", "OwnerId": ACCOUNT, "IpPermissions": [ssh],
                             "IpPermissionsEgress": []}]}}}
    (tmp_path / "snap.json").write_text(json.dumps(snapshot))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        return run_drift(build_parser().parse_args(["drift", "code", "--snapshot", "snap.json"]))
    finally:
        os.chdir(cwd)


class _Source:
    def __init__(self, client: Any) -> None:
        self.client_ = client

    def client(self, service: str, region: str) -> Any:
        assert (service, region) == ("cloudtrail", REGION)
        return self.client_


def test_attribute_looks_up_the_drifted_group_in_the_last_90_days(tmp_path: Path) -> None:
    result = _drift_result(tmp_path)
    assert [(f.rule_id, f.details["live_id"]) for f in result.findings] == [("DRIFT501", "sg-0web")]
    raw = record("AuthorizeSecurityGroupIngress", "2026-11-25T07:30:00Z",
                 ingress("sg-0web", "6", 22, ipRanges={"items": [{"cidrIp": "0.0.0.0/0"}]}),
                 event_id="ev-1", user="mallory", account=ACCOUNT, region=REGION)
    older = record("AuthorizeSecurityGroupIngress", "2026-11-02T07:30:00Z",
                   ingress("sg-0web", "tcp", 443, ipRanges={"items": [{"cidrIp": "10.0.0.0/8"}]}),
                   event_id="ev-0", user="bob", account=ACCOUNT, region=REGION)
    client = boto3.client("cloudtrail", region_name=REGION, aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    stubber = Stubber(client)
    stubber.add_response("lookup_events", {"Events": [
        {"EventId": r["eventID"], "EventName": r["eventName"], "CloudTrailEvent": json.dumps(r)} for r in (raw, older)
    ]}, {"LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": "sg-0web"}],
         "StartTime": NOW - dt.timedelta(days=90), "EndTime": NOW})
    with stubber:
        read = lookup_for(result, _Source(client), NOW)
        stubber.assert_no_pending_responses()
    assert attribute(result, read.result.records) == 1
    finding = result.findings[0]
    assert finding.message.endswith(f"; added by {MALLORY} at 2026-11-25T07:30:00Z")
    assert {k: finding.extra[k] for k in ("event_id", "event_name", "actor", "change")} == {
        "event_id": "ev-1", "event_name": "AuthorizeSecurityGroupIngress", "actor": MALLORY, "change": "added"}


def test_no_matching_event_leaves_the_finding_as_it_was(tmp_path: Path) -> None:
    result = _drift_result(tmp_path)
    before = (result.findings[0].message, dict(result.findings[0].extra), result.findings[0].fingerprint)
    other = record("AuthorizeSecurityGroupIngress", "2026-11-25T07:30:00Z",
                   ingress("sg-0web", "tcp", 23, ipRanges={"items": [{"cidrIp": "0.0.0.0/0"}]}), event_id="ev-x")
    assert attribute(result, [r for r in _records([other])]) == 0
    assert (result.findings[0].message, result.findings[0].extra, result.findings[0].fingerprint) == before


def _records(raws: list[dict[str, Any]]) -> list[Any]:
    from iacscan.events.records import ReadResult, read_records

    read = ReadResult()
    read_records(raws, read, "test")
    return read.records
