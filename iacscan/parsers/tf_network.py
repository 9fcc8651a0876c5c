"""VPCs, subnets, route tables, internet gateways, network ACLs and prefix lists.

Standalone pieces (``aws_route``, ``aws_route_table_association``,
``aws_network_acl_rule``, ``aws_ec2_managed_prefix_list_entry``…) are merged into the
object they name; when that object is not in the estate an ``Unresolved`` note is
recorded. ``aws_default_vpc`` gets AWS's fixed default-VPC range ``172.31.0.0/16``.
Route targets: ``igw`` only for internet gateways (``aws_internet_gateway`` or a literal
``igw-…``); egress-only internet gateways are ``eigw`` and virtual private gateways
``vgw`` (additions to the kinds listed in the model).
"""
from __future__ import annotations

from typing import Any

from iacscan.model import (
    Estate, InternetGateway, NaclEntry, NetworkAcl, PrefixList, Route, RouteTable, Subnet, Unknown,
    Vpc, make_uid,
)
from iacscan.net import normalize_cidr
from iacscan.parsers.tf_coerce import (
    Refs, address_type, as_blocks, as_bool, as_int, bool_or, line_of, not_declared, reason_of, tags_of,
    text_or_none, unresolved,
)
from iacscan.parsers.tf_groups import PL_TYPES, protocol_of
from iacscan.parsers.tf_types import ResourceInstance, ResourceRef
from iacscan.parsers.tf_workloads import SUBNET_TYPES, VPC_TYPES

RT_TYPES = ("aws_route_table", "aws_default_route_table")
NACL_TYPES = ("aws_network_acl", "aws_default_network_acl")
IGW_TYPES = ("aws_internet_gateway",)
DEFAULT_VPC_CIDR = "172.31.0.0/16"
_TARGETS = (
    ("gateway_id", ""), ("nat_gateway_id", "nat"), ("transit_gateway_id", "tgw"),
    ("vpc_peering_connection_id", "pcx"), ("network_interface_id", "eni"), ("instance_id", "instance"),
    ("vpc_endpoint_id", "vpce"), ("egress_only_gateway_id", "eigw"), ("carrier_gateway_id", "unknown"),
    ("local_gateway_id", "unknown"), ("core_network_arn", "unknown"),
)
_GATEWAYS = {"aws_internet_gateway": "igw", "aws_vpn_gateway": "vgw", "aws_egress_only_internet_gateway": "eigw",
             "aws_nat_gateway": "nat", "aws_vpc_endpoint": "vpce"}
_PREFIXES = {"igw-": "igw", "vgw-": "vgw", "eigw-": "eigw", "nat-": "nat", "vpce-": "vpce"}


def _cidr(value: Any, what: str) -> str | Unknown | None:
    text = text_or_none(value, what)
    if text is None or isinstance(text, Unknown):
        return text
    return normalize_cidr(text) or text


def _live(inst: ResourceInstance) -> str:
    live = inst.attrs.get("id")
    return live if isinstance(live, str) else ""


def build_vpc(inst: ResourceInstance, refs: Refs) -> Vpc:
    """``aws_vpc`` / ``aws_default_vpc`` → Vpc with its declared ranges."""
    attrs = inst.attrs
    cidrs: list[str | Unknown] = []
    first = _cidr(attrs.get("cidr_block"), "cidr_block")
    if first is None and inst.type == "aws_default_vpc":
        first = DEFAULT_VPC_CIDR
    if first is None and attrs.get("ipv4_ipam_pool_id") not in (None, ""):
        first = Unknown("cidr_block is allocated from an IPAM pool")
    for cidr in (first, _cidr(attrs.get("ipv6_cidr_block"), "ipv6_cidr_block")):
        if cidr is not None:
            cidrs.append(cidr)
    return Vpc(inst.uid, inst.address, cidrs, tags_of(attrs), inst.location, _live(inst))


def _default_vpc(inst: ResourceInstance, refs: Refs) -> str | None:
    found = [i for i in refs.by_uid.values() if i.type == "aws_default_vpc" and i.scope == inst.scope]
    return found[0].uid if len(found) == 1 else None


def build_subnet(inst: ResourceInstance, refs: Refs) -> Subnet:
    """``aws_subnet`` / ``aws_default_subnet`` → Subnet."""
    attrs = inst.attrs
    if inst.type == "aws_default_subnet":
        vpc: str | Unknown | None = _default_vpc(inst, refs)
        public = bool_or(attrs.get("map_public_ip_on_launch"), "map_public_ip_on_launch", None)
    else:
        vpc = refs.uid(attrs.get("vpc_id"), inst.scope, VPC_TYPES, "vpc_id")
        public = bool_or(attrs.get("map_public_ip_on_launch"), "map_public_ip_on_launch", False)
    return Subnet(inst.uid, inst.address, vpc, _cidr(attrs.get("cidr_block"), "cidr_block"),
                  _cidr(attrs.get("ipv6_cidr_block"), "ipv6_cidr_block"),
                  None if isinstance(public, Unknown) else public, tags_of(attrs), inst.location, _live(inst))


def _gateway_kind(value: Any, refs: Refs) -> str:
    if isinstance(value, ResourceRef):
        return _GATEWAYS.get(address_type(value.address)[0], "unknown")
    if isinstance(value, str):
        found = refs.by_live.get(value.strip())
        if found is not None and found.type in _GATEWAYS:
            return _GATEWAYS[found.type]
        if value.strip() == "local":
            return "local"
        for prefix, kind in _PREFIXES.items():
            if value.strip().startswith(prefix):
                return kind
    return "unknown"


def route_of(inst: ResourceInstance, block: dict[str, Any], refs: Refs) -> Route | None:
    """A route from an inline ``route`` block or an ``aws_route`` (None when it has no
    destination and no target at all)."""
    destination: str | Unknown | None = None
    for key in ("cidr_block", "ipv6_cidr_block", "destination_cidr_block", "destination_ipv6_cidr_block",
                "destination_prefix_list_id"):
        destination = _cidr(block.get(key), key) if "prefix" not in key else \
            refs.uid(block.get(key), inst.scope, PL_TYPES, key)
        if destination is not None:
            break
    for key, kind in _TARGETS:
        value = block.get(key)
        if value is None or value == "":
            continue
        target = refs.any_uid(value, inst.scope, key)
        kind = _gateway_kind(value, refs) if key == "gateway_id" else kind
        if isinstance(value, Unknown):
            kind = "unknown"
        return Route(destination if destination is not None else Unknown("route has no destination"),
                     kind, target if target is not None else "")
    if destination is None:
        return None
    return Route(destination, "unknown", Unknown("route has no target"))


def build_route_table(inst: ResourceInstance, refs: Refs) -> RouteTable:
    """``aws_route_table`` / ``aws_default_route_table`` with inline routes."""
    attrs = inst.attrs
    is_main = inst.type == "aws_default_route_table"
    if is_main:
        vpc = _vpc_of_default(attrs.get("default_route_table_id"), inst, refs)
    else:
        vpc = refs.uid(attrs.get("vpc_id"), inst.scope, VPC_TYPES, "vpc_id")
    routes: list[Route] = []
    for block in as_blocks(attrs.get("route"), "route"):
        if isinstance(block, Unknown):
            routes.append(Route(block, "unknown", block))
        else:
            route = route_of(inst, block, refs)
            if route is not None:
                routes.append(route)
    return RouteTable(inst.uid, inst.address, vpc, routes, [], is_main, inst.location)


def _vpc_of_default(value: Any, inst: ResourceInstance, refs: Refs) -> str | Unknown | None:
    """The VPC of a default route table / NACL: ``aws_vpc.x.default_route_table_id`` → x."""
    if isinstance(value, ResourceRef) and address_type(value.address)[0] in VPC_TYPES:
        return make_uid(inst.scope, value.address)
    return value if isinstance(value, Unknown) else None


def build_igw(inst: ResourceInstance, refs: Refs) -> InternetGateway:
    """``aws_internet_gateway`` (egress-only gateways are not internet gateways)."""
    return InternetGateway(inst.uid, inst.address,
                           refs.uid(inst.attrs.get("vpc_id"), inst.scope, VPC_TYPES, "vpc_id"), inst.location)


def nacl_entry(inst: ResourceInstance, block: dict[str, Any], egress: bool | None = None) -> NaclEntry:
    """A NACL entry from an inline ``ingress``/``egress`` block or an ``aws_network_acl_rule``."""
    number = as_int(block.get("rule_no", block.get("rule_number")), "rule_number")
    if egress is None:
        flag = as_bool(block.get("egress"), "egress")
        egress = flag is True
    protocol = protocol_of(block.get("protocol"))
    action = text_or_none(block.get("action", block.get("rule_action")), "action")
    cidr = _cidr(block.get("cidr_block"), "cidr_block")
    if cidr is None:
        cidr = _cidr(block.get("ipv6_cidr_block"), "ipv6_cidr_block")
    from_key, to_key = "from_port", "to_port"
    if protocol in ("icmp", "icmpv6") and block.get("icmp_type") not in (None, ""):
        from_key, to_key = "icmp_type", "icmp_code"
    return NaclEntry(
        rule_number=Unknown("rule number is not set") if number is None else number,
        egress=egress, protocol=protocol,
        action=action.lower() if isinstance(action, str) else "unknown",
        cidr=Unknown("entry has no cidr_block") if cidr is None else cidr,
        from_port=as_int(block.get(from_key), from_key), to_port=as_int(block.get(to_key), to_key),
        location=line_of(inst, block),
    )


def build_nacl(inst: ResourceInstance, refs: Refs) -> NetworkAcl:
    """``aws_network_acl`` / ``aws_default_network_acl`` with inline entries."""
    attrs = inst.attrs
    is_default = inst.type == "aws_default_network_acl"
    if is_default:
        vpc = _vpc_of_default(attrs.get("default_network_acl_id"), inst, refs)
    else:
        vpc = refs.uid(attrs.get("vpc_id"), inst.scope, VPC_TYPES, "vpc_id")
    entries: list[NaclEntry] = []
    for key, egress in (("ingress", False), ("egress", True)):
        for block in as_blocks(attrs.get(key), key):
            if isinstance(block, Unknown):
                entries.append(NaclEntry(block, egress, block, "unknown", block, block, block,
                                         line_of(inst, None, key)))
            else:
                entries.append(nacl_entry(inst, block, egress))
    subnets = refs.uids(attrs.get("subnet_ids"), inst.scope, SUBNET_TYPES, "subnet_ids")
    return NetworkAcl(inst.uid, inst.address, vpc, subnets, entries, is_default, inst.location)


def build_prefix_list(inst: ResourceInstance, refs: Refs) -> PrefixList:
    """``aws_ec2_managed_prefix_list`` with its ``entry`` blocks."""
    entries: list[str | Unknown] = []
    for block in as_blocks(inst.attrs.get("entry"), "entry"):
        cidr = block if isinstance(block, Unknown) else _cidr(block.get("cidr"), "cidr")
        if cidr is not None:
            entries.append(cidr)
    return PrefixList(inst.uid, inst.address, entries, inst.location, _live(inst))


def _find(inst: ResourceInstance, refs: Refs, collection: dict[str, Any], key: str,
          types: tuple[str, ...], estate: Estate, note: bool = True) -> Any:
    """The object of ``collection`` that attribute ``key`` names; else record why (IAC002)."""
    value = inst.attrs.get(key)
    ref = refs.uid(value, inst.scope, types, key)
    found = collection.get(ref) if isinstance(ref, str) else None
    if found is None and note:
        reason = not_declared(value, ref) if isinstance(ref, str) else reason_of(ref, key)
        estate.unresolved.append(unresolved(inst, key, reason))
    return found


def add_route(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """``aws_route`` → a route of the table it names."""
    table = _find(inst, refs, estate.route_tables, "route_table_id", RT_TYPES, estate)
    route = route_of(inst, inst.attrs, refs) if table is not None else None
    if route is not None:
        table.routes.append(route)


def add_route_association(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """``aws_route_table_association`` (subnet) / ``aws_main_route_table_association``."""
    if inst.type == "aws_route_table_association" and inst.attrs.get("subnet_id") in (None, ""):
        return  # an edge association (gateway_id): no subnet to route
    table = _find(inst, refs, estate.route_tables, "route_table_id", RT_TYPES, estate)
    if table is None:
        return
    if inst.type == "aws_main_route_table_association":
        table.is_main = True
        if table.vpc is None:
            table.vpc = refs.uid(inst.attrs.get("vpc_id"), inst.scope, VPC_TYPES, "vpc_id")
        return
    subnet = refs.uid(inst.attrs.get("subnet_id"), inst.scope, SUBNET_TYPES, "subnet_id")
    if subnet is not None and subnet not in table.subnets:
        table.subnets.append(subnet)


def add_nacl_rule(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """``aws_network_acl_rule`` → an entry of the NACL it names."""
    nacl = _find(inst, refs, estate.nacls, "network_acl_id", NACL_TYPES, estate)
    if nacl is not None:
        entry = nacl_entry(inst, inst.attrs)
        nacl.entries.append(NaclEntry(entry.rule_number, entry.egress, entry.protocol, entry.action,
                                      entry.cidr, entry.from_port, entry.to_port, inst.location))


def add_nacl_association(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """``aws_network_acl_association`` → a subnet of the NACL."""
    nacl = _find(inst, refs, estate.nacls, "network_acl_id", NACL_TYPES, estate)
    subnet = refs.uid(inst.attrs.get("subnet_id"), inst.scope, SUBNET_TYPES, "subnet_id")
    if nacl is not None and subnet is not None and subnet not in nacl.subnets:
        nacl.subnets.append(subnet)


def add_prefix_list_entry(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """``aws_ec2_managed_prefix_list_entry`` → an entry of its list."""
    plist = _find(inst, refs, estate.prefix_lists, "prefix_list_id", PL_TYPES, estate)
    cidr = _cidr(inst.attrs.get("cidr"), "cidr")
    if plist is not None and cidr is not None:
        plist.entries.append(cidr)


def add_vpc_cidr(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """``aws_vpc_ipv4_cidr_block_association`` / ``_ipv6_`` → another range of its VPC."""
    vpc = _find(inst, refs, estate.vpcs, "vpc_id", VPC_TYPES, estate, note=False)
    cidr = _cidr(inst.attrs.get("cidr_block", inst.attrs.get("ipv6_cidr_block")), "cidr_block")
    if cidr is None and inst.attrs.get("ipv4_ipam_pool_id", inst.attrs.get("ipv6_ipam_pool_id")) not in (None, ""):
        cidr = Unknown("cidr_block is allocated from an IPAM pool")
    if vpc is not None and cidr is not None:
        vpc.cidrs.append(cidr)


def add_igw_attachment(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """``aws_internet_gateway_attachment`` → the gateway's VPC."""
    igw = _find(inst, refs, estate.internet_gateways, "internet_gateway_id", IGW_TYPES, estate, note=False)
    if igw is not None:
        igw.vpc = refs.uid(inst.attrs.get("vpc_id"), inst.scope, VPC_TYPES, "vpc_id")
