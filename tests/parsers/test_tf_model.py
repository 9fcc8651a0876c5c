"""Tests of the Terraform model builder (ResourceInstance → Estate)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

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
    not_sg = Unknown("security_groups refers to module.m.output.x, not to a aws_security_group or "
                     "aws_default_security_group")
    whole = Unknown("dynamic egress for_each is unknown")
    assert rules == [
        rule(IN, "tcp", 22, 22, Peer(PeerKind.UNKNOWN, unknown=cidrs), 3),
        rule(IN, "tcp", 80, 80, Peer(PeerKind.CIDR, "10.0.0.0/8"), 8),
        rule(IN, "tcp", 80, 80, Peer(PeerKind.UNKNOWN, unknown=Unknown("local.x unknown")), 8),
        rule(IN, "tcp", 80, 80, Peer(PeerKind.UNKNOWN, unknown=not_sg), 8),
        rule(IN, "tcp", 80, 80, Peer(PeerKind.UNKNOWN, unknown=Unknown("var.self unknown")), 8),
        rule(OUT, whole, whole, whole, Peer(PeerKind.UNKNOWN, unknown=whole), 12),
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
