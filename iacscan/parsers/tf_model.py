"""Terraform resource instances → the model (``Estate``).

``build_estate`` is shared by the HCL loader (``terraform.py``) and the plan parser: it
only relies on evaluated attribute values (lists of dicts for nested blocks, the
``LINE`` key for their lines when known, ``ResourceRef``/``Unknown`` for unresolved
values; plan values where unknown ids are simply missing work too).

It runs in phases so that nothing depends on the order of the input:

1. objects: groups, workloads, VPCs, subnets, route tables, gateways, NACLs, prefix
   lists, volumes, flow logs, Config, CloudTrail;
2. pieces merged into those objects: standalone SG rules, routes, associations, NACL
   rules, prefix-list entries, SG attachments, listener ports, EIPs;
3. links between workloads (templates → autoscaling groups, ENIs → instances, cluster
   instances → clusters, subnet groups → subnets), then each workload's VPC.

A piece that names an object the estate lacks is dropped with an ``Unresolved`` note
(IAC002). Data sources are not modelled, but for ``data "aws_ami"`` (AWS407). A resource whose attributes have a shape no
handler expects is skipped with an ``Unresolved`` note rather than failing the scan.
This module adds no ``ParseError`` (the loader does) and does not set ``sources``.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from iacscan.model import Estate
from iacscan.parsers import tf_alerting, tf_audit, tf_groups, tf_links, tf_network, tf_workloads
from iacscan.parsers.tf_coerce import Refs, unresolved
from iacscan.parsers.tf_types import ResourceInstance

Handler = Callable[[ResourceInstance, Refs, Estate], None]


def _into(collection: str, build: Callable[[ResourceInstance, Refs], Any]) -> Handler:
    def handler(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
        getattr(estate, collection)[inst.uid] = build(inst, refs)
    return handler


def _workload(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    workload = tf_workloads.build_workload(inst, refs, estate)
    if workload is not None:
        estate.workloads[inst.uid] = workload


OBJECTS: dict[str, Handler] = {
    **{t: _into("groups", tf_groups.build_group) for t in tf_groups.SG_TYPES},
    **{t: _workload for t in tf_workloads.WORKLOAD_TYPES},
    "aws_vpc": _into("vpcs", tf_network.build_vpc),
    "aws_default_vpc": _into("vpcs", tf_network.build_vpc),
    "aws_subnet": _into("subnets", tf_network.build_subnet),
    "aws_default_subnet": _into("subnets", tf_network.build_subnet),
    "aws_route_table": _into("route_tables", tf_network.build_route_table),
    "aws_default_route_table": _into("route_tables", tf_network.build_route_table),
    "aws_internet_gateway": _into("internet_gateways", tf_network.build_igw),
    "aws_network_acl": _into("nacls", tf_network.build_nacl),
    "aws_default_network_acl": _into("nacls", tf_network.build_nacl),
    "aws_ec2_managed_prefix_list": _into("prefix_lists", tf_network.build_prefix_list),
    "aws_ebs_volume": _into("volumes", tf_audit.build_ebs_volume),
    "aws_flow_log": _into("flow_logs", tf_audit.build_flow_log),
    "aws_config_configuration_recorder": _into("config_recorders", tf_audit.build_config),
    "aws_config_delivery_channel": _into("config_recorders", tf_audit.build_config),
    "aws_cloudtrail": _into("trails", tf_audit.build_trail),
    "aws_cloudwatch_log_metric_filter": _into("metric_filters", tf_alerting.build_metric_filter),
    "aws_cloudwatch_metric_alarm": _into("metric_alarms", tf_alerting.build_alarm),
    "aws_cloudwatch_event_rule": _into("event_rules", tf_alerting.build_event_rule),
    "aws_ebs_encryption_by_default": tf_audit.set_default_encryption,
}

PIECES: dict[str, Handler] = {
    "aws_security_group_rule": tf_groups.add_group_rule,
    "aws_vpc_security_group_ingress_rule": tf_groups.add_vpc_rule,
    "aws_vpc_security_group_egress_rule": tf_groups.add_vpc_rule,
    "aws_route": tf_network.add_route,
    "aws_route_table_association": tf_network.add_route_association,
    "aws_main_route_table_association": tf_network.add_route_association,
    "aws_network_acl_rule": tf_network.add_nacl_rule,
    "aws_network_acl_association": tf_network.add_nacl_association,
    "aws_ec2_managed_prefix_list_entry": tf_network.add_prefix_list_entry,
    "aws_vpc_ipv4_cidr_block_association": tf_network.add_vpc_cidr,
    "aws_vpc_ipv6_cidr_block_association": tf_network.add_vpc_cidr,
    "aws_internet_gateway_attachment": tf_network.add_igw_attachment,
    "aws_network_interface_sg_attachment": tf_links.add_sg_attachment,
    "aws_lb_listener": tf_links.add_listener,
    "aws_alb_listener": tf_links.add_listener,
    "aws_eip": tf_links.add_eip,
    "aws_eip_association": tf_links.add_eip,
    "aws_volume_attachment": tf_audit.add_volume_attachment,
}

#: Data sources that become model objects (the others are outside the configuration).
DATA_OBJECTS: dict[str, Handler] = {
    "aws_ami": _into("ami_lookups", tf_alerting.build_ami_lookup),
}

#: Phase 3, each a separate pass in this order.
LINKS: tuple[dict[str, Handler], ...] = (
    {t: tf_links.link_subnet_groups for t in tf_workloads.WORKLOAD_TYPES},
    {t: tf_links.link_cluster_member for t in ("aws_rds_cluster_instance", "aws_docdb_cluster_instance",
                                               "aws_neptune_cluster_instance")},
    {t: tf_links.link_enis for t in ("aws_instance", "aws_network_interface", "aws_network_interface_attachment")},
    {t: tf_links.link_templates for t in ("aws_autoscaling_group", "aws_eks_node_group", "aws_instance",
                                           "aws_spot_instance_request")},
)

#: How many phases ``run_phases`` reports marks for.
PHASES = 3 + len(LINKS)


def build_estate(instances: list[ResourceInstance], root: Path, files: list[str]) -> Estate:
    """The model of ``instances`` (managed resources; of data sources only ``DATA_OBJECTS``)."""
    estate = Estate(root=str(root), files=list(files))
    managed = [inst for inst in instances if inst.mode == "managed"]
    run_phases(instances, managed, Refs(managed), estate)
    return estate


def run_phases(instances: list[ResourceInstance], managed: list[ResourceInstance], refs: Refs,
               estate: Estate) -> list[int]:
    """Every phase over ``instances`` (``managed``: those of mode managed) into ``estate``;
    returns ``len(estate.unresolved)`` at the end of each of the ``PHASES`` phases that add
    notes (objects, pieces, each link pass, data sources; ``link_vpc`` adds none)."""
    marks: list[int] = []
    for phase in (OBJECTS, PIECES, *LINKS):
        for inst in managed:
            handler = phase.get(inst.type)
            if handler is not None:
                _run(handler, inst, refs, estate)
        marks.append(len(estate.unresolved))
    for inst in instances:
        data_handler = DATA_OBJECTS.get(inst.type) if inst.mode == "data" else None
        if data_handler is not None:
            _run(data_handler, inst, refs, estate)
    marks.append(len(estate.unresolved))
    tf_links.link_vpc(estate)
    return marks


def _run(handler: Handler, inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """One handler; a value shape nobody foresaw becomes an IAC002 note, not a traceback."""
    try:
        handler(inst, refs, estate)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
        estate.unresolved.append(unresolved(inst, "attributes", f"could not be read ({type(exc).__name__}: {exc})"))
