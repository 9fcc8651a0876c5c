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

import networkx as nx

from iacscan.model import Estate, PeerKind, Rule, SecurityGroup, Unknown, Workload

if TYPE_CHECKING:
    from iacscan.reach import Reachability

INTERNET = "internet"


class EstateGraph:
    """Answers structural questions about an estate; built once per scan."""

    def __init__(self, estate: Estate) -> None:
        self.estate = estate
        self.g: nx.MultiDiGraph = nx.MultiDiGraph()
        self._build()

    def _build(self) -> None:
        g = self.g
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

    def _peer_groups(self, group: SecurityGroup) -> dict[str, list[Rule]]:
        peers: dict[str, list[Rule]] = defaultdict(list)
        for rule in group.rules:
            if rule.peer.kind is PeerKind.GROUP:
                target = self.estate.find_group(rule.peer.value)
                if target is not None:
                    peers[target.uid].append(rule)
        return peers

    def groups_of(self, workload: Workload) -> list[SecurityGroup]:
        """The groups a workload carries that the model knows (unknown refs are skipped)."""
        out = []
        for ref in workload.groups:
            if isinstance(ref, Unknown):
                continue
            group = self.estate.find_group(ref)
            if group is not None and group not in out:
                out.append(group)
        return out

    @cached_property
    def _members(self) -> dict[str, list[Workload]]:
        members: dict[str, list[Workload]] = defaultdict(list)
        for workload in self.estate.workloads.values():
            for group in self.groups_of(workload):
                members[group.uid].append(workload)
        return members

    def members(self, group_uid: str) -> list[Workload]:
        """The workloads that carry the group."""
        return list(self._members.get(group_uid, []))

    def is_used(self, group_uid: str) -> bool:
        """True when a workload carries the group or another group's rule names it."""
        if self._members.get(group_uid):
            return True
        return any(d.get("kind") == "references" for _, _, d in self.g.in_edges(group_uid, data=True))

    @cached_property
    def reach(self) -> Reachability:
        """Flows, exposure and paths (``iacscan.reach``), built on first use."""
        from iacscan.reach import Reachability

        return Reachability(self.estate)

    def referenced_by(self, group_uid: str) -> list[str]:
        """Uids of the groups whose rules name this group as peer."""
        return sorted({u for u, _, d in self.g.in_edges(group_uid, data=True) if d.get("kind") == "references"})
