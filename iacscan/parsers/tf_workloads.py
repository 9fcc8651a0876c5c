"""Workloads (anything that carries security groups) from Terraform resource instances.

Most kinds are described by a ``Spec``: where their groups and subnets are, whether
their own attributes say they are publicly addressable, which ports they listen on.
Instances, launch templates and launch configurations also yield ``Volume`` records for
their block devices (AWS401) and their IMDS setting (AWS405).

``public`` follows the resource's own attribute or the provider's documented default
where there is one (``aws_lb``/``aws_elb`` are internet-facing unless ``internal``;
``publicly_accessible`` of RDS and MQ and ``assign_public_ip`` of ECS default to false;
a Lambda function in a VPC never has a public address; an EKS cluster's API endpoint is
public unless ``endpoint_public_access = false``); otherwise it is None. An unresolved
flag gives None. ``ports``: the declared ``port``, else the engine's default port
(postgres 5432, mysql 3306, redis 6379…), else the kind's fixed port (OpenSearch/EKS 443,
EFS 2049, Redshift 5439); load balancers get theirs from listeners.
Kinds that only use security groups inside a VPC (Lambda, ECS, OpenSearch, CodeBuild,
interface VPC endpoints) are workloads only when that VPC configuration is present.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from iacscan.model import Estate, Tier, Unknown, Volume, Workload, make_uid
from iacscan.parsers.tf_coerce import (
    Refs, as_blocks, as_bool, as_int, as_list, block_attr, bool_or, first_block, line_of, tags_of,
    text_or_none, volume_encryption,
)
from iacscan.parsers.tf_alerting import image_origin
from iacscan.parsers.tf_groups import SG_TYPES
from iacscan.parsers.tf_types import ResourceInstance

SUBNET_TYPES = ("aws_subnet", "aws_default_subnet")
VPC_TYPES = ("aws_vpc", "aws_default_vpc")

_ENGINE_PORTS = (
    ("aurora-postgresql", 5432), ("postgres", 5432), ("aurora-mysql", 3306), ("aurora", 3306),
    ("mysql", 3306), ("mariadb", 3306), ("sqlserver", 1433), ("custom-sqlserver", 1433),
    ("oracle", 1521), ("custom-oracle", 1521), ("db2", 50000), ("redis", 6379),
    ("valkey", 6379), ("memcached", 11211), ("docdb", 27017), ("neptune", 8182),
    ("activemq", 61617), ("rabbitmq", 5671),
)
_NAME_KEYS = ("name", "identifier", "cluster_identifier", "function_name", "domain_name",
              "broker_name", "cluster_name", "replication_group_id", "cluster_id",
              "node_group_name", "instance_name")


@dataclass(frozen=True)
class Spec:
    """Where a workload kind keeps its groups, subnets, addressing and ports."""

    groups: tuple[str, ...] = ()  # attribute paths (``a.b`` = attribute b of the first a block)
    subnets: tuple[str, ...] = ()
    tier: Tier = Tier.APP
    public: str = ""  # attribute path of a bool saying it is publicly addressable
    public_default: bool | None = None
    internal: bool = False  # ``public`` names an ``internal`` flag (public = not internal)
    ports: tuple[int, ...] = ()  # fixed listening ports
    engine: str = ""  # engine attribute: ``port`` else the engine's default port
    default_engine: str = ""
    requires: str = ""  # a block that must be present for this to be a workload
    vpc: str = ""




def _db(public: str = "", public_default: bool | None = None, default_engine: str = "") -> Spec:
    """A database cluster or instance that lists its groups in ``vpc_security_group_ids``."""
    return Spec(tier=Tier.DATA, groups=("vpc_security_group_ids",), engine="engine", public=public,
                public_default=public_default, default_engine=default_engine)


SPECS: dict[str, Spec] = {
    "aws_instance": Spec(groups=("vpc_security_group_ids",), subnets=("subnet_id",),
                         public="associate_public_ip_address"),
    "aws_launch_template": Spec(groups=("vpc_security_group_ids",)),
    "aws_launch_configuration": Spec(public="associate_public_ip_address"),
    "aws_autoscaling_group": Spec(subnets=("vpc_zone_identifier",)),
    "aws_network_interface": Spec(groups=("security_groups",), subnets=("subnet_id",)),
    "aws_db_instance": _db(public="publicly_accessible", public_default=False),
    "aws_rds_cluster": _db(default_engine="aurora"),
    "aws_rds_cluster_instance": Spec(tier=Tier.DATA, engine="engine", public="publicly_accessible",
                                     public_default=False),
    "aws_docdb_cluster": _db(default_engine="docdb"),
    "aws_docdb_cluster_instance": Spec(tier=Tier.DATA, engine="engine", default_engine="docdb"),
    "aws_neptune_cluster": _db(default_engine="neptune"),
    "aws_neptune_cluster_instance": Spec(tier=Tier.DATA, engine="engine", default_engine="neptune",
                                         public="publicly_accessible", public_default=False),
    "aws_redshift_cluster": Spec(tier=Tier.DATA, groups=("vpc_security_group_ids",), ports=(5439,),
                                 public="publicly_accessible"),
    "aws_elasticache_cluster": Spec(tier=Tier.DATA, groups=("security_group_ids",), engine="engine"),
    "aws_elasticache_replication_group": Spec(tier=Tier.DATA, groups=("security_group_ids",),
                                              engine="engine", default_engine="redis"),
    "aws_memorydb_cluster": Spec(tier=Tier.DATA, groups=("security_group_ids",), ports=(6379,)),
    "aws_opensearch_domain": Spec(tier=Tier.DATA, groups=("vpc_options.security_group_ids",),
                                  subnets=("vpc_options.subnet_ids",), ports=(443,), requires="vpc_options"),
    "aws_mq_broker": Spec(groups=("security_groups",), subnets=("subnet_ids",), engine="engine_type",
                          public="publicly_accessible", public_default=False),
    "aws_msk_cluster": Spec(groups=("broker_node_group_info.security_groups",),
                            subnets=("broker_node_group_info.client_subnets",)),
    "aws_efs_mount_target": Spec(groups=("security_groups",), subnets=("subnet_id",), ports=(2049,)),
    "aws_vpc_endpoint": Spec(groups=("security_group_ids",), subnets=("subnet_ids",), vpc="vpc_id"),
    "aws_lb": Spec(tier=Tier.WEB, groups=("security_groups",), subnets=("subnets", "subnet_mapping.subnet_id"),
                   public="internal", internal=True),
    "aws_elb": Spec(tier=Tier.WEB, groups=("security_groups",), subnets=("subnets",), public="internal",
                    internal=True),
    "aws_lambda_function": Spec(groups=("vpc_config.security_group_ids",), subnets=("vpc_config.subnet_ids",),
                                public_default=False, requires="vpc_config"),
    "aws_ecs_service": Spec(groups=("network_configuration.security_groups",),
                            subnets=("network_configuration.subnets",),
                            public="network_configuration.assign_public_ip", public_default=False,
                            requires="network_configuration"),
    "aws_eks_cluster": Spec(groups=("vpc_config.security_group_ids",), subnets=("vpc_config.subnet_ids",),
                            public="vpc_config.endpoint_public_access", public_default=True, ports=(443,)),
    "aws_eks_node_group": Spec(subnets=("subnet_ids",)),
    "aws_dms_replication_instance": Spec(groups=("vpc_security_group_ids",), public="publicly_accessible"),
    "aws_db_proxy": Spec(groups=("vpc_security_group_ids",), subnets=("vpc_subnet_ids",)),
    "aws_batch_compute_environment": Spec(groups=("compute_resources.security_group_ids",),
                                          subnets=("compute_resources.subnets",), requires="compute_resources"),
    "aws_codebuild_project": Spec(groups=("vpc_config.security_group_ids",), subnets=("vpc_config.subnets",),
                                  requires="vpc_config", vpc="vpc_config.vpc_id"),
    "aws_sagemaker_notebook_instance": Spec(groups=("security_groups",), subnets=("subnet_id",)),
}
SPECS["aws_alb"] = SPECS["aws_lb"]
SPECS["aws_spot_instance_request"] = SPECS["aws_instance"]
SPECS["aws_elasticsearch_domain"] = SPECS["aws_opensearch_domain"]
WORKLOAD_TYPES = tuple(SPECS)


def engine_port(engine: Any) -> int | None:
    """The default port of a database/cache/broker engine."""
    if not isinstance(engine, str):
        return None
    text = engine.strip().lower()
    for prefix, port in _ENGINE_PORTS:
        if text == prefix or text.startswith(prefix + "-"):
            return port
    return None


def _ports(inst: ResourceInstance, spec: Spec) -> list[int]:
    """The declared ``port``, else the kind's fixed ports, else its engine's default."""
    if not spec.ports and not spec.engine:
        return []
    port = as_int(inst.attrs.get("port"), "port")
    if isinstance(port, int):
        return [port]
    if spec.ports:
        return list(spec.ports)
    engine = inst.attrs.get(spec.engine)
    port = engine_port(spec.default_engine if engine is None else engine)
    return [] if port is None else [port]


def _public(inst: ResourceInstance, spec: Spec) -> bool | None:
    """Public addressing from the kind's own flag (an unresolved flag says nothing: None)."""
    if not spec.public:
        return spec.public_default
    flag = bool_or(block_attr(inst.attrs, spec.public), spec.public, None)
    if isinstance(flag, Unknown):
        return None
    if spec.internal:
        return not flag
    return spec.public_default if flag is None else flag


def group_refs(value: Any, inst: ResourceInstance, refs: Refs, what: str) -> list[str | Unknown]:
    """Group ids or names: names resolve to a group of that name in the same root."""
    items = as_list(value, what)
    if isinstance(items, Unknown):
        return [items]
    out: list[str | Unknown] = []
    for item in items:
        ref = refs.uid(item, inst.scope, SG_TYPES, what)
        if isinstance(ref, str) and ref == (item.strip() if isinstance(item, str) else None) \
                and not ref.startswith("sg-"):
            named = refs.named(inst.scope, ("aws_security_group",), ref)
            ref = named.uid if named else Unknown(f"{what}: no security group named {ref!r} is declared here")
        if ref is not None and ref not in out:
            out.append(ref)
    return out


def _paths(inst: ResourceInstance, refs: Refs, paths: tuple[str, ...], types: tuple[str, ...]) -> list[str | Unknown]:
    out: list[str | Unknown] = []
    for path in paths:
        value = block_attr(inst.attrs, path) if "." in path else inst.attrs.get(path)
        if types == SG_TYPES:
            found = group_refs(value, inst, refs, path)
        else:
            found = refs.uids(value, inst.scope, types, path)
        out += [ref for ref in found if ref not in out]
    return out


def name_of(attrs: dict[str, Any]) -> str | Unknown | None:
    """The resource's name: ``name`` or the kind's identifier, else its ``Name`` tag."""
    for key in _NAME_KEYS:
        name = text_or_none(attrs.get(key), key)
        if name is not None:
            return name
    return tags_of(attrs).get("Name")


def _present(inst: ResourceInstance, block: str) -> bool:
    """True when the block exists and, if it lists subnets/groups, not all lists are empty."""
    blocks = as_blocks(inst.attrs.get(block), block)
    if not blocks:
        return False
    if isinstance(blocks[0], Unknown):
        return True
    lists = [v for k, v in blocks[0].items() if isinstance(k, str) and k.endswith(("_ids", "subnets", "security_groups"))]
    return not lists or any(v != [] and v is not None for v in lists)


def build_workload(inst: ResourceInstance, refs: Refs, estate: Estate) -> Workload | None:
    """The workload a resource instance declares, or None when it is not one."""
    spec = SPECS[inst.type]
    if spec.requires and not _present(inst, spec.requires):
        return None
    if inst.type == "aws_vpc_endpoint" and not _is_interface_endpoint(inst):
        return None
    live = inst.attrs.get("id")
    workload = Workload(
        uid=inst.uid, address=inst.address, kind=inst.type, tier=spec.tier,
        groups=_paths(inst, refs, spec.groups, SG_TYPES),
        subnets=_paths(inst, refs, spec.subnets, SUBNET_TYPES),
        vpc=refs.uid(block_attr(inst.attrs, spec.vpc), inst.scope, VPC_TYPES, spec.vpc) if spec.vpc else None,
        public=_public(inst, spec), ports=_ports(inst, spec), tags=tags_of(inst.attrs),
        name=name_of(inst.attrs), location=inst.location, source=inst.source,
        live_id=live if isinstance(live, str) else "",
    )
    extra = _EXTRAS.get(inst.type)
    if extra is not None:
        extra(inst, workload, refs, estate)
    return workload


def _is_interface_endpoint(inst: ResourceInstance) -> bool:
    kind = inst.attrs.get("vpc_endpoint_type")
    if isinstance(kind, str) and kind.lower() in ("interface", "gatewayloadbalancer"):
        return True
    groups = inst.attrs.get("security_group_ids")
    return groups not in (None, [], "")


def _compute(inst: ResourceInstance, workload: Workload, image_key: str) -> None:
    """IMDS tokens and image of instances, templates and launch configurations."""
    workload.metadata_tokens = text_or_none(block_attr(inst.attrs, "metadata_options.http_tokens"),
                                            "metadata_options.http_tokens")
    endpoint = block_attr(inst.attrs, "metadata_options.http_endpoint")
    if isinstance(endpoint, str) and endpoint.lower() == "disabled":
        workload.metadata_tokens = "disabled"  # no metadata service at all: no IMDSv1 either
    workload.image = text_or_none(inst.attrs.get(image_key), image_key)
    workload.image_origin = image_origin(inst, inst.attrs.get(image_key))


def block_volumes(inst: ResourceInstance, key: str, kind: str, nested: str = "") -> list[Volume]:
    """One Volume per block device block (``encrypted`` None when unset). With ``nested``
    (launch templates: ``ebs``) the setting is in that sub-block, and a mapping without it
    (instance store, ``no_device``) is no EBS volume."""
    out: list[Volume] = []
    for index, block in enumerate(as_blocks(inst.attrs.get(key), key)):
        device: Any = block
        if nested and isinstance(block, dict):
            device = first_block(block, nested)
            if device is None:
                continue
        encrypted = device if isinstance(device, Unknown) else volume_encryption(device)
        address = f"{inst.address}.{key}[{index}]"
        out.append(Volume(make_uid(inst.scope, address), inst.address, kind, encrypted, inst.uid,
                          line_of(inst, block, key)))
    return out


def _add_volumes(estate: Estate, volumes: list[Volume]) -> None:
    for volume in volumes:
        estate.volumes[volume.uid] = volume


def _instance(inst: ResourceInstance, workload: Workload, refs: Refs, estate: Estate) -> None:
    workload.groups += [g for g in group_refs(inst.attrs.get("security_groups"), inst, refs, "security_groups")
                        if g not in workload.groups]
    _compute(inst, workload, "ami")
    _add_volumes(estate, block_volumes(inst, "root_block_device", "root_block_device")
                 + block_volumes(inst, "ebs_block_device", "ebs_block_device"))


def _launch_configuration(inst: ResourceInstance, workload: Workload, refs: Refs, estate: Estate) -> None:
    workload.groups = group_refs(inst.attrs.get("security_groups"), inst, refs, "security_groups")
    _compute(inst, workload, "image_id")
    _add_volumes(estate, block_volumes(inst, "root_block_device", "root_block_device")
                 + block_volumes(inst, "ebs_block_device", "ebs_block_device"))


def _launch_template(inst: ResourceInstance, workload: Workload, refs: Refs, estate: Estate) -> None:
    more = group_refs(inst.attrs.get("security_group_names"), inst, refs, "security_group_names")
    flags: list[bool | None | Unknown] = []
    for nic in as_blocks(inst.attrs.get("network_interfaces"), "network_interfaces"):
        if isinstance(nic, Unknown):
            more.append(nic)
            continue
        more += group_refs(nic.get("security_groups"), inst, refs, "network_interfaces.security_groups")
        flags.append(as_bool(nic.get("associate_public_ip_address"), "associate_public_ip_address"))
    workload.groups += [g for g in more if g not in workload.groups]
    if any(flag is True for flag in flags):
        workload.public = True
    elif flags and all(flag is False for flag in flags):
        workload.public = False
    _compute(inst, workload, "image_id")
    _add_volumes(estate, block_volumes(inst, "block_device_mappings", "ebs_block_device", "ebs"))


def _elb(inst: ResourceInstance, workload: Workload, refs: Refs, estate: Estate) -> None:
    for listener in as_blocks(inst.attrs.get("listener"), "listener"):
        if isinstance(listener, dict):
            port = as_int(listener.get("lb_port"), "lb_port")
            if isinstance(port, int) and port not in workload.ports:
                workload.ports.append(port)


_EXTRAS: dict[str, Callable[[ResourceInstance, Workload, Refs, Estate], None]] = {
    "aws_instance": _instance,
    "aws_spot_instance_request": _instance,
    "aws_launch_configuration": _launch_configuration,
    "aws_launch_template": _launch_template,
    "aws_elb": _elb,
}
