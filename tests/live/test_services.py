"""The other services of a snapshot, created for real in moto and read back into the model:
load balancers (+ listeners), a classic ELB, a Lambda function in a VPC, an ElastiCache
cluster, an Aurora cluster and member, a CloudTrail trail, AWS Config, a flow log, a
custom network ACL; and interfaces that belong to no instance."""
from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from iacscan.live.collect import collect
from iacscan.model import Estate, Tier, make_uid
from iacscan.parsers.live import parse_snapshot
from tests.live.conftest import REGION, make_client, reset

SCOPE = "live:123456789012:us-east-1"


def uid(ident: str) -> str:
    return make_uid(SCOPE, ident)


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("handler.py", "def handle(event, context):\n    return None\n")
    return buf.getvalue()


@pytest.fixture(scope="module")
def services(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """Create the resources, then snapshot in-process; returns (ids, snapshot)."""
    reset(moto_server)
    c = lambda service: make_client(moto_server, service, REGION)  # noqa: E731
    ec2 = c("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="edge", Description="edge", VpcId=vpc)["GroupId"]
    elbv2 = c("elbv2")
    lb = elbv2.create_load_balancer(Name="web", Subnets=[a, b], SecurityGroups=[sg],
                                    Scheme="internet-facing")["LoadBalancers"][0]["LoadBalancerArn"]
    target = elbv2.create_target_group(Name="app", Protocol="HTTP", Port=8080, VpcId=vpc)["TargetGroups"][0]
    elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=443,
                          DefaultActions=[{"Type": "forward", "TargetGroupArn": target["TargetGroupArn"]}])
    c("elb").create_load_balancer(LoadBalancerName="legacy", Subnets=[a], SecurityGroups=[sg], Scheme="internal",
                                  Listeners=[{"Protocol": "TCP", "LoadBalancerPort": 80, "InstancePort": 80}])
    role = c("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    c("lambda").create_function(FunctionName="worker", Runtime="python3.12", Role=role, Handler="handler.handle",
                                Code={"ZipFile": _zip()}, VpcConfig={"SubnetIds": [a], "SecurityGroupIds": [sg]},
                                Environment={"Variables": {"DB_PASSWORD": "planted-lambda-secret"}})
    cache = c("elasticache")
    cache.create_cache_subnet_group(CacheSubnetGroupName="cache", CacheSubnetGroupDescription="c", SubnetIds=[a, b])
    cache.create_cache_cluster(CacheClusterId="sessions", Engine="redis", CacheNodeType="cache.t3.micro",
                               NumCacheNodes=1, CacheSubnetGroupName="cache", SecurityGroupIds=[sg])
    rds = c("rds")
    rds.create_db_cluster(DBClusterIdentifier="ledger", Engine="aurora-postgresql", MasterUsername="admin",
                          MasterUserPassword="not-a-secret-123", VpcSecurityGroupIds=[sg])
    rds.create_db_instance(DBInstanceIdentifier="ledger-1", DBClusterIdentifier="ledger", Engine="aurora-postgresql",
                           DBInstanceClass="db.r5.large", PubliclyAccessible=False)
    c("s3").create_bucket(Bucket="audit")
    trail = c("cloudtrail").create_trail(Name="main", S3BucketName="audit", IsMultiRegionTrail=True,
                                         EnableLogFileValidation=True)["TrailARN"]
    c("cloudtrail").start_logging(Name="main")
    c("config").put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": role})
    c("config").put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "audit"})
    flow = ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL", LogDestinationType="s3",
                                LogDestination="arn:aws:s3:::audit")["FlowLogIds"][0]
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="6", RuleAction="allow", Egress=False,
                                 CidrBlock="0.0.0.0/0", PortRange={"From": 443, "To": 443})
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=110, Protocol="1", RuleAction="deny", Egress=False,
                                 CidrBlock="0.0.0.0/0", IcmpTypeCode={"Type": 8, "Code": -1})
    ec2.replace_network_acl_association(
        AssociationId=next(x["NetworkAclAssociationId"] for n in ec2.describe_network_acls()["NetworkAcls"]
                           for x in n["Associations"] if x["SubnetId"] == a), NetworkAclId=acl)
    eni = ec2.create_network_interface(SubnetId=b, Groups=[sg], Description="VPC Endpoint Interface vpce-0abc")
    mp = pytest.MonkeyPatch()
    for key, value in {"AWS_ENDPOINT_URL": moto_server, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        mp.setenv(key, value)
    try:
        snapshot = collect([REGION])
    finally:
        mp.undo()
    ids = {"vpc": vpc, "a": a, "b": b, "sg": sg, "lb": lb, "trail": trail, "flow": flow, "acl": acl,
           "eni": eni["NetworkInterface"]["NetworkInterfaceId"]}
    return ids, snapshot


@pytest.fixture(scope="module")
def estate(services: tuple[dict[str, Any], dict[str, Any]]) -> Estate:
    return parse_snapshot(services[1])


def test_nothing_failed_and_no_lambda_environment_is_kept(services: tuple[dict[str, Any], dict[str, Any]]) -> None:
    _, snapshot = services
    assert snapshot["failures"] == []
    assert "planted-lambda-secret" not in json.dumps(snapshot)
    assert snapshot["regions"][REGION]["lambda_functions"][0]["VpcConfig"]["SecurityGroupIds"]


def test_load_balancers(services: tuple[dict[str, Any], dict[str, Any]], estate: Estate) -> None:
    ids, _ = services
    web = estate.workloads[uid("web")]
    assert (web.kind, web.tier, web.public, web.ports, web.groups, web.live_id) == (
        "aws_lb", Tier.WEB, True, [443], [uid(ids["sg"])], "web")
    assert sorted(map(str, web.subnets)) == sorted([uid(ids["a"]), uid(ids["b"])])
    assert web.location.resource_id == ids["lb"]
    legacy = estate.workloads[uid("legacy")]
    assert (legacy.kind, legacy.public, legacy.ports, legacy.subnets) == ("aws_elb", False, [80], [uid(ids["a"])])


def test_function_cache_and_databases(services: tuple[dict[str, Any], dict[str, Any]], estate: Estate) -> None:
    ids, _ = services
    worker = estate.workloads[uid("worker")]
    assert (worker.kind, worker.groups, worker.subnets, worker.public) == (
        "aws_lambda_function", [uid(ids["sg"])], [uid(ids["a"])], False)
    sessions = estate.workloads[uid("sessions")]
    # moto keeps neither the cache's groups nor its nodes: the engine gives the port
    assert (sessions.kind, sessions.tier, sessions.ports, sessions.public) == (
        "aws_elasticache_cluster", Tier.DATA, [6379], False)
    assert sorted(map(str, sessions.subnets)) == sorted([uid(ids["a"]), uid(ids["b"])])
    ledger = estate.workloads[uid("ledger")]
    assert (ledger.kind, ledger.tier, ledger.groups, ledger.ports, ledger.public) == (
        "aws_rds_cluster", Tier.DATA, [uid(ids["sg"])], [5432], False)
    member = estate.workloads[uid("ledger-1")]
    assert (member.kind, member.tier, member.public) == ("aws_rds_cluster_instance", Tier.DATA, False)


def test_audit_objects(services: tuple[dict[str, Any], dict[str, Any]], estate: Estate) -> None:
    ids, _ = services
    (trail,) = estate.trails.values()
    assert (trail.address, trail.multi_region, trail.log_validation, trail.logging) == (ids["trail"], True, True, True)
    assert sorted(r.address for r in estate.config_recorders.values()) == ["delivery_channel/default", "recorder/default"]
    assert estate.flow_logs[uid(ids["flow"])].target == uid(ids["vpc"])
    acl = estate.nacls[uid(ids["acl"])]
    assert acl.subnets == [uid(ids["a"])] and not acl.is_default
    entries = {(e.rule_number, e.egress, e.protocol, e.action, e.cidr, e.from_port, e.to_port) for e in acl.entries}
    assert (100, False, "tcp", "allow", "0.0.0.0/0", 443, 443) in entries


def test_icmp_acl_entries_take_type_and_code(services: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """moto leaves ``IcmpTypeCode`` out of DescribeNetworkAcls: put it back as AWS returns it."""
    ids, snapshot = services
    data = json.loads(json.dumps(snapshot))
    (raw,) = [a for a in data["regions"][REGION]["network_acls"] if a["NetworkAclId"] == ids["acl"]]
    (icmp,) = [e for e in raw["Entries"] if e["RuleNumber"] == 110]
    assert icmp["Protocol"] == "1" and "IcmpTypeCode" not in icmp
    icmp["IcmpTypeCode"] = {"Type": 8, "Code": -1}
    acl = parse_snapshot(data).nacls[uid(ids["acl"])]
    (entry,) = [e for e in acl.entries if e.rule_number == 110]
    assert (entry.protocol, entry.action, entry.from_port, entry.to_port) == ("icmp", "deny", 8, -1)


def test_interfaces_of_no_instance(services: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """An in-use interface with groups and no instance is a workload of its own, unless the
    service that owns it was read (then that service's workload stands for it)."""
    ids, snapshot = services
    data = json.loads(json.dumps(snapshot))
    region = data["regions"][REGION]
    (eni,) = [e for e in region["network_interfaces"] if e["NetworkInterfaceId"] == ids["eni"]]
    assert eni["Status"] == "available"  # moto never attaches it; an unattached interface carries nothing
    assert uid(ids["eni"]) not in parse_snapshot(data).workloads
    eni["Status"] = "in-use"
    rds_eni = dict(eni, NetworkInterfaceId="eni-0rds", Description="RDSNetworkInterface", RequesterManaged=True)
    region["network_interfaces"].append(rds_eni)
    found = parse_snapshot(data).workloads
    endpoint = found[uid(ids["eni"])]
    assert (endpoint.kind, endpoint.groups, endpoint.subnets, endpoint.public) == (
        "eni:vpc_endpoint", [uid(ids["sg"])], [uid(ids["b"])], False)
    assert uid("eni-0rds") not in found  # RDS was read: its databases stand for it
    del region["db_instances"]
    rds = parse_snapshot(data).workloads[uid("eni-0rds")]
    assert (rds.kind, rds.tier) == ("eni:rds", Tier.DATA)
