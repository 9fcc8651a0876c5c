"""``iacscan snapshot`` against moto: what the file holds, read-only calls, no secrets."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from iacscan.live.collect import SessionClients, collect
from iacscan.live.services import ALL_CALLS, is_read_only
from iacscan.model import PeerKind, Tier, make_uid
from iacscan.parsers.live import parse_snapshot
from tests.live.conftest import REGION, iacscan, make_client, reset, subprocess_env
from tests.live.world import World, build_world

SCOPE = "live:123456789012:us-east-1"
SECRET, TOKEN = "planted-secret-XYZ", "planted-token-QRS"


@pytest.fixture(scope="module")
def world(moto_server: str) -> World:
    """One estate for the whole module (its tests only read it, or add to other regions)."""
    reset(moto_server)
    return build_world(lambda service, region=REGION: make_client(moto_server, service, region))


@pytest.fixture(scope="module")
def snapshot_file(world: World, moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("snapshot")
    done = iacscan(subprocess_env(moto_server, home), home, "snapshot", "-o", "live.json")
    assert done.returncode == 0, done.stderr
    assert "1 region(s), 4 security group(s), 1 instance(s)" in done.stderr
    return home / "live.json"


def region_of(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())["regions"]["us-east-1"]


def by_id(items: list[dict[str, Any]], key: str, ident: str) -> dict[str, Any]:
    return next(i for i in items if i[key] == ident)


def test_snapshot_holds_the_raw_api_shapes(world: World, snapshot_file: Path) -> None:
    data = json.loads(snapshot_file.read_text())
    assert data["version"] == 1 and data["tool"]["name"] == "iacscan"
    assert data["account"] == "123456789012" and data["failures"] == []
    assert list(data["regions"]) == ["us-east-1"]
    region = data["regions"]["us-east-1"]
    web = by_id(region["security_groups"], "GroupId", world.web)
    assert web["GroupName"] == "web" and web["VpcId"] == world.vpc
    ssh = next(p for p in web["IpPermissions"] if p.get("FromPort") == 22)
    assert ssh["IpRanges"] == [{"CidrIp": "0.0.0.0/0", "Description": "ssh"}]
    eni = next(e for e in region["network_interfaces"] if e["Attachment"]["InstanceId"] == world.instance)
    assert sorted(g["GroupId"] for g in eni["Groups"]) == sorted([world.web, world.db])
    orders = by_id(region["db_instances"], "DBInstanceIdentifier", "orders")
    assert [g["VpcSecurityGroupId"] for g in orders["VpcSecurityGroups"]] == [world.db]
    assert region["prefix_list_entries"][world.prefix_list] == [{"Cidr": "203.0.113.0/24", "Description": "office"}]
    assert by_id(region["volumes"], "VolumeId", world.encrypted_volume)["Encrypted"] is True
    assert isinstance(by_id(region["instances"], "InstanceId", world.instance)["LaunchTime"], str)  # datetimes as text
    ids = [g["GroupId"] for g in region["security_groups"]]
    assert ids == sorted(ids)


def test_snapshot_parses_into_the_model(world: World, snapshot_file: Path) -> None:
    estate = parse_snapshot(snapshot_file)
    uid = lambda ident: make_uid(SCOPE, ident)  # noqa: E731
    web = estate.groups[uid(world.web)]
    assert (web.address, web.name, web.vpc, web.source, web.live_id) == (world.web, "web", uid(world.vpc), "live", world.web)
    assert not web.implicit_egress and not web.is_default
    rules = {(r.direction.value, r.protocol, r.from_port, r.to_port, r.peer.kind.value, r.peer.value, r.description)
             for r in web.rules}
    assert rules == {
        ("ingress", "tcp", 22, 22, "cidr", "0.0.0.0/0", "ssh"),
        ("ingress", "tcp", 443, 443, "cidr", "::/0", None),
        ("ingress", "tcp", 8080, 8080, "self", "", None),
        ("egress", "all", None, None, "cidr", "0.0.0.0/0", None),
    }
    assert all(r.location.resource_id.startswith("sgr-") and r.location.file == "" for r in web.rules)
    db_rules = {(r.peer.kind, r.peer.value) for r in estate.groups[uid(world.db)].rules if r.direction.value == "ingress"}
    assert db_rules == {(PeerKind.GROUP, uid(world.web)), (PeerKind.PREFIX_LIST, uid(world.prefix_list))}
    assert estate.prefix_lists[uid(world.prefix_list)].entries == ["203.0.113.0/24"]
    app = estate.workloads[uid(world.instance)]
    assert (app.kind, app.groups, app.public, app.subnets, app.name, app.metadata_tokens) == (
        "aws_instance", [uid(world.web), uid(world.db)], True, [uid(world.subnet)], "app", "required")
    orders = estate.workloads[uid("orders")]
    assert (orders.kind, orders.tier, orders.groups, orders.public, orders.ports) == (
        "aws_db_instance", Tier.DATA, [uid(world.db)], False, [5432])
    assert sorted(map(str, orders.subnets)) == sorted([uid(world.subnet), uid(world.subnet_b)])
    assert estate.vpcs[uid(world.vpc)].cidrs == ["10.0.0.0/16"]
    table = next(t for t in estate.route_tables.values() if uid(world.subnet) in t.subnets)
    assert {(r.destination, r.target_kind, r.target) for r in table.routes} == {
        ("10.0.0.0/16", "local", "local"), ("0.0.0.0/0", "igw", uid(world.igw))}
    assert estate.volumes[uid(world.plain_volume)].encrypted is False
    assert estate.volumes[uid(world.encrypted_volume)].encrypted is True
    assert estate.sources == {"live"} and estate.live_failures == [] and estate.unresolved == []


def test_snapshot_goes_to_stdout_and_is_deterministic(snapshot_file: Path, run_iacscan: Callable[..., Any]) -> None:
    done = run_iacscan("snapshot", "--region", "us-east-1")
    assert done.returncode == 0, done.stderr
    one, two = json.loads(done.stdout), json.loads(snapshot_file.read_text())
    one.pop("taken_at"), two.pop("taken_at")
    assert one == two


def test_two_regions_are_read(world: World, moto_server: str, run_iacscan: Callable[..., Any]) -> None:
    eu_client = make_client(moto_server, "ec2", "eu-west-1")
    eu = eu_client.create_security_group(GroupName="eu-only", Description="eu")["GroupId"]
    done = run_iacscan("snapshot", "--region", "eu-west-1", "--region", "us-east-1")
    assert done.returncode == 0, done.stderr
    regions = json.loads(done.stdout)["regions"]
    assert list(regions) == ["eu-west-1", "us-east-1"]
    assert eu in {g["GroupId"] for g in regions["eu-west-1"]["security_groups"]}
    assert eu not in {g["GroupId"] for g in regions["us-east-1"]["security_groups"]}
    assert world.web in {g["GroupId"] for g in regions["us-east-1"]["security_groups"]}


def test_credentials_are_never_shown(world: World, run_iacscan: Callable[..., Any], tmp_path: Path) -> None:
    env = {"AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN}
    outputs = [run_iacscan("snapshot", "--debug", "-o", "s.json", env=env),
               run_iacscan("scan", "--live", "--format", "json", env=env)]
    texts = [o.stdout + o.stderr for o in outputs] + [(tmp_path / "s.json").read_text()]
    assert [o.returncode for o in outputs] == [0, 1]
    for text in texts:
        assert SECRET not in text and TOKEN not in text and "testing" not in text


def test_no_credentials_is_a_usage_error(world: World, run_iacscan: Callable[..., Any]) -> None:
    done = run_iacscan("snapshot", env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})
    assert done.returncode == 2
    assert "iacscan: error: cannot read AWS: AWS credentials: Unable to locate credentials" in done.stderr
    assert "Traceback" not in done.stderr


def test_no_region_is_a_usage_error(world: World, run_iacscan: Callable[..., Any]) -> None:
    done = run_iacscan("snapshot", env={"AWS_DEFAULT_REGION": ""})
    assert done.returncode == 2
    assert "no AWS region: pass --region REGION" in done.stderr


def test_every_call_is_a_read(world: World, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A botocore hook on every session records each operation actually called."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    called: list[str] = []

    def record(model: Any, **kwargs: Any) -> None:
        called.append(model.name)

    def session(**kwargs: Any) -> boto3.Session:
        made = boto3.Session(**kwargs)
        made.events.register("before-call.*.*", record)
        return made

    collect(["us-east-1", "eu-west-1"], source=SessionClients(make_session=session))
    assert called and all(is_read_only(name) for name in called), sorted(set(called))
    # everything iacscan can call was called (moto has a trail-less account: no GetTrailStatus,
    # no load balancer: no DescribeListeners; DescribeRegions only with --all-regions)
    expected = {c.operation for c in ALL_CALLS} - {"GetTrailStatus", "DescribeListeners", "DescribeRegions"}
    assert set(called) == expected


def test_membership_without_the_interface_list(world: World, snapshot_file: Path) -> None:
    """When DescribeNetworkInterfaces was denied, the instance's own interface list still says."""
    data = json.loads(snapshot_file.read_text())
    del data["regions"]["us-east-1"]["network_interfaces"]
    app = parse_snapshot(data).workloads[make_uid(SCOPE, world.instance)]
    assert app.groups == [make_uid(SCOPE, world.web), make_uid(SCOPE, world.db)] and app.public is True


def test_peers_of_another_account_and_unknown_groups_stay_raw(world: World, snapshot_file: Path) -> None:
    data = json.loads(snapshot_file.read_text())
    web = by_id(data["regions"]["us-east-1"]["security_groups"], "GroupId", world.web)
    web["IpPermissions"].append({"IpProtocol": "tcp", "FromPort": 9000, "ToPort": 9000, "UserIdGroupPairs": [
        {"GroupId": "sg-0other", "UserId": "999999999999"}, {"GroupId": "sg-0gone", "UserId": "123456789012"}]})
    group = parse_snapshot(data).groups[make_uid(SCOPE, world.web)]
    peers = {(r.peer.kind, r.peer.value) for r in group.rules if r.from_port == 9000}
    assert peers == {(PeerKind.GROUP, "999999999999/sg-0other"), (PeerKind.GROUP, "sg-0gone")}


def test_aws_region_wins_over_aws_default_region(world: World, run_iacscan: Callable[..., Any]) -> None:
    done = run_iacscan("snapshot", env={"AWS_REGION": "eu-west-2", "AWS_DEFAULT_REGION": "us-east-1"})
    assert done.returncode == 0, done.stderr
    assert list(json.loads(done.stdout)["regions"]) == ["eu-west-2"]
