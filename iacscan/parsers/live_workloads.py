"""Live workloads: instances, databases, caches, load balancers, Lambda functions, other ENIs.

Kinds follow the Terraform resource types (``aws_instance``, ``aws_db_instance``,
``aws_rds_cluster``, ``aws_rds_cluster_instance``, ``aws_elasticache_cluster``,
``aws_lb``, ``aws_elb``, ``aws_lambda_function``) so policies and rules that match on
kinds treat live and code alike. Addresses are the live ids: ``i-…``, DB and cache
identifiers, load balancer and function names (ARNs in ``Location.resource_id``).

Membership comes from network interfaces: an instance carries the union of the groups
of every interface attached to it (``Attachment.InstanceId``), falling back to what
``DescribeInstances`` lists. An in-use interface with groups that is attached to no
instance becomes a workload of kind ``eni:<owner>`` (``eni:vpc_endpoint``,
``eni:efs`` …) unless its owner service (RDS, ElastiCache, ELB, Lambda) was read from its
own API — then that service's workload already stands for it. Load balancers without
security groups (most NLBs) are not workloads: traffic passes through them to targets,
whose own groups decide.

``public``: instances and interfaces from a public IPv4 or an IPv6 address (True/False);
RDS ``PubliclyAccessible``; load balancers ``Scheme``; caches and Lambda False.
Terminated instances are left out.
"""
from __future__ import annotations

from typing import Any

from iacscan.model import Tier, Unknown, Workload
from iacscan.parsers.cfn_workloads import engine_port
from iacscan.parsers.live_common import RegionBuilder, as_int, items, tags_of

_GONE = ("terminated", "shutting-down")

#: ENI owner service → (the snapshot keys that cover it, tier).
_OWNERS: dict[str, tuple[tuple[str, ...], Tier]] = {
    "rds": (("db_instances", "db_clusters"), Tier.DATA),
    "elasticache": (("cache_clusters",), Tier.DATA),
    "elb": (("load_balancers", "classic_load_balancers"), Tier.WEB),
    "lambda": (("lambda_functions",), Tier.APP),
}
_DESCRIPTIONS = (("AWS Lambda VPC ENI", "lambda"), ("ELB ", "elb"), ("RDSNetworkInterface", "rds"),
                 ("ElastiCache", "elasticache"), ("EFS mount target", "efs"), ("VPC Endpoint Interface", "vpc_endpoint"))
_TYPES = {"lambda": "lambda", "network_load_balancer": "elb", "gateway_load_balancer": "elb", "load_balancer": "elb"}


def _groups(b: RegionBuilder, ids: list[Any]) -> list[str | Unknown]:
    return _refs(b, ids, "groups")


def _add(b: RegionBuilder, address: str, kind: str, arn: str, **fields: Any) -> Workload:
    uid = b.uid(address)
    if uid in b.estate.workloads:  # e.g. a DB cluster and an instance of the same name
        address, uid = f"{kind}/{address}", b.uid(f"{kind}/{address}")
    workload = Workload(uid=uid, address=address, kind=kind, location=b.loc(arn or address), source="live",
                        live_id=address, **fields)
    b.estate.workloads[uid] = workload
    return workload


def build_instances(b: RegionBuilder) -> None:
    enis_by_instance: dict[str, list[dict[str, Any]]] = {}
    for eni in items(b.data, "network_interfaces"):
        instance = (eni.get("Attachment") or {}).get("InstanceId")
        if isinstance(instance, str):
            enis_by_instance.setdefault(instance, []).append(eni)
    for inst in items(b.data, "instances"):
        ident = inst.get("InstanceId")
        if not isinstance(ident, str) or (inst.get("State") or {}).get("Name") in _GONE:
            continue
        enis = enis_by_instance.get(ident) or [e for e in inst.get("NetworkInterfaces") or [] if isinstance(e, dict)]
        group_ids = [g.get("GroupId") for e in enis for g in e.get("Groups") or []]
        if not group_ids:
            group_ids = [g.get("GroupId") for g in inst.get("SecurityGroups") or []]
        subnets = [inst.get("SubnetId")] + [e.get("SubnetId") for e in enis]
        public = bool(inst.get("PublicIpAddress")) or any(_eni_public(e) for e in enis)
        tags = tags_of(inst.get("Tags"))
        _add(b, ident, "aws_instance", ident, groups=_groups(b, group_ids), vpc=b.ref(inst.get("VpcId"), "vpcs"),
             subnets=_refs(b, subnets, "subnets"), public=public, tags=tags, name=tags.get("Name"),
             metadata_tokens=(inst.get("MetadataOptions") or {}).get("HttpTokens"), image=inst.get("ImageId"))


def _refs(b: RegionBuilder, ids: list[Any], collection: str) -> list[str | Unknown]:
    out: list[str | Unknown] = []
    for ident in ids:
        ref = b.ref(ident, collection)
        if ref and ref not in out:
            out.append(ref)
    return out


def _eni_public(eni: dict[str, Any]) -> bool:
    return bool((eni.get("Association") or {}).get("PublicIp")) or bool(eni.get("Ipv6Addresses"))


def eni_owner(eni: dict[str, Any]) -> str:
    """The service that owns a requester-managed interface (``rds``, ``elb``…), or its type."""
    description = str(eni.get("Description") or "")
    for prefix, owner in _DESCRIPTIONS:
        if description.startswith(prefix):
            return owner
    kind = str(eni.get("InterfaceType") or "interface")
    return _TYPES.get(kind, kind)


def build_interfaces(b: RegionBuilder) -> None:
    for eni in items(b.data, "network_interfaces"):
        ident = eni.get("NetworkInterfaceId")
        attachment = eni.get("Attachment") or {}
        if not isinstance(ident, str) or attachment.get("InstanceId") or eni.get("Status") == "available":
            continue
        group_ids = [g.get("GroupId") for g in eni.get("Groups") or []]
        if not group_ids:
            continue
        owner = eni_owner(eni)
        keys, tier = _OWNERS.get(owner, ((), Tier.APP))
        if keys and all(b.read(k) for k in keys):
            continue
        tags = tags_of(eni.get("TagSet"))
        _add(b, ident, f"eni:{owner}", ident, tier=tier, groups=_groups(b, group_ids),
             vpc=b.ref(eni.get("VpcId"), "vpcs"), subnets=_refs(b, [eni.get("SubnetId")], "subnets"),
             public=_eni_public(eni), tags=tags, name=tags.get("Name") or eni.get("Description") or None)


def _db_kind(engine: str, cluster: bool, member: bool) -> str:
    family = "docdb" if engine.startswith("docdb") else "neptune" if engine.startswith("neptune") else "rds"
    if cluster:
        return f"aws_{family}_cluster"
    if member:
        return f"aws_{family}_cluster_instance"
    return "aws_db_instance"


def build_databases(b: RegionBuilder) -> None:
    clusters = items(b.data, "db_clusters")
    members_public: dict[str, list[bool]] = {}
    for db in items(b.data, "db_instances"):
        ident = db.get("DBInstanceIdentifier")
        if not isinstance(ident, str):
            continue
        engine = str(db.get("Engine") or "")
        cluster = db.get("DBClusterIdentifier")
        public = db.get("PubliclyAccessible")
        if isinstance(cluster, str) and isinstance(public, bool):
            members_public.setdefault(cluster, []).append(public)
        subnet_group = db.get("DBSubnetGroup") or {}
        port = as_int((db.get("Endpoint") or {}).get("Port")) or as_int(db.get("DbInstancePort")) or engine_port(engine)
        _add(b, ident, _db_kind(engine, False, isinstance(cluster, str)), str(db.get("DBInstanceArn") or ""),
             tier=Tier.DATA, groups=_groups(b, [g.get("VpcSecurityGroupId") for g in db.get("VpcSecurityGroups") or []]),
             vpc=b.ref(subnet_group.get("VpcId"), "vpcs"),
             subnets=_refs(b, [s.get("SubnetIdentifier") for s in subnet_group.get("Subnets") or []], "subnets"),
             public=public if isinstance(public, bool) else None, ports=[port] if port else [],
             tags=tags_of(db.get("TagList")), name=ident)
    for db in clusters:
        ident = db.get("DBClusterIdentifier")
        if not isinstance(ident, str):
            continue
        engine = str(db.get("Engine") or "")
        public = db.get("PubliclyAccessible")
        if not isinstance(public, bool):
            flags = members_public.get(ident)
            public = any(flags) if flags else None
        port = as_int(db.get("Port")) or engine_port(engine)
        _add(b, ident, _db_kind(engine, True, False), str(db.get("DBClusterArn") or ""), tier=Tier.DATA,
             groups=_groups(b, [g.get("VpcSecurityGroupId") for g in db.get("VpcSecurityGroups") or []]),
             public=public, ports=[port] if port else [], tags=tags_of(db.get("TagList")), name=ident)


def build_caches(b: RegionBuilder) -> None:
    subnet_groups = {g.get("CacheSubnetGroupName"): g for g in items(b.data, "cache_subnet_groups")}
    for cache in items(b.data, "cache_clusters"):
        ident = cache.get("CacheClusterId")
        if not isinstance(ident, str):
            continue
        nodes = [n for n in cache.get("CacheNodes") or [] if isinstance(n, dict)]
        port = (as_int((cache.get("ConfigurationEndpoint") or {}).get("Port"))
                or next((as_int((n.get("Endpoint") or {}).get("Port")) for n in nodes), None)
                or engine_port(cache.get("Engine")))
        group = subnet_groups.get(cache.get("CacheSubnetGroupName")) or {}
        _add(b, ident, "aws_elasticache_cluster", str(cache.get("ARN") or ""), tier=Tier.DATA,
             groups=_groups(b, [g.get("SecurityGroupId") for g in cache.get("SecurityGroups") or []]),
             vpc=b.ref(group.get("VpcId"), "vpcs"),
             subnets=_refs(b, [s.get("SubnetIdentifier") for s in group.get("Subnets") or []], "subnets"),
             public=False, ports=[port] if port else [], name=ident)


def build_load_balancers(b: RegionBuilder) -> None:
    listeners = b.data.get("listeners")
    listeners = listeners if isinstance(listeners, dict) else {}
    for lb in items(b.data, "load_balancers"):
        name, arn = lb.get("LoadBalancerName"), str(lb.get("LoadBalancerArn") or "")
        if not isinstance(name, str) or not lb.get("SecurityGroups"):
            continue
        ports = sorted({p for item in listeners.get(arn) or [] if (p := as_int(item.get("Port")))})
        _add(b, name, "aws_lb", arn, tier=Tier.WEB, groups=_groups(b, lb["SecurityGroups"]),
             vpc=b.ref(lb.get("VpcId"), "vpcs"),
             subnets=_refs(b, [z.get("SubnetId") for z in lb.get("AvailabilityZones") or []], "subnets"),
             public=lb.get("Scheme") == "internet-facing", ports=ports, name=name)
    for lb in items(b.data, "classic_load_balancers"):
        name = lb.get("LoadBalancerName")
        if not isinstance(name, str) or not lb.get("SecurityGroups"):
            continue
        ports = sorted({p for item in lb.get("ListenerDescriptions") or []
                        if (p := as_int((item.get("Listener") or {}).get("LoadBalancerPort")))})
        _add(b, name, "aws_elb", name, tier=Tier.WEB, groups=_groups(b, lb["SecurityGroups"]),
             vpc=b.ref(lb.get("VPCId"), "vpcs"), subnets=_refs(b, lb.get("Subnets") or [], "subnets"),
             public=lb.get("Scheme") == "internet-facing", ports=ports, name=name)


def build_functions(b: RegionBuilder) -> None:
    for function in items(b.data, "lambda_functions"):
        name = function.get("FunctionName")
        config = function.get("VpcConfig") or {}
        if not isinstance(name, str) or not config.get("SecurityGroupIds"):
            continue
        _add(b, name, "aws_lambda_function", str(function.get("FunctionArn") or ""),
             groups=_groups(b, config["SecurityGroupIds"]), vpc=b.ref(config.get("VpcId"), "vpcs"),
             subnets=_refs(b, config.get("SubnetIds") or [], "subnets"), public=False, name=name)
