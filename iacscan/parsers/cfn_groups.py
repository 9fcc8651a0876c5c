"""CloudFormation security groups and their rules → ``SecurityGroup`` / ``Rule``.

``AWS::EC2::SecurityGroup`` inline ``SecurityGroupIngress``/``SecurityGroupEgress`` entries
and standalone ``AWS::EC2::SecurityGroupIngress``/``SecurityGroupEgress`` resources all
become atomic rules (one per peer). A group that ends up with no egress declared at all
keeps AWS's allow-all egress (``implicit_egress=True``).
"""
from __future__ import annotations

from typing import Any

from iacscan.model import Direction, Peer, PeerKind, Rule, SecurityGroup, Unknown
from iacscan.net import normalize_cidr, normalize_protocol
from iacscan.parsers.cfn_common import PREFIX_LIST, SG, Builder, as_int, as_str, tags_of
from iacscan.parsers.cfn_intrinsics import CfnRef, line_of

#: entry key → peer kind, per direction
_PEER_KEYS: dict[Direction, tuple[tuple[str, str], ...]] = {
    Direction.INGRESS: (("CidrIp", "cidr"), ("CidrIpv6", "cidr"), ("SourceSecurityGroupId", "group"),
                        ("SourceSecurityGroupName", "group_name"), ("SourcePrefixListId", "prefix_list")),
    Direction.EGRESS: (("CidrIp", "cidr"), ("CidrIpv6", "cidr"), ("DestinationSecurityGroupId", "group"),
                       ("DestinationPrefixListId", "prefix_list")),
}


def build_group(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    """``AWS::EC2::SecurityGroup`` with its inline rules."""
    uid = b.uid(logical_id)
    group = SecurityGroup(
        uid=uid, address=logical_id, name=as_str(props.get("GroupName")),
        description=as_str(props.get("GroupDescription")),
        vpc=b.ref_id(props.get("VpcId"), ("AWS::EC2::VPC",)), tags=tags_of(props.get("Tags")),
        location=b.loc(line), source="cloudformation", env_hint=b.env_hint,
    )
    b.estate.groups[uid] = group
    for direction, key in ((Direction.INGRESS, "SecurityGroupIngress"), (Direction.EGRESS, "SecurityGroupEgress")):
        value = props.get(key)
        if value is None:
            continue
        if isinstance(value, Unknown):
            b.note(logical_id, key, value.reason, line_of(props, line))
            if direction is Direction.EGRESS:
                b.egress_declared.add(uid)
            continue
        entries = value if isinstance(value, list) else [value]
        for entry in entries:
            if direction is Direction.EGRESS:
                b.egress_declared.add(uid)
            entry_line = line_of(entry, line_of(value, line))
            if not isinstance(entry, dict):
                reason = entry.reason if isinstance(entry, Unknown) else "an entry that is not a mapping"
                b.note(logical_id, f"{key} entry", reason, entry_line)
                continue
            group.rules.extend(rules_of(b, direction, entry, entry_line, uid))


def build_standalone(b: Builder, logical_id: str, props: dict[str, Any], line: int, direction: Direction) -> None:
    """``AWS::EC2::SecurityGroupIngress``/``Egress``: merged into the group it names."""
    group_uid = _standalone_group(b, props)
    kind = "SecurityGroupIngress" if direction is Direction.INGRESS else "SecurityGroupEgress"
    group = b.estate.groups.get(group_uid) if isinstance(group_uid, str) else None
    if group is None:
        reason = group_uid.reason if isinstance(group_uid, Unknown) else (
            f"group {group_uid} is not declared in this template" if group_uid else "no GroupId or GroupName")
        b.note(logical_id, f"group of {kind}", reason, line)
        return
    origin = b.uid(logical_id)
    for rule in rules_of(b, direction, props, line, group.uid):
        group.rules.append(Rule(rule.direction, rule.protocol, rule.from_port, rule.to_port, rule.peer,
                                rule.description, rule.location, origin=origin, origin_address=logical_id))
    if direction is Direction.EGRESS:
        b.egress_declared.add(group.uid)


def _standalone_group(b: Builder, props: dict[str, Any]) -> str | Unknown | None:
    if props.get("GroupId") is not None:
        return b.ref_id(props.get("GroupId"), (SG,))
    if props.get("GroupName") is not None:
        return b.group_by_name(props.get("GroupName"))
    return None


def finish_groups(b: Builder) -> None:
    """Set ``implicit_egress`` on the template's groups once every rule is merged."""
    declared = b.egress_declared
    for group in b.estate.groups.values():
        group.implicit_egress = group.uid not in declared


def rules_of(b: Builder, direction: Direction, entry: dict[str, Any], line: int, group_uid: str) -> list[Rule]:
    """The atomic rules of one inline entry or standalone rule resource."""
    raw_protocol = entry.get("IpProtocol")
    if isinstance(raw_protocol, Unknown):
        protocol: str | Unknown = raw_protocol
    elif raw_protocol is None or isinstance(raw_protocol, (dict, list, CfnRef)):
        protocol = Unknown("IpProtocol is not set" if raw_protocol is None else "IpProtocol is not a value")
    else:
        protocol = normalize_protocol(raw_protocol)
    from_port = as_int(entry.get("FromPort"), "FromPort")
    to_port = as_int(entry.get("ToPort"), "ToPort")
    description = as_str(entry.get("Description"))
    location = b.loc(line)
    rules = []
    for peer in _peers(b, direction, entry, group_uid):
        rules.append(Rule(direction, protocol, from_port, to_port, peer, description, location))
    return rules


def _peers(b: Builder, direction: Direction, entry: dict[str, Any], group_uid: str) -> list[Peer]:
    peers: list[Peer] = []
    for key, kind in _PEER_KEYS[direction]:
        value = entry.get(key)
        if value is None:
            continue
        if kind == "cidr":
            peers.append(_cidr_peer(value))
        elif kind == "prefix_list":
            peers.append(_ref_peer(b.ref_id(value, (PREFIX_LIST,)), PeerKind.PREFIX_LIST))
        elif kind == "group_name":
            peers.append(_group_peer(b.group_by_name(value), group_uid))
        else:
            peers.append(_group_peer(b.ref_id(value, (SG,)), group_uid))
    return peers


def _cidr_peer(value: Any) -> Peer:
    text = as_str(value)
    if not isinstance(text, str):
        return Peer(PeerKind.UNKNOWN, unknown=text if isinstance(text, Unknown) else Unknown("no CIDR"))
    return Peer(PeerKind.CIDR, normalize_cidr(text) or text)


def _ref_peer(ref: str | Unknown | None, kind: PeerKind) -> Peer:
    if isinstance(ref, str):
        return Peer(kind, ref)
    return Peer(PeerKind.UNKNOWN, unknown=ref if isinstance(ref, Unknown) else Unknown("no id"))


def _group_peer(ref: str | Unknown | None, group_uid: str) -> Peer:
    """A group peer; the group naming itself is ``SELF`` (AWS: members reach each other)."""
    if ref == group_uid:
        return Peer(PeerKind.SELF)
    return _ref_peer(ref, PeerKind.GROUP)
