"""The networkx graph of security groups, workloads and environments.

Nodes (the ``kind`` attribute): ``group`` (uid), ``workload`` (uid), ``environment``
(``env:<name>``) and the single ``internet`` node. Edges (the ``kind`` attribute):

- ``member``: workload → group it carries;
- ``references``: group → peer group its rule names (attribute ``rules``: the rules);
- ``in_env``: group/workload → its environment.

Reachability (flows between groups, paths from the internet) is answered by
``iacscan.reach`` on top of this graph.
"""
from __future__ import annotations

from collections import defaultdict
from functools import cached_property
from typing import TYPE_CHECKING

from iacscan.model import Estate, PeerKind, Rule, SecurityGroup, Unknown, Workload
from iacscan.gcpause import gc_paused

if TYPE_CHECKING:
    import networkx as nx

    from iacscan.reach import Reachability

INTERNET = "internet"


class EstateGraph:
    """Answers structural questions about an estate; built once per scan.

    The questions rules ask (members, references, use) are answered from plain indexes
    built on first use; the networkx graph ``g`` is built only when someone asks for it.
    """

    def __init__(self, estate: Estate) -> None:
        self.estate = estate

    @cached_property
    def g(self) -> nx.MultiDiGraph:
        """The estate as a networkx ``MultiDiGraph`` (nodes and edges as described above)."""
        import networkx as nx

        graph: nx.MultiDiGraph = nx.MultiDiGraph()
        with gc_paused():
            self._build(graph)
        return graph

    def _build(self, g: nx.MultiDiGraph) -> None:
        g.add_node(INTERNET, kind="internet")
        for uid, group in self.estate.groups.items():
            g.add_node(uid, kind="group", address=group.address)
            if group.environment:
                g.add_edge(uid, f"env:{group.environment}", kind="in_env")
        for uid, workload in self.estate.workloads.items():
            g.add_node(uid, kind="workload", address=workload.address)
            if workload.environment:
                g.add_edge(uid, f"env:{workload.environment}", kind="in_env")
            for ref in self.groups_of(workload):
                g.add_edge(uid, ref.uid, kind="member")
        for uid, group in self.estate.groups.items():
            for peer_uid, rules in self._peer_groups(group).items():
                g.add_edge(uid, peer_uid, kind="references", rules=rules)
        for node, data in list(g.nodes(data=True)):
            if "kind" not in data and str(node).startswith("env:"):
                g.nodes[node]["kind"] = "environment"

    @cached_property
    def _by_live_id(self) -> dict[str, SecurityGroup]:
        """The first group (in estate order) carrying each live id, as ``find_group`` finds it."""
        index: dict[str, SecurityGroup] = {}
        for group in self.estate.groups.values():
            if group.live_id:
                index.setdefault(group.live_id, group)
        return index

    def _find_group(self, ref: str) -> SecurityGroup | None:
        """``Estate.find_group`` through an index (by uid, then by live id)."""
        group = self.estate.groups.get(ref)
        return group if group is not None else self._by_live_id.get(ref)

    def find_group(self, ref: str) -> SecurityGroup | None:
        """The group a rule or workload names, as ``Estate.find_group`` finds it (by uid,
        then the first by live id), through an index."""
        return self._find_group(ref)

    def _peer_groups(self, group: SecurityGroup) -> dict[str, list[Rule]]:
        peers: dict[str, list[Rule]] = defaultdict(list)
        for rule in group.rules:
            if rule.peer.kind is PeerKind.GROUP:
                target = self._find_group(rule.peer.value)
                if target is not None:
                    peers[target.uid].append(rule)
        return peers

    def groups_of(self, workload: Workload) -> list[SecurityGroup]:
        """The groups a workload carries that the model knows (unknown refs are skipped)."""
        refs = tuple(workload.groups)
        found = self._groups_of.get(refs)  # workloads repeat the same references
        if found is None:
            found = self._groups_of[refs] = self._resolve_groups(refs)
        return list(found)

    @cached_property
    def _groups_of(self) -> dict[tuple[object, ...], list[SecurityGroup]]:
        return {}

    def _resolve_groups(self, refs: tuple[object, ...]) -> list[SecurityGroup]:
        if len(refs) == 1 and type(refs[0]) is str:  # the usual case: one reference
            group = self._find_group(refs[0])
            return [] if group is None else [group]
        out: list[SecurityGroup] = []
        for ref in refs:
            if isinstance(ref, Unknown) or not isinstance(ref, str):
                continue
            group = self._find_group(ref)
            if group is not None and not any(o is group or (o.uid == group.uid and o == group) for o in out):
                out.append(group)
        return out

    @cached_property
    def _members(self) -> dict[str, list[Workload]]:
        members: dict[str, list[Workload]] = defaultdict(list)
        resolved = self._groups_of  # what groups_of answers, without copying each answer
        with gc_paused():
            for workload in self.estate.workloads.values():
                refs = tuple(workload.groups)
                found = resolved.get(refs)
                if found is None:
                    found = resolved[refs] = self._resolve_groups(refs)
                for group in found:
                    members[group.uid].append(workload)
        return members

    @cached_property
    def _referrers(self) -> dict[str, set[str]]:
        """Group uid → uids of the groups whose rules name it (the ``references`` edges)."""
        referrers: dict[str, set[str]] = defaultdict(set)
        group_kind, find = PeerKind.GROUP, self._find_group
        with gc_paused():
            for uid, group in self.estate.groups.items():
                for rule in group.rules:  # the peers ``_peer_groups`` finds, without their rules
                    peer = rule.peer
                    if peer.kind is group_kind:
                        target = find(peer.value)
                        if target is not None:
                            referrers[target.uid].add(uid)
        return referrers

    def members(self, group_uid: str) -> list[Workload]:
        """The workloads that carry the group."""
        return list(self._members.get(group_uid, []))

    def is_used(self, group_uid: str) -> bool:
        """True when a workload carries the group or another group's rule names it."""
        if self._members.get(group_uid):
            return True
        return bool(self._referrers.get(group_uid))

    @cached_property
    def reach(self) -> Reachability:
        """Flows, exposure and paths (``iacscan.reach``), built on first use."""
        from iacscan.reach import Reachability

        return Reachability(self.estate)

    def referenced_by(self, group_uid: str) -> list[str]:
        """Uids of the groups whose rules name this group as peer."""
        return sorted(self._referrers.get(group_uid, ()))
