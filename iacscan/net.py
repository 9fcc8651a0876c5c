"""Small value types: protocols, port sets and address sets.

``Intervals`` is an immutable, merged set of inclusive integer ranges. ``Traffic`` is a
set of (protocol, port) pairs built on it: one ``Intervals`` per protocol, ICMP type and
code packed as ``type * 256 + code``. ``AddressSet`` holds IPv4 and IPv6 addresses as
integer intervals, so unions (``0.0.0.0/1`` + ``128.0.0.0/1``) and containment are exact.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

PORT_MAX = 65535
_PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "-1": "all"}
_PROTOCOL_NAMES = {"tcp", "udp", "icmp", "icmpv6", "all"}


def normalize_protocol(value: object) -> str:
    """``-1``/``all``/``ALL`` → ``all``, ``6``/``TCP`` → ``tcp``, ``17`` → ``udp``, ``1`` →
    ``icmp``, ``58`` → ``icmpv6``; other numbers 0-255 as decimal strings; anything else is
    returned as written (lower-cased) for SG107 to report."""
    text = str(value).strip().lower()
    if isinstance(value, bool):
        return text
    if text in _PROTOCOL_NAMES:
        return text
    if text in _PROTOCOL_NUMBERS:
        return _PROTOCOL_NUMBERS[text]
    if text.lstrip("-").isdigit():
        number = int(text)
        if str(number) in _PROTOCOL_NUMBERS:
            return _PROTOCOL_NUMBERS[str(number)]
        return str(number)
    return text


def is_valid_protocol(protocol: str) -> bool:
    """True for a normalised protocol AWS accepts (a name above or a number 0-255)."""
    return protocol in _PROTOCOL_NAMES or (protocol.isdigit() and 0 <= int(protocol) <= 255)


def has_ports(protocol: str) -> bool:
    """Whether port ranges mean anything for this protocol (tcp, udp, icmp, icmpv6)."""
    return protocol in ("tcp", "udp", "icmp", "icmpv6")


@dataclass(frozen=True)
class Intervals:
    """A set of integers as sorted, disjoint, non-adjacent inclusive ranges."""

    spans: tuple[tuple[int, int], ...] = ()

    @classmethod
    def of(cls, ranges: Iterable[tuple[int, int]]) -> Intervals:
        items = ranges if isinstance(ranges, (list, tuple)) else list(ranges)
        if not items:
            return _NO_SPANS
        if len(items) == 1:
            a, b = items[0]
            return cls(((a, b),) if a <= b else ((b, a),))
        merged: list[list[int]] = []
        for lo, hi in sorted((min(a, b), max(a, b)) for a, b in items):
            if merged and lo <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        return cls(tuple((lo, hi) for lo, hi in merged))

    def __bool__(self) -> bool:
        return bool(self.spans)

    def __contains__(self, value: int) -> bool:
        return any(lo <= value <= hi for lo, hi in self.spans)

    def size(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.spans)

    def union(self, other: Intervals) -> Intervals:
        if not other.spans or self.spans == other.spans:
            return self
        if not self.spans:
            return other
        return Intervals.of(self.spans + other.spans)

    def intersection(self, other: Intervals) -> Intervals:
        out: list[tuple[int, int]] = []
        i = j = 0
        while i < len(self.spans) and j < len(other.spans):
            lo = max(self.spans[i][0], other.spans[j][0])
            hi = min(self.spans[i][1], other.spans[j][1])
            if lo <= hi:
                out.append((lo, hi))
            if self.spans[i][1] < other.spans[j][1]:
                i += 1
            else:
                j += 1
        return Intervals(tuple(out))

    def difference(self, other: Intervals) -> Intervals:
        out: list[tuple[int, int]] = []
        for lo, hi in self.spans:
            cur = lo
            for olo, ohi in other.spans:
                if ohi < cur or olo > hi:
                    continue
                if olo > cur:
                    out.append((cur, olo - 1))
                cur = max(cur, ohi + 1)
                if cur > hi:
                    break
            if cur <= hi:
                out.append((cur, hi))
        return Intervals(tuple(out))

    def covers(self, other: Intervals) -> bool:
        if not other.spans or self.spans == other.spans:
            return True
        if len(self.spans) == 1 and len(other.spans) == 1:
            return self.spans[0][0] <= other.spans[0][0] and other.spans[0][1] <= self.spans[0][1]
        return not other.difference(self)

    def describe(self) -> str:
        """``22``, ``80-443``, ``22, 3389`` — for messages."""
        return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.spans)


_NO_SPANS = Intervals()
ALL_PORTS = Intervals(((0, PORT_MAX),))


def port_range(protocol: str, from_port: int | None, to_port: int | None) -> Intervals:
    """The ports (or packed ICMP type/code) a rule admits for one protocol.

    tcp/udp: ``from..to`` (None or -1 on both ends means all). icmp/icmpv6: ``from`` is the
    type and ``to`` the code, -1 meaning all. Other protocols have no ports: all.
    """
    if protocol in ("icmp", "icmpv6"):
        if from_port is None or from_port < 0:
            return ALL_PORTS
        if to_port is None or to_port < 0:
            return Intervals(((from_port * 256, from_port * 256 + 255),))
        return Intervals(((from_port * 256 + to_port,) * 2,))
    if not has_ports(protocol):
        return ALL_PORTS
    if from_port is None and to_port is None:
        return ALL_PORTS
    lo = 0 if from_port is None or from_port < 0 else from_port
    hi = PORT_MAX if to_port is None or to_port < 0 else to_port
    if from_port == -1 and to_port == -1:
        return ALL_PORTS
    return Intervals(((max(0, lo), min(PORT_MAX, hi)),)) if lo <= hi else Intervals()


_ALL_PROTOCOL_KEYS = ("tcp", "udp", "icmp", "icmpv6")
_PLAIN = (int, type(None))
_TRAFFIC: dict[tuple[str, int | None, int | None], Traffic] = {}  # Traffic.of by value
_UNIONS: dict[tuple[Traffic, Traffic], Traffic] = {}  # Traffic.union by value


@dataclass(frozen=True)
class Traffic:
    """A set of (protocol, port) pairs. ``everything`` is protocol all (-1)."""

    everything: bool = False
    by_protocol: tuple[tuple[str, Intervals], ...] = ()

    @classmethod
    def of(cls, protocol: str, from_port: int | None, to_port: int | None) -> Traffic:
        key = (protocol, from_port, to_port)
        if type(protocol) is str and type(from_port) in _PLAIN and type(to_port) in _PLAIN:
            found = _TRAFFIC.get(key)
            if found is None:
                found = cls._of(protocol, from_port, to_port)
                if len(_TRAFFIC) < 100_000:
                    _TRAFFIC[key] = found
            return found
        return cls._of(protocol, from_port, to_port)

    @classmethod
    def _of(cls, protocol: str, from_port: int | None, to_port: int | None) -> Traffic:
        if protocol == "all":
            return cls(everything=True)
        ports = port_range(protocol, from_port, to_port)
        return cls(by_protocol=((protocol, ports),) if ports else ())

    def ports(self, protocol: str) -> Intervals:
        if self.everything:
            return ALL_PORTS
        for proto, iv in self.by_protocol:
            if proto == protocol:
                return iv
        return Intervals()

    def protocols(self) -> set[str]:
        return {p for p, iv in self.by_protocol if iv}

    def __bool__(self) -> bool:
        if self.everything:
            return True
        for _, iv in self.by_protocol:
            if iv.spans:
                return True
        return False

    def union(self, other: Traffic) -> Traffic:
        if self.everything:
            return self
        if other.everything:
            return other
        if not other.by_protocol or self == other:
            return self
        if not self.by_protocol:
            return other
        key = (self, other)
        found = _UNIONS.get(key)
        if found is None:
            merged = dict(self.by_protocol)
            for proto, iv in other.by_protocol:
                merged[proto] = merged.get(proto, Intervals()).union(iv)
            found = Traffic(by_protocol=tuple(sorted((p, iv) for p, iv in merged.items() if iv)))
            if len(_UNIONS) < 100_000:
                _UNIONS[key] = found
        return found

    def intersection(self, other: Traffic) -> Traffic:
        if self.everything:
            return other
        if other.everything:
            return self
        if not other.by_protocol:
            return other
        if not self.by_protocol:
            return self
        if self == other:
            return self
        theirs = dict(other.by_protocol)
        items = []
        for proto, ours in sorted(self.by_protocol):
            iv = theirs.get(proto)
            if iv is not None:
                both = ours if ours == iv else ours.intersection(iv)
                if both:
                    items.append((proto, both))
        return Traffic(by_protocol=tuple(items))

    def difference(self, other: Traffic) -> Traffic:
        if other.everything:
            return Traffic()
        if self.everything:
            # everything minus some ports: keep the four port-bearing protocols explicitly;
            # other IP protocols are not representable here and are dropped (callers only
            # ask for differences on port-bearing traffic).
            base = Traffic(by_protocol=tuple((p, ALL_PORTS) for p in _ALL_PROTOCOL_KEYS))
            return base.difference(other)
        items = ((p, iv.difference(other.ports(p))) for p, iv in self.by_protocol)
        return Traffic(by_protocol=tuple((p, iv) for p, iv in items if iv))

    def covers(self, other: Traffic) -> bool:
        if self.everything or self is other:
            return True
        if other.everything:
            return False
        return all(self.ports(p).covers(iv) for p, iv in other.by_protocol)

    def describe(self) -> str:
        """``all``, ``tcp/22``, ``tcp/80-443, udp/53``."""
        if self.everything:
            return "all"
        parts = []
        for proto, iv in self.by_protocol:
            if not iv:
                continue
            parts.append(f"{proto}/all" if iv == ALL_PORTS else f"{proto}/{iv.describe()}")
        return ", ".join(parts)


# ---------------------------------------------------------------- addresses

V4_ALL = Intervals(((0, 2**32 - 1),))
V6_ALL = Intervals(((0, 2**128 - 1),))


@lru_cache(maxsize=65536)
def parse_cidr(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The network ``text`` names (host bits allowed), or None when it is not a CIDR."""
    try:
        return ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=65536)
def normalize_cidr(text: str) -> str | None:
    """``10.0.0.1/8`` → ``10.0.0.0/8``; a bare address gets /32 or /128; None if invalid."""
    net = parse_cidr(text)
    return None if net is None else str(net)


@lru_cache(maxsize=2)
def _non_public(version: int) -> Intervals:
    nets = _PRIVATE_V4 if version == 4 else _PRIVATE_V6
    return Intervals.of((int(n.network_address), int(n.broadcast_address)) for n in nets)


@lru_cache(maxsize=2)
def _public(version: int) -> tuple[Intervals, int]:
    """The public part of an address family and its size."""
    public = (V4_ALL if version == 4 else V6_ALL).difference(_non_public(version))
    return public, public.size()


_PRIVATE_V4 = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3",
)]
_PRIVATE_V6 = [ipaddress.ip_network(n) for n in (
    "::/8", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8",
)]


@dataclass(frozen=True)
class AddressSet:
    """IPv4 and IPv6 addresses as integer intervals."""

    v4: Intervals = field(default_factory=Intervals)
    v6: Intervals = field(default_factory=Intervals)

    @classmethod
    def of(cls, cidrs: Iterable[str]) -> AddressSet:
        v4: list[tuple[int, int]] = []
        v6: list[tuple[int, int]] = []
        for text in cidrs:
            net = parse_cidr(text)
            if net is None:
                continue
            span = (int(net.network_address), int(net.broadcast_address))
            (v4 if net.version == 4 else v6).append(span)
        return cls(Intervals.of(v4), Intervals.of(v6))

    def __bool__(self) -> bool:
        return bool(self.v4) or bool(self.v6)

    def union(self, other: AddressSet) -> AddressSet:
        if not other or self == other:
            return self
        if not self:
            return other
        return AddressSet(self.v4.union(other.v4), self.v6.union(other.v6))

    def intersection(self, other: AddressSet) -> AddressSet:
        return AddressSet(self.v4.intersection(other.v4), self.v6.intersection(other.v6))

    def difference(self, other: AddressSet) -> AddressSet:
        return AddressSet(self.v4.difference(other.v4), self.v6.difference(other.v6))

    def covers(self, other: AddressSet) -> bool:
        return self.v4.covers(other.v4) and self.v6.covers(other.v6)

    @property
    def whole_v4(self) -> bool:
        return self.v4 == V4_ALL

    @property
    def whole_v6(self) -> bool:
        return self.v6 == V6_ALL

    @property
    def is_internet(self) -> bool:
        """True when the set holds all of IPv4 or all of IPv6."""
        return self.whole_v4 or self.whole_v6

    def public_share(self) -> float:
        """The largest share (0..1) of public IPv4 or IPv6 space this set holds."""
        shares = []
        for ours, whole, version in ((self.v4, V4_ALL, 4), (self.v6, V6_ALL, 6)):
            public, size = _public(version)
            shares.append(ours.intersection(public).size() / size)
        return max(shares)

    def is_public(self) -> bool:
        """True when any address of the set is public (not private, reserved or documentation)."""
        found = _IS_PUBLIC.get(self)
        if found is None:
            found = bool(self.v4.difference(_non_public(4))) or bool(self.v6.difference(_non_public(6)))
            if len(_IS_PUBLIC) < 100_000:
                _IS_PUBLIC[self] = found
        return found


_IS_PUBLIC: dict[AddressSet, bool] = {}  # AddressSet.is_public by value


INTERNET = AddressSet(V4_ALL, V6_ALL)
