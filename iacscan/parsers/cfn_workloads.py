"""CloudFormation resources that carry security groups → ``Workload`` (+ ``Volume``).

Most types are described by a ``Spec`` (where their groups, subnets, public flag, port and
engine live in the properties); instances, launch templates/configurations, autoscaling
groups, load balancers and their listeners, ECS services and Elastic IPs have their own
small functions. Launch templates and configurations are workloads themselves; an
autoscaling group or instance that uses one carries its groups.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from iacscan.model import Tier, Unknown, Volume, Workload
from iacscan.parsers.cfn_common import (
    SG, SUBNET, VPC, Builder, as_bool, as_dict, as_int, as_list, as_str, tags_of,
)
from iacscan.parsers.cfn_alerting import image_origin
from iacscan.parsers.cfn_intrinsics import CfnRef, line_of

LT = "AWS::EC2::LaunchTemplate"
LC = "AWS::AutoScaling::LaunchConfiguration"
ELBV2 = "AWS::ElasticLoadBalancingV2::LoadBalancer"

_ENGINE_PORTS = {
    "postgres": 5432, "aurora-postgresql": 5432, "mysql": 3306, "mariadb": 3306, "aurora": 3306,
    "aurora-mysql": 3306, "redis": 6379, "valkey": 6379, "memcached": 11211, "docdb": 27017,
    "neptune": 8182, "db2": 50000,
}
_ENGINE_PREFIXES = (("sqlserver", 1433), ("oracle", 1521), ("custom-sqlserver", 1433), ("custom-oracle", 1521))


@dataclass(frozen=True)
class Spec:
    """Where one resource type keeps its network settings (paths into Properties)."""

    tier: Tier = Tier.APP
    groups: tuple[str, ...] = ()
    subnets: tuple[tuple[str, ...], ...] = ()
    vpc: tuple[str, ...] = ()
    public: tuple[str, ...] = ()
    port: tuple[str, ...] = ()
    engine: tuple[str, ...] = ()
    default_engine: str = ""
    default_port: int | None = None
    name: tuple[str, ...] = ()
    require: tuple[str, ...] = ()  # the resource is a workload only when this is set


SPECS: dict[str, Spec] = {
    "AWS::RDS::DBCluster": Spec(Tier.DATA, ("VpcSecurityGroupIds",), public=("PubliclyAccessible",),
                                port=("Port",), engine=("Engine",), name=("DBClusterIdentifier",)),
    "AWS::DocDB::DBCluster": Spec(Tier.DATA, ("VpcSecurityGroupIds",), port=("Port",), default_port=27017,
                                  name=("DBClusterIdentifier",)),
    "AWS::Neptune::DBCluster": Spec(Tier.DATA, ("VpcSecurityGroupIds",), port=("Port",), default_port=8182,
                                    name=("DBClusterIdentifier",)),
    "AWS::ElastiCache::CacheCluster": Spec(Tier.DATA, ("VpcSecurityGroupIds",), port=("Port",),
                                           engine=("Engine",), name=("ClusterName",)),
    "AWS::ElastiCache::ReplicationGroup": Spec(Tier.DATA, ("SecurityGroupIds",), port=("Port",),
                                               engine=("Engine",), default_engine="redis",
                                               name=("ReplicationGroupId",)),
    "AWS::ElastiCache::ServerlessCache": Spec(Tier.DATA, ("SecurityGroupIds",), subnets=(("SubnetIds",),),
                                              engine=("Engine",), name=("ServerlessCacheName",)),
    "AWS::Redshift::Cluster": Spec(Tier.DATA, ("VpcSecurityGroupIds",), public=("PubliclyAccessible",),
                                   port=("Port",), default_port=5439),
    "AWS::OpenSearchService::Domain": Spec(Tier.DATA, ("VPCOptions", "SecurityGroupIds"),
                                           (("VPCOptions", "SubnetIds"),), default_port=443,
                                           name=("DomainName",)),
    "AWS::Elasticsearch::Domain": Spec(Tier.DATA, ("VPCOptions", "SecurityGroupIds"),
                                       (("VPCOptions", "SubnetIds"),), default_port=443, name=("DomainName",)),
    "AWS::Lambda::Function": Spec(groups=("VpcConfig", "SecurityGroupIds"), subnets=(("VpcConfig", "SubnetIds"),),
                                  name=("FunctionName",), require=("VpcConfig",)),
    "AWS::EKS::Cluster": Spec(groups=("ResourcesVpcConfig", "SecurityGroupIds"),
                              subnets=(("ResourcesVpcConfig", "SubnetIds"),), name=("Name",)),
    "AWS::EFS::MountTarget": Spec(groups=("SecurityGroups",), subnets=(("SubnetId",),), default_port=2049),
    "AWS::EC2::VPCEndpoint": Spec(groups=("SecurityGroupIds",), subnets=(("SubnetIds",),), vpc=("VpcId",)),
    "AWS::EC2::NetworkInterface": Spec(groups=("GroupSet",), subnets=(("SubnetId",),)),
}


def _get(props: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = props
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def engine_port(engine: Any) -> int | None:
    """The default port of a database or cache engine."""
    if not isinstance(engine, str):
        return None
    name = engine.strip().lower()
    if name in _ENGINE_PORTS:
        return _ENGINE_PORTS[name]
    return next((port for prefix, port in _ENGINE_PREFIXES if name.startswith(prefix)), None)


def _public(value: Any) -> bool | None:
    flag = as_bool(value)
    return flag if isinstance(flag, bool) else None


def _name(props: dict[str, Any], path: tuple[str, ...]) -> str | Unknown | None:
    return as_str(_get(props, path)) if path else None


def add_workload(b: Builder, logical_id: str, kind: str, line: int, props: dict[str, Any], **fields: Any) -> Workload:
    """Create the workload (uid from the logical id) and register it in the estate."""
    uid = b.uid(logical_id)
    workload = Workload(uid=uid, address=logical_id, kind=kind, location=b.loc(line), source="cloudformation",
                        env_hint=b.env_hint, tags=tags_of(props.get("Tags")), **fields)
    b.estate.workloads[uid] = workload
    return workload


def build_spec(b: Builder, logical_id: str, props: dict[str, Any], line: int, kind: str, spec: Spec) -> None:
    """A workload described by a ``Spec``."""
    if spec.require and _get(props, spec.require) is None:
        return
    subnets: list[str | Unknown] = []
    for path in spec.subnets:
        subnets.extend(b.id_list(_get(props, path), (SUBNET,)))
    ports: list[int] = []
    port = as_int(_get(props, spec.port)) if spec.port else None
    if isinstance(port, int):
        ports.append(port)
    else:
        engine = as_str(_get(props, spec.engine)) if spec.engine else None
        default = engine_port(engine or spec.default_engine) or spec.default_port
        if default is not None:
            ports.append(default)
    vpc = b.ref_id(_get(props, spec.vpc), (VPC,)) if spec.vpc else None
    add_workload(b, logical_id, kind, line, props, tier=spec.tier, groups=b.id_list(_get(props, spec.groups), (SG,)),
                 subnets=subnets, vpc=vpc, public=_public(_get(props, spec.public)) if spec.public else None,
                 ports=ports, name=_name(props, spec.name))


def build_serverless_function(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    """``AWS::Serverless::Function`` (its own ``VpcConfig`` or the template's ``Globals``)."""
    vpc_config = props.get("VpcConfig")
    if vpc_config is None:
        globals_node = b.ctx.data.get("Globals")
        function = globals_node.get("Function") if isinstance(globals_node, dict) else None
        if isinstance(function, dict) and function.get("VpcConfig") is not None:
            vpc_config = b.ctx.resolve(function["VpcConfig"], line)
    if vpc_config is None:
        return
    config = as_dict(vpc_config)
    add_workload(b, logical_id, "AWS::Serverless::Function", line, props,
                 groups=b.id_list(config.get("SecurityGroupIds"), (SG,)) if config else [vpc_config],
                 subnets=b.id_list(config.get("SubnetIds"), (SUBNET,)), name=as_str(props.get("FunctionName")))


def build_db_instance(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    """``AWS::RDS::DBInstance``; a cluster member without its own groups carries the cluster's."""
    groups = b.id_list(props.get("VPCSecurityGroups"), (SG,))
    port = as_int(props.get("Port"))
    ports = [port] if isinstance(port, int) else []
    cluster = b.target(props.get("DBClusterIdentifier"), ("AWS::RDS::DBCluster",))
    parent = b.estate.workloads.get(b.uid(cluster)) if cluster else None
    if not groups and parent is not None:
        groups = list(parent.groups)
    if not ports:
        default = engine_port(as_str(props.get("Engine")))
        ports = [default] if default else list(parent.ports) if parent else []
    add_workload(b, logical_id, "AWS::RDS::DBInstance", line, props, tier=Tier.DATA, groups=groups,
                 public=_public(props.get("PubliclyAccessible")), ports=ports,
                 name=as_str(props.get("DBInstanceIdentifier")))


def _volumes(b: Builder, owner: str, mappings: Any, line: int) -> None:
    for index, mapping in enumerate(as_list(mappings)):
        if not isinstance(mapping, dict) or not isinstance(mapping.get("Ebs"), dict):
            continue
        encrypted = as_bool(mapping["Ebs"].get("Encrypted"), "Encrypted")
        address = f"{owner}.BlockDeviceMappings[{index}]"
        uid = b.uid(address)
        b.estate.volumes[uid] = Volume(uid=uid, address=address, kind="ebs_block_device", encrypted=encrypted,
                                       owner=b.uid(owner), location=b.loc(line_of(mapping, line)))


def _interfaces(b: Builder, value: Any, group_key: str) -> tuple[list[str | Unknown], list[str | Unknown], bool | None]:
    """Groups, subnets and the public flag of ``NetworkInterfaces`` entries."""
    groups: list[str | Unknown] = []
    subnets: list[str | Unknown] = []
    public: bool | None = None
    for nic in as_list(value):
        if not isinstance(nic, dict):
            continue
        groups.extend(g for g in b.id_list(nic.get(group_key), (SG,)) if g not in groups)
        eni = b.target(nic.get("NetworkInterfaceId"), ("AWS::EC2::NetworkInterface",))
        attached = b.estate.workloads.get(b.uid(eni)) if eni else None
        if attached is not None:  # an interface declared on its own and attached here
            groups.extend(g for g in attached.groups if g not in groups)
            subnets.extend(s for s in attached.subnets if s not in subnets)
        subnets.extend(b.id_list(nic.get("SubnetId"), (SUBNET,)))
        if str(nic.get("DeviceIndex", "0")) == "0" and nic.get("AssociatePublicIpAddress") is not None:
            public = _public(nic.get("AssociatePublicIpAddress"))
    return groups, subnets, public


def _unique(items: list[str | Unknown]) -> list[str | Unknown]:
    out: list[str | Unknown] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _tokens(options: Any) -> str | Unknown | None:
    """``HttpTokens``, or ``disabled`` when the metadata service is switched off."""
    endpoint = as_str(as_dict(options).get("HttpEndpoint"))
    if isinstance(endpoint, str) and endpoint.lower() == "disabled":
        return "disabled"
    return as_str(as_dict(options).get("HttpTokens"))


def build_instance(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    """``AWS::EC2::Instance`` (groups by id and by name, interfaces, launch template)."""
    groups = _unique(b.id_list(props.get("SecurityGroupIds"), (SG,)) + b.group_names(props.get("SecurityGroups")))
    nic_groups, nic_subnets, public = _interfaces(b, props.get("NetworkInterfaces"), "GroupSet")
    groups += [g for g in nic_groups if g not in groups]
    subnets = b.id_list(props.get("SubnetId"), (SUBNET,)) + nic_subnets
    image, tokens = as_str(props.get("ImageId")), None
    spec = props.get("LaunchTemplate")
    if spec is not None:
        template = _launch_template(b, spec)
        if isinstance(template, Workload):
            groups = groups or list(template.groups)
            image = image or template.image
            tokens = template.metadata_tokens
            public = public if public is not None else template.public
        elif not groups:
            groups = [template]
    add_workload(b, logical_id, "AWS::EC2::Instance", line, props, groups=groups, subnets=subnets,
                 public=public, image=image, metadata_tokens=tokens, image_origin=image_origin(props.get("ImageId")))
    _volumes(b, logical_id, props.get("BlockDeviceMappings"), line)


def build_launch_template(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    """``AWS::EC2::LaunchTemplate`` (its ``LaunchTemplateData``)."""
    data = as_dict(props.get("LaunchTemplateData"))
    groups = _unique(b.id_list(data.get("SecurityGroupIds"), (SG,)) + b.group_names(data.get("SecurityGroups")))
    nic_groups, subnets, public = _interfaces(b, data.get("NetworkInterfaces"), "Groups")
    groups += [g for g in nic_groups if g not in groups]
    add_workload(b, logical_id, LT, line, props, groups=groups, subnets=subnets, public=public,
                 image=as_str(data.get("ImageId")), metadata_tokens=_tokens(data.get("MetadataOptions")),
                 name=as_str(props.get("LaunchTemplateName")), image_origin=image_origin(data.get("ImageId")))
    _volumes(b, logical_id, data.get("BlockDeviceMappings"), line)


def build_launch_configuration(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    """``AWS::AutoScaling::LaunchConfiguration``."""
    add_workload(b, logical_id, LC, line, props, groups=b.group_names(props.get("SecurityGroups")),
                 public=_public(props.get("AssociatePublicIpAddress")), image=as_str(props.get("ImageId")),
                 metadata_tokens=_tokens(props.get("MetadataOptions")),
                 name=as_str(props.get("LaunchConfigurationName")), image_origin=image_origin(props.get("ImageId")))
    _volumes(b, logical_id, props.get("BlockDeviceMappings"), line)


def _by_name(b: Builder, kind: str, prop: str, name: Any) -> Workload | Unknown:
    for logical_id, (rtype, props, _line) in b.resources.items():
        if rtype == kind and name is not None and props.get(prop) == name:
            found = b.estate.workloads.get(b.uid(logical_id))
            if found is not None:
                return found
    return Unknown(f"{kind} {name} is not declared in this template")


def _launch_template(b: Builder, spec: Any) -> Workload | Unknown:
    spec = as_dict(spec)
    ref = spec.get("LaunchTemplateId")
    if ref is None:
        ref = spec.get("LaunchTemplateName")
        if not isinstance(ref, CfnRef):
            return _by_name(b, LT, "LaunchTemplateName", ref)
    logical_id = b.target(ref, (LT,))
    found = b.estate.workloads.get(b.uid(logical_id)) if logical_id else None
    return found if found is not None else Unknown(f"launch template {ref} is not declared in this template")


def build_autoscaling_group(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    """``AWS::AutoScaling::AutoScalingGroup``: carries its launch template's/configuration's groups."""
    mixed = as_dict(as_dict(props.get("MixedInstancesPolicy")).get("LaunchTemplate"))
    if props.get("LaunchTemplate") is not None:
        source = _launch_template(b, props["LaunchTemplate"])
    elif mixed.get("LaunchTemplateSpecification") is not None:
        source = _launch_template(b, mixed["LaunchTemplateSpecification"])
    else:
        config = props.get("LaunchConfigurationName")
        target = b.target(config, (LC,))
        source = (b.estate.workloads.get(b.uid(target)) or Unknown("no launch configuration")) if target else \
            _by_name(b, LC, "LaunchConfigurationName", config)
    common: dict[str, Any] = {"subnets": b.id_list(props.get("VPCZoneIdentifier"), (SUBNET,))}
    if isinstance(source, Workload):
        common.update(groups=list(source.groups), public=source.public, image=source.image,
                      metadata_tokens=source.metadata_tokens)
    else:
        common.update(groups=[source])
    add_workload(b, logical_id, "AWS::AutoScaling::AutoScalingGroup", line, props, **common)


def build_load_balancer(b: Builder, logical_id: str, props: dict[str, Any], line: int, kind: str) -> None:
    """ELBv2 and classic load balancers: web tier; public unless ``Scheme: internal``."""
    scheme = as_str(props.get("Scheme"))
    public = None if isinstance(scheme, Unknown) else scheme != "internal"
    subnets = b.id_list(props.get("Subnets"), (SUBNET,))
    for mapping in as_list(props.get("SubnetMappings")):
        if isinstance(mapping, dict):
            subnets.extend(b.id_list(mapping.get("SubnetId"), (SUBNET,)))
    ports = []
    for listener in as_list(props.get("Listeners")):  # classic ELB only
        port = as_int(as_dict(listener).get("LoadBalancerPort"))
        if isinstance(port, int) and port not in ports:
            ports.append(port)
    add_workload(b, logical_id, kind, line, props, tier=Tier.WEB, groups=b.id_list(props.get("SecurityGroups"), (SG,)),
                 subnets=subnets, public=public, ports=ports, name=as_str(props.get("Name")))


def build_ecs_service(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    """``AWS::ECS::Service`` in awsvpc mode (``NetworkConfiguration.AwsvpcConfiguration``)."""
    config = _get(props, ("NetworkConfiguration", "AwsvpcConfiguration"))
    if config is None:
        return
    config = as_dict(config)
    assign = as_str(config.get("AssignPublicIp"))
    add_workload(b, logical_id, "AWS::ECS::Service", line, props, groups=b.id_list(config.get("SecurityGroups"), (SG,)),
                 subnets=b.id_list(config.get("Subnets"), (SUBNET,)),
                 public=assign.upper() == "ENABLED" if isinstance(assign, str) else None,
                 name=as_str(props.get("ServiceName")))
