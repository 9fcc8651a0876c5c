"""The questions the NET rules ask of ``iacscan.reach``, answered per workload.

Each answer is a ``Hit``: the workload reached, the chain of hops that reaches it
(shortest first), whether it starts at the internet, and whether its exposure is
confirmed. Internet searches run twice: from confirmed entries first, then from all
entries; a workload only the second reaches is reported as unconfirmed, so confirmed
paths rank above unconfirmed ones.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from iacscan.model import Tier, Workload
from iacscan.net import Traffic
from iacscan.policies import Policy
from iacscan.reach import Reachability, Sig
from iacscan.reach_paths import Node, bfs, chain, expands, hops_of, not_public


@dataclass
class Hit:
    target: Workload
    nodes: list[Node]
    from_internet: bool
    confirmed: bool = True
    source: Workload | None = None

    def path(self, reach: Reachability) -> tuple[list[str], list[dict[str, str]]]:
        path, hops = hops_of(reach, self.nodes, self.target, self.from_internet)
        if self.source is not None and not self.from_internet:
            path[0] = self.source.address
        return path, hops

    @property
    def last(self) -> Traffic:
        traffic = self.nodes[-1].traffic
        return traffic if traffic is not None else Traffic()


def internet_search(reach: Reachability) -> tuple[dict[int, Node], dict[int, Node]]:
    """(paths from confirmed entries, paths from all entries), entering through workloads
    that are not data-tier; cached per estate."""
    if "internet" not in reach.memo:
        entries = [(s, t, c) for s, t, c in reach.internet_entries() if s.tier is not Tier.DATA]
        confirmed = bfs(reach, first_hops=[(s.id, t) for s, t, c in entries if c])
        everything = bfs(reach, first_hops=[(s.id, t) for s, t, _ in entries])
        reach.memo["internet"] = (confirmed, everything)
    return reach.memo["internet"]  # type: ignore[return-value]


def internet_hits(reach: Reachability, *, data_entries: bool) -> Iterator[Hit]:
    """Every workload the internet reaches, with its shortest path, confirmed paths first.

    Without ``data_entries``, paths never enter at a data-tier workload (NET302 wants the
    way through other workloads). With them, a data-tier workload the internet reaches
    directly gets that one-hop path (confirmed before unconfirmed). Data-tier workloads
    never relay, so every other path is the same either way and one search serves both.
    """
    confirmed, everything = internet_search(reach)
    direct = {s.id: (t, c) for s, t, c in reach.internet_entries() if s.tier is Tier.DATA} if data_entries else {}
    for sid in sorted(set(everything) | set(direct)):
        entry = direct.get(sid)
        if entry is not None and (entry[1] or sid not in confirmed):
            nodes, is_confirmed = [Node(sid, None, entry[0], 1)], entry[1]
        else:
            is_confirmed = sid in confirmed
            nodes = chain(confirmed if is_confirmed else everything, sid)
        for workload in reach.sigs[sid].workloads:
            yield Hit(workload, nodes, True, is_confirmed)


def direct_hits(reach: Reachability) -> Iterator[Hit]:
    """Every workload the internet reaches directly (one hop), confirmed or not."""
    for sig, traffic, confirmed in reach.internet_entries():
        for workload in sig.workloads:
            yield Hit(workload, [Node(sig.id, None, traffic, 1)], True, confirmed)


def environment_crossings(reach: Reachability) -> Iterator[tuple[str, Hit]]:
    """(source environment, hit) for each workload of another known environment that
    workloads of the source environment reach (through workloads of no known environment)."""
    environments = sorted({s.environment for s in reach.sigs if s.environment})
    for env in environments:
        starts = [s.id for s in reach.sigs if s.environment == env]
        nodes = bfs(reach, starts=starts, hop=not_public,
                    expand=lambda s, e=env: expands(s) and s.environment in (e, None))  # type: ignore[misc]
        for sid in sorted(nodes):
            sig = reach.sigs[sid]
            if nodes[sid].depth == 0 or not sig.environment or sig.environment == env:
                continue
            path = chain(nodes, sid)
            for workload in sig.workloads:
                yield env, Hit(workload, path, False, True, reach.sigs[path[0].sig].rep)


def deny_hits(reach: Reachability, policy: Policy) -> Iterator[Hit]:
    """Workloads matching the policy's ``to`` that its ``from`` reaches."""
    if policy.source.internet:
        hits: Iterator[Hit] = internet_hits(reach, data_entries=True)
    else:
        hits = _selector_hits(reach, policy)
    for hit in hits:
        if not policy.target.matches(hit.target):
            continue
        if policy.ports is not None and not hit.last.intersection(policy.ports):
            continue
        yield hit


def _selector_hits(reach: Reachability, policy: Policy) -> Iterator[Hit]:
    starts: dict[int, Workload] = {}
    for sig in reach.sigs:
        for workload in sig.workloads:
            if policy.source.matches(workload):
                starts.setdefault(sig.id, workload)
                break
    if not starts:
        return
    nodes = bfs(reach, starts=starts, hop=not_public)
    for sid in sorted(nodes):
        if nodes[sid].depth == 0:
            continue
        path = chain(nodes, sid)
        for workload in reach.sigs[sid].workloads:
            yield Hit(workload, path, False, True, starts[path[0].sig])


MAX_INTRUSIONS = 20  # per workload; the finding lists the first ones (internet first)


@dataclass
class Intrusion:
    """A direct flow into a workload that an ``allow_only`` policy does not allow."""

    source: Workload | None  # None: the internet
    traffic: Traffic
    confirmed: bool = True


def allow_only_violations(reach: Reachability, policy: Policy) -> Iterator[tuple[Workload, list[Intrusion]]]:
    """Per workload matching ``to``: the direct flows into it from outside ``from`` or on
    other ports (the first ``MAX_INTRUSIONS``, the internet first). Flows between
    workloads of the same signature are not judged."""
    entries = {s.id: (t, c) for s, t, c in reach.internet_entries()}
    for dst in reach.sigs:
        targets = [w for w in dst.workloads if policy.target.matches(w)]
        if not targets:
            continue
        found = _intrusions(reach, policy, dst, entries.get(dst.id))
        if found:
            for workload in targets:
                yield workload, found


def _intrusions(reach: Reachability, policy: Policy, dst: Sig,
                internet: tuple[Traffic, bool] | None) -> list[Intrusion]:
    out = []
    if internet is not None:
        traffic, confirmed = internet
        if not policy.source.internet:
            out.append(Intrusion(None, traffic, confirmed))
        elif policy.ports is not None and traffic.difference(policy.ports):
            out.append(Intrusion(None, traffic.difference(policy.ports), confirmed))
    for sid in sorted(reach.senders_to(dst)):
        if len(out) >= MAX_INTRUSIONS:
            break
        if sid == dst.id:
            continue
        src = reach.sigs[sid]
        traffic = reach.flow(src, dst)
        if not traffic:
            continue
        for workload in src.workloads:
            if not policy.source.matches(workload):
                out.append(Intrusion(workload, traffic))
            elif policy.ports is not None and traffic.difference(policy.ports):
                out.append(Intrusion(workload, traffic.difference(policy.ports)))
    return out
