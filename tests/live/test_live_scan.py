"""``iacscan scan --snapshot FILE`` and ``scan --live``: every rule on the live estate."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from iacscan.cli import main
from tests.live.conftest import REGION, iacscan, make_client, reset, subprocess_env
from tests.live.world import World, build_world

#: Rules whose findings on the world are asserted exactly (the rest depend on moto's defaults only).
CHECKED = ("SG101", "SG102", "SG103", "SG104", "SG108", "NET301", "NET302", "NET303", "ENV201", "ENV202",
           "AWS401", "AWS402", "AWS405", "AWS406", "IAC001", "IAC002")


@pytest.fixture(scope="module")
def world(moto_server: str) -> World:
    reset(moto_server)
    return build_world(lambda service, region=REGION: make_client(moto_server, service, region))


@pytest.fixture(scope="module")
def snapshot_file(world: World, moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("snapshot")
    done = iacscan(subprocess_env(moto_server, home), home, "snapshot", "-o", "live.json")
    assert done.returncode == 0, done.stderr
    return home / "live.json"


@pytest.fixture(scope="module")
def defaults(world: World, moto_server: str) -> dict[str, Any]:
    """The objects AWS (moto) creates by itself: default VPC, default groups and ACLs, root volume."""
    ec2 = make_client(moto_server, "ec2")
    instance = ec2.describe_instances(InstanceIds=[world.instance])["Reservations"][0]["Instances"][0]
    return {
        "default_vpc": next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"]),
        "default_groups": {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]
                           if g["GroupName"] == "default"},
        "default_acls": {a["NetworkAclId"] for a in ec2.describe_network_acls()["NetworkAcls"] if a["IsDefault"]},
        "root_volume": instance["BlockDeviceMappings"][0]["Ebs"]["VolumeId"],
    }


def findings(done: Any) -> list[dict[str, Any]]:
    assert "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout)["findings"]


def by_rule(found: list[dict[str, Any]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {rule: set() for rule in CHECKED}
    for finding in found:
        if finding["rule_id"] in out:
            out[finding["rule_id"]].add(finding["resource"])
    return out


def test_scan_snapshot_runs_every_rule_on_the_live_estate(world: World, snapshot_file: Path, defaults: dict[str, Any],
                                                          run_iacscan: Callable[..., Any]) -> None:
    done = run_iacscan("scan", "--snapshot", str(snapshot_file), "--format", "json")
    assert done.returncode == 1  # critical findings
    found = findings(done)
    assert by_rule(found) == {
        "SG101": {world.web}, "SG102": set(), "SG103": set(), "SG104": set(),
        "SG108": defaults["default_groups"],
        "NET301": {world.instance}, "NET302": {"orders"}, "NET303": set(), "ENV201": set(), "ENV202": set(),
        "AWS401": {world.plain_volume, defaults["root_volume"]},
        "AWS402": {world.vpc, defaults["default_vpc"]},
        "AWS405": set(),
        "AWS406": defaults["default_acls"],
        "IAC001": set(), "IAC002": set(),
    }
    assert {(f["file"], f["line"]) for f in found} == {("", 0)}
    ssh = next(f for f in found if f["rule_id"] == "SG101")
    assert (ssh["severity"], ssh["details"]) == (
        "critical", {"direction": "ingress", "protocol": "tcp", "ports": "22", "peer": "0.0.0.0/0"})
    assert f"--group-id {world.web}" in ssh["remediation"]["cli"]
    net301 = next(f for f in found if f["rule_id"] == "NET301")
    assert (net301["path"], net301["details"]) == (["internet", world.instance], {"protocol": "tcp", "ports": "22"})
    net302 = next(f for f in found if f["rule_id"] == "NET302")
    assert (net302["path"], net302["severity"]) == (["internet", world.instance, "orders"], "critical")
    assert net302["environment"] == "prod"  # from the VPC's Environment tag


def test_scan_live_finds_what_the_snapshot_finds(world: World, snapshot_file: Path,
                                                 run_iacscan: Callable[..., Any]) -> None:
    from_file = findings(run_iacscan("scan", "--snapshot", str(snapshot_file), "--format", "json"))
    live = run_iacscan("scan", "--live", "--region", "us-east-1", "--format", "json")
    assert live.returncode == 1
    key = lambda f: (f["rule_id"], f["resource"], f["fingerprint"])  # noqa: E731
    assert sorted(map(key, findings(live))) == sorted(map(key, from_file))


def test_code_and_snapshot_are_scanned_together(world: World, snapshot_file: Path, tmp_path: Path,
                                               run_iacscan: Callable[..., Any]) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_security_group" "rdp" {\n  description = "rdp"\n  ingress {\n    description = "x"\n'
        '    protocol    = "tcp"\n    from_port   = 3389\n    to_port     = 3389\n'
        '    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n')
    done = run_iacscan("scan", ".", "--snapshot", str(snapshot_file), "--format", "json")
    sg101 = {(f["resource"], f["file"], f["line"]) for f in findings(done) if f["rule_id"] == "SG101"}
    assert sg101 == {("aws_security_group.rdp", "main.tf", 3), (world.web, "", 0)}


def test_a_partial_snapshot_says_what_was_not_checked(world: World, snapshot_file: Path, tmp_path: Path,
                                                      run_iacscan: Callable[..., Any]) -> None:
    data = json.loads(snapshot_file.read_text())
    del data["regions"]["us-east-1"]["flow_logs"]
    data["failures"].append({"region": "us-east-1", "service": "ec2", "operation": "DescribeFlowLogs",
                             "error": "UnauthorizedOperation", "message": "You are not authorized to perform this operation."})
    (tmp_path / "partial.json").write_text(json.dumps(data))
    found = findings(run_iacscan("scan", "--snapshot", "partial.json", "--format", "json"))
    rules = by_rule(found)
    assert rules["AWS402"] == set()  # unknown, not "no flow log"
    assert rules["IAC002"] == {"live:123456789012:us-east-1"}
    note = next(f for f in found if f["rule_id"] == "IAC002")
    assert "flow logs (ec2 DescribeFlowLogs)" in note["message"] and "UnauthorizedOperation" in note["message"]


def test_a_broken_snapshot_is_a_parse_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.json").write_text('{"version": 1, "regions": ')
    (tmp_path / "future.json").write_text('{"version": 99, "regions": {}}')
    for name, message in (("bad.json", "the snapshot is not valid JSON"), ("future.json", "snapshot version 99")):
        assert main(["scan", "--snapshot", name, "--format", "json"]) == 1
        found = json.loads(capsys.readouterr().out)["findings"]
        (error,) = [f for f in found if f["rule_id"] == "IAC001"]
        assert error["file"] == name and message in error["message"]


@pytest.mark.parametrize("args, message", [
    (("--snapshot", "missing.json"), "snapshot file not found: missing.json"),
    (("--snapshot", "x.json", "--live"), "--snapshot and --live cannot be used together"),
    (("--region", "us-east-1"), "--region only applies with --live"),
    (("--live", "--region", "us-east-1", "--all-regions"), "--region and --all-regions cannot be used together"),
])
def test_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                      args: tuple[str, ...], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["scan", *args]) == 2
    assert f"iacscan: error: {message}" in capsys.readouterr().err
