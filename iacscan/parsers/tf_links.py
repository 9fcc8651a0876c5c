"""Links between workloads, resolved after every object exists.

Attachments (phase 2): ``aws_network_interface_sg_attachment`` adds a group to an ENI or
an instance, ``aws_lb_listener`` adds a port to its load balancer, ``aws_eip`` /
``aws_eip_association`` make an instance or ENI public.

Derived links (phase 3, in this order): DB/cache subnet groups → subnets; cluster
instances (RDS, DocumentDB, Neptune) → their cluster's groups; ENIs attached to an
instance → the instance's groups; launch templates/configurations → the groups of the
autoscaling groups, EKS node groups and instances that use them; finally a workload's
VPC from its subnets when they all lie in one VPC of the model.
"""
from __future__ import annotations

from typing import Any

from iacscan.model import Estate, Unknown, Workload
from iacscan.parsers.tf_coerce import (
    Refs, as_blocks, as_int, first_block, not_declared, reason_of, unresolved,
)
from iacscan.parsers.tf_groups import SG_TYPES
from iacscan.parsers.tf_types import ResourceInstance
from iacscan.parsers.tf_workloads import SUBNET_TYPES

LB_TYPES = ("aws_lb", "aws_alb")
LT_TYPES = ("aws_launch_template",)
LC_TYPES = ("aws_launch_configuration",)
_SUBNET_GROUP_KEYS = {
    "db_subnet_group_name": ("aws_db_subnet_group", "aws_docdb_subnet_group"),
    "neptune_subnet_group_name": ("aws_neptune_subnet_group",),
    "cluster_subnet_group_name": ("aws_redshift_subnet_group",),
    "subnet_group_name": ("aws_elasticache_subnet_group", "aws_memorydb_subnet_group"),
    "replication_subnet_group_id": ("aws_dms_replication_subnet_group",),
}
_CLUSTERS = {
    "aws_rds_cluster_instance": "aws_rds_cluster",
    "aws_docdb_cluster_instance": "aws_docdb_cluster",
    "aws_neptune_cluster_instance": "aws_neptune_cluster",
}


def _workload(refs: Refs, estate: Estate, inst: ResourceInstance, value: Any, types: tuple[str, ...],
              what: str) -> Workload | None:
    ref = refs.uid(value, inst.scope, types, what)
    return estate.workloads.get(ref) if isinstance(ref, str) else None


def _extend(workload: Workload, groups: list[str | Unknown]) -> None:
    workload.groups += [g for g in groups if g not in workload.groups]


def add_sg_attachment(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """``aws_network_interface_sg_attachment`` → a group of the ENI (or instance)."""
    group = refs.uid(inst.attrs.get("security_group_id"), inst.scope, SG_TYPES, "security_group_id")
    target = _workload(refs, estate, inst, inst.attrs.get("network_interface_id"),
                       ("aws_network_interface", "aws_instance"), "network_interface_id")
    if target is None:
        value = inst.attrs.get("network_interface_id")
        ref = refs.any_uid(value, inst.scope, "network_interface_id")
        reason = not_declared(value, ref) if isinstance(ref, str) else reason_of(ref, "network_interface_id")
        estate.unresolved.append(unresolved(inst, "network_interface_id", reason))
    elif group is None:
        estate.unresolved.append(unresolved(inst, "security_group_id", "security_group_id is not set"))
    else:
        _extend(target, [group])


def add_listener(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """``aws_lb_listener`` → a listening port of its load balancer."""
    lb = _workload(refs, estate, inst, inst.attrs.get("load_balancer_arn"), LB_TYPES, "load_balancer_arn")
    port = as_int(inst.attrs.get("port"), "port")
    if lb is not None and isinstance(port, int) and port not in lb.ports:
        lb.ports.append(port)


def add_eip(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """``aws_eip`` / ``aws_eip_association`` → the instance or ENI is publicly addressable."""
    for key, types in (("instance", ("aws_instance",)), ("instance_id", ("aws_instance",)),
                       ("network_interface", ("aws_network_interface",)),
                       ("network_interface_id", ("aws_network_interface",))):
        target = _workload(refs, estate, inst, inst.attrs.get(key), types, key)
        if target is not None:
            target.public = True


def link_subnet_groups(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """A database's or cache's subnet group name → its subnets."""
    workload = estate.workloads.get(inst.uid)
    if workload is None or workload.subnets:
        return
    for key, types in _SUBNET_GROUP_KEYS.items():
        value = inst.attrs.get(key)
        if value is None or value == "":
            continue
        group = _named_or_ref(refs, inst, value, types, key)
        if isinstance(group, ResourceInstance):
            workload.subnets = refs.uids(group.attrs.get("subnet_ids"), group.scope, SUBNET_TYPES, "subnet_ids")
        return



def _named_or_ref(refs: Refs, inst: ResourceInstance, value: Any, types: tuple[str, ...],
                  what: str) -> ResourceInstance | Unknown | None:
    """The instance a reference or a literal name (or id) names, else why not."""
    ref = refs.uid(value, inst.scope, types, what)
    if isinstance(ref, Unknown) or ref is None:
        return ref
    found = refs.by_uid.get(ref)
    if found is None:
        found = refs.named(inst.scope, types, ref)
    if found is None:
        found = _by_identifier(refs, inst.scope, types, ref)
    return found if found is not None else Unknown(f"{what} {ref!r} is not declared in this configuration")


def _by_identifier(refs: Refs, scope: str, types: tuple[str, ...], ref: str) -> ResourceInstance | None:
    """The first instance (in input order) of ``types`` in ``scope`` whose identifier is ``ref``."""
    matches = [next((i for i in refs.by_scope_type.get((scope, typ), ())
                     if refs.by_uid.get(i.uid) is i
                     and any(i.attrs.get(k) == ref for k in ("cluster_identifier", "identifier"))), None)
               for typ in types]
    found = [m for m in matches if m is not None]
    return min(found, key=lambda i: refs.position.get(i.uid, 0)) if found else None


def link_cluster_member(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """A cluster instance carries its cluster's groups (and subnets, ports)."""
    workload = estate.workloads.get(inst.uid)
    if workload is None:
        return
    cluster_type = _CLUSTERS[inst.type]
    cluster = _named_or_ref(refs, inst, inst.attrs.get("cluster_identifier"), (cluster_type,), "cluster_identifier")
    if not isinstance(cluster, ResourceInstance) or cluster.uid not in estate.workloads:
        workload.groups.append(Unknown(f"groups of cluster: {reason_of(cluster, 'cluster_identifier')}")
                               if not isinstance(cluster, ResourceInstance) else
                               Unknown(f"cluster {cluster.address} is not a workload here"))
        return
    parent = estate.workloads[cluster.uid]
    _extend(workload, parent.groups)
    workload.subnets = workload.subnets or list(parent.subnets)
    workload.ports = workload.ports or list(parent.ports)


def link_enis(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """Instances carry the groups of the ENIs attached to them."""
    pairs: list[tuple[Any, Any]] = []
    if inst.type == "aws_instance":
        pairs = [(inst.uid, b.get("network_interface_id")) for b in
                 as_blocks(inst.attrs.get("network_interface"), "network_interface") if isinstance(b, dict)]
    elif inst.type == "aws_network_interface":
        pairs = [(b.get("instance"), inst.uid) for b in
                 as_blocks(inst.attrs.get("attachment"), "attachment") if isinstance(b, dict)]
    else:
        pairs = [(inst.attrs.get("instance_id"), inst.attrs.get("network_interface_id"))]
    for host_ref, eni_ref in pairs:
        host = estate.workloads.get(host_ref) if isinstance(host_ref, str) and host_ref == inst.uid else \
            _workload(refs, estate, inst, host_ref, ("aws_instance",), "instance_id")
        eni = estate.workloads.get(eni_ref) if eni_ref == inst.uid else \
            _workload(refs, estate, inst, eni_ref, ("aws_network_interface",), "network_interface_id")
        if host is None or eni is None:
            continue
        _extend(host, eni.groups)
        if eni.public is True:
            host.public = True
        host.subnets += [s for s in eni.subnets if s not in host.subnets]


def _template_ref(inst: ResourceInstance) -> tuple[Any, Any, Any]:
    """(template id, template name, launch configuration) a workload uses."""
    spec: Any = first_block(inst.attrs, "launch_template")
    if spec is None:
        mixed = first_block(inst.attrs, "mixed_instances_policy")
        spec = _nested(mixed, "launch_template.launch_template_specification") if isinstance(mixed, dict) else mixed
    if isinstance(spec, Unknown):
        return spec, None, None
    if isinstance(spec, dict):
        return (spec.get("id", spec.get("launch_template_id")), spec.get("name", spec.get("launch_template_name")),
                None)
    return None, None, inst.attrs.get("launch_configuration")


def _nested(spec_root: dict[str, Any], path: str) -> Any:
    current: Any = spec_root
    for step in path.split("."):
        blocks = as_blocks(current.get(step), step)
        current = blocks[0] if blocks else None
        if not isinstance(current, dict):
            return current
    return current


def link_templates(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """Autoscaling groups, node groups and instances get their template's groups (an
    instance that names groups of its own keeps them, as EC2 does) and, when they set none
    of their own, its metadata options and image."""
    workload = estate.workloads.get(inst.uid)
    if workload is None:
        return
    own_groups = inst.type == "aws_instance" and bool(workload.groups)
    tid, tname, config = _template_ref(inst)
    if isinstance(tid, Unknown):
        if not own_groups:
            workload.groups.append(tid)
        return
    source: ResourceInstance | Unknown | None = None
    for value, types, what in ((tid, LT_TYPES, "launch_template.id"), (tname, LT_TYPES, "launch_template.name"),
                               (config, LC_TYPES, "launch_configuration")):
        if value is not None and value != "":
            source = _named_or_ref(refs, inst, value, types, what)
            break
    if source is None:
        return
    if isinstance(source, Unknown):
        if not own_groups:
            workload.groups.append(Unknown(f"groups come from a launch template: {source.reason}"))
        return
    template = estate.workloads.get(source.uid)
    if template is None:
        if not own_groups:
            workload.groups.append(Unknown(f"groups come from {source.address}, which is not a workload here"))
        return
    if not own_groups:
        _extend(workload, template.groups)
    if workload.public is None:
        workload.public = template.public
    if workload.metadata_tokens is None:
        workload.metadata_tokens = template.metadata_tokens
    if workload.image is None:
        workload.image = template.image


def link_vpc(estate: Estate) -> None:
    """A workload's VPC from its subnets, when they all lie in one VPC of the model."""
    for workload in estate.workloads.values():
        if workload.vpc is not None:
            continue
        vpcs = {estate.subnets[s].vpc for s in workload.subnets if isinstance(s, str) and s in estate.subnets}
        if len(vpcs) == 1:
            workload.vpc = vpcs.pop()
