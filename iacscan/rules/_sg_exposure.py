"""Which ingress rules of a group admit the whole internet, and on which traffic.

A rule admits the internet alone when its peer holds all of IPv4 (``0.0.0.0/0``) or
all of IPv6 (``::/0``); a prefix list the code defines counts with its known entries.
Rules also admit it *together*: ``0.0.0.0/1`` and ``128.0.0.0/1`` on port 22 cover all
of IPv4. So the traffic of all resolved ingress rules is cut into pieces (per protocol,
at every rule's port boundary), and on each piece the addresses of the rules that
cover it are united. Where the union is a whole address family, the rules that take
part are: the ones that hold the whole family alone if there are any, else every rule
of the piece with public addresses of that family (private ranges never count).

``self``, group peers and prefix lists the code does not define hold no addresses
here: they never make a rule internet-facing.
"""
from __future__ import annotations

import weakref
from collections import defaultdict
from dataclasses import dataclass, field

from iacscan import net
from iacscan.model import Direction, Estate, PeerKind, Rule, SecurityGroup
from iacscan.rules._sg_common import peer_addresses, traffic_of

_OTHER = "*"  # every protocol other than the port-bearing ones (only protocol all covers it)
_PORT_KEYS = ("tcp", "udp", "icmp", "icmpv6")


@dataclass
class Exposure:
    """The part of one rule's traffic on which the internet is admitted."""

    rule: Rule
    spans: dict[str, net.Intervals] = field(default_factory=dict)
    alone: bool = False  # the rule's own peer holds a whole address family
    partners: list[Rule] = field(default_factory=list)  # other rules of the union (if not alone)
    families: set[str] = field(default_factory=set)  # "IPv4" and/or "IPv6"

    @property
    def everything(self) -> bool:
        """All protocols and ports (only a protocol-all rule can be exposed like this)."""
        return _OTHER in self.spans

    def ports(self, protocol: str) -> net.Intervals:
        if self.everything:
            return net.ALL_PORTS
        return self.spans.get(protocol, net.Intervals())

    def all_ports(self) -> bool:
        """True on all protocols, or on every port of tcp or udp."""
        return self.everything or any(self.ports(p) == net.ALL_PORTS for p in ("tcp", "udp"))


@dataclass
class _Entry:
    index: int  # position among the group's entries
    ident: int  # position of the first entry with the same rule object
    traffic: net.Traffic
    addresses: net.AddressSet


@dataclass
class _Found:
    """One exposed rule of a group shape, by entry position."""

    ident: int
    spans: dict[str, net.Intervals]
    alone: bool
    candidates: list[int]  # partner entries in the order they were met (duplicates kept)
    families: set[str]


def _cover(traffic: net.Traffic, key: str) -> net.Intervals:
    if traffic.everything:
        return net.ALL_PORTS
    if key == _OTHER:
        return net.Intervals()
    return traffic.ports(key)


def _pieces(entries: list[_Entry], key: str) -> list[tuple[net.Intervals, list[_Entry]]]:
    """Cut the key's port space at every boundary; each piece with the rules covering it."""
    bounds: set[int] = set()
    for entry in entries:
        for lo, hi in _cover(entry.traffic, key).spans:
            bounds.update((lo, hi + 1))
    edges = sorted(bounds)
    out = []
    for lo, nxt in zip(edges, edges[1:]):
        members = [e for e in entries if lo in _cover(e.traffic, key)]
        if members:
            out.append((net.Intervals(((lo, nxt - 1),)), members))
    return out


def _family(addresses: net.AddressSet, family: str) -> net.AddressSet:
    return net.AddressSet(v4=addresses.v4) if family == "IPv4" else net.AddressSet(v6=addresses.v6)


def _whole(addresses: net.AddressSet, family: str) -> bool:
    return addresses.whole_v4 if family == "IPv4" else addresses.whole_v6


def _participants(members: list[_Entry], family: str) -> tuple[list[_Entry], bool]:
    union = net.AddressSet()
    for entry in members:
        union = union.union(_family(entry.addresses, family))
    if not _whole(union, family):
        return [], False
    alone = [e for e in members if _whole(e.addresses, family)]
    if alone:
        return alone, True
    return [e for e in members if _family(e.addresses, family).is_public()], False


_INGRESS = Direction.INGRESS
_NO_ADDRESSES = (PeerKind.GROUP, PeerKind.SELF, PeerKind.UNKNOWN)  # ``peer_addresses`` gives them none
_memo: dict[str, list[Exposure]] = {}
_memo_owner: list[weakref.ref[Estate]] = []


def internet_exposure(estate: Estate, group: SecurityGroup) -> list[Exposure]:
    """The ingress rules of ``group`` that admit the internet, in rule order.

    SG101-SG104 all ask this of every group; it is computed once per group and estate
    (the model does not change while rules run). Callers must not change the result."""
    _own(estate)
    if group.uid not in _memo:
        _memo[group.uid] = _internet_exposure(estate, group)
    return _memo[group.uid]


def exposed_groups(estate: Estate) -> list[tuple[SecurityGroup, list[Exposure]]]:
    """The groups of ``estate`` with an ingress rule that admits the internet, in estate
    order, each with its ``internet_exposure``; worked out once per estate like it."""
    _own(estate)
    known = _exposed[0]
    if known is None:
        known = [(g, found) for g in estate.groups.values() if (found := internet_exposure(estate, g))]
        _exposed[0] = known
    return known


_exposed: list[list[tuple[SecurityGroup, list[Exposure]]] | None] = [None]


def _own(estate: Estate) -> None:
    """Make the memos ``estate``'s, emptied when they held another estate's results."""
    if not _memo_owner or _memo_owner[0]() is not estate:
        _memo.clear()
        _exposed[0] = None
        _memo_owner[:] = [weakref.ref(estate)]


def _internet_exposure(estate: Estate, group: SecurityGroup) -> list[Exposure]:
    found_rules = []
    for rule in group.rules:
        if rule.direction is not _INGRESS or rule.peer.kind in _NO_ADDRESSES:
            continue  # egress, or a peer that stands for no addresses (``peer_addresses``)
        addresses = peer_addresses(estate, rule.peer)
        if addresses:
            traffic = traffic_of(rule)
            if traffic:
                found_rules.append((rule, traffic, addresses))
    if not found_rules or not _may_cover([a for _, _, a in found_rules]):
        return []
    first: dict[int, int] = {}
    idents = tuple(first.setdefault(id(rule), i) for i, (rule, _, _) in enumerate(found_rules))
    key = (idents, tuple((t, a) for _, t, a in found_rules))
    shape = _SHAPES.get(key)
    if shape is None:
        shape = _shape(idents, [(t, a) for _, t, a in found_rules])
        if len(_SHAPES) < 10_000:
            _SHAPES[key] = shape
    rules = [rule for rule, _, _ in found_rules]
    result = []
    for item in shape:
        exp = Exposure(rules[item.ident], dict(item.spans), item.alone, [], set(item.families))
        if not item.alone:
            for index in item.candidates:
                if rules[index] not in exp.partners:
                    exp.partners.append(rules[index])
        result.append(exp)
    return result


_SHAPES: dict[tuple[object, ...], list[_Found]] = {}  # by entry identities, traffic and addresses


def _shape(idents: tuple[int, ...], pairs: list[tuple[net.Traffic, net.AddressSet]]) -> list[_Found]:
    """The exposure of a group's entries (rule identities, traffic and addresses), by position."""
    entries = [_Entry(i, idents[i], t, a) for i, (t, a) in enumerate(pairs)]
    keys = {_OTHER, *_PORT_KEYS} | {p for e in entries for p in e.traffic.protocols()}
    found: dict[int, _Found] = {}
    spans: dict[int, dict[str, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    for key in sorted(keys):
        for piece, members in _pieces(entries, key):
            for family in ("IPv4", "IPv6"):
                parts, alone = _participants(members, family)
                for entry in parts:
                    item = found.setdefault(entry.ident, _Found(entry.ident, {}, False, [], set()))
                    item.alone = item.alone or alone
                    item.families.add(family)
                    spans[entry.ident][key].extend(piece.spans)
                    item.candidates.extend(p.index for p in parts if p is not entry)
    order = {e.ident: e.index for e in entries}
    result = sorted(found.values(), key=lambda x: order[x.ident])
    for item in result:
        item.spans = {k: net.Intervals.of(v) for k, v in spans[item.ident].items()}
    return result


def _may_cover(sets: list[net.AddressSet]) -> bool:
    """False when the entries' addresses together hold neither all of IPv4 nor all of
    IPv6: then no piece can (a piece's rules are some of the entries)."""
    for addresses in sets:
        if addresses.is_internet:
            return True
    if len(sets) < 2:
        return False  # one set, not the internet
    union = sets[0]
    for addresses in sets[1:]:
        union = union.union(addresses)
    return union.is_internet


def exposed_rule_ids(exposures: list[Exposure]) -> set[int]:
    return {id(e.rule) for e in exposures}
