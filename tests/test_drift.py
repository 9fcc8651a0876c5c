"""Drift (DRIFT501-504) on model-built code and live estates: exact findings and remediation."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from iacscan.drift import compare_estates
from iacscan.findings import Finding
from iacscan.model import (
    Direction, Estate, Location, Peer, PeerKind, Rule, SecurityGroup, Unknown, Vpc, Workload, make_uid,
)
from iacscan.ruleset import load_ruleset
from iacscan.scan import ScanResult, run_rules

ACCOUNT, REGION = "123456789012", "us-east-1"
LIVE = f"live:{ACCOUNT}:{REGION}"
VPC = "vpc-0aaa"


def rule(direction: str, protocol: str, lo: int | None, hi: int | None, peer: Peer,
         description: str | None = None, line: int = 0, resource_id: str = "") -> Rule:
    where = Location("main.tf", line) if line else Location("", 0, resource_id=resource_id)
    return Rule(Direction(direction), protocol, lo, hi, peer, description, where)


def cidr(value: str) -> Peer:
    return Peer(PeerKind.CIDR, value)


def code_group(name: str, rules: list[Rule], *, vpc: str | None = VPC, line: int = 1,
               description: str | None = "web servers", **kw: object) -> SecurityGroup:
    address = f"aws_security_group.{name}"
    return SecurityGroup(uid=make_uid(".", address), address=address, name=name, description=description,
                         vpc=vpc, rules=rules, location=Location("main.tf", line), **kw)  # type: ignore[arg-type]


def live_group(sg: str, name: str, rules: list[Rule], *, vpc: str = VPC, description: str = "web servers",
               region: str = REGION, is_default: bool = False) -> SecurityGroup:
    return SecurityGroup(uid=make_uid(f"live:{ACCOUNT}:{region}", sg), address=sg, name=name,
                         description=description, vpc=vpc, rules=rules, location=Location("", 0, resource_id=sg),
                         is_default=is_default, source="live", live_id=sg)


def estates(code_groups: list[SecurityGroup], live_groups: list[SecurityGroup]) -> tuple[Estate, Estate]:
    code, live = Estate(root="."), Estate(root=".")
    code.groups = {g.uid: g for g in code_groups}
    live.groups = {g.uid: g for g in live_groups}
    code.sources, live.sources = {"terraform"}, {"live"}
    return code, live


def drift(code: Estate, live: Estate) -> ScanResult:
    return compare_estates(code, live, load_ruleset())


def found(result: ScanResult, prefix: str = "DRIFT") -> set[tuple[str, str, str, str, int]]:
    return {(f.rule_id, f.severity.value, f.resource, f.file, f.line)
            for f in result.findings if f.rule_id.startswith(prefix)}


def one(result: ScanResult, rule_id: str) -> Finding:
    hits = [f for f in result.findings if f.rule_id == rule_id]
    assert len(hits) == 1, hits
    return hits[0]


HTTPS = rule("ingress", "tcp", 443, 443, cidr("10.0.0.0/8"), "office", line=3)
EGRESS = rule("egress", "all", 0, 0, cidr("0.0.0.0/0"), line=9)
LIVE_HTTPS = rule("ingress", "tcp", 443, 443, cidr("10.0.0.0/8"), "office", resource_id="sgr-1")
LIVE_EGRESS = rule("egress", "all", None, None, cidr("0.0.0.0/0"), resource_id="sgr-2")


def test_identical_groups_give_nothing() -> None:
    code, live = estates([code_group("web", [HTTPS, EGRESS])],
                         [live_group("sg-0web", "web", [LIVE_HTTPS, LIVE_EGRESS])])
    result = drift(code, live)
    assert result.findings == []


def test_live_only_ssh_from_internet_is_high_with_revoke_command() -> None:
    ssh = rule("ingress", "6", 22, 22, cidr("0.0.0.0/0"), resource_id="sgr-0ssh")
    code, live = estates([code_group("web", [HTTPS, EGRESS])],
                         [live_group("sg-0web", "web", [LIVE_HTTPS, LIVE_EGRESS, ssh])])
    result = drift(code, live)
    assert found(result) == {("DRIFT501", "high", "aws_security_group.web", "main.tf", 1)}
    finding = one(result, "DRIFT501")
    assert finding.details == {"live_id": "sg-0web", "direction": "ingress", "protocol": "tcp",
                               "ports": "22", "peer": "0.0.0.0/0"}
    assert finding.remediation["cli"] == ("aws ec2 revoke-security-group-ingress --group-id sg-0web "
                                          "--security-group-rule-ids sgr-0ssh")
    assert 'GroupId="sg-0web"' in finding.remediation["boto3"]
    assert "ingress {" in finding.remediation["terraform"]
    assert "GroupId: !Ref" not in finding.remediation["cloudformation"]
    assert "GroupId: sg-0web" in finding.remediation["cloudformation"]


def test_revoke_without_rule_id_uses_ip_permissions() -> None:
    ssh = rule("ingress", "tcp", 22, 22, cidr("0.0.0.0/0"), resource_id="sg-0web")
    code, live = estates([code_group("web", [])], [live_group("sg-0web", "web", [ssh])])
    finding = one(drift(code, live), "DRIFT501")
    assert finding.remediation["cli"] == (
        "aws ec2 revoke-security-group-ingress --group-id sg-0web --ip-permissions "
        "'IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=0.0.0.0/0}]'")
    # no inline rules in the code group: a standalone rule resource is suggested
    assert 'resource "aws_vpc_security_group_ingress_rule"' in finding.remediation["terraform"]
    assert "security_group_id = aws_security_group.web.id" in finding.remediation["terraform"]


def test_live_only_rule_from_private_range_is_medium() -> None:
    extra = rule("ingress", "tcp", 5432, 5432, cidr("10.0.0.0/8"), resource_id="sgr-9")
    code, live = estates([code_group("web", [HTTPS, EGRESS])],
                         [live_group("sg-0web", "web", [LIVE_HTTPS, LIVE_EGRESS, extra])])
    assert found(drift(code, live)) == {("DRIFT501", "medium", "aws_security_group.web", "main.tf", 1)}


def test_code_only_rule_is_drift502_on_the_rule_line() -> None:
    code, live = estates([code_group("web", [HTTPS, EGRESS])],
                         [live_group("sg-0web", "web", [LIVE_EGRESS])])
    result = drift(code, live)
    assert found(result) == {("DRIFT502", "medium", "aws_security_group.web", "main.tf", 3)}
    finding = one(result, "DRIFT502")
    assert finding.remediation["cli"].startswith("aws ec2 authorize-security-group-ingress --group-id sg-0web ")
    assert '"CidrIp": "10.0.0.0/8", "Description": "office"' in finding.remediation["cli"]


def test_description_change_is_drift503() -> None:
    changed = rule("ingress", "tcp", 443, 443, cidr("10.0.0.0/8"), "temp", resource_id="sgr-1")
    code, live = estates([code_group("web", [HTTPS, EGRESS])],
                         [live_group("sg-0web", "web", [changed, LIVE_EGRESS])])
    result = drift(code, live)
    assert found(result) == {("DRIFT503", "medium", "aws_security_group.web", "main.tf", 3)}
    finding = one(result, "DRIFT503")
    assert finding.details["field"] == "description"
    assert "update-security-group-rule-descriptions-ingress --group-id sg-0web" in finding.remediation["cli"]


def test_group_description_change_is_drift503_on_the_group() -> None:
    code, live = estates([code_group("web", [EGRESS])],
                         [live_group("sg-0web", "web", [LIVE_EGRESS], description="hand made")])
    result = drift(code, live)
    assert found(result) == {("DRIFT503", "medium", "aws_security_group.web", "main.tf", 1)}
    assert one(result, "DRIFT503").details == {"live_id": "sg-0web", "field": "description"}


def test_terraform_default_description_counts() -> None:
    code, live = estates([code_group("web", [EGRESS], description=None)],
                         [live_group("sg-0web", "web", [LIVE_EGRESS], description="Managed by Terraform")])
    assert drift(code, live).findings == []


def test_unmanaged_live_group_in_a_managed_vpc_is_drift501() -> None:
    stray = live_group("sg-0stray", "launch-wizard-1",
                       [rule("ingress", "tcp", 22, 22, cidr("0.0.0.0/0"), resource_id="sgr-5")])
    elsewhere = live_group("sg-0other", "other", [], vpc="vpc-0bbb")
    code, live = estates([code_group("web", [EGRESS])],
                         [live_group("sg-0web", "web", [LIVE_EGRESS]), stray, elsewhere])
    result = drift(code, live)
    assert found(result) == {("DRIFT501", "high", "sg-0stray", "", 0)}
    finding = one(result, "DRIFT501")
    assert finding.details == {"live_id": "sg-0stray", "name": "launch-wizard-1", "vpc": VPC}
    assert "aws ec2 delete-security-group --group-id sg-0stray" in finding.remediation["cli"]
    assert 'id = "sg-0stray"' in finding.remediation["terraform"]
    assert "import {" in finding.remediation["terraform"]


def _default(rules: list[Rule]) -> SecurityGroup:
    return live_group("sg-0def", "default", rules, description="default VPC security group", is_default=True)


AWS_DEFAULTS = [rule("ingress", "all", None, None, Peer(PeerKind.SELF)),
                rule("egress", "all", None, None, cidr("0.0.0.0/0"))]


def test_default_group_with_aws_defaults_gives_nothing() -> None:
    code, live = estates([code_group("web", [EGRESS])],
                         [live_group("sg-0web", "web", [LIVE_EGRESS]), _default(AWS_DEFAULTS)])
    assert drift(code, live).findings == []


def test_default_group_reports_only_the_rule_it_gained() -> None:
    gained = rule("ingress", "tcp", 3389, 3389, cidr("0.0.0.0/0"), resource_id="sgr-7")
    code, live = estates([code_group("web", [EGRESS])],
                         [live_group("sg-0web", "web", [LIVE_EGRESS]), _default(AWS_DEFAULTS + [gained])])
    result = drift(code, live)
    assert found(result) == {("DRIFT501", "high", "sg-0def", "", 0)}
    finding = one(result, "DRIFT501")
    assert finding.details["ports"] == "3389"
    assert "--group-id sg-0def" in finding.remediation["cli"]


def test_instance_with_other_groups_is_drift504() -> None:
    code, live = estates([code_group("web", [EGRESS])],
                         [live_group("sg-0web", "web", [LIVE_EGRESS]), live_group("sg-0x", "x", [], vpc="vpc-9")])
    web_uid = make_uid(".", "aws_security_group.web")
    code.workloads["i"] = Workload(uid=make_uid(".", "aws_instance.web"), address="aws_instance.web",
                                   kind="aws_instance", groups=[web_uid], tags={"Name": "web-1"},
                                   location=Location("main.tf", 20))
    live.workloads["l"] = Workload(uid=make_uid(LIVE, "i-0abc"), address="i-0abc", kind="aws_instance",
                                   groups=[make_uid(LIVE, "sg-0web"), make_uid(LIVE, "sg-0x")],
                                   tags={"Name": "web-1"}, source="live", live_id="i-0abc")
    result = drift(code, live)
    assert found(result) == {("DRIFT504", "medium", "aws_instance.web", "main.tf", 20)}
    finding = one(result, "DRIFT504")
    assert finding.details == {"live_id": "i-0abc", "added": ["sg-0x"], "removed": []}
    assert finding.remediation["cli"] == "aws ec2 modify-instance-attribute --instance-id i-0abc --groups sg-0web"


def test_failed_security_group_load_gives_a_note_not_drift502() -> None:
    code, live = estates([code_group("web", [HTTPS])], [])
    live.vpcs[make_uid(LIVE, VPC)] = Vpc(uid=make_uid(LIVE, VPC), address=VPC, cidrs=["10.0.0.0/16"], live_id=VPC)
    live.live_failures = [{"region": REGION, "service": "ec2",  # type: ignore[attr-defined]
                           "operation": "DescribeSecurityGroups", "error": "AccessDenied", "message": "no"}]
    result = drift(code, live)
    assert found(result) == set()
    note = one(result, "IAC002")
    assert (note.resource, note.file, note.line) == ("aws_security_group.web", "main.tf", 1)
    assert "could not be checked: DescribeSecurityGroups failed in us-east-1: AccessDenied" in note.message


def test_missing_group_without_failures_is_drift502() -> None:
    code, live = estates([code_group("web", [HTTPS])], [live_group("sg-0x", "x", [])])
    result = drift(code, live)
    assert ("DRIFT502", "medium", "aws_security_group.web", "main.tf", 1) in found(result)


def test_cross_account_peer_of_the_same_account_is_normalised() -> None:
    db_uid = make_uid(".", "aws_security_group.db")
    code_db = code_group("db", [rule("ingress", "tcp", 5432, 5432, Peer(PeerKind.GROUP, make_uid(".", "aws_security_group.web")), line=13)],
                         line=12, description="db")
    code_web = code_group("web", [rule("ingress", "tcp", 443, 443, Peer(PeerKind.GROUP, f"{ACCOUNT}/sg-0lb"), line=4),
                                  rule("ingress", "tcp", 8443, 8443, Peer(PeerKind.GROUP, "111122223333/sg-0ext"), line=5)])
    live_web = live_group("sg-0web", "web", [
        rule("ingress", "tcp", 443, 443, Peer(PeerKind.GROUP, "sg-0lb")),
        rule("ingress", "tcp", 8443, 8443, Peer(PeerKind.GROUP, "111122223333/sg-0ext"))])
    live_db = live_group("sg-0db", "db", [rule("ingress", "tcp", 5432, 5432,
                                               Peer(PeerKind.GROUP, make_uid(LIVE, "sg-0web")))], description="db")
    code, live = estates([code_web, code_db], [live_web, live_db])
    assert db_uid in code.groups
    assert drift(code, live).findings == []


def test_tcp_all_ports_is_not_protocol_all() -> None:
    code, live = estates([code_group("web", [rule("egress", "tcp", 0, 65535, cidr("0.0.0.0/0"), line=9)])],
                         [live_group("sg-0web", "web", [LIVE_EGRESS])])
    result = drift(code, live)
    assert found(result) == {("DRIFT501", "medium", "aws_security_group.web", "main.tf", 1),
                             ("DRIFT502", "medium", "aws_security_group.web", "main.tf", 9)}


def test_match_by_live_id_reports_a_renamed_group() -> None:
    code, live = estates([code_group("web", [EGRESS], live_id="sg-0web")],
                         [live_group("sg-0web", "web-renamed", [LIVE_EGRESS])])
    result = drift(code, live)
    assert found(result) == {("DRIFT503", "medium", "aws_security_group.web", "main.tf", 1)}
    assert one(result, "DRIFT503").details == {"live_id": "sg-0web", "field": "name"}


def test_code_vpc_matched_by_cidr_and_name_tag() -> None:
    vpc_uid = make_uid(".", "aws_vpc.main")
    code, live = estates([code_group("web", [EGRESS], vpc=vpc_uid)],
                         [live_group("sg-0web", "web", [LIVE_EGRESS]),
                          live_group("sg-0w2", "web", [], vpc="vpc-0bbb")])
    code.vpcs[vpc_uid] = Vpc(uid=vpc_uid, address="aws_vpc.main", cidrs=["10.0.0.0/16"], tags={"Name": "main"})
    for ident, name in ((VPC, "main"), ("vpc-0bbb", "other")):
        live.vpcs[make_uid(LIVE, ident)] = Vpc(uid=make_uid(LIVE, ident), address=ident, cidrs=["10.0.0.0/16"],
                                               tags={"Name": name}, live_id=ident)
    # sg-0w2 is in a VPC the code does not cover: not reported
    assert drift(code, live).findings == []


def test_unknown_peer_in_code_makes_live_rules_of_that_direction_a_note() -> None:
    unknown = Rule(Direction.INGRESS, "tcp", 22, 22, Peer(PeerKind.UNKNOWN, unknown=Unknown("var.admin has no value")),
                   location=Location("main.tf", 3))
    ssh = rule("ingress", "tcp", 22, 22, cidr("203.0.113.0/24"), resource_id="sgr-3")
    code, live = estates([code_group("web", [unknown, EGRESS])],
                         [live_group("sg-0web", "web", [ssh, LIVE_EGRESS])])
    result = drift(code, live)
    assert found(result) == set()
    assert any("live ingress tcp 22 from 203.0.113.0/24 on sg-0web" in f.message
               for f in result.findings if f.rule_id == "IAC002")


def test_plain_scan_of_code_and_live_reports_no_drift() -> None:
    ssh = rule("ingress", "tcp", 22, 22, cidr("0.0.0.0/0"))
    code, live = estates([code_group("web", [])], [live_group("sg-0web", "web", [ssh])])
    code.merge(live)
    result = run_rules(code, load_ruleset())
    assert found(result) == set()


def test_plan_groups_and_instances_match_by_live_id() -> None:
    from iacscan.scan import ScanOptions, load_estate

    root = Path(__file__).resolve().parent.parent / "fixtures" / "plan" / "update"
    code = load_estate(root, [root], ScanOptions(plan=root / "plan.json"))
    web, admin, vpc = "sg-0a1b2c3d4e5f60001", "sg-0a1b2c3d4e5f60002", "vpc-0a1b2c3d4e5f60000"
    live = Estate(root=str(root))
    for group in (
        live_group(web, "web", [rule("ingress", "tcp", 443, 443, cidr("0.0.0.0/0"), "HTTPS"),
                                rule("egress", "-1", None, None, cidr("0.0.0.0/0"))],
                   vpc=vpc, description="Web servers"),
        live_group(admin, "admin", [rule("ingress", "tcp", 22, 22, cidr("0.0.0.0/0"), "SSH from the office")],
                   vpc=vpc, description="Administration"),
    ):
        live.groups[group.uid] = group
    live.workloads["i"] = Workload(uid=make_uid(LIVE, "i-0a1b2c3d4e5f60009"), address="i-0a1b2c3d4e5f60009",
                                   kind="aws_instance", groups=[make_uid(LIVE, web)], source="live",
                                   live_id="i-0a1b2c3d4e5f60009")
    result = drift(code, live)
    assert found(result) == {
        ("DRIFT502", "medium", "aws_vpc_security_group_ingress_rule.web_rdp", "plan.json", 154),
        ("DRIFT504", "medium", "aws_instance.web", "plan.json", 204),
    }
    assert one(result, "DRIFT504").details == {"live_id": "i-0a1b2c3d4e5f60009", "added": [], "removed": [admin]}
    assert one(result, "DRIFT502").remediation["cli"].startswith(
        f"aws ec2 authorize-security-group-ingress --group-id {web} ")


def test_cloudformation_group_expects_aws_default_egress() -> None:
    group = code_group("Web", [HTTPS], implicit_egress=True, source="cloudformation")
    group.address, group.name = "Web", None
    live = live_group("sg-0web", "stack-Web-1ABC", [LIVE_HTTPS])
    live.tags["aws:cloudformation:logical-id"] = "Web"
    code, live_estate = estates([group], [live])
    result = drift(code, live_estate)
    assert found(result) == {("DRIFT502", "medium", "Web", "main.tf", 1)}
    assert one(result, "DRIFT502").details["peer"] == "0.0.0.0/0"
    live.rules.append(LIVE_EGRESS)
    assert drift(code, live_estate).findings == []


def test_ambiguous_name_is_a_note_and_the_candidates_are_not_unmanaged() -> None:
    code, live = estates([code_group("web", [EGRESS], vpc=None)],
                         [live_group("sg-0a", "web", [LIVE_EGRESS]),
                          live_group("sg-0b", "web", [LIVE_EGRESS], region="eu-west-1")])
    result = drift(code, live)
    assert found(result) == set()
    note = one(result, "IAC002")
    assert note.resource == "aws_security_group.web"
    assert "several live groups match it (sg-0a, sg-0b)" in note.message


def test_code_group_with_unknown_name_makes_live_groups_of_its_vpc_notes() -> None:
    known = code_group("web", [EGRESS])
    unnamed = code_group("app", [], line=30)
    unnamed.name = Unknown("var.app_name has no value")
    code, live = estates([known, unnamed], [live_group("sg-0web", "web", [LIVE_EGRESS]),
                                            live_group("sg-0app", "app-prod", [])])
    result = drift(code, live)
    assert found(result) == set()
    notes = {(f.resource, f.line) for f in result.findings if f.rule_id == "IAC002"}
    assert notes == {("aws_security_group.app", 30), ("sg-0app", 0)}


# ---------------------------------------------------------------- the command, on a hand-written snapshot

TF = '''resource "aws_security_group" "web" {
  name        = "web"
  description = "web servers"
  vpc_id      = "vpc-0aaa"

  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }
}
'''


def _snapshot(groups: list[dict[str, object]], failures: list[dict[str, str]] | None = None) -> dict[str, object]:
    region: dict[str, object] = {"vpcs": [{"VpcId": VPC, "CidrBlock": "10.0.0.0/16"}]}
    if groups is not None:
        region["security_groups"] = groups
    return {"version": 1, "account": ACCOUNT, "regions": {REGION: region}, "failures": failures or []}


def _sg(ingress: list[dict[str, object]]) -> dict[str, object]:
    return {"GroupId": "sg-0web", "GroupName": "web", "Description": "web servers", "VpcId": VPC,
            "OwnerId": ACCOUNT, "IpPermissions": ingress, "IpPermissionsEgress": []}


HTTPS_PERM = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}


def _run(tmp_path: Path, snapshot: dict[str, object], capsys: pytest.CaptureFixture[str],
         *extra: str) -> tuple[int, dict[str, object]]:
    from iacscan.cli import main

    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "main.tf").write_text(TF)
    (tmp_path / "snap.json").write_text(json.dumps(snapshot))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        code = main(["drift", "code", "--snapshot", "snap.json", "--format", "json", *extra])
    finally:
        os.chdir(cwd)
    return code, json.loads(capsys.readouterr().out)


def test_command_unchanged_snapshot_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _run(tmp_path, _snapshot([_sg([HTTPS_PERM])]), capsys)
    assert (code, report["findings"]) == (0, [])


def test_command_reports_ssh_opened_by_hand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ssh = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    code, report = _run(tmp_path, _snapshot([_sg([HTTPS_PERM, ssh])]), capsys)
    assert code == 1
    assert [(f["rule_id"], f["severity"], f["resource"], f["file"], f["line"]) for f in report["findings"]] == [
        ("DRIFT501", "high", "aws_security_group.web", "code/main.tf", 1)]
    assert report["findings"][0]["remediation"]["cli"] == (
        "aws ec2 revoke-security-group-ingress --group-id sg-0web --ip-permissions "
        "'IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=0.0.0.0/0}]'")


def test_command_failed_group_read_is_not_reported_missing(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = _snapshot(None, [{"region": REGION, "service": "ec2", "operation": "DescribeSecurityGroups",  # type: ignore[arg-type]
                                 "error": "UnauthorizedOperation", "message": "denied"}])
    code, report = _run(tmp_path, snapshot, capsys, "--fail-on", "info")
    rows = {(f["rule_id"], f["resource"]) for f in report["findings"]}  # type: ignore[index]
    assert not any(rule_id.startswith("DRIFT") for rule_id, _ in rows)
    assert ("IAC002", "aws_security_group.web") in rows
    note = next(f for f in report["findings"] if f["resource"] == "aws_security_group.web")  # type: ignore[index]
    assert "could not be checked: DescribeSecurityGroups failed in us-east-1: UnauthorizedOperation" in note["message"]
    assert code == 1  # --fail-on info: the notes count


def test_command_snapshot_and_region_exclude_each_other(tmp_path: Path) -> None:
    from iacscan.cli import main

    (tmp_path / "snap.json").write_text("{}")
    assert main(["drift", str(tmp_path), "--snapshot", str(tmp_path / "snap.json"), "--region", "us-east-1"]) == 2


def test_rule_to_a_group_missing_from_live_does_not_hide_other_live_rules() -> None:
    cache_uid = make_uid(".", "aws_security_group.cache")
    code_web = code_group("web", [rule("ingress", "tcp", 6379, 6379, Peer(PeerKind.GROUP, cache_uid), line=4)])
    code_cache = code_group("cache", [], line=20, description="cache")
    ssh = rule("ingress", "tcp", 22, 22, cidr("0.0.0.0/0"), resource_id="sgr-1")
    other = rule("ingress", "tcp", 6379, 6379, Peer(PeerKind.GROUP, "sg-0old"), resource_id="sgr-2")
    code, live = estates([code_web, code_cache], [live_group("sg-0web", "web", [ssh, other])])
    result = drift(code, live)
    # the SSH rule cannot be the code's cache rule: reported; the 6379 rule from sg-0old may be: a note
    assert found(result) == {("DRIFT501", "high", "aws_security_group.web", "main.tf", 1),
                             ("DRIFT502", "medium", "aws_security_group.cache", "main.tf", 20)}
    assert any("live ingress tcp 6379 from sg-0old on sg-0web" in f.message
               for f in result.findings if f.rule_id == "IAC002")


def test_command_baseline_hides_accepted_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from iacscan.cli import main
    from iacscan.suppress import BASELINE_VERSION, baseline_document

    ssh = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    code, report = _run(tmp_path, _snapshot([_sg([HTTPS_PERM, ssh])]), capsys)
    assert code == 1
    entries = [{"fingerprint": f["fingerprint"]} for f in report["findings"]]  # type: ignore[index]
    document = baseline_document([]) | {"findings": entries, "version": BASELINE_VERSION}
    (tmp_path / "base.json").write_text(json.dumps(document))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert main(["drift", "code", "--snapshot", "snap.json", "--format", "json", "--baseline", "base.json"]) == 0
    finally:
        os.chdir(cwd)
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_group_with_a_known_vpc_is_matched_before_one_matched_by_name_alone() -> None:
    # "a.web" (no VPC) sorts first by uid, but the VPC-bound group takes sg-0in first
    loose = code_group("web", [], vpc=None)
    loose.uid, loose.address = make_uid("a", "aws_security_group.web"), "aws_security_group.web"
    bound = code_group("web", [], line=40)
    bound.uid = make_uid("z", "aws_security_group.web")
    code, live = estates([loose, bound], [live_group("sg-0in", "web", [])])
    result = drift(code, live)
    assert found(result) == {("DRIFT502", "medium", "aws_security_group.web", "main.tf", 1)}


def test_command_broken_snapshot_claims_nothing_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _run(tmp_path, {"version": 99, "regions": {}}, capsys)
    rows = {(f["rule_id"], f["resource"]) for f in report["findings"]}  # type: ignore[index]
    assert ("IAC001", "snap.json") in rows
    assert not any(rule_id.startswith("DRIFT") for rule_id, _ in rows)
    assert code == 1


def test_unreadable_snapshot_turns_missing_into_a_note() -> None:
    from iacscan.model import ParseError

    code, live = estates([code_group("web", [HTTPS], vpc=None)], [])
    live.errors.append(ParseError("snap.json", 0, "not an iacscan snapshot"))
    result = drift(code, live)
    assert found(result) == set()
    assert "the snapshot could not be read: not an iacscan snapshot" in one(result, "IAC002").message
