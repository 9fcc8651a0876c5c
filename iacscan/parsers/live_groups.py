"""Live security groups and managed prefix lists → ``SecurityGroup`` / ``PrefixList``.

Each ``IpPermissions``/``IpPermissionsEgress`` entry is split into atomic rules, one per
CIDR, IPv6 CIDR, prefix list and group pair. A pair naming the group itself is
``self``; one naming a group of the snapshot's region is that group's uid; one naming
another account's group stays raw as ``<account>/<sg-id>``; any other stays ``sg-…``.
A rule's ``Location.resource_id`` is its ``sgr-…`` id when ``DescribeSecurityGroupRules``
was read (else the group id). Live egress is explicit: ``implicit_egress`` is False.
"""
from __future__ import annotations

from typing import Any

from iacscan.model import Direction, Peer, PeerKind, PrefixList, Rule, SecurityGroup, Unknown
from iacscan.net import normalize_cidr, normalize_protocol
from iacscan.parsers.live_common import RegionBuilder, as_int, items, tags_of

RuleKey = tuple[str, bool, str, int | None, int | None, str]


def build_prefix_lists(b: RegionBuilder) -> None:
    """``managed_prefix_lists`` (+ ``prefix_list_entries``) → PrefixList."""
    entries_by_id = b.data.get("prefix_list_entries")
    entries_by_id = entries_by_id if isinstance(entries_by_id, dict) else {}
    for plist in items(b.data, "managed_prefix_lists"):
        ident = plist.get("PrefixListId")
        if not isinstance(ident, str):
            continue
        entries: list[str | Unknown] = []
        found = entries_by_id.get(ident)
        if isinstance(found, list):
            for entry in found:
                cidr = entry.get("Cidr") if isinstance(entry, dict) else None
                if isinstance(cidr, str):
                    entries.append(normalize_cidr(cidr) or cidr)
        else:
            why = b.failed.get("prefix_list_entries", "not in the snapshot")
            entries.append(Unknown(f"entries of {ident} were not read ({why})"))
        uid = b.uid(ident)
        b.estate.prefix_lists[uid] = PrefixList(uid=uid, address=ident, entries=entries,
                                                location=b.loc(str(plist.get("PrefixListArn") or ident)),
                                                live_id=ident)


def build_groups(b: RegionBuilder) -> None:
    """``security_groups`` → SecurityGroup with atomic rules."""
    raw = [g for g in items(b.data, "security_groups") if isinstance(g.get("GroupId"), str)]
    known = {g["GroupId"] for g in raw}
    rule_ids = _rule_ids(b)
    for group in raw:
        ident = group["GroupId"]
        uid = b.uid(ident)
        tags = tags_of(group.get("Tags"))
        sg = SecurityGroup(
            uid=uid, address=ident, name=group.get("GroupName"), description=group.get("Description"),
            vpc=b.ref(group.get("VpcId"), "vpcs"), tags=tags, location=b.loc(ident),
            is_default=group.get("GroupName") == "default", implicit_egress=False, source="live", live_id=ident,
        )
        for key, direction in (("IpPermissions", Direction.INGRESS), ("IpPermissionsEgress", Direction.EGRESS)):
            for perm in group.get(key) or []:
                if isinstance(perm, dict):
                    sg.rules.extend(_rules(b, ident, known, direction, perm, rule_ids))
        b.estate.groups[uid] = sg


def _ports(protocol: str, perm: dict[str, Any]) -> tuple[int | None, int | None]:
    if protocol == "all":
        return None, None
    return as_int(perm.get("FromPort")), as_int(perm.get("ToPort"))


def _rules(b: RegionBuilder, own: str, known: set[str], direction: Direction, perm: dict[str, Any],
           rule_ids: dict[RuleKey, str]) -> list[Rule]:
    protocol = normalize_protocol(perm.get("IpProtocol", "-1"))
    from_port, to_port = _ports(protocol, perm)
    out: list[Rule] = []

    def add(peer: Peer, raw_peer: str, description: Any) -> None:
        key = (own, direction is Direction.EGRESS, protocol, from_port, to_port, raw_peer)
        out.append(Rule(direction=direction, protocol=protocol, from_port=from_port, to_port=to_port, peer=peer,
                        description=description if isinstance(description, str) else None,
                        location=b.loc(rule_ids.get(key, own))))

    for entry in perm.get("IpRanges") or []:
        cidr = str(entry.get("CidrIp", ""))
        add(Peer(PeerKind.CIDR, normalize_cidr(cidr) or cidr), cidr, entry.get("Description"))
    for entry in perm.get("Ipv6Ranges") or []:
        cidr = str(entry.get("CidrIpv6", ""))
        add(Peer(PeerKind.CIDR, normalize_cidr(cidr) or cidr), cidr, entry.get("Description"))
    for entry in perm.get("PrefixListIds") or []:
        ident = str(entry.get("PrefixListId", ""))
        add(Peer(PeerKind.PREFIX_LIST, b.ref(ident, "prefix_lists") or ident), ident, entry.get("Description"))
    for pair in perm.get("UserIdGroupPairs") or []:
        ident = str(pair.get("GroupId", ""))
        add(_group_peer(b, own, known, ident, pair.get("UserId")), ident, pair.get("Description"))
    return out


def _group_peer(b: RegionBuilder, own: str, known: set[str], ident: str, owner: Any) -> Peer:
    if ident == own:
        return Peer(PeerKind.SELF)
    if isinstance(owner, str) and owner and b.account != "unknown" and owner != b.account:
        return Peer(PeerKind.GROUP, f"{owner}/{ident}")
    if ident in known:
        return Peer(PeerKind.GROUP, b.uid(ident))
    return Peer(PeerKind.GROUP, ident)


def _rule_ids(b: RegionBuilder) -> dict[RuleKey, str]:
    """``sgr-…`` ids from ``security_group_rules``, keyed like the split permissions."""
    out: dict[RuleKey, str] = {}
    for row in items(b.data, "security_group_rules"):
        protocol = normalize_protocol(row.get("IpProtocol", "-1"))
        from_port, to_port = _ports(protocol, row)
        ref = row.get("ReferencedGroupInfo")
        peer = (row.get("CidrIpv4") or row.get("CidrIpv6") or row.get("PrefixListId")
                or (ref.get("GroupId") if isinstance(ref, dict) else None))
        ident = row.get("SecurityGroupRuleId")
        if isinstance(peer, str) and isinstance(ident, str):
            out[(str(row.get("GroupId")), bool(row.get("IsEgress")), protocol, from_port, to_port, peer)] = ident
    return out
