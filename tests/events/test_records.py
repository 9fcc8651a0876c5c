"""Reading CloudTrail records and turning security-group events into the model."""
from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

from iacscan.events.records import read_paths
from iacscan.events.to_model import build_estate
from iacscan.model import Direction, PeerKind
from tests.events.helpers import ACCOUNT, BOB, FIXTURES, ingress, record, write

WEB, DB = "sg-0a1b2c3d4e5f60002", "sg-0a1b2c3d4e5f60003"
SCOPE = f"cloudtrail:{ACCOUNT}:eu-west-1"


def _rules(estate, gid):  # type: ignore[no-untyped-def]
    group = estate.groups[f"{SCOPE}#{gid}"]
    return {(r.direction.value, r.protocol, r.from_port, r.to_port, r.peer.kind.value, r.peer.value, r.description,
             r.location.event_id) for r in group.rules}


def test_gzipped_and_plain_files_give_the_same_records() -> None:
    plain = read_paths([FIXTURES / "create_then_open_rdp.json"], FIXTURES)
    packed = read_paths([FIXTURES / "create_then_open_rdp.json.gz"], FIXTURES)
    assert [r.event_id for r in plain.records] == [r.event_id for r in packed.records] == [
        "e0000000-0000-4000-8000-000000000001", "e0000000-0000-4000-8000-000000000002"]
    assert [r.file for r in packed.records] == ["create_then_open_rdp.json.gz"] * 2
    assert plain.records[1].actor == "arn:aws:iam::111122223333:user/alice"
    assert plain.records[1].time == dt.datetime(2026, 11, 20, 10, 2, 3, tzinfo=dt.timezone.utc)


def test_foreign_failed_and_malformed_records_are_counted_and_skipped() -> None:
    read = read_paths([FIXTURES / "security_group_changes.json"], FIXTURES)
    assert read.summary() == {"records": 14, "security_group_events": 8,
                              "skipped": {"foreign": 3, "failed": 1, "malformed": 2}}
    assert read.message().startswith("skipped 6 records: 3 foreign (record 9 of security_group_changes.json: "
                                     "ModifyInstanceAttribute does not change security groups), 1 failed (record 7")
    assert "2 malformed (record 13 of security_group_changes.json: not an object)" in read.message()
    assert read.errors == []


def test_lookup_events_output_is_unwrapped() -> None:
    read = read_paths([FIXTURES / "lookup_events_output.json"], FIXTURES)
    assert [r.event_name for r in read.sorted_records()] == ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress"]
    assert read.skipped == {"malformed": 1}
    assert "event broken: CloudTrailEvent is not valid JSON" in read.examples["malformed"]


def test_unreadable_files_are_parse_errors(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{not json")
    (tmp_path / "b.json.gz").write_bytes(b"\x1f\x8b" + b"garbage")
    (tmp_path / "c.json").write_text('{"Other": []}')
    (tmp_path / "d.json").write_bytes(gzip.compress(b"\xff\xfe"))
    read = read_paths([tmp_path], tmp_path)
    assert [(e.file, e.line, e.message.split(":")[0]) for e in read.errors] == [
        ("a.json", 1, "not valid JSON"), ("b.json.gz", 0, "not a readable gzip file"),
        ("c.json", 0, 'not CloudTrail records (no "Records" or "Events" list, and not a list of records)'),
        ("d.json", 0, "not UTF-8 text")]
    assert read.records == []


def test_directories_are_read_whole_and_duplicates_counted(tmp_path: Path) -> None:
    nested = tmp_path / "AWSLogs" / ACCOUNT / "CloudTrail" / "eu-west-1" / "2026" / "11" / "20"
    nested.mkdir(parents=True)
    (nested / "one.json.gz").write_bytes((FIXTURES / "create_then_open_rdp.json.gz").read_bytes())
    (tmp_path / "copy.json").write_bytes((FIXTURES / "create_then_open_rdp.json").read_bytes())
    (tmp_path / "notes.txt").write_text("not read")
    read = read_paths([tmp_path], tmp_path)
    assert read.files == [f"AWSLogs/{ACCOUNT}/CloudTrail/eu-west-1/2026/11/20/one.json.gz", "copy.json"]
    assert len(read.records) == 2 and read.skipped == {"duplicate": 2}


def test_since_skips_older_events() -> None:
    since = dt.datetime(2026, 11, 20, 10, 1, tzinfo=dt.timezone.utc)
    read = read_paths([FIXTURES / "create_then_open_rdp.json"], FIXTURES, since)
    assert [r.event_name for r in read.records] == ["AuthorizeSecurityGroupIngress"]
    assert read.skipped == {"older": 1}


def test_model_of_create_authorize_and_modify_rules() -> None:
    read = read_paths([FIXTURES / "security_group_changes.json"], FIXTURES)
    estate = build_estate(read.sorted_records())
    web = estate.groups[f"{SCOPE}#{WEB}"]
    assert (web.address, web.live_id, web.name, web.description, web.vpc, web.source, web.tags) == (
        WEB, WEB, "web", "Web servers", "vpc-0abc0000000000001", "cloudtrail", {"Environment": "prod"})
    assert web.location.event_id == "e1000000-0000-4000-8000-000000000001"
    authorize, modify = "e1000000-0000-4000-8000-000000000002", "e1000000-0000-4000-8000-000000000004"
    assert _rules(estate, WEB) == {
        ("ingress", "tcp", 22, 22, "cidr", "0.0.0.0/0", None, authorize),
        ("ingress", "tcp", 443, 443, "cidr", "::/0", "https v6", authorize),
        ("ingress", "tcp", 8080, 8080, "group", DB, "from db", authorize),
        ("ingress", "tcp", 9000, 9000, "prefix_list", "pl-0123456789abcdef0", "corp", authorize),
        ("ingress", "tcp", 5432, 5432, "cidr", "0.0.0.0/0", "postgres for the vendor", modify),
    }
    assert _rules(estate, DB) == {("egress", "all", None, None, "cidr", "0.0.0.0/0", "all out",
                                   "e1000000-0000-4000-8000-000000000006")}
    assert str(estate.groups[f"{SCOPE}#{DB}"].name).startswith("<unknown: not in the CloudTrail events read")
    rule = next(r for r in web.rules if r.from_port == 5432)
    assert (rule.location.file, rule.location.actor, rule.location.event_time, rule.location.source_ip,
            rule.location.region, rule.location.event_name) == (
        "security_group_changes.json", BOB, "2026-11-21T09:30:00Z", "198.51.100.7", "eu-west-1",
        "ModifySecurityGroupRules")


def test_modify_of_a_rule_no_event_created_is_noted_not_judged() -> None:
    read = read_paths([FIXTURES / "security_group_changes.json"], FIXTURES)
    estate = build_estate(read.sorted_records())
    assert [(n.resource, n.what, n.location.event_id) for n in estate.unresolved] == [
        (DB, "direction of rule sgr-0ffffffffffffffff", "e1000000-0000-4000-8000-000000000005")]


def test_instance_groups_become_a_workload() -> None:
    read = read_paths([FIXTURES / "security_group_changes.json"], FIXTURES)
    estate = build_estate(read.sorted_records())
    load = estate.workloads[f"{SCOPE}#i-0123456789abcdef0"]
    assert (load.kind, load.groups, load.source) == (
        "aws_instance", [f"{SCOPE}#{WEB}", f"{SCOPE}#{DB}"], "cloudtrail")


def test_self_reference_other_account_and_old_single_rule_form(tmp_path: Path) -> None:
    sg = "sg-0000000000000aaaa"
    records = [
        record("AuthorizeSecurityGroupIngress", "2026-11-22T00:00:00Z",
               ingress(sg, "6", 8080, groups={"items": [{"groupId": sg, "userId": ACCOUNT},
                                                        {"groupId": "sg-0ther", "userId": "999988887777"}]}),
               event_id="e-self"),
        record("AuthorizeSecurityGroupIngress", "2026-11-22T00:01:00Z",
               {"groupId": sg, "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIp": "10.1.2.3/8"},
               event_id="e-old"),
        record("AuthorizeSecurityGroupIngress", "2026-11-22T00:02:00Z",
               ingress(sg, "58", None, ipv6Ranges={"items": [{"cidrIpv6": "2001:DB8::/32"}]}), event_id="e-v6"),
    ]
    estate = build_estate(read_paths([write(tmp_path / "t.json", records)], tmp_path).records)
    got = {(r.direction, r.protocol, r.from_port, r.peer.kind, r.peer.value, r.location.event_id)
           for r in estate.groups[f"{SCOPE}#{sg}"].rules}
    assert got == {
        (Direction.INGRESS, "tcp", 8080, PeerKind.SELF, "", "e-self"),
        (Direction.INGRESS, "tcp", 8080, PeerKind.GROUP, "999988887777/sg-0ther", "e-self"),
        (Direction.INGRESS, "tcp", 22, PeerKind.CIDR, "10.0.0.0/8", "e-old"),
        (Direction.INGRESS, "icmpv6", None, PeerKind.CIDR, "2001:db8::/32", "e-v6"),
    }


def test_eventbridge_events_are_read_from_their_detail(tmp_path: Path) -> None:
    raw = record("AuthorizeSecurityGroupIngress", "2026-11-22T00:00:00Z",
                 ingress("sg-0eb", "tcp", 22, ipRanges={"items": [{"cidrIp": "0.0.0.0/0"}]}), event_id="e-eb")
    event = {"version": "0", "id": "x", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
             "account": ACCOUNT, "region": "eu-west-1", "detail": raw}
    (tmp_path / "one.json").write_text(json.dumps(event))
    (tmp_path / "many.json").write_text(json.dumps([event, {**event, "detail": {**raw, "eventID": "e-eb2"}}]))
    read = read_paths([tmp_path], tmp_path)
    assert [(r.file, r.event_id) for r in read.records] == [("many.json", "e-eb"), ("many.json", "e-eb2")]
    assert read.skipped == {"duplicate": 1}  # one.json holds e-eb again
