"""Property tests of iacscan.net against brute force on small universes."""
from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from iacscan.net import (
    ALL_PORTS, INTERNET, PORT_MAX, AddressSet, Intervals, Traffic, normalize_cidr, normalize_protocol,
    port_range,
)

SMALL = 40
span = st.tuples(st.integers(0, SMALL), st.integers(0, SMALL))
spans = st.lists(span, max_size=6)


def as_set(iv: Intervals) -> set[int]:
    return {x for lo, hi in iv.spans for x in range(lo, hi + 1)}


def brute(ranges: list[tuple[int, int]]) -> set[int]:
    return {x for a, b in ranges for x in range(min(a, b), max(a, b) + 1)}


def canonical(iv: Intervals) -> bool:
    pairs = iv.spans
    return all(lo <= hi for lo, hi in pairs) and all(a[1] + 1 < b[0] for a, b in zip(pairs, pairs[1:]))


@given(spans, spans)
def test_intervals_match_brute_force(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> None:
    x, y = Intervals.of(a), Intervals.of(b)
    assert as_set(x) == brute(a)
    for result, expected in (
        (x.union(y), brute(a) | brute(b)),
        (x.intersection(y), brute(a) & brute(b)),
        (x.difference(y), brute(a) - brute(b)),
    ):
        assert as_set(result) == expected
        assert canonical(result)
    assert x.covers(y) == (brute(b) <= brute(a))
    assert x.size() == len(brute(a))
    assert bool(x) == bool(brute(a))
    for value in range(-1, SMALL + 2):
        assert (value in x) == (value in brute(a))


# ------------------------------------------------------------------ Traffic

PROTOCOLS = ["tcp", "udp", "icmp", "icmpv6", "all", "50"]
port = st.one_of(st.none(), st.integers(-1, 70))


@st.composite
def traffic(draw: st.DrawFn) -> Traffic:
    parts = draw(st.lists(st.tuples(st.sampled_from(PROTOCOLS), port, port), max_size=4))
    out = Traffic()
    for proto, lo, hi in parts:
        out = out.union(Traffic.of(proto, lo, hi))
    return out


def member(t: Traffic, proto: str, value: int) -> bool:
    return t.everything or value in t.ports(proto)


def probes(*ts: Traffic) -> set[int]:
    points = {0, PORT_MAX}
    for t in ts:
        for _, iv in t.by_protocol:
            for lo, hi in iv.spans:
                points |= {lo - 1, lo, hi, hi + 1}
    return {p for p in points if 0 <= p <= PORT_MAX}


PORTED = ["tcp", "udp", "icmp", "icmpv6"]


@given(traffic(), traffic())
def test_traffic_algebra_pointwise(a: Traffic, b: Traffic) -> None:
    union, inter, diff = a.union(b), a.intersection(b), a.difference(b)
    for proto in [*PORTED, "50"]:
        for value in probes(a, b):
            ina, inb = member(a, proto, value), member(b, proto, value)
            assert member(union, proto, value) == (ina or inb)
            assert member(inter, proto, value) == (ina and inb)
            if proto in PORTED:  # difference keeps only port-bearing protocols (documented)
                assert member(diff, proto, value) == (ina and not inb)
    covered = all(
        not member(b, p, v) or member(a, p, v) for p in [*PORTED, "50"] for v in probes(a, b)
    )
    if not b.everything or a.everything:
        assert a.covers(b) == covered
    assert bool(a) == any(member(a, p, v) for p in [*PORTED, "50"] for v in probes(a))


@given(traffic(), traffic())
def test_traffic_equality_is_canonical(a: Traffic, b: Traffic) -> None:
    """Two ways of building the same set compare equal (no empty leftovers)."""
    assert a.union(b) == b.union(a)
    assert a.union(Traffic.of("tcp", 10, 5)) == a.union(Traffic())


@given(st.sampled_from(["tcp", "udp"]), st.integers(0, 70), st.integers(0, 70))
def test_port_range_tcp_udp(proto: str, lo: int, hi: int) -> None:
    assert as_set(port_range(proto, lo, hi)) == set(range(lo, hi + 1))


@given(st.sampled_from(["icmp", "icmpv6"]), st.integers(-1, 255), st.integers(-1, 255))
def test_port_range_icmp_packs_type_and_code(proto: str, icmp_type: int, code: int) -> None:
    got = port_range(proto, icmp_type, code)
    if icmp_type == -1:
        assert got == ALL_PORTS
    elif code == -1:
        assert as_set(got) == set(range(icmp_type * 256, icmp_type * 256 + 256))
    else:
        assert as_set(got) == {icmp_type * 256 + code}


def test_port_range_defaults() -> None:
    assert port_range("tcp", None, None) == ALL_PORTS
    assert port_range("tcp", -1, -1) == ALL_PORTS
    assert port_range("tcp", 0, 65535) == ALL_PORTS
    assert port_range("50", 1, 2) == ALL_PORTS
    assert not port_range("tcp", 30, 20)
    assert Traffic.of("all", None, None).everything
    assert Traffic.of("tcp", 22, 22).describe() == "tcp/22"
    assert Traffic.of("tcp", 0, 65535).describe() == "tcp/all"


def test_normalize_protocol() -> None:
    assert [normalize_protocol(v) for v in ("-1", -1, "ALL", "6", 6, "TCP", "17", "1", "58", "50", "006")] == [
        "all", "all", "all", "tcp", "tcp", "tcp", "udp", "icmp", "icmpv6", "50", "tcp"]
    assert normalize_protocol("bogus") == "bogus"


def test_normalize_cidr() -> None:
    assert normalize_cidr("10.0.0.1/8") == "10.0.0.0/8"
    assert normalize_cidr("10.0.0.1") == "10.0.0.1/32"
    assert normalize_cidr("::/0") == "::/0"
    assert normalize_cidr("2001:DB8::1/32") == "2001:db8::/32"
    assert normalize_cidr("10.0.0.0/33") is None
    assert normalize_cidr("${var.x}") is None


# ------------------------------------------------------------------ addresses

BASE = int(ipaddress.ip_address("10.0.0.0"))


@st.composite
def small_cidr(draw: st.DrawFn) -> str:
    prefix = draw(st.integers(24, 32))
    host = draw(st.integers(0, 255))
    return str(ipaddress.ip_network(f"10.0.0.{host}/{prefix}", strict=False))


def addr_brute(cidrs: list[str]) -> set[int]:
    out: set[int] = set()
    for text in cidrs:
        net = ipaddress.ip_network(text)
        out |= set(range(int(net.network_address) - BASE, int(net.broadcast_address) - BASE + 1))
    return out


def addr_set(s: AddressSet) -> set[int]:
    return {x - BASE for x in as_set(s.v4)}


@given(st.lists(small_cidr(), max_size=5), st.lists(small_cidr(), max_size=5))
def test_address_set_algebra(a: list[str], b: list[str]) -> None:
    x, y = AddressSet.of(a), AddressSet.of(b)
    assert addr_set(x) == addr_brute(a)
    assert addr_set(x.union(y)) == addr_brute(a) | addr_brute(b)
    assert addr_set(x.intersection(y)) == addr_brute(a) & addr_brute(b)
    assert addr_set(x.difference(y)) == addr_brute(a) - addr_brute(b)
    assert x.covers(y) == (addr_brute(b) <= addr_brute(a))
    assert not x.is_internet


@st.composite
def coarse_cidr(draw: st.DrawFn) -> str:
    v6 = draw(st.booleans())
    prefix = draw(st.integers(0, 3))
    block = draw(st.integers(0, 7))
    if v6:
        return str(ipaddress.IPv6Network((block << 125, prefix), strict=False))
    return str(ipaddress.IPv4Network((block << 29, prefix), strict=False))


def blocks(cidrs: list[str], version: int) -> set[int]:
    """Which of the eight /3 blocks of the address family the CIDRs cover."""
    shift = 29 if version == 4 else 125
    out: set[int] = set()
    for text in cidrs:
        net = ipaddress.ip_network(text)
        if net.version == version:
            first = int(net.network_address) >> shift
            out |= set(range(first, first + 2 ** (3 - net.prefixlen)))
    return out


@given(st.lists(coarse_cidr(), max_size=8))
def test_internet_coverage_by_union(cidrs: list[str]) -> None:
    s = AddressSet.of(cidrs)
    assert s.whole_v4 == (blocks(cidrs, 4) == set(range(8)))
    assert s.whole_v6 == (blocks(cidrs, 6) == set(range(8)))
    assert s.is_internet == (s.whole_v4 or s.whole_v6)
    assert INTERNET.covers(s)


def test_internet_halves_and_public_share() -> None:
    assert AddressSet.of(["0.0.0.0/1", "128.0.0.0/1"]).is_internet
    assert AddressSet.of(["::/1", "8000::/1"]).is_internet
    assert not AddressSet.of(["0.0.0.0/1"]).is_internet
    assert AddressSet.of(["0.0.0.0/0"]).public_share() == 1.0
    assert AddressSet.of(["10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12"]).public_share() == 0.0
    assert not AddressSet.of(["10.0.0.0/8"]).is_public()
    assert AddressSet.of(["8.8.8.0/24"]).is_public()
    # 8.0.0.0/8 is wholly public: its share is its size over the public IPv4 space
    public_v4 = 2**32 - sum(ipaddress.ip_network(n).num_addresses for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
        "203.0.113.0/24", "224.0.0.0/3"))
    assert AddressSet.of(["8.0.0.0/8"]).public_share() == 2**24 / public_v4
    # a range half private, half public counts only its public half
    assert AddressSet.of(["10.0.0.0/7"]).public_share() == 2**24 / public_v4


@given(st.lists(coarse_cidr(), max_size=4), st.lists(coarse_cidr(), max_size=4))
@settings(max_examples=50)
def test_public_share_is_monotone(a: list[str], b: list[str]) -> None:
    x, y = AddressSet.of(a), AddressSet.of(b)
    assert x.union(y).public_share() >= max(x.public_share(), y.public_share()) - 1e-12
    assert 0.0 <= x.public_share() <= 1.0
