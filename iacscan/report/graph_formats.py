"""``iacscan graph``: the picture of an estate in Graphviz DOT, Mermaid or JSON.

What is drawn: the internet, every workload and security group (inside a cluster per
environment when it has one), ``member`` edges (workload → group it carries),
``references`` edges (group → peer group its rules name, labelled with the traffic),
``internet`` edges (internet → workload the internet reaches directly; dashed when the
exposure is unconfirmed) and ``path`` edges (each hop of a NET30x finding's path,
labelled with its protocol and ports). Nodes and paths with findings are highlighted.

``focus`` keeps only what touches one resource (address or uid): the resource, its
member/reference neighbours, and every finding path through it.

Names come from scanned code: DOT strings are escaped, Mermaid labels are entity-encoded
(so a name cannot break out of its label when the Markdown report embeds the picture),
and JSON is JSON.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from iacscan.errors import UserError
from iacscan.findings import Finding, Severity
from iacscan.model import PeerKind
from iacscan.net import Traffic
from iacscan.reach_groups import rule_traffic

if TYPE_CHECKING:
    from iacscan.scan import ScanResult

INTERNET = "internet"
FORMATS = ("dot", "mermaid", "json")


@dataclass
class PNode:
    id: str
    kind: str  # internet | group | workload
    label: str
    environment: str | None = None
    tier: str = ""
    severity: str = ""  # the highest severity of the findings on it
    rules: list[str] = field(default_factory=list)


@dataclass
class PEdge:
    source: str
    target: str
    kind: str  # member | references | internet | path
    label: str = ""
    confirmed: bool = True
    rules: list[str] = field(default_factory=list)


@dataclass
class Picture:
    nodes: dict[str, PNode] = field(default_factory=dict)
    edges: list[PEdge] = field(default_factory=list)
    paths: list[dict[str, Any]] = field(default_factory=list)


def render_graph(result: ScanResult, fmt: str, focus: str | None) -> str:
    """The picture of ``result`` in ``fmt`` (dot, mermaid, json), optionally focused."""
    if fmt not in FORMATS:
        raise UserError(f"unknown graph format {fmt!r} (expected one of: {', '.join(FORMATS)})")
    picture = build_picture(result)
    if focus:
        picture = focused(picture, focus, result)
    return {"dot": to_dot, "mermaid": to_mermaid, "json": to_json}[fmt](picture)


# ------------------------------------------------------------------ building


def build_picture(result: ScanResult) -> Picture:
    estate, graph = result.estate, result.graph
    pic = Picture()
    pic.nodes[INTERNET] = PNode(INTERNET, "internet", INTERNET)
    for uid, group in estate.groups.items():
        pic.nodes[uid] = PNode(uid, "group", group.address, group.environment)
    for uid, workload in estate.workloads.items():
        pic.nodes[uid] = PNode(uid, "workload", workload.address, workload.environment, workload.tier.value)
        for group in graph.groups_of(workload):
            pic.edges.append(PEdge(uid, group.uid, "member"))
    for uid, group in estate.groups.items():
        _reference_edges(pic, result, uid)
    for sig, traffic, confirmed in graph.reach.internet_entries():
        for workload in sig.workloads:
            pic.edges.append(PEdge(INTERNET, workload.uid, "internet", traffic.describe(), confirmed))
    _mark_findings(pic, result)
    return pic


def _reference_edges(pic: Picture, result: ScanResult, uid: str) -> None:
    group = result.estate.groups[uid]
    by_peer: dict[tuple[str, str], Traffic] = {}
    for rule in group.rules:
        if rule.peer.kind not in (PeerKind.GROUP, PeerKind.SELF):
            continue
        peer = uid if rule.peer.kind is PeerKind.SELF else _group_uid(result, rule.peer.value)
        traffic = rule_traffic(rule)
        if peer is None or traffic is None:
            continue
        key = (peer, rule.direction.value)
        by_peer[key] = by_peer.get(key, Traffic()).union(traffic)
    for (peer, direction), traffic in sorted(by_peer.items()):
        pic.edges.append(PEdge(uid, peer, "references", f"{direction} {traffic.describe()}"))


def _group_uid(result: ScanResult, ref: str) -> str | None:
    group = result.estate.find_group(ref)
    return group.uid if group is not None else None


def _mark_findings(pic: Picture, result: ScanResult) -> None:
    by_address: dict[str, list[str]] = {}
    for uid, node in pic.nodes.items():
        by_address.setdefault(node.label, []).append(uid)
    for finding in result.findings:
        uids = [finding.uid] if finding.uid in pic.nodes else by_address.get(finding.resource, [])
        for uid in uids:
            _raise(pic.nodes[uid], finding)
        if finding.path:
            _path_edges(pic, finding, by_address)


def _raise(node: PNode, finding: Finding) -> None:
    if finding.rule_id not in node.rules:
        node.rules.append(finding.rule_id)
    if not node.severity or finding.severity.rank > Severity(node.severity).rank:
        node.severity = finding.severity.value


def _path_edges(pic: Picture, finding: Finding, by_address: dict[str, list[str]]) -> None:
    hops = {h.get("resource"): h for h in finding.extra.get("hops", []) if isinstance(h, dict)}
    ids = [INTERNET if a == INTERNET else (by_address.get(a) or [a])[0] for a in finding.path]
    for address, uid in zip(finding.path, ids):
        if uid not in pic.nodes:
            pic.nodes[uid] = PNode(uid, "workload", address)
    for (a, b), address in zip(zip(ids, ids[1:]), finding.path[1:]):
        hop = hops.get(address, {})
        label = hop.get("ports", "") if hop.get("protocol") in ("tcp", None) else \
            f"{hop.get('protocol')}/{hop.get('ports')}"
        existing = next((e for e in pic.edges if e.kind == "path" and (e.source, e.target) == (a, b)), None)
        if existing is None:
            pic.edges.append(PEdge(a, b, "path", label, rules=[finding.rule_id]))
        elif finding.rule_id not in existing.rules:
            existing.rules.append(finding.rule_id)
    pic.paths.append({"rule_id": finding.rule_id, "resource": finding.resource, "path": list(finding.path),
                      "hops": finding.extra.get("hops", []), "severity": finding.severity.value})


def focused(pic: Picture, focus: str, result: ScanResult) -> Picture:
    """Only the nodes and edges that touch ``focus`` (an address or uid)."""
    targets = {uid for uid, n in pic.nodes.items() if focus in (uid, n.label)}
    if not targets:
        raise UserError(f"--focus {focus}: no group or workload has that address")
    keep = set(targets)
    for edge in pic.edges:
        if edge.kind != "path" and (edge.source in targets or edge.target in targets):
            keep |= {edge.source, edge.target}
    # paths through the focus, or through a workload carrying a focused group
    on_path = {pic.nodes[t].label for t in targets}
    on_path |= {pic.nodes[e.source].label for e in pic.edges if e.kind == "member" and e.target in targets}
    paths = [p for p in pic.paths if on_path & set(p["path"])]
    labels = {a for p in paths for a in p["path"]}
    keep |= {uid for uid, n in pic.nodes.items() if n.label in labels}
    out = Picture()
    out.nodes = {uid: n for uid, n in pic.nodes.items() if uid in keep}
    out.edges = [e for e in pic.edges if e.source in keep and e.target in keep
                 and (e.kind != "path" or any(r in {p["rule_id"] for p in paths} for r in e.rules))]
    out.paths = paths
    return out


# ------------------------------------------------------------------ formats


def to_json(pic: Picture) -> str:
    doc = {
        "version": 1,
        "nodes": [{"id": n.id, "kind": n.kind, "label": n.label, "environment": n.environment,
                   "tier": n.tier or None, "severity": n.severity or None, "rules": n.rules}
                  for n in _sorted_nodes(pic)],
        "edges": [{"source": e.source, "target": e.target, "kind": e.kind, "label": e.label,
                   "confirmed": e.confirmed, "rules": e.rules} for e in pic.edges],
        "paths": pic.paths,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _sorted_nodes(pic: Picture) -> list[PNode]:
    order = {"internet": 0, "workload": 1, "group": 2}
    return sorted(pic.nodes.values(), key=lambda n: (order.get(n.kind, 3), n.label, n.id))


def _clusters(pic: Picture) -> tuple[dict[str, list[PNode]], list[PNode]]:
    clusters: dict[str, list[PNode]] = {}
    loose = []
    for node in _sorted_nodes(pic):
        if node.environment:
            clusters.setdefault(node.environment, []).append(node)
        else:
            loose.append(node)
    return dict(sorted(clusters.items())), loose


_HOT = {"critical": "#c00000", "high": "#e06000", "medium": "#c09000", "low": "#6080a0", "info": "#808080"}


def _dot_text(text: str) -> str:
    cleaned = re.sub(r"[\x00-\x1f\x7f]", " ", text)
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_node(node: PNode, ids: dict[str, str]) -> str:
    shape = {"internet": "doubleoctagon", "group": "box"}.get(node.kind, "cylinder" if node.tier == "data"
                                                                 else "ellipse")
    label = node.label + (f"\\n[{', '.join(node.rules)}]" if node.rules else "")
    attrs = [f"label={_dot_text(label).replace(chr(92) * 2 + 'n', chr(92) + 'n')}", f"shape={shape}"]
    if node.kind == "group":
        attrs.append('style="rounded"')
    if node.severity:
        attrs.append(f'color="{_HOT[node.severity]}" penwidth=2')
    return f"{ids[node.id]} [{' '.join(attrs)}];"


def to_dot(pic: Picture) -> str:
    ids = {uid: f"n{i}" for i, uid in enumerate(n.id for n in _sorted_nodes(pic))}
    lines = ["digraph iacscan {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    clusters, loose = _clusters(pic)
    for i, (env, nodes) in enumerate(clusters.items()):
        lines.append(f"  subgraph cluster_{i} {{")
        lines.append(f"    label={_dot_text(env)};")
        lines.extend(f"    {_dot_node(n, ids)}" for n in nodes)
        lines.append("  }")
    lines.extend(f"  {_dot_node(n, ids)}" for n in loose)
    for e in pic.edges:
        attrs = {"member": 'style=dotted arrowhead=empty', "references": 'color="#606060"',
                 "internet": 'color="#c00000"', "path": 'color="#c00000" penwidth=3'}[e.kind]
        if e.kind == "internet" and not e.confirmed:
            attrs += " style=dashed"
        label = f" label={_dot_text(e.label)}" if e.label else ""
        lines.append(f"  {ids[e.source]} -> {ids[e.target]} [{attrs}{label}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


_MERMAID_SAFE = re.compile(r"[A-Za-z0-9 ._:/,=\-]")


def _mermaid_text(text: str) -> str:
    """Entity-encode everything but a small safe set (quotes, brackets, <, >, `, |, #...)."""
    return "".join(c if _MERMAID_SAFE.fullmatch(c) else f"#{ord(c)};" for c in text)


def _mermaid_node(node: PNode, ids: dict[str, str]) -> str:
    label = _mermaid_text(node.label + (f" [{', '.join(node.rules)}]" if node.rules else ""))
    if node.kind == "internet":
        return f'{ids[node.id]}(("{label}"))'
    if node.kind == "group":
        return f'{ids[node.id]}["{label}"]'
    if node.tier == "data":
        return f'{ids[node.id]}[("{label}")]'
    return f'{ids[node.id]}("{label}")'


def to_mermaid(pic: Picture) -> str:
    ids = {uid: f"n{i}" for i, uid in enumerate(n.id for n in _sorted_nodes(pic))}
    lines = ["flowchart LR"]
    clusters, loose = _clusters(pic)
    for i, (env, nodes) in enumerate(clusters.items()):
        lines.append(f'  subgraph env{i}["{_mermaid_text(env)}"]')
        lines.extend(f"    {_mermaid_node(n, ids)}" for n in nodes)
        lines.append("  end")
    lines.extend(f"  {_mermaid_node(n, ids)}" for n in loose)
    for e in pic.edges:
        arrow = {"member": "-.->", "references": "-->", "internet": "-->", "path": "==>"}[e.kind]
        if e.kind == "internet" and not e.confirmed:
            arrow = "-.->"
        label = f'|"{_mermaid_text(e.label)}"|' if e.label else ""
        lines.append(f"  {ids[e.source]} {arrow}{label} {ids[e.target]}")
    for severity, colour in _HOT.items():
        hot = [ids[n.id] for n in _sorted_nodes(pic) if n.severity == severity]
        if hot:
            lines.append(f"  classDef {severity} stroke:{colour},stroke-width:3px")
            lines.append(f"  class {','.join(hot)} {severity}")
    return "\n".join(lines) + "\n"
