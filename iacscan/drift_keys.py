"""Comparable keys for drift: atomic rules reduced to what AWS stores.

An ``AtomicKey`` is (direction, protocol, from, to, peer kind, peer value) with
everything that AWS treats as the same written the same way: protocol names
normalised (``-1`` → ``all``), ports dropped for protocol ``all`` and for protocols
without ports, ICMP "all" as ``-1``, CIDRs normalised, group peers as live ``sg-…``
ids (``self`` becomes the group's own id; ``<account>/sg-…`` becomes ``sg-…`` when the
account is the group's own), prefix lists as ``pl-…``. ``tcp 0-65535`` stays
different from ``all``: AWS stores them as different rules.

A code peer that cannot be expressed as a live id (a group the code declares but that
has no live counterpart, a variable with no value) gives no key: the rule is reported as
"could not be checked", never guessed.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from iacscan import net
from iacscan.model import Estate, PeerKind, Rule, SecurityGroup, Unknown, is_unknown

#: AWS's own rules of a default security group (ingress all from itself, egress all to
#: the internet): a default group holding only these has not drifted.
DEFAULT_PEERS = {("ingress", "self"), ("egress", "0.0.0.0/0"), ("egress", "::/0")}


class AtomicKey(NamedTuple):
    """One atomic rule as AWS stores it (see the module docstring)."""

    direction: str
    protocol: str
    from_port: int | None
    to_port: int | None
    kind: str  # cidr | group | prefix_list
    peer: str

    @property
    def ports(self) -> str:
        """``22``, ``80-443``, ``all`` for details and messages."""
        if self.from_port is None or (self.protocol in ("icmp", "icmpv6") and self.from_port == -1):
            return "all"
        if self.to_port is None or self.from_port == self.to_port:
            return str(self.from_port)
        return f"{self.from_port}-{self.to_port}"

    @property
    def is_internet(self) -> bool:
        """True for a peer of the whole IPv4 or IPv6 internet."""
        return self.kind == "cidr" and self.peer in ("0.0.0.0/0", "::/0")

    def describe(self) -> str:
        """``ingress tcp 22 from 0.0.0.0/0`` / ``egress all to ::/0``."""
        what = "all" if self.protocol == "all" else f"{self.protocol} {self.ports}"
        word = "from" if self.direction == "ingress" else "to"
        return f"{self.direction} {what} {word} {self.peer}"

    def details(self) -> dict[str, str]:
        """The identifying details of a rule finding."""
        return {"direction": self.direction, "protocol": self.protocol, "ports": self.ports,
                "peer": self.peer}


def norm_ports(protocol: str, lo: int | None, hi: int | None) -> tuple[int | None, int | None]:
    """Ports as AWS stores them for ``protocol``."""
    if protocol in ("icmp", "icmpv6"):
        lo = -1 if lo is None else lo
        hi = -1 if hi is None or lo == -1 else hi
        return lo, hi
    if not net.has_ports(protocol):
        return None, None
    if lo is None and hi is None:
        return 0, net.PORT_MAX
    return lo, hi


def split_account(value: str, account: str) -> str:
    """``123456789012/sg-1`` → ``sg-1`` when 123456789012 is ``account``; else as given."""
    if "/" in value:
        owner, _, ident = value.partition("/")
        if owner == account or not owner:
            return ident
    return value


#: Turns a group reference (uid or raw id) into a live sg id, or None when it has none.
GroupResolver = Callable[[str], "str | None"]


def key_of(rule: Rule, own_id: str, account: str, groups: GroupResolver, estate: Estate) -> AtomicKey | None:
    """The key of ``rule`` of the group whose live id is ``own_id``; None when a part of it is
    unknown or a referenced group has no live id."""
    protocol, lo, hi = rule.protocol, rule.from_port, rule.to_port
    if is_unknown(protocol) or is_unknown(lo) or is_unknown(hi) or not isinstance(protocol, str):
        return None
    peer = _peer(rule, own_id, account, groups, estate)
    if peer is None:
        return None
    protocol = net.normalize_protocol(protocol)
    lo_n, hi_n = norm_ports(protocol, lo, hi)  # type: ignore[arg-type]
    return AtomicKey(rule.direction.value, protocol, lo_n, hi_n, peer[0], peer[1])


def _peer(rule: Rule, own_id: str, account: str, groups: GroupResolver,
          estate: Estate) -> tuple[str, str] | None:
    peer = rule.peer
    if peer.kind is PeerKind.CIDR:
        return "cidr", net.normalize_cidr(peer.value) or peer.value
    if peer.kind is PeerKind.SELF:
        return ("group", own_id) if own_id else None
    if peer.kind is PeerKind.GROUP:
        value = split_account(peer.value, account)
        if value.startswith("sg-") or "/" in value:
            return "group", value
        found = groups(value)
        return ("group", found) if found else None
    if peer.kind is PeerKind.PREFIX_LIST:
        if peer.value.startswith("pl-"):
            return "prefix_list", peer.value
        plist = estate.prefix_lists.get(peer.value)
        ident = plist.live_id if plist is not None else ""
        return ("prefix_list", ident) if ident else None
    return None


def could_be(rule: Rule, key: AtomicKey) -> bool:
    """Whether a code rule that has no key (a part unknown, or a peer group with no live
    counterpart) may be the live rule ``key``: what is known of it agrees."""
    if rule.direction.value != key.direction:
        return False
    protocol, lo, hi = rule.protocol, rule.from_port, rule.to_port
    if isinstance(protocol, str):
        protocol = net.normalize_protocol(protocol)
        if protocol != key.protocol:
            return False
        if not (is_unknown(lo) or is_unknown(hi)) and norm_ports(protocol, lo, hi) != (  # type: ignore[arg-type]
                key.from_port, key.to_port):
            return False
    kinds = {PeerKind.CIDR: "cidr", PeerKind.GROUP: "group", PeerKind.SELF: "group",
             PeerKind.PREFIX_LIST: "prefix_list"}
    return rule.peer.kind is PeerKind.UNKNOWN or kinds.get(rule.peer.kind) == key.kind


def is_aws_default(key: AtomicKey, own_id: str) -> bool:
    """True for a rule AWS puts in every default group (all from itself, all out)."""
    if key.protocol != "all":
        return False
    peer = "self" if key.kind == "group" and key.peer == own_id else key.peer
    return (key.direction, peer) in DEFAULT_PEERS


def text(value: str | Unknown | None) -> str | None:
    """A known description/name ("" counts as none), None when absent; Unknown stays out."""
    if value is None or isinstance(value, Unknown):
        return None
    return value or None


def expected_description(group: SecurityGroup) -> str | None | Unknown:
    """The description AWS holds for a code group: Terraform fills in "Managed by Terraform"."""
    if group.description is None and group.source in ("terraform", "plan"):
        return "Managed by Terraform"
    return group.description


def region_of(uid: str) -> tuple[str, str]:
    """(account, region) of a live uid ``live:<account>:<region>#…``; ("", "") otherwise."""
    scope = uid.split("#", 1)[0]
    parts = scope.split(":")
    if len(parts) == 3 and parts[0] == "live":
        return parts[1], parts[2]
    return "", ""
