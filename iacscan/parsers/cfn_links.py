"""CloudFormation resources that link workloads to other things, applied after the workloads
exist: listener ports onto their load balancer, Elastic IPs onto their instance or
interface, subnets from database/cache subnet groups, and a workload's VPC from its
subnets or groups."""
from __future__ import annotations

from typing import Any

from iacscan.model import Unknown, Workload
from iacscan.parsers.cfn_common import SUBNET, Builder, as_int
from iacscan.parsers.cfn_intrinsics import line_of
from iacscan.parsers.cfn_workloads import ELBV2


def build_listener(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    """``AWS::ElasticLoadBalancingV2::Listener``: its port is a port of its load balancer."""
    target = b.target(props.get("LoadBalancerArn"), (ELBV2,))
    workload = b.estate.workloads.get(b.uid(target)) if target else None
    port = as_int(props.get("Port"))
    if workload is not None and isinstance(port, int) and port not in workload.ports:
        workload.ports.append(port)


def build_eip(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    """``AWS::EC2::EIP``/``EIPAssociation``: the instance or interface it names is public."""
    for key, kinds in (("InstanceId", ("AWS::EC2::Instance",)), ("NetworkInterfaceId", ("AWS::EC2::NetworkInterface",))):
        target = b.target(props.get(key), kinds)
        workload = b.estate.workloads.get(b.uid(target)) if target else None
        if workload is not None:
            workload.public = True


#: workload type → (property naming its subnet group, the subnet group's type)
SUBNET_GROUPS = {
    "AWS::RDS::DBInstance": ("DBSubnetGroupName", "AWS::RDS::DBSubnetGroup"),
    "AWS::RDS::DBCluster": ("DBSubnetGroupName", "AWS::RDS::DBSubnetGroup"),
    "AWS::DocDB::DBCluster": ("DBSubnetGroupName", "AWS::DocDB::DBSubnetGroup"),
    "AWS::Neptune::DBCluster": ("DBSubnetGroupName", "AWS::Neptune::DBSubnetGroup"),
    "AWS::ElastiCache::CacheCluster": ("CacheSubnetGroupName", "AWS::ElastiCache::SubnetGroup"),
    "AWS::ElastiCache::ReplicationGroup": ("CacheSubnetGroupName", "AWS::ElastiCache::SubnetGroup"),
    "AWS::Redshift::Cluster": ("ClusterSubnetGroupName", "AWS::Redshift::ClusterSubnetGroup"),
}


def _subnet_group(b: Builder, workload: Workload) -> list[str | Unknown]:
    """The subnets of the subnet group a database or cache names (when the template declares it)."""
    prop, group_type = SUBNET_GROUPS[workload.kind]
    props = b.resources.get(workload.address, ("", {}, 0))[1]
    target = b.target(props.get(prop), (group_type,))
    group = b.ctx.resources.get(target) if target else None
    group_props = group.get("Properties") if isinstance(group, dict) else None
    if not isinstance(group_props, dict):
        return []
    return b.id_list(b.ctx.resolve(group_props.get("SubnetIds"), line_of(group_props)), (SUBNET,))


def finish_workloads(b: Builder) -> None:
    """Subnets from subnet groups; then the VPC of its subnet or group for a workload without one."""
    for workload in b.estate.workloads.values():
        if not workload.subnets and workload.kind in SUBNET_GROUPS:
            workload.subnets = _subnet_group(b, workload)
        if workload.vpc is not None:
            continue
        for subnet_uid in workload.subnets:
            subnet = b.estate.subnets.get(subnet_uid) if isinstance(subnet_uid, str) else None
            if subnet is not None and subnet.vpc is not None:
                workload.vpc = subnet.vpc
                break
        else:
            for group_uid in workload.groups:
                group = b.estate.groups.get(group_uid) if isinstance(group_uid, str) else None
                if group is not None and isinstance(group.vpc, str):
                    workload.vpc = group.vpc
                    break
