"""Security groups compiled for the reachability engine.

Each group becomes a ``GroupView``: per direction, the traffic admitted per peer group
(``self`` is the group itself), the CIDR entries (prefix lists expanded into the CIDRs
the code declares), and the traffic admitted from/to *any* address (entries whose IPv4
part is all of IPv4). Peers that are ``Unknown``, raw ``sg-``/``pl-`` ids the code does
not declare, and unparsable CIDRs admit nothing (they never create a path).

``covered_traffic`` answers "which traffic do these (addresses, traffic) entries admit
from a set of addresses", taking unions of ranges into account (``0.0.0.0/1`` plus
``128.0.0.0/1`` on tcp/22 admits the whole internet on tcp/22).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from iacscan.model import Direction, Estate, PeerKind, Rule, SecurityGroup, Unknown
from iacscan.net import ALL_PORTS, PORT_MAX, AddressSet, Intervals, Traffic

Entry = tuple[AddressSet, Traffic]
_PORTED = ("icmp", "icmpv6", "tcp", "udp")
NOTHING = Traffic()
EVERYTHING = Traffic(everything=True)


@dataclass
class Side:
    """One direction of a group: who it admits, on what."""

    groups: dict[str, Traffic] = field(default_factory=dict)  # peer group uid → traffic
    entries: Sequence[Entry] = ()  # every CIDR entry, all of IPv4 included
    cidrs: Sequence[Entry] = ()  # entries that are not all of IPv4
    anyone: Traffic = NOTHING  # admitted from/to any IPv4 address
    total: Traffic = NOTHING  # everything the side admits, whoever the peer
    internet: Traffic = NOTHING  # admitted from/to all of IPv4 or all of IPv6 (by union)

    def add_group(self, uid: str, traffic: Traffic) -> None:
        self.groups[uid] = self.groups.get(uid, NOTHING).union(traffic)


@dataclass
class GroupView:
    uid: str
    address: str
    ingress: Side
    egress: Side
    virtual: bool = False  # an AWS default group the code does not declare


def rule_traffic(rule: Rule) -> Traffic | None:
    """The traffic one rule admits, or None when its protocol or ports are unknown."""
    proto, lo, hi = rule.protocol, rule.from_port, rule.to_port
    if not isinstance(proto, str) or isinstance(lo, Unknown) or isinstance(hi, Unknown):
        return None
    return Traffic.of(proto, lo, hi)  # remembered by value there


class PeerResolver:
    """Resolves group and prefix-list references by uid or live id, in O(1)."""

    def __init__(self, estate: Estate) -> None:
        self.groups: dict[str, str] = {uid: uid for uid in estate.groups}
        for uid, group in estate.groups.items():
            if group.live_id:
                self.groups.setdefault(group.live_id, uid)
        self.prefix_lists: dict[str, AddressSet] = {}
        for uid, plist in estate.prefix_lists.items():
            cidrs = AddressSet.of(e for e in plist.entries if isinstance(e, str))
            self.prefix_lists[uid] = cidrs
            if plist.live_id:
                self.prefix_lists.setdefault(plist.live_id, cidrs)

    def group(self, ref: str) -> str | None:
        return self.groups.get(ref)


_CIDRS: dict[str, AddressSet] = {}


def cidr_set(text: str) -> AddressSet:
    """``AddressSet.of([text])``, remembered (estates repeat the same few ranges)."""
    found = _CIDRS.get(text)
    if found is None:
        found = AddressSet.of([text])
        if len(_CIDRS) < 100_000:
            _CIDRS[text] = found
    return found


def compile_group(group: SecurityGroup, resolver: PeerResolver) -> GroupView:
    """The reachability view of one group (implicit egress included)."""
    groups: tuple[dict[str, Traffic], dict[str, Traffic]] = ({}, {})  # ingress, egress
    entries: tuple[list[Entry], list[Entry]] = ([], [])
    known_traffic = _RULE_TRAFFIC
    for rule in group.rules:
        key = (rule.protocol, rule.from_port, rule.to_port)
        traffic = known_traffic.get(key) if type(key[1]) in _PLAIN and type(key[2]) in _PLAIN else None
        if traffic is None:
            traffic = rule_traffic(rule)
            if traffic is None or not traffic:
                continue
            if type(key[1]) in _PLAIN and type(key[2]) in _PLAIN and len(known_traffic) < 100_000:
                known_traffic[key] = traffic
        side = 0 if rule.direction is _INGRESS else 1
        peer = rule.peer
        kind = peer.kind
        if kind is _SELF or kind is _GROUP:
            target = group.uid if kind is _SELF else resolver.groups.get(peer.value)
            if target is not None:
                known = groups[side].get(target)
                groups[side][target] = traffic if known is None else known.union(traffic)
            continue
        if kind is _CIDR:
            addresses = _CIDRS.get(peer.value) or cidr_set(peer.value)
        elif kind is _PREFIX_LIST:
            addresses = resolver.prefix_lists.get(peer.value, _NO_ADDRESSES)
        else:
            continue
        if addresses:
            entries[side].append((addresses, traffic))
    if group.implicit_egress:
        entries[1].append(_ANYWHERE)
    ingress, egress = _side(groups[0], entries[0]), _side(groups[1], entries[1])
    return GroupView(group.uid, group.address, ingress, egress)


_PLAIN = (int, type(None))
#: ``rule_traffic`` by (protocol, from, to) for plain ports, non-empty traffic only
_RULE_TRAFFIC: dict[tuple[object, object, object], Traffic] = {}
_INGRESS = Direction.INGRESS  # module constants: enum member lookups cost in loops
_SELF, _GROUP, _CIDR, _PREFIX_LIST = PeerKind.SELF, PeerKind.GROUP, PeerKind.CIDR, PeerKind.PREFIX_LIST


_NO_ADDRESSES = AddressSet()
_ANYWHERE: Entry = (AddressSet.of(["0.0.0.0/0", "::/0"]), EVERYTHING)


def default_group_view(uid: str, address: str) -> GroupView:
    """AWS's default group as created: all traffic from itself in, all traffic out."""
    ingress = Side(groups={uid: EVERYTHING})
    egress = Side(anyone=EVERYTHING, internet=EVERYTHING)
    return GroupView(uid, address, ingress, egress, virtual=True)


def _side(groups: dict[str, Traffic], entries: list[Entry]) -> Side:
    """A side from its group peers and CIDR entries (in rule order)."""
    if not entries:
        return Side(groups, total=union_all(groups.values()))
    key = tuple(entries)
    found = _ENTRY_PARTS.get(key)
    if found is None:
        found = _entry_parts(entries)
        if len(_ENTRY_PARTS) < 100_000:
            _ENTRY_PARTS[key] = found
    anyone, cidrs, entries_total, internet = found
    total = union_all([*groups.values(), entries_total]) if groups else entries_total
    return Side(groups, entries, cidrs, anyone, total, internet)


def _entry_parts(entries: list[Entry]) -> tuple[Traffic, Sequence[Entry], Traffic, Traffic]:
    """What a side's CIDR entries give it: (anyone, cidrs, their total, internet)."""
    anyone = NOTHING
    cidrs: list[Entry] = []
    for addresses, traffic in entries:
        if addresses.whole_v4:
            anyone = anyone.union(traffic)
        else:
            cidrs.append((addresses, traffic))
    return anyone, tuple(cidrs), union_all(t for _, t in entries), internet_traffic(entries)


#: ``_entry_parts`` by value (sides of groups repeat the same entries)
_ENTRY_PARTS: dict[tuple[Entry, ...], tuple[Traffic, Sequence[Entry], Traffic, Traffic]] = {}


_INTERNET: dict[tuple[Entry, ...], Traffic] = {}


def _is_internet(addresses: AddressSet) -> bool:
    return addresses.is_internet


def internet_traffic(entries: Sequence[Entry]) -> Traffic:
    """``covered_traffic(entries, is_internet)``, remembered by value (groups and
    signatures repeat the same entries)."""
    if not entries:
        return NOTHING
    key = tuple(entries)
    found = _INTERNET.get(key)
    if found is None:
        found = covered_traffic(entries, _is_internet)
        if len(_INTERNET) < 100_000:
            _INTERNET[key] = found
    return found


def covered_traffic(entries: Sequence[Entry], test: Callable[[AddressSet], bool]) -> Traffic:
    """The traffic for which the union of the admitting entries' addresses passes ``test``.

    ``test`` must be monotone (a bigger set never fails where a smaller one passes).
    """
    direct = NOTHING
    for addresses, traffic in entries:
        if test(addresses):
            direct = direct.union(traffic)
    union = AddressSet()
    for addresses, _ in entries:
        union = union.union(addresses)
    if len(entries) < 2 or not test(union) or direct.everything:
        return direct
    return direct.union(_atoms(entries, test))


def _atoms(entries: Sequence[Entry], test: Callable[[AddressSet], bool]) -> Traffic:
    """Split the traffic space at every rule boundary and test each piece's addresses."""
    protocols = sorted({p for _, t in entries for p, iv in t.by_protocol if iv})
    out: list[tuple[str, Intervals]] = []
    for proto in protocols:
        cuts = {0, PORT_MAX + 1}
        for _, traffic in entries:
            for lo, hi in traffic.ports(proto).spans:
                cuts |= {lo, hi + 1}
        edges = sorted(cuts)
        passing = []
        for lo, nxt in zip(edges, edges[1:]):
            union = AddressSet()
            for addresses, traffic in entries:
                if lo in traffic.ports(proto):
                    union = union.union(addresses)
            if union and test(union):
                passing.append((lo, nxt - 1))
        if passing:
            out.append((proto, Intervals.of(passing)))
    rest = AddressSet()
    for addresses, traffic in entries:
        if traffic.everything:
            rest = rest.union(addresses)
    result = Traffic(by_protocol=tuple(out))
    if rest and test(rest):
        # every protocol the entries do not list passes; listed ones pass as computed
        listed = {p for p, _ in out}
        if all(result.ports(p) == ALL_PORTS for p in protocols):
            return EVERYTHING
        extra = tuple((p, ALL_PORTS) for p in _PORTED if p not in listed and p not in protocols)
        result = result.union(Traffic(by_protocol=extra))
    return result


_BUCKET = 64  # ports per bit
_BLOCK = (PORT_MAX + 1) // _BUCKET
_BASES = {"tcp": 0, "udp": _BLOCK, "icmp": 2 * _BLOCK, "icmpv6": 3 * _BLOCK}
_OTHER = 1 << (4 * _BLOCK)  # every protocol without ports
_MASKS: dict[Traffic, int] = {}


def traffic_mask(traffic: Traffic) -> int:
    """A coarse bit set of ``traffic`` (one bit per 64 ports and protocol): two traffics
    whose masks do not meet cannot meet; masks that meet say nothing (a cheap pre-filter)."""
    found = _MASKS.get(traffic)
    if found is not None:
        return found
    if traffic.everything:
        mask = (_OTHER << 1) - 1
    else:
        mask = 0
        for proto, iv in traffic.by_protocol:
            base = _BASES.get(proto)
            if base is None:
                mask |= _OTHER
                continue
            for lo, hi in iv.spans:
                first, last = lo // _BUCKET, hi // _BUCKET
                mask |= ((1 << (last - first + 1)) - 1) << (base + first)
    if len(_MASKS) < 100_000:
        _MASKS[traffic] = mask
    return mask


_CUT_MASKS: dict[tuple[Traffic, Traffic], int] = {}


def cut_mask(traffic: Traffic, restrict: Traffic) -> int:
    """``traffic_mask(traffic.intersection(restrict))``, remembered by value."""
    key = (traffic, restrict)
    found = _CUT_MASKS.get(key)
    if found is None:
        found = traffic_mask(traffic.intersection(restrict))
        if len(_CUT_MASKS) < 100_000:
            _CUT_MASKS[key] = found
    return found


def union_all(traffics: Iterable[Traffic]) -> Traffic:
    out: Traffic | None = None
    for traffic in traffics:
        if traffic:
            out = traffic if out is None else out.union(traffic)  # NOTHING.union(t) is t
            if out.everything:
                return out
    return NOTHING if out is None else out
