"""Security groups and their rules from Terraform resource instances.

Inline ``ingress``/``egress`` blocks and attribute-form lists of ``aws_security_group``
and ``aws_default_security_group`` become atomic ``Rule`` objects (one per peer) at the
block's line. Standalone rules (``aws_security_group_rule``,
``aws_vpc_security_group_ingress_rule``/``_egress_rule``) are merged into the group they
name, with ``origin``/``origin_address``; when that group is not in the estate they are
dropped and an ``Unresolved`` note is recorded (IAC002).

Ports are the declared values (an inline ``protocol = "-1"`` rule keeps its ``0``/``0``);
``aws_vpc_security_group_*_rule`` with ``ip_protocol = "-1"`` gets ``None`` ports, as AWS
ignores them there. A port that is not a number is an ``Unknown`` naming the text.

Descriptions: an absent or empty description is ``None`` (Terraform fills in "Managed by
Terraform" for groups when absent; we keep ``None`` so rules see that nobody wrote one;
plan JSON values carry the filled-in text and it is kept as written).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from iacscan.model import (
    Direction, Estate, Location, Peer, PeerKind, Rule, SecurityGroup, Unknown,
)
from iacscan.net import normalize_cidr, normalize_protocol
from iacscan.parsers.tf_coerce import (
    Refs, as_blocks, as_bool, as_int, as_list, as_str, line_of, not_declared, reason_of, tags_of,
    text_or_none, unresolved,
)
from iacscan.parsers.tf_types import ResourceInstance

SG_TYPES = ("aws_security_group", "aws_default_security_group")
PL_TYPES = ("aws_ec2_managed_prefix_list",)
VPC_TYPES = ("aws_vpc", "aws_default_vpc")


def protocol_of(value: Any, what: str = "protocol") -> str | Unknown:
    """The normalised protocol, or Unknown."""
    text = as_str(value, what)
    if text is None:
        return Unknown(f"{what} is not set")
    if isinstance(text, Unknown):
        return text
    return normalize_protocol(text)


def _cidr_peer(value: Any, what: str, inst: ResourceInstance, refs: Refs) -> Peer | None:
    value = refs.deref(value, inst.scope)
    if value is None:
        return None
    text = as_str(value, what)
    if text is None:
        return None
    if isinstance(text, Unknown):
        return Peer(PeerKind.UNKNOWN, unknown=text)
    return Peer(PeerKind.CIDR, normalize_cidr(text) or text)


def _ref_peer(value: Any, kind: PeerKind, types: tuple[str, ...], what: str,
              inst: ResourceInstance, refs: Refs) -> Peer | None:
    ref = refs.uid(value, inst.scope, types, what)
    if ref is None:
        return None
    if isinstance(ref, Unknown):
        return Peer(PeerKind.UNKNOWN, unknown=ref)
    return Peer(kind, ref)


def _list_peers(value: Any, what: str, make: Callable[[Any], Peer | None]) -> list[Peer]:
    items = as_list(value, what)
    if isinstance(items, Unknown):
        return [Peer(PeerKind.UNKNOWN, unknown=items)]
    return [peer for peer in (make(item) for item in items) if peer is not None]


def block_peers(block: dict[str, Any], inst: ResourceInstance, refs: Refs,
                group_key: str = "security_groups") -> list[Peer]:
    """The peers of an inline block or an ``aws_security_group_rule``, in a fixed order:
    IPv4 CIDRs, IPv6 CIDRs, prefix lists, groups, self."""
    peers: list[Peer] = []
    for key in ("cidr_blocks", "ipv6_cidr_blocks"):
        peers += _list_peers(block.get(key), key, partial(_cidr_peer, what=key, inst=inst, refs=refs))
    peers += _list_peers(block.get("prefix_list_ids"), "prefix_list_ids",
                         lambda v: _ref_peer(v, PeerKind.PREFIX_LIST, PL_TYPES, "prefix_list_ids", inst, refs))
    peers += _list_peers(block.get(group_key), group_key,
                         lambda v: _ref_peer(v, PeerKind.GROUP, SG_TYPES, group_key, inst, refs))
    is_self = as_bool(block.get("self"), "self")
    if isinstance(is_self, Unknown):
        peers.append(Peer(PeerKind.UNKNOWN, unknown=is_self))
    elif is_self:
        peers.append(Peer(PeerKind.SELF))
    return peers


def _rules(direction: Direction, block: dict[str, Any], peers: list[Peer], location: Location,
           origin: ResourceInstance | None = None, ports: bool = True) -> list[Rule]:
    protocol = protocol_of(block.get("protocol", block.get("ip_protocol")))
    from_port = as_int(block.get("from_port"), "from_port") if ports else None
    to_port = as_int(block.get("to_port"), "to_port") if ports else None
    description = text_or_none(block.get("description"), "description")
    return [
        Rule(direction, protocol, from_port, to_port, peer, description, location,
             origin.uid if origin else "", origin.address if origin else "")
        for peer in peers
    ]


def _unknown_rule(direction: Direction, unknown: Unknown, location: Location) -> Rule:
    return Rule(direction, unknown, unknown, unknown, Peer(PeerKind.UNKNOWN, unknown=unknown),
                unknown, location)


def inline_rules(inst: ResourceInstance, refs: Refs) -> list[Rule]:
    """The atomic rules of a group's inline ``ingress``/``egress`` blocks or lists."""
    rules: list[Rule] = []
    for direction in (Direction.INGRESS, Direction.EGRESS):
        key = direction.value
        for block in as_blocks(inst.attrs.get(key), key):
            if isinstance(block, Unknown):
                rules.append(_unknown_rule(direction, block, line_of(inst, None, key)))
                continue
            rules += _rules(direction, block, block_peers(block, inst, refs), line_of(inst, block))
    return rules


def build_group(inst: ResourceInstance, refs: Refs) -> SecurityGroup:
    """``aws_security_group`` / ``aws_default_security_group`` → SecurityGroup."""
    attrs = inst.attrs
    is_default = inst.type == "aws_default_security_group"
    name = "default" if is_default else text_or_none(attrs.get("name"), "name")
    if name is None and not is_default:
        name = text_or_none(attrs.get("name_prefix"), "name_prefix")
    live = attrs.get("id")
    return SecurityGroup(
        uid=inst.uid, address=inst.address, name=name,
        description=text_or_none(attrs.get("description"), "description"),
        vpc=refs.uid(attrs.get("vpc_id"), inst.scope, VPC_TYPES, "vpc_id"),
        tags=tags_of(attrs), rules=inline_rules(inst, refs), location=inst.location,
        is_default=is_default, implicit_egress=False, source=inst.source,
        live_id=live if isinstance(live, str) else "",
    )


def _target_group(inst: ResourceInstance, refs: Refs, estate: Estate) -> SecurityGroup | None:
    """The group a standalone rule names, or None after recording why not."""
    value = inst.attrs.get("security_group_id")
    ref = refs.uid(value, inst.scope, SG_TYPES, "security_group_id")
    group = estate.find_group(ref) if isinstance(ref, str) else None
    if group is None:
        reason = not_declared(value, f"security group {ref}") if isinstance(ref, str) else \
            reason_of(ref, "security_group_id")
        estate.unresolved.append(unresolved(inst, "security_group_id", reason))
    return group


def _direction(inst: ResourceInstance, estate: Estate) -> Direction | None:
    if inst.type == "aws_vpc_security_group_ingress_rule":
        return Direction.INGRESS
    if inst.type == "aws_vpc_security_group_egress_rule":
        return Direction.EGRESS
    kind = as_str(inst.attrs.get("type"), "type")
    if kind in ("ingress", "egress"):
        return Direction(kind)
    reason = kind.reason if isinstance(kind, Unknown) else f"type {kind!r} is not ingress or egress"
    estate.unresolved.append(unresolved(inst, "type", reason))
    return None


def add_group_rule(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """``aws_security_group_rule`` → rules merged into its group."""
    direction = _direction(inst, estate)
    group = _target_group(inst, refs, estate) if direction else None
    if direction is None or group is None:
        return
    attrs = dict(inst.attrs)
    source = attrs.get("source_security_group_id")
    attrs["source_security_group_id"] = [] if source is None or source == "" else [source]
    peers = block_peers(attrs, inst, refs, "source_security_group_id")
    group.rules += _rules(direction, attrs, peers, inst.location, inst)


def add_vpc_rule(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """``aws_vpc_security_group_ingress_rule`` / ``_egress_rule`` → one rule per source."""
    direction = _direction(inst, estate)
    group = _target_group(inst, refs, estate)
    if direction is None or group is None:
        return
    attrs = inst.attrs
    peers = [
        _cidr_peer(attrs.get("cidr_ipv4"), "cidr_ipv4", inst, refs) if attrs.get("cidr_ipv4") != "" else None,
        _cidr_peer(attrs.get("cidr_ipv6"), "cidr_ipv6", inst, refs) if attrs.get("cidr_ipv6") != "" else None,
        _ref_peer(attrs.get("prefix_list_id"), PeerKind.PREFIX_LIST, PL_TYPES, "prefix_list_id", inst, refs),
        _ref_peer(attrs.get("referenced_security_group_id"), PeerKind.GROUP, SG_TYPES,
                  "referenced_security_group_id", inst, refs),
    ]
    protocol = protocol_of(attrs.get("ip_protocol"), "ip_protocol")
    group.rules += _rules(direction, attrs, [p for p in peers if p is not None], inst.location,
                          inst, ports=protocol != "all")

