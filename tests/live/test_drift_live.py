"""`iacscan drift` end to end: groups made through the EC2 API (moto server), changed out of
band, snapshotted by `iacscan snapshot`, and compared with fixtures/drift/basic."""
from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "drift" / "basic"
Run = Callable[..., subprocess.CompletedProcess[str]]


def _ingress(ec2: Any, group: str, port: int, *, cidr: str = "", source: str = "", description: str = "") -> None:
    peer: dict[str, Any] = ({"IpRanges": [{"CidrIp": cidr, **({"Description": description} if description else {})}]}
                            if cidr else {"UserIdGroupPairs": [{"GroupId": source,
                                                                 **({"Description": description} if description else {})}]})
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, **peer}])


def _deployed(ec2: Any) -> dict[str, str]:
    """What `terraform apply` of the fixture would have made; returns the ids."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ids = {"vpc": vpc}
    for name, description in (("web", "web servers"), ("db", "database"), ("cache", "cache")):
        ids[name] = ec2.create_security_group(GroupName=f"drift-{name}", Description=description,
                                              VpcId=vpc)["GroupId"]
    _ingress(ec2, ids["web"], 443, cidr="10.0.0.0/8", description="https from the office")
    _ingress(ec2, ids["db"], 5432, source=ids["web"], description="postgres from web")
    _ingress(ec2, ids["cache"], 6379, source=ids["web"])
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    ids["instance"] = ec2.run_instances(
        ImageId="ami-12c6146b", InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=subnet,
        SecurityGroupIds=[ids["web"]],
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "drift-web-1"}]}],
    )["Instances"][0]["InstanceId"]
    return ids


def _drift(run_iacscan: Run, tmp_path: Path, vpc: str) -> tuple[int, dict[str, Any]]:
    code = tmp_path / "code"
    shutil.copytree(FIXTURE, code)
    (tmp_path / "vpc.tfvars").write_text(f'vpc_id = "{vpc}"\n')
    snap = run_iacscan("snapshot", "--region", "us-east-1", "--output", "snap.json")
    assert snap.returncode == 0, snap.stderr
    done = run_iacscan("drift", "code", "--snapshot", "snap.json", "--var-file", "vpc.tfvars", "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def _drift_findings(report: dict[str, Any]) -> set[tuple[str, str, str, str, int]]:
    return {(f["rule_id"], f["severity"], f["resource"], f["file"], f["line"])
            for f in report["findings"] if f["rule_id"].startswith("DRIFT")}


def test_unchanged_groups_give_no_drift(ec2: Any, run_iacscan: Run, tmp_path: Path) -> None:
    ids = _deployed(ec2)
    code, report = _drift(run_iacscan, tmp_path, ids["vpc"])
    assert _drift_findings(report) == set()
    assert code == 0


def test_out_of_band_changes_are_reported_with_live_ids(ec2: Any, run_iacscan: Run, tmp_path: Path) -> None:
    ids = _deployed(ec2)
    _ingress(ec2, ids["web"], 22, cidr="0.0.0.0/0")  # SSH opened to the world on a managed group
    stray = ec2.create_security_group(GroupName="drift-stray", Description="made by hand",
                                      VpcId=ids["vpc"])["GroupId"]  # an unmanaged group
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [ids["db"]]}])
    postgres = [r["SecurityGroupRuleId"] for r in rules["SecurityGroupRules"] if r.get("FromPort") == 5432]
    assert len(postgres) == 1
    ec2.revoke_security_group_ingress(GroupId=ids["db"], SecurityGroupRuleIds=postgres)  # removed by hand
    ec2.modify_instance_attribute(InstanceId=ids["instance"], Groups=[ids["web"], ids["db"]])  # attached by hand
    code, report = _drift(run_iacscan, tmp_path, ids["vpc"])
    assert _drift_findings(report) == {
        ("DRIFT501", "high", "aws_security_group.web", "code/main.tf", 8),
        ("DRIFT501", "medium", stray, "", 0),
        ("DRIFT502", "medium", "aws_security_group.db", "code/main.tf", 34),
        ("DRIFT504", "medium", "aws_instance.web", "code/main.tf", 70),
    }
    assert code == 1
    by_key = {(f["rule_id"], f["resource"]): f for f in report["findings"]}
    ssh = by_key[("DRIFT501", "aws_security_group.web")]
    assert ssh["details"] == {"live_id": ids["web"], "direction": "ingress", "protocol": "tcp",
                              "ports": "22", "peer": "0.0.0.0/0"}
    assert ssh["remediation"]["cli"].startswith(f"aws ec2 revoke-security-group-ingress --group-id {ids['web']} ")
    assert f'GroupId="{ids["web"]}"' in ssh["remediation"]["boto3"]
    unmanaged = by_key[("DRIFT501", stray)]
    assert unmanaged["details"] == {"live_id": stray, "name": "drift-stray", "vpc": ids["vpc"]}
    assert f"aws ec2 delete-security-group --group-id {stray}" in unmanaged["remediation"]["cli"]
    assert f'id = "{stray}"' in unmanaged["remediation"]["terraform"]
    missing = by_key[("DRIFT502", "aws_security_group.db")]
    assert missing["details"] == {"live_id": ids["db"], "direction": "ingress", "protocol": "tcp",
                                  "ports": "5432", "peer": ids["web"]}
    assert missing["remediation"]["cli"].startswith(
        f"aws ec2 authorize-security-group-ingress --group-id {ids['db']} ")
    assert ids["web"] in missing["remediation"]["cli"]
    attached = by_key[("DRIFT504", "aws_instance.web")]
    assert attached["details"] == {"live_id": ids["instance"], "added": [ids["db"]], "removed": []}
    assert attached["remediation"]["cli"] == (
        f"aws ec2 modify-instance-attribute --instance-id {ids['instance']} --groups {ids['web']}")


@pytest.mark.parametrize("fmt", ["text", "sarif"])
def test_other_formats_render(ec2: Any, run_iacscan: Run, tmp_path: Path, fmt: str) -> None:
    ids = _deployed(ec2)
    _ingress(ec2, ids["web"], 22, cidr="0.0.0.0/0")
    shutil.copytree(FIXTURE, tmp_path / "code")
    (tmp_path / "vpc.tfvars").write_text(f'vpc_id = "{ids["vpc"]}"\n')
    assert run_iacscan("snapshot", "--output", "snap.json").returncode == 0
    done = run_iacscan("drift", "code", "--snapshot", "snap.json", "--var-file", "vpc.tfvars", "--format", fmt)
    assert done.returncode == 1, done.stderr
    assert "DRIFT501" in done.stdout
