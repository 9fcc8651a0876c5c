"""Tests of the Terraform model builder (ResourceInstance → Estate)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iacscan.model import (
    Direction, Location, NaclEntry, Peer, PeerKind, Route, Rule, Tier, Unknown, Unresolved, make_uid,
)
from iacscan.parsers.tf_model import OBJECTS, PIECES, build_estate
from iacscan.parsers.tf_types import LINE, ResourceInstance, ResourceRef

FILE = "main.tf"
IN = Direction.INGRESS
OUT = Direction.EGRESS


def res(address: str, attrs: dict[str, Any], line: int = 1, scope: str = ".", mode: str = "managed") -> ResourceInstance:
    """A resource instance as the loader would produce it."""
    rtype, name = address.rsplit(".", 2)[-2:]
    return ResourceInstance(uid=make_uid(scope, address), address=address, type=rtype, name=name, mode=mode,
                            scope=scope, module_path="", attrs=attrs, location=Location(FILE, line))


def ref(address: str, attribute: str = "id") -> ResourceRef:
    return ResourceRef(address, attribute)


def uid(address: str, scope: str = ".") -> str:
    return make_uid(scope, address)


def loc(line: int) -> Location:
    return Location(FILE, line)


def build(*instances: ResourceInstance):
    return build_estate(list(instances), Path("/scan"), [FILE])


def rule(direction: Direction, protocol: Any, lo: Any, hi: Any, peer: Peer, line: int, description: Any = None,
         origin: str = "") -> Rule:
    return Rule(direction, protocol, lo, hi, peer, description, loc(line), uid(origin) if origin else "", origin)


# ---------------------------------------------------------------- security groups

def test_inline_block_splits_into_one_rule_per_peer():
    sg = res("aws_security_group.web", {
        "name": "web", "description": "web tier", "vpc_id": ref("aws_vpc.main"),
        "tags": {"Env": "prod", "Count": 3},
        "ingress": [{LINE: 4, "protocol": "tcp", "from_port": 443, "to_port": 443,
                     "cidr_blocks": ["10.0.0.0/8", "192.168.1.5/24"], "ipv6_cidr_blocks": ["::/0"],
                     "self": True, "security_groups": [ref("aws_security_group.lb")], "description": "https"}],
    }, line=2)
    group = build(sg).groups[uid("aws_security_group.web")]
    peers = [Peer(PeerKind.CIDR, "10.0.0.0/8"), Peer(PeerKind.CIDR, "192.168.1.0/24"), Peer(PeerKind.CIDR, "::/0"),
             Peer(PeerKind.GROUP, uid("aws_security_group.lb")), Peer(PeerKind.SELF)]
    assert group.rules == [rule(IN, "tcp", 443, 443, p, 4, "https") for p in peers]
    assert (group.name, group.description, group.vpc) == ("web", "web tier", uid("aws_vpc.main"))
    assert group.tags == {"Env": "prod"}
    assert (group.location, group.is_default, group.implicit_egress) == (loc(2), False, False)


@pytest.mark.parametrize("written, normalised", [
    ("-1", "all"), ("all", "all"), ("6", "tcp"), ("17", "udp"), ("58", "icmpv6"), ("TCP", "tcp"), (6, "tcp"),
    ("50", "50"),
])
def test_protocols_are_normalised(written, normalised):
    sg = res("aws_security_group.a", {"egress": [{LINE: 3, "protocol": written, "from_port": 0, "to_port": 0,
                                                   "cidr_blocks": ["0.0.0.0/0"]}]})
    assert build(sg).groups[uid("aws_security_group.a")].rules == [
        rule(OUT, normalised, 0, 0, Peer(PeerKind.CIDR, "0.0.0.0/0"), 3)]


def test_ports_as_text_and_bad_ports():
    sg = res("aws_security_group.a", {"ingress": [
        {LINE: 3, "protocol": "tcp", "from_port": "443", "to_port": "banana", "cidr_blocks": "10.1.0.0/16"},
        {LINE: 9, "protocol": Unknown("var.proto has no value"), "from_port": Unknown("var.p has no value"),
         "to_port": None, "cidr_blocks": ["10.2.0.0/16"]},
    ]})
    assert build(sg).groups[uid("aws_security_group.a")].rules == [
        rule(IN, "tcp", 443, Unknown("to_port 'banana' is not a number"), Peer(PeerKind.CIDR, "10.1.0.0/16"), 3),
        rule(IN, Unknown("var.proto has no value"), Unknown("var.p has no value"), None,
             Peer(PeerKind.CIDR, "10.2.0.0/16"), 9),
    ]


def test_empty_egress_list_and_block_without_peer_give_no_rules():
    sg = res("aws_security_group.a", {"egress": [], "ingress": [{LINE: 2, "protocol": "tcp", "from_port": 22,
                                                                 "to_port": 22}]})
    assert build(sg).groups[uid("aws_security_group.a")].rules == []


def test_unknown_values_become_unknown_peers():
    cidrs = Unknown("var.allowed has no value")
    sg = res("aws_security_group.a", {"ingress": [
        {LINE: 3, "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": cidrs},
        {LINE: 8, "protocol": "tcp", "from_port": 80, "to_port": 80,
         "cidr_blocks": ["10.0.0.0/8", Unknown("local.x unknown")], "security_groups": [ref("module.m.output", "x")],
         "self": Unknown("var.self unknown")},
    ], "egress": Unknown("dynamic egress for_each is unknown")}, line=1)
    sg.attr_lines["egress"] = 12
    rules = build(sg).groups[uid("aws_security_group.a")].rules
    not_sg = Unknown("security_groups refers to module.m.output.x, not to an aws_security_group or "
                     "aws_default_security_group")
    whole = Unknown("dynamic egress for_each is unknown")
    assert rules == [
        rule(IN, "tcp", 22, 22, Peer(PeerKind.UNKNOWN, unknown=cidrs), 3),
        rule(IN, "tcp", 80, 80, Peer(PeerKind.CIDR, "10.0.0.0/8"), 8),
        rule(IN, "tcp", 80, 80, Peer(PeerKind.UNKNOWN, unknown=Unknown("local.x unknown")), 8),
        rule(IN, "tcp", 80, 80, Peer(PeerKind.UNKNOWN, unknown=not_sg), 8),
        rule(IN, "tcp", 80, 80, Peer(PeerKind.UNKNOWN, unknown=Unknown("var.self unknown")), 8),
        rule(OUT, whole, whole, whole, Peer(PeerKind.UNKNOWN, unknown=whole), 12, whole),
    ]


def test_invalid_cidr_text_is_kept_and_group_in_a_module_keeps_its_uid():
    sg = res("aws_security_group.a", {"ingress": [{LINE: 2, "protocol": "tcp", "from_port": 1, "to_port": 2,
                                                   "cidr_blocks": ["10.0.0.0/33"],
                                                   "security_groups": [ref("module.net.aws_security_group.x[0]"),
                                                                       "sg-0123"]}]})
    assert [r.peer for r in build(sg).groups[uid("aws_security_group.a")].rules] == [
        Peer(PeerKind.CIDR, "10.0.0.0/33"), Peer(PeerKind.GROUP, uid("module.net.aws_security_group.x[0]")),
        Peer(PeerKind.GROUP, "sg-0123")]


def test_prefix_list_peers():
    pl = res("aws_ec2_managed_prefix_list.office", {"entry": [{LINE: 3, "cidr": "198.51.100.0/24"}]})
    sg = res("aws_security_group.a", {"ingress": [{LINE: 9, "protocol": "tcp", "from_port": 22, "to_port": 22,
                                                   "prefix_list_ids": [ref("aws_ec2_managed_prefix_list.office"),
                                                                       "pl-0abc"]}]}, line=8)
    entry = res("aws_ec2_managed_prefix_list_entry.vpn", {"prefix_list_id": ref("aws_ec2_managed_prefix_list.office"),
                                                          "cidr": "203.0.113.7/32"})
    estate = build(sg, pl, entry)
    assert [r.peer for r in estate.groups[uid("aws_security_group.a")].rules] == [
        Peer(PeerKind.PREFIX_LIST, uid("aws_ec2_managed_prefix_list.office")), Peer(PeerKind.PREFIX_LIST, "pl-0abc")]
    assert estate.prefix_lists[uid("aws_ec2_managed_prefix_list.office")].entries == [
        "198.51.100.0/24", "203.0.113.7/32"]


def test_group_fields_defaults():
    estate = build(res("aws_security_group.p", {"name_prefix": "app-", "vpc_id": "vpc-0abc"}),
                   res("aws_security_group.q", {"description": "", "vpc_id": Unknown("var.vpc has no value")}),
                   res("aws_security_group.r", {}))
    p, q, r = (estate.groups[uid(f"aws_security_group.{n}")] for n in "pqr")
    assert (p.name, p.description, p.vpc) == ("app-", None, "vpc-0abc")
    assert (q.name, q.description, q.vpc) == (None, None, Unknown("var.vpc has no value"))
    assert (r.name, r.description, r.vpc, r.rules, r.tags) == (None, None, None, [], {})


def test_default_security_group():
    sg = res("aws_default_security_group.default", {"vpc_id": ref("aws_vpc.main"), "ingress": [
        {LINE: 3, "protocol": -1, "self": True, "from_port": 0, "to_port": 0}]})
    group = build(sg).groups[uid("aws_default_security_group.default")]
    assert (group.is_default, group.name, group.vpc) == (True, "default", uid("aws_vpc.main"))
    assert group.rules == [rule(IN, "all", 0, 0, Peer(PeerKind.SELF), 3)]


def test_standalone_rules_merge_with_origin():
    sg = res("aws_security_group.db", {"name": "db"})
    web = res("aws_security_group.web", {"name": "web"})
    sgr = res("aws_security_group_rule.db_from_web", {
        "type": "ingress", "security_group_id": ref("aws_security_group.db"), "protocol": "tcp",
        "from_port": 5432, "to_port": 5432, "source_security_group_id": ref("aws_security_group.web"),
        "description": "from web"}, line=20)
    sgr2 = res("aws_security_group_rule.out", {
        "type": "egress", "security_group_id": ref("aws_security_group.db"), "protocol": "-1",
        "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": ["::/0"]}, line=30)
    group = build(sgr, sgr2, sg, web).groups[uid("aws_security_group.db")]
    assert group.rules == [
        rule(IN, "tcp", 5432, 5432, Peer(PeerKind.GROUP, uid("aws_security_group.web")), 20, "from web",
             "aws_security_group_rule.db_from_web"),
        rule(OUT, "all", 0, 0, Peer(PeerKind.CIDR, "0.0.0.0/0"), 30, origin="aws_security_group_rule.out"),
        rule(OUT, "all", 0, 0, Peer(PeerKind.CIDR, "::/0"), 30, origin="aws_security_group_rule.out"),
    ]


def test_vpc_security_group_rules():
    sg = res("aws_security_group.a", {})
    all_traffic = res("aws_vpc_security_group_egress_rule.all", {
        "security_group_id": ref("aws_security_group.a"), "ip_protocol": "-1", "cidr_ipv4": "0.0.0.0/0"}, line=5)
    ssh = res("aws_vpc_security_group_ingress_rule.ssh", {
        "security_group_id": ref("aws_security_group.a"), "ip_protocol": "tcp", "from_port": 22, "to_port": 22,
        "referenced_security_group_id": ref("aws_security_group.a"), "cidr_ipv6": ""}, line=9)
    rules = build(sg, all_traffic, ssh).groups[uid("aws_security_group.a")].rules
    assert rules == [
        rule(OUT, "all", None, None, Peer(PeerKind.CIDR, "0.0.0.0/0"), 5, origin="aws_vpc_security_group_egress_rule.all"),
        rule(IN, "tcp", 22, 22, Peer(PeerKind.GROUP, uid("aws_security_group.a")), 9,
             origin="aws_vpc_security_group_ingress_rule.ssh"),
    ]


def test_standalone_rule_with_unknown_group_is_noted_and_dropped():
    unknown = res("aws_security_group_rule.x", {"type": "ingress", "security_group_id": Unknown("var.sg has no value"),
                                                 "protocol": "tcp", "from_port": 22, "to_port": 22,
                                                 "cidr_blocks": ["0.0.0.0/0"]}, line=3)
    outside = res("aws_vpc_security_group_ingress_rule.y", {"security_group_id": "sg-0external",
                                                            "ip_protocol": "tcp", "cidr_ipv4": "0.0.0.0/0"}, line=9)
    bad_type = res("aws_security_group_rule.z", {"type": "sideways", "security_group_id": "sg-1"}, line=12)
    estate = build(unknown, outside, bad_type)
    assert estate.groups == {}
    assert estate.unresolved == [
        Unresolved("aws_security_group_rule.x", uid("aws_security_group_rule.x"), "security_group_id",
                   "var.sg has no value", loc(3)),
        Unresolved("aws_vpc_security_group_ingress_rule.y", uid("aws_vpc_security_group_ingress_rule.y"),
                   "security_group_id", "security group sg-0external is not declared in this configuration", loc(9)),
        Unresolved("aws_security_group_rule.z", uid("aws_security_group_rule.z"), "type",
                   "type 'sideways' is not ingress or egress", loc(12)),
    ]


def test_plan_shaped_values():
    """Plan JSON: every element carries all nine keys, no lines, literal ids, known group id."""
    empty = {"cidr_blocks": [], "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [],
             "self": False, "description": ""}
    sg = res("aws_security_group.web", {"id": "sg-0web", "name": "web", "description": "Managed by Terraform",
                                        "ingress": [{**empty, "cidr_blocks": ["0.0.0.0/0"], "protocol": "tcp",
                                                     "from_port": 443, "to_port": 443}],
                                        "egress": []}, line=0)
    vrule = res("aws_vpc_security_group_ingress_rule.ssh[\"admin\"]", {
        "security_group_id": "sg-0web", "ip_protocol": "tcp", "from_port": 22, "to_port": 22,
        "cidr_ipv4": "203.0.113.0/24", "cidr_ipv6": None, "prefix_list_id": None,
        "referenced_security_group_id": None}, line=0)
    app = res("aws_instance.app[0]", {"vpc_security_group_ids": ["sg-0web"], "subnet_id": "subnet-0aaa"}, line=0)
    estate = build(sg, vrule, app)
    group = estate.groups[uid("aws_security_group.web")]
    assert (group.live_id, group.description) == ("sg-0web", "Managed by Terraform")
    assert group.rules == [
        Rule(IN, "tcp", 443, 443, Peer(PeerKind.CIDR, "0.0.0.0/0"), None, Location(FILE, 0)),
        Rule(IN, "tcp", 22, 22, Peer(PeerKind.CIDR, "203.0.113.0/24"), None, Location(FILE, 0),
             uid('aws_vpc_security_group_ingress_rule.ssh["admin"]'), 'aws_vpc_security_group_ingress_rule.ssh["admin"]'),
    ]
    assert estate.workloads[uid("aws_instance.app[0]")].groups == [uid("aws_security_group.web")]
    assert estate.workloads[uid("aws_instance.app[0]")].subnets == ["subnet-0aaa"]


def test_scope_is_part_of_every_uid():
    sg = res("aws_security_group.a", {"vpc_id": ref("aws_vpc.main")}, scope="envs/prod")
    vm = res("aws_instance.x", {"vpc_security_group_ids": [ref("aws_security_group.a")]}, scope="envs/prod")
    estate = build(sg, vm)
    assert estate.groups[uid("aws_security_group.a", "envs/prod")].vpc == uid("aws_vpc.main", "envs/prod")
    assert estate.workloads[uid("aws_instance.x", "envs/prod")].groups == [uid("aws_security_group.a", "envs/prod")]


def test_data_sources_are_not_modelled():
    data = res("data.aws_security_group.shared", {"name": "shared"}, mode="data")
    vm = res("aws_instance.x", {"vpc_security_group_ids": [ref("data.aws_security_group.shared")]})
    estate = build(data, vm)
    assert estate.groups == {}
    assert estate.workloads[uid("aws_instance.x")].groups == [uid("data.aws_security_group.shared")]


# ---------------------------------------------------------------- workloads

def test_instance_groups_subnet_public_metadata_image_and_volumes():
    named = res("aws_security_group.legacy", {"name": "legacy"})
    vm = res("aws_instance.web", {
        "ami": "ami-0123", "subnet_id": ref("aws_subnet.a"), "associate_public_ip_address": True,
        "vpc_security_group_ids": [ref("aws_security_group.web"), "sg-0literal"],
        "security_groups": ["legacy", "nosuch"], "tags": {"Name": "web-1"},
        "metadata_options": [{LINE: 8, "http_tokens": "optional"}],
        "root_block_device": [{LINE: 11, "volume_size": 20}],
        "ebs_block_device": [{LINE: 14, "device_name": "/dev/sdb", "encrypted": "true"}],
    }, line=5)
    estate = build(vm, named)
    workload = estate.workloads[uid("aws_instance.web")]
    assert workload.groups == [uid("aws_security_group.web"), "sg-0literal", uid("aws_security_group.legacy"),
                               Unknown("security_groups: no security group named 'nosuch' is declared here")]
    assert (workload.kind, workload.tier, workload.public, workload.ports) == ("aws_instance", Tier.APP, True, [])
    assert (workload.subnets, workload.name, workload.metadata_tokens, workload.image) == (
        [uid("aws_subnet.a")], "web-1", "optional", "ami-0123")
    assert workload.location == loc(5)
    assert [(v.uid, v.address, v.kind, v.encrypted, v.owner, v.location) for v in estate.volumes.values()] == [
        (uid("aws_instance.web.root_block_device[0]"), "aws_instance.web", "root_block_device", None,
         uid("aws_instance.web"), loc(11)),
        (uid("aws_instance.web.ebs_block_device[0]"), "aws_instance.web", "ebs_block_device", True,
         uid("aws_instance.web"), loc(14)),
    ]


def test_instance_public_is_none_when_unset():
    estate = build(res("aws_instance.a", {}))
    workload = estate.workloads[uid("aws_instance.a")]
    assert (workload.public, workload.groups, workload.metadata_tokens) == (None, [], None)


def test_launch_template_groups_reach_the_autoscaling_group():
    lt = res("aws_launch_template.app", {
        "name": "app-lt", "image_id": "ami-1", "vpc_security_group_ids": [ref("aws_security_group.app")],
        "metadata_options": [{LINE: 4, "http_tokens": "required"}],
        "network_interfaces": [{LINE: 6, "associate_public_ip_address": "false",
                                "security_groups": [ref("aws_security_group.extra")]}],
        "block_device_mappings": [{LINE: 9, "device_name": "/dev/xvda", "ebs": [{LINE: 10, "encrypted": False}]}],
    }, line=2)
    by_id = res("aws_autoscaling_group.a", {"launch_template": [{LINE: 21, "id": ref("aws_launch_template.app"),
                                                                 "version": "$Latest"}],
                                            "vpc_zone_identifier": [ref("aws_subnet.a"), ref("aws_subnet.b")]}, line=20)
    by_name = res("aws_autoscaling_group.b", {"launch_template": {"name": "app-lt"}})
    mixed = res("aws_autoscaling_group.c", {"mixed_instances_policy": [{"launch_template": [
        {"launch_template_specification": [{"launch_template_id": ref("aws_launch_template.app")}]}]}]})
    missing = res("aws_autoscaling_group.d", {"launch_template": [{"name": "other"}]})
    estate = build(by_id, by_name, mixed, missing, lt)
    template = estate.workloads[uid("aws_launch_template.app")]
    groups = [uid("aws_security_group.app"), uid("aws_security_group.extra")]
    assert (template.groups, template.public, template.metadata_tokens, template.image) == (
        groups, False, "required", "ami-1")
    assert estate.volumes[uid("aws_launch_template.app.block_device_mappings[0]")].encrypted is False
    for name in "abc":
        assert estate.workloads[uid(f"aws_autoscaling_group.{name}")].groups == groups
    assert estate.workloads[uid("aws_autoscaling_group.a")].subnets == [uid("aws_subnet.a"), uid("aws_subnet.b")]
    assert estate.workloads[uid("aws_autoscaling_group.a")].public is False
    assert estate.workloads[uid("aws_autoscaling_group.d")].groups == [
        Unknown("groups come from a launch template: launch_template.name 'other' is not declared in this "
                "configuration")]


def test_launch_configuration_and_eks_node_group():
    lc = res("aws_launch_configuration.old", {"name": "old-lc", "image_id": "ami-2",
                                              "security_groups": [ref("aws_security_group.app")],
                                              "associate_public_ip_address": True,
                                              "root_block_device": [{LINE: 4, "encrypted": True}]})
    asg = res("aws_autoscaling_group.a", {"launch_configuration": "old-lc"})
    lt = res("aws_launch_template.nodes", {"vpc_security_group_ids": [ref("aws_security_group.nodes")]})
    ng = res("aws_eks_node_group.n", {"subnet_ids": [ref("aws_subnet.a")],
                                      "launch_template": [{"id": ref("aws_launch_template.nodes"), "version": "1"}]})
    estate = build(lc, asg, lt, ng)
    assert estate.workloads[uid("aws_launch_configuration.old")].public is True
    assert estate.workloads[uid("aws_autoscaling_group.a")].groups == [uid("aws_security_group.app")]
    assert estate.workloads[uid("aws_autoscaling_group.a")].public is True
    assert estate.workloads[uid("aws_eks_node_group.n")].groups == [uid("aws_security_group.nodes")]
    assert estate.volumes[uid("aws_launch_configuration.old.root_block_device[0]")].encrypted is True


def test_network_interfaces_and_sg_attachments():
    eni = res("aws_network_interface.extra", {"subnet_id": ref("aws_subnet.a"),
                                              "security_groups": [ref("aws_security_group.a")]})
    attach = res("aws_network_interface_sg_attachment.b", {"security_group_id": ref("aws_security_group.b"),
                                                           "network_interface_id": ref("aws_network_interface.extra")})
    on_vm = res("aws_network_interface_sg_attachment.c", {
        "security_group_id": ref("aws_security_group.c"),
        "network_interface_id": ref("aws_instance.vm", "primary_network_interface_id")})
    lost = res("aws_network_interface_sg_attachment.d", {"security_group_id": ref("aws_security_group.c"),
                                                         "network_interface_id": "eni-0123"}, line=40)
    vm = res("aws_instance.vm", {"network_interface": [{LINE: 3, "device_index": 0,
                                                        "network_interface_id": ref("aws_network_interface.extra")}]})
    eip = res("aws_eip.extra", {"network_interface": ref("aws_network_interface.extra")})
    estate = build(vm, attach, on_vm, eni, lost, eip)
    assert estate.workloads[uid("aws_network_interface.extra")].groups == [
        uid("aws_security_group.a"), uid("aws_security_group.b")]
    assert estate.workloads[uid("aws_network_interface.extra")].public is True
    instance = estate.workloads[uid("aws_instance.vm")]
    assert instance.groups == [uid("aws_security_group.c"), uid("aws_security_group.a"), uid("aws_security_group.b")]
    assert (instance.public, instance.subnets) == (True, [uid("aws_subnet.a")])
    assert estate.unresolved == [Unresolved("aws_network_interface_sg_attachment.d",
                                            uid("aws_network_interface_sg_attachment.d"), "network_interface_id",
                                            "eni-0123 is not declared in this configuration", loc(40))]


def test_eip_makes_an_instance_public():
    estate = build(res("aws_instance.a", {"associate_public_ip_address": False}),
                   res("aws_eip.a", {"instance": ref("aws_instance.a")}),
                   res("aws_instance.b", {}),
                   res("aws_eip_association.b", {"instance_id": ref("aws_instance.b"), "allocation_id": ref("aws_eip.x")}))
    assert estate.workloads[uid("aws_instance.a")].public is True
    assert estate.workloads[uid("aws_instance.b")].public is True


def test_databases_and_caches():
    subnets = res("aws_db_subnet_group.main", {"name": "main", "subnet_ids": [ref("aws_subnet.a"), ref("aws_subnet.b")]})
    pg = res("aws_db_instance.pg", {"engine": "postgres", "identifier": "orders",
                                    "vpc_security_group_ids": [ref("aws_security_group.db")],
                                    "db_subnet_group_name": ref("aws_db_subnet_group.main", "name")})
    my = res("aws_db_instance.my", {"engine": "mysql", "port": "3307", "publicly_accessible": True,
                                    "db_subnet_group_name": "main"})
    ora = res("aws_db_instance.ora", {"engine": "oracle-ee", "publicly_accessible": Unknown("var.pub has no value")})
    cluster = res("aws_rds_cluster.c", {"engine": "aurora-postgresql", "vpc_security_group_ids": [ref("aws_security_group.db")]})
    member = res("aws_rds_cluster_instance.c[0]", {"cluster_identifier": ref("aws_rds_cluster.c"),
                                                   "engine": ref("aws_rds_cluster.c", "engine")})
    plain = res("aws_rds_cluster.d", {})
    redis = res("aws_elasticache_replication_group.r", {"security_group_ids": [ref("aws_security_group.cache")]})
    memcached = res("aws_elasticache_cluster.m", {"engine": "memcached", "security_group_ids": ["sg-0m"]})
    estate = build(pg, my, ora, cluster, member, plain, redis, memcached, subnets)
    w = {k.split("#")[1]: v for k, v in estate.workloads.items()}
    assert (w["aws_db_instance.pg"].tier, w["aws_db_instance.pg"].public, w["aws_db_instance.pg"].ports) == (
        Tier.DATA, False, [5432])
    assert w["aws_db_instance.pg"].name == "orders"
    assert w["aws_db_instance.pg"].subnets == [uid("aws_subnet.a"), uid("aws_subnet.b")]
    assert (w["aws_db_instance.my"].public, w["aws_db_instance.my"].ports) == (True, [3307])
    assert w["aws_db_instance.my"].subnets == [uid("aws_subnet.a"), uid("aws_subnet.b")]
    assert (w["aws_db_instance.ora"].public, w["aws_db_instance.ora"].ports) == (None, [1521])
    assert (w["aws_rds_cluster.c"].ports, w["aws_rds_cluster.c"].public) == ([5432], None)
    assert (w["aws_rds_cluster_instance.c[0]"].groups, w["aws_rds_cluster_instance.c[0]"].ports) == (
        [uid("aws_security_group.db")], [5432])
    assert w["aws_rds_cluster_instance.c[0]"].tier is Tier.DATA
    assert w["aws_rds_cluster.d"].ports == [3306]
    assert (w["aws_elasticache_replication_group.r"].groups, w["aws_elasticache_replication_group.r"].ports) == (
        [uid("aws_security_group.cache")], [6379])
    assert (w["aws_elasticache_cluster.m"].groups, w["aws_elasticache_cluster.m"].ports,
            w["aws_elasticache_cluster.m"].tier) == (["sg-0m"], [11211], Tier.DATA)


def test_load_balancers_and_listeners():
    alb = res("aws_lb.web", {"security_groups": [ref("aws_security_group.lb")],
                             "subnets": [ref("aws_subnet.a")], "load_balancer_type": "application"})
    nlb = res("aws_lb.net", {"internal": True, "load_balancer_type": "network",
                             "subnet_mapping": [{"subnet_id": ref("aws_subnet.b")}]})
    https = res("aws_lb_listener.https", {"load_balancer_arn": ref("aws_lb.web", "arn"), "port": 443})
    http = res("aws_lb_listener.http", {"load_balancer_arn": ref("aws_lb.web", "arn"), "port": "80"})
    elb = res("aws_elb.classic", {"security_groups": ["sg-0e"], "internal": "false",
                                  "listener": [{LINE: 3, "lb_port": 443, "instance_port": 8443},
                                               {LINE: 9, "lb_port": 80, "instance_port": 8080}]})
    estate = build(https, alb, nlb, http, elb)
    web = estate.workloads[uid("aws_lb.web")]
    assert (web.tier, web.public, web.ports, web.groups, web.subnets) == (
        Tier.WEB, True, [443, 80], [uid("aws_security_group.lb")], [uid("aws_subnet.a")])
    net = estate.workloads[uid("aws_lb.net")]
    assert (net.public, net.groups, net.subnets) == (False, [], [uid("aws_subnet.b")])
    classic = estate.workloads[uid("aws_elb.classic")]
    assert (classic.tier, classic.public, classic.ports, classic.groups) == (Tier.WEB, True, [443, 80], ["sg-0e"])


def test_serverless_and_container_workloads():
    fn = res("aws_lambda_function.f", {"function_name": "f", "vpc_config": [
        {LINE: 4, "security_group_ids": [ref("aws_security_group.fn")], "subnet_ids": [ref("aws_subnet.a")]}]})
    no_vpc = res("aws_lambda_function.g", {"function_name": "g"})
    empty_vpc = res("aws_lambda_function.h", {"vpc_config": [{"security_group_ids": [], "subnet_ids": []}]})
    ecs = res("aws_ecs_service.s", {"network_configuration": [{"security_groups": [ref("aws_security_group.svc")],
                                                               "subnets": ["subnet-1"], "assign_public_ip": True}]})
    ecs_bridge = res("aws_ecs_service.t", {})
    eks = res("aws_eks_cluster.k", {"vpc_config": [{"security_group_ids": [ref("aws_security_group.k")],
                                                    "subnet_ids": [ref("aws_subnet.a")]}]})
    search = res("aws_opensearch_domain.o", {"vpc_options": [{"security_group_ids": ["sg-0o"], "subnet_ids": []}]})
    gateway = res("aws_vpc_endpoint.s3", {"vpc_id": ref("aws_vpc.main"), "service_name": "com.amazonaws.s3"})
    iface = res("aws_vpc_endpoint.ssm", {"vpc_id": ref("aws_vpc.main"), "vpc_endpoint_type": "Interface",
                                         "security_group_ids": [ref("aws_security_group.vpce")]})
    efs = res("aws_efs_mount_target.m", {"security_groups": [ref("aws_security_group.nfs")], "subnet_id": "subnet-1"})
    msk = res("aws_msk_cluster.k", {"broker_node_group_info": [{"security_groups": ["sg-0k"],
                                                                "client_subnets": ["subnet-1"]}]})
    estate = build(fn, no_vpc, empty_vpc, ecs, ecs_bridge, eks, search, gateway, iface, efs, msk)
    assert set(estate.workloads) == {uid(a) for a in (
        "aws_lambda_function.f", "aws_ecs_service.s", "aws_eks_cluster.k", "aws_opensearch_domain.o",
        "aws_vpc_endpoint.ssm", "aws_efs_mount_target.m", "aws_msk_cluster.k")}
    w = {k.split("#")[1]: v for k, v in estate.workloads.items()}
    assert (w["aws_lambda_function.f"].groups, w["aws_lambda_function.f"].subnets, w["aws_lambda_function.f"].public,
            w["aws_lambda_function.f"].name) == ([uid("aws_security_group.fn")], [uid("aws_subnet.a")], False, "f")
    assert (w["aws_ecs_service.s"].groups, w["aws_ecs_service.s"].public) == ([uid("aws_security_group.svc")], True)
    assert (w["aws_eks_cluster.k"].public, w["aws_eks_cluster.k"].ports) == (True, [443])
    assert (w["aws_opensearch_domain.o"].tier, w["aws_opensearch_domain.o"].groups) == (Tier.DATA, ["sg-0o"])
    assert (w["aws_vpc_endpoint.ssm"].vpc, w["aws_vpc_endpoint.ssm"].groups) == (
        uid("aws_vpc.main"), [uid("aws_security_group.vpce")])
    assert (w["aws_efs_mount_target.m"].ports, w["aws_msk_cluster.k"].groups) == ([2049], ["sg-0k"])


def test_workload_vpc_comes_from_its_subnets():
    vpc = res("aws_vpc.main", {"cidr_block": "10.0.0.0/16"})
    a = res("aws_subnet.a", {"vpc_id": ref("aws_vpc.main"), "cidr_block": "10.0.1.0/24"})
    b = res("aws_subnet.b", {"vpc_id": "vpc-0other", "cidr_block": "10.9.1.0/24"})
    one = res("aws_instance.one", {"subnet_id": ref("aws_subnet.a")})
    two = res("aws_lb.two", {"subnets": [ref("aws_subnet.a"), ref("aws_subnet.b")]})
    estate = build(vpc, a, b, one, two)
    assert estate.workloads[uid("aws_instance.one")].vpc == uid("aws_vpc.main")
    assert estate.workloads[uid("aws_lb.two")].vpc is None


# ---------------------------------------------------------------- network

def test_vpcs_and_subnets():
    vpc = res("aws_vpc.main", {"cidr_block": "10.0.0.0/16", "ipv6_cidr_block": Unknown("assigned by AWS"),
                               "tags": {"Name": "main"}}, line=3)
    extra = res("aws_vpc_ipv4_cidr_block_association.more", {"vpc_id": ref("aws_vpc.main"), "cidr_block": "10.1.0.0/16"})
    ipam = res("aws_vpc.pool", {"ipv4_ipam_pool_id": ref("aws_vpc_ipam_pool.p")})
    default = res("aws_default_vpc.default", {})
    sub = res("aws_subnet.pub", {"vpc_id": ref("aws_vpc.main"), "cidr_block": "10.0.1.0/24",
                                 "map_public_ip_on_launch": True}, line=9)
    priv = res("aws_subnet.priv", {"vpc_id": ref("aws_vpc.main"), "cidr_block": "10.0.2.0/24"})
    dsub = res("aws_default_subnet.az1", {"availability_zone": "eu-west-1a"})
    estate = build(vpc, extra, ipam, default, sub, priv, dsub)
    main = estate.vpcs[uid("aws_vpc.main")]
    assert (main.cidrs, main.tags, main.location) == (
        ["10.0.0.0/16", Unknown("assigned by AWS"), "10.1.0.0/16"], {"Name": "main"}, loc(3))
    assert estate.vpcs[uid("aws_vpc.pool")].cidrs == [Unknown("cidr_block is allocated from an IPAM pool")]
    assert estate.vpcs[uid("aws_default_vpc.default")].cidrs == ["172.31.0.0/16"]
    pub, prv, dfl = (estate.subnets[uid(a)] for a in ("aws_subnet.pub", "aws_subnet.priv", "aws_default_subnet.az1"))
    assert (pub.vpc, pub.cidr, pub.map_public_ip, pub.location) == (uid("aws_vpc.main"), "10.0.1.0/24", True, loc(9))
    assert (prv.map_public_ip, dfl.vpc, dfl.map_public_ip) == (False, uid("aws_default_vpc.default"), None)


def test_route_tables_routes_and_associations():
    rt = res("aws_route_table.public", {"vpc_id": ref("aws_vpc.main"), "route": [
        {LINE: 4, "cidr_block": "0.0.0.0/0", "gateway_id": ref("aws_internet_gateway.gw")},
        {LINE: 8, "ipv6_cidr_block": "::/0", "egress_only_gateway_id": ref("aws_egress_only_internet_gateway.e")},
        {LINE: 12, "cidr_block": "10.1.0.0/16", "gateway_id": "", "vpc_peering_connection_id": "pcx-1",
         "nat_gateway_id": ""},
    ]})
    nat = res("aws_route.nat", {"route_table_id": ref("aws_route_table.private"), "destination_cidr_block": "0.0.0.0/0",
                                "nat_gateway_id": ref("aws_nat_gateway.n")})
    lit = res("aws_route.igw", {"route_table_id": ref("aws_route_table.private"),
                                "destination_cidr_block": "192.0.2.0/24", "gateway_id": "igw-0abc"})
    private = res("aws_route_table.private", {"vpc_id": ref("aws_vpc.main")})
    assoc = res("aws_route_table_association.a", {"subnet_id": ref("aws_subnet.a"),
                                                   "route_table_id": ref("aws_route_table.public")})
    main = res("aws_main_route_table_association.m", {"vpc_id": ref("aws_vpc.main"),
                                                      "route_table_id": ref("aws_route_table.private")})
    orphan = res("aws_route.orphan", {"route_table_id": Unknown("module output unknown"),
                                      "destination_cidr_block": "0.0.0.0/0"}, line=30)
    default = res("aws_default_route_table.d", {"default_route_table_id": ref("aws_vpc.main", "default_route_table_id"),
                                                "route": []})
    igw = res("aws_internet_gateway.gw", {"vpc_id": ref("aws_vpc.main")})
    estate = build(nat, rt, lit, private, assoc, main, orphan, default, igw)
    public = estate.route_tables[uid("aws_route_table.public")]
    assert public.routes == [
        Route("0.0.0.0/0", "igw", uid("aws_internet_gateway.gw")),
        Route("::/0", "eigw", uid("aws_egress_only_internet_gateway.e")),
        Route("10.1.0.0/16", "pcx", "pcx-1"),
    ]
    assert (public.vpc, public.subnets, public.is_main) == (uid("aws_vpc.main"), [uid("aws_subnet.a")], False)
    private = estate.route_tables[uid("aws_route_table.private")]
    assert private.routes == [Route("0.0.0.0/0", "nat", uid("aws_nat_gateway.n")), Route("192.0.2.0/24", "igw", "igw-0abc")]
    assert private.is_main is True
    dflt = estate.route_tables[uid("aws_default_route_table.d")]
    assert (dflt.vpc, dflt.is_main, dflt.routes) == (uid("aws_vpc.main"), True, [])
    assert estate.internet_gateways[uid("aws_internet_gateway.gw")].vpc == uid("aws_vpc.main")
    assert estate.unresolved == [Unresolved("aws_route.orphan", uid("aws_route.orphan"), "route_table_id",
                                            "module output unknown", loc(30))]


def test_network_acls():
    acl = res("aws_network_acl.main", {"vpc_id": ref("aws_vpc.main"), "subnet_ids": [ref("aws_subnet.a")],
                                       "ingress": [{LINE: 5, "rule_no": 100, "action": "allow", "protocol": "tcp",
                                                    "cidr_block": "0.0.0.0/0", "from_port": 22, "to_port": 22}],
                                       "egress": [{LINE: 12, "rule_no": "200", "action": "DENY", "protocol": "-1",
                                                   "ipv6_cidr_block": "::/0", "from_port": 0, "to_port": 0}]})
    nrule = res("aws_network_acl_rule.icmp", {"network_acl_id": ref("aws_network_acl.main"), "rule_number": 110,
                                              "egress": False, "protocol": "1", "rule_action": "allow",
                                              "cidr_block": "10.0.0.0/8", "icmp_type": 8, "icmp_code": 0}, line=20)
    assoc = res("aws_network_acl_association.b", {"network_acl_id": ref("aws_network_acl.main"),
                                                  "subnet_id": ref("aws_subnet.b")})
    default = res("aws_default_network_acl.d", {"default_network_acl_id": ref("aws_vpc.main", "default_network_acl_id")})
    estate = build(nrule, acl, assoc, default)
    main = estate.nacls[uid("aws_network_acl.main")]
    assert main.entries == [
        NaclEntry(100, False, "tcp", "allow", "0.0.0.0/0", 22, 22, loc(5)),
        NaclEntry(200, True, "all", "deny", "::/0", 0, 0, loc(12)),
        NaclEntry(110, False, "icmp", "allow", "10.0.0.0/8", 8, 0, loc(20)),
    ]
    assert (main.vpc, main.subnets, main.is_default) == (uid("aws_vpc.main"), [uid("aws_subnet.a"), uid("aws_subnet.b")],
                                                         False)
    dflt = estate.nacls[uid("aws_default_network_acl.d")]
    assert (dflt.vpc, dflt.is_default, dflt.entries) == (uid("aws_vpc.main"), True, [])


# ---------------------------------------------------------------- AWS40x material

def test_volumes_flow_logs_config_and_trails():
    vol = res("aws_ebs_volume.data", {"size": 10}, line=2)
    enc = res("aws_ebs_volume.secret", {"encrypted": True})
    att = res("aws_volume_attachment.a", {"volume_id": ref("aws_ebs_volume.data"), "instance_id": ref("aws_instance.vm")})
    default = res("aws_ebs_encryption_by_default.on", {})
    flow = res("aws_flow_log.vpc", {"vpc_id": ref("aws_vpc.main"), "traffic_type": "ALL"}, line=7)
    flow_eni = res("aws_flow_log.eni", {"eni_id": "eni-0abc"})
    flow_none = res("aws_flow_log.none", {"vpc_id": Unknown("var.vpc has no value")})
    rec = res("aws_config_configuration_recorder.r", {"name": "default"})
    chan = res("aws_config_delivery_channel.c", {"s3_bucket_name": "b"})
    trail = res("aws_cloudtrail.t", {"name": "t"})
    trail2 = res("aws_cloudtrail.u", {"is_multi_region_trail": True, "enable_log_file_validation": "true",
                                      "enable_logging": False})
    estate = build(vol, enc, att, default, flow, flow_eni, flow_none, rec, chan, trail, trail2)
    data = estate.volumes[uid("aws_ebs_volume.data")]
    assert (data.kind, data.encrypted, data.owner, data.location) == ("ebs_volume", None, uid("aws_instance.vm"), loc(2))
    assert estate.volumes[uid("aws_ebs_volume.secret")].encrypted is True
    assert estate.ebs_default_encryption is True
    assert [(f.address, f.target) for f in estate.flow_logs.values()] == [
        ("aws_flow_log.vpc", uid("aws_vpc.main")), ("aws_flow_log.eni", "eni-0abc"),
        ("aws_flow_log.none", Unknown("var.vpc has no value"))]
    assert estate.flow_logs[uid("aws_flow_log.vpc")].location == loc(7)
    assert [(c.address, c.kind) for c in estate.config_recorders.values()] == [
        ("aws_config_configuration_recorder.r", "recorder"), ("aws_config_delivery_channel.c", "delivery_channel")]
    t, u = estate.trails[uid("aws_cloudtrail.t")], estate.trails[uid("aws_cloudtrail.u")]
    assert (t.multi_region, t.log_validation, t.logging) == (False, False, True)
    assert (u.multi_region, u.log_validation, u.logging) == (True, True, False)


def test_default_encryption_off_and_estate_basics():
    estate = build(res("aws_ebs_encryption_by_default.off", {"enabled": False}))
    assert (estate.ebs_default_encryption, estate.files, estate.root, estate.sources, estate.errors) == (
        False, [FILE], "/scan", set(), [])


# ---------------------------------------------------------------- robustness

_JUNK: list[Any] = [None, "", "text", 7, True, [], {}, [None], [{}], ["x", 3], {"a": 1}, [[1]],
                    Unknown("unknown"), [Unknown("element")], ResourceRef("aws_thing.x", "id"),
                    ResourceRef("aws_thing.x", "list_attr"), [{LINE: "nan", "cidr_blocks": {"a": 1}}]]
_KEYS = ("ingress", "egress", "route", "entry", "vpc_config", "network_interface", "network_interfaces",
         "launch_template", "mixed_instances_policy", "block_device_mappings", "root_block_device",
         "ebs_block_device", "metadata_options", "listener", "attachment", "vpc_id", "subnet_id", "subnet_ids",
         "security_groups", "vpc_security_group_ids", "security_group_id", "security_group_ids", "type",
         "protocol", "ip_protocol", "from_port", "to_port", "cidr_blocks", "cidr_ipv4", "self", "port", "engine",
         "internal", "publicly_accessible", "tags", "name", "route_table_id", "network_acl_id",
         "network_interface_id", "instance", "load_balancer_arn", "cluster_identifier", "db_subnet_group_name",
         "prefix_list_id", "cidr", "cidr_block", "rule_number", "rule_no", "egress_only_gateway_id", "gateway_id",
         "encrypted", "enabled", "is_multi_region_trail", "network_configuration", "vpc_options", "instance_id",
         "volume_id", "launch_configuration", "broker_node_group_info", "default_route_table_id", "eni_id")


@pytest.mark.parametrize("junk", _JUNK, ids=[repr(j)[:30] for j in _JUNK])
def test_any_attribute_shape_is_read_without_error(junk):
    types = sorted(set(OBJECTS) | set(PIECES) | {"aws_rds_cluster_instance", "aws_network_interface_attachment"})
    instances = [res(f"{t}.j", {k: junk for k in _KEYS}) for t in types]
    estate = build(*instances)
    assert [u for u in estate.unresolved if u.what == "attributes"] == []


def test_attribute_form_rules_and_rule_resource_peers():
    sg = res("aws_security_group.a", {"ingress": [
        {LINE: 4, "protocol": "udp", "from_port": 53, "to_port": 53, "cidr_blocks": ["10.0.0.0/8"]},
        {LINE: 5, "protocol": "icmp", "from_port": 8, "to_port": 0, "self": "true"},
    ]}, line=2)
    sg.attr_lines["ingress"] = 3
    sgr = res("aws_security_group_rule.b", {"type": "egress", "security_group_id": ref("aws_security_group.a"),
                                            "protocol": "tcp", "from_port": 443, "to_port": 443, "self": True,
                                            "prefix_list_ids": ["pl-0s3"]}, line=10)
    from_data = res("aws_security_group_rule.c", {"type": "ingress", "protocol": "tcp", "from_port": 1, "to_port": 1,
                                                  "security_group_id": ref("data.aws_security_group.shared"),
                                                  "cidr_blocks": ["10.0.0.0/8"]}, line=20)
    estate = build(sg, sgr, from_data)
    assert estate.groups[uid("aws_security_group.a")].rules == [
        rule(IN, "udp", 53, 53, Peer(PeerKind.CIDR, "10.0.0.0/8"), 4),
        rule(IN, "icmp", 8, 0, Peer(PeerKind.SELF), 5),
        rule(OUT, "tcp", 443, 443, Peer(PeerKind.PREFIX_LIST, "pl-0s3"), 10, origin="aws_security_group_rule.b"),
        rule(OUT, "tcp", 443, 443, Peer(PeerKind.SELF), 10, origin="aws_security_group_rule.b"),
    ]
    assert estate.unresolved == [Unresolved(
        "aws_security_group_rule.c", uid("aws_security_group_rule.c"), "security_group_id",
        "data.aws_security_group.shared is a data source: it exists outside this configuration", loc(20))]


_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.text(max_size=4),
                  st.sampled_from(["tcp", "-1", "0.0.0.0/0", "sg-1", "true", "Interface", "igw-1", "local"]),
                  st.just(Unknown("u")),
                  st.builds(ResourceRef, st.sampled_from(["aws_security_group.j", "aws_vpc.j", "aws_subnet.j",
                                                          "aws_instance.j", "aws_network_interface.j", "aws_lb.j",
                                                          "aws_launch_template.j", "aws_rds_cluster.j", "module.m"]),
                            st.sampled_from(["id", "arn", "name", "ids"])))
_NAMES = st.sampled_from(_KEYS + ("launch_template_specification", "launch_template_id", "ebs", "lb_port",
                                  "http_tokens", "action", "icmp_type", LINE, "id"))
_VALUE = st.recursive(_LEAF, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(_NAMES, inner, max_size=4)), max_leaves=10)
_TYPES = sorted(set(OBJECTS) | set(PIECES) | {"aws_rds_cluster_instance", "aws_network_interface_attachment"})


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.sampled_from(_TYPES), st.dictionaries(_NAMES, _VALUE, max_size=6)), max_size=3))
def test_random_attribute_shapes_never_break_the_builder(resources):
    estate = build(*(res(f"{t}.j", attrs) for t, attrs in resources))
    assert [u for u in estate.unresolved if u.what == "attributes"] == []


def test_declared_port_wins_over_defaults():
    estate = build(res("aws_memorydb_cluster.m", {"port": 6380, "security_group_ids": ["sg-1"]}),
                   res("aws_redshift_cluster.r", {"publicly_accessible": False}),
                   res("aws_mq_broker.q", {"engine_type": "RabbitMQ", "security_groups": ["sg-2"]}))
    assert [(w.address, w.ports, w.public, w.tier) for w in estate.workloads.values()] == [
        ("aws_memorydb_cluster.m", [6380], None, Tier.DATA), ("aws_redshift_cluster.r", [5439], False, Tier.DATA),
        ("aws_mq_broker.q", [5671], False, Tier.APP)]


def test_volume_encryption_from_snapshots_and_instance_store_mappings():
    vol = res("aws_ebs_volume.restored", {"snapshot_id": "snap-0abc"})
    lt = res("aws_launch_template.t", {"block_device_mappings": [
        {LINE: 3, "device_name": "/dev/sdb", "virtual_name": "ephemeral0"},
        {LINE: 6, "device_name": "/dev/sdc", "ebs": [{LINE: 7, "snapshot_id": ref("aws_ebs_snapshot.s")}]},
        {LINE: 10, "device_name": "/dev/sdd", "ebs": Unknown("dynamic ebs unknown")},
    ]})
    estate = build(vol, lt)
    assert [(v.uid, v.encrypted, v.location) for v in estate.volumes.values()] == [
        (uid("aws_ebs_volume.restored"), Unknown("encryption follows the snapshot snap-0abc"), loc(1)),
        (uid("aws_launch_template.t.block_device_mappings[1]"),
         Unknown("encryption follows the snapshot aws_ebs_snapshot.s"), loc(6)),
        (uid("aws_launch_template.t.block_device_mappings[2]"), Unknown("dynamic ebs unknown"), loc(10)),
    ]
