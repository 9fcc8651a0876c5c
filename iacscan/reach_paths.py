"""Shortest paths over the signature graph of ``iacscan.reach``.

One breadth-first search visits each signature once. Its neighbours come from the
indexes of ``Reachability.receivers_from`` plus *pools*: the not-yet-visited signatures
that admit anyone on some traffic, keyed by that traffic. A sender whose egress admits
anyone takes a whole pool at once when the two traffics meet, and a visited signature
leaves its pool, so wide-open estates cost about one look per signature, not one per pair.

A path is reported as the list of hops ``(signature, traffic of the hop into it)`` from
the first workload to the target; ``hops_of`` turns it into the finding's
``path``/``extra["hops"]`` form (``internet -> aws_lb.web:443 -> aws_instance.app:8080``).
"""
from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from iacscan.model import Tier, Workload
from iacscan.net import ALL_PORTS, Intervals, Traffic
from iacscan.reach import INTERNET, Reachability, Sig
from iacscan.reach_exposure import CONFIRMED
from iacscan.gcpause import gc_paused

_ORDER = ("tcp", "udp", "icmp", "icmpv6")


@dataclass
class Node:
    sig: int
    prev: int | None  # None: a start or a first hop from the internet
    traffic: Traffic | None  # the hop into this node; None for a start
    depth: int


def expands(sig: Sig) -> bool:
    """Data-tier workloads end paths: they serve, they do not relay."""
    return sig.tier is not Tier.DATA


def bfs(
    reach: Reachability,
    *,
    starts: Iterable[int] = (),
    first_hops: Iterable[tuple[int, Traffic]] = (),
    expand: Callable[[Sig], bool] = expands,
    hop: Callable[[Sig, Traffic], Traffic] | None = None,
) -> dict[int, Node]:
    """Shortest paths from ``starts`` (depth 0) and/or from outside through ``first_hops``.

    ``hop(dst, traffic)``, when given, narrows the traffic of each hop (an empty result
    drops the hop)."""
    with gc_paused():  # flows and receivers computed here are kept for the next searches
        return _bfs(reach, starts, first_hops, expand, hop)


def _bfs(
    reach: Reachability, starts: Iterable[int], first_hops: Iterable[tuple[int, Traffic]],
    expand: Callable[[Sig], bool], hop: Callable[[Sig, Traffic], Traffic] | None,
) -> dict[int, Node]:
    nodes: dict[int, Node] = {}
    queue: deque[int] = deque()
    pools, pool_of = _pools(reach)

    def visit(sid: int, prev: int | None, traffic: Traffic | None, depth: int) -> None:
        nodes[sid] = Node(sid, prev, traffic, depth)
        queue.append(sid)
        key = pool_of.get(sid)
        if key is not None:
            pools[key].discard(sid)

    for sid in sorted(set(starts)):
        visit(sid, None, None, 0)
    for sid, traffic in sorted(first_hops, key=lambda h: h[0]):
        if sid not in nodes:
            visit(sid, None, traffic, 1)
    while queue:
        sid = queue.popleft()
        sig = reach.sigs[sid]
        if not expand(sig):
            continue
        depth = nodes[sid].depth + 1
        receivers = reach.receivers_from(sig)
        if receivers:
            for tid in sorted(t for t in receivers if t not in nodes):
                traffic = _narrow(hop, reach.sigs[tid], reach.flow(sig, reach.sigs[tid]))
                if traffic:
                    visit(tid, sid, traffic, depth)
        if sig.out_anyone:
            for key, members in pools.items():
                if members and _narrow(hop, reach.sigs[next(iter(members))], key[0].intersection(sig.out_anyone)):
                    for tid in sorted(members):
                        traffic = _narrow(hop, reach.sigs[tid], reach.flow(sig, reach.sigs[tid]))
                        if traffic:
                            visit(tid, sid, traffic, depth)
    return nodes


def _narrow(hop: Callable[[Sig, Traffic], Traffic] | None, dst: Sig, traffic: Traffic) -> Traffic:
    return traffic if hop is None or not traffic else hop(dst, traffic)


def not_public(dst: Sig, traffic: Traffic) -> Traffic:
    """(Depends only on ``dst.exposure`` and ``dst.in_internet``: see ``_pools``.) The part of a hop the whole internet could not send as well: a workload the internet
    confirmedly reaches on some traffic is not "reached from an environment" on it."""
    if dst.exposure != CONFIRMED or not dst.in_internet:
        return traffic
    return traffic.difference(dst.in_internet)


PoolKey = tuple[Traffic, bool, Traffic]


def _pools(reach: Reachability) -> tuple[dict[PoolKey, set[int]], dict[int, PoolKey]]:
    """Signatures admitting anyone, keyed by what they admit from anyone and by what a
    ``hop`` narrowing may look at (their confirmed internet exposure), so one member
    answers for the whole pool. Built once per estate; each search gets fresh sets."""
    if "pools" not in reach.memo:
        reach.memo["pools"] = _build_pools(reach)
    built: tuple[dict[PoolKey, set[int]], dict[int, PoolKey]] = reach.memo["pools"]  # type: ignore[assignment]
    pools, pool_of = built
    return {k: set(v) for k, v in pools.items()}, pool_of


def _build_pools(reach: Reachability) -> tuple[dict[PoolKey, set[int]], dict[int, PoolKey]]:
    pools: dict[PoolKey, set[int]] = defaultdict(set)
    pool_of: dict[int, PoolKey] = {}
    for sig in reach.sigs:
        if not sig.in_anyone:
            continue
        anyone = sig.in_anyone if sig.restrict is None else sig.in_anyone.intersection(sig.restrict)
        if anyone:
            key = (anyone, sig.exposure == CONFIRMED, sig.in_internet)
            pools[key].add(sig.id)
            pool_of[sig.id] = key
    return pools, pool_of


def chain(nodes: dict[int, Node], sid: int) -> list[Node]:
    """The nodes from the first one to ``sid``, in order."""
    out = []
    node: Node | None = nodes[sid]
    while node is not None:
        out.append(node)
        node = nodes[node.prev] if node.prev is not None else None
    return out[::-1]


def hop_fields(traffic: Traffic) -> tuple[str, str]:
    """(protocol, ports) for one hop: ``("tcp", "443")``, ``("all", "all")``."""
    if traffic.everything:
        return "all", "all"
    protocols = {p: iv for p, iv in traffic.by_protocol if iv}
    for proto in [*_ORDER, *sorted(protocols)]:
        if proto in protocols:
            iv = protocols[proto]
            if proto in ("icmp", "icmpv6"):
                return proto, "all" if iv == ALL_PORTS else _icmp(iv)
            return proto, ("0-65535" if iv == ALL_PORTS else iv.describe().replace(" ", ""))
    return "none", ""


def _icmp(iv: Intervals) -> str:
    """Packed ICMP type/code spans as ``8`` (type 8, any code), ``3/4``, ``0/0-8/0``."""
    parts = []
    for lo, hi in iv.spans:
        if lo % 256 == 0 and hi % 256 == 255:
            first, last = lo // 256, hi // 256
            parts.append(str(first) if first == last else f"{first}-{last}")
        elif lo == hi:
            parts.append(f"{lo // 256}/{lo % 256}")
        else:
            parts.append(f"{lo // 256}/{lo % 256}-{hi // 256}/{hi % 256}")
    return ",".join(parts)


def hops_of(reach: Reachability, nodes: list[Node], target: Workload, from_internet: bool) -> tuple[
        list[str], list[dict[str, str]]]:
    """``path`` (addresses, from ``internet`` when the path starts there) and ``hops``."""
    path = [INTERNET] if from_internet else []
    hops = []
    for i, node in enumerate(nodes):
        workload = target if i == len(nodes) - 1 else reach.sigs[node.sig].rep
        path.append(workload.address)
        if node.traffic is not None:
            proto, ports = hop_fields(node.traffic)
            hops.append({"resource": workload.address, "protocol": proto, "ports": ports,
                         "traffic": node.traffic.describe()})
    return path, hops


def draw(path: list[str], hops: list[dict[str, str]]) -> str:
    """``internet -> aws_lb.web:443 -> aws_instance.app:8080`` (a workload with no hop, the
    start of a path between workloads, is written bare)."""
    by_resource = {h["resource"]: h for h in hops}
    parts = []
    for i, address in enumerate(path):
        hop = by_resource.get(address) if i > 0 else None
        if hop is None:
            parts.append(address)
        elif hop["protocol"] == "tcp":
            parts.append(f"{address}:{hop['ports']}")
        elif hop["protocol"] == "all":
            parts.append(f"{address}:all")
        else:
            parts.append(f"{address}:{hop['protocol']}/{hop['ports']}")
    return " -> ".join(parts)
