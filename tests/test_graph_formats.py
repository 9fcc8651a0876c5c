"""``render_graph``: DOT, Mermaid and JSON pictures of a scanned estate."""
from __future__ import annotations

import json

import pytest

from iacscan.errors import UserError
from iacscan.report.graph_formats import render_graph
from iacscan.ruleset import load_ruleset
from iacscan.scan import ScanResult, run_rules
from tests.reach_estates import three_tier, uid


def scanned() -> ScanResult:
    b = three_tier()
    for address in ("aws_security_group.lb", "aws_security_group.app", "aws_security_group.db"):
        b.estate.groups[uid(address)].tags["Environment"] = "prod"
    for address in ("aws_lb.web", "aws_instance.app", "aws_db_instance.main"):
        b.estate.workloads[uid(address)].tags["Environment"] = "prod"
    return run_rules(b.estate, load_ruleset("default"))


def test_json_picture() -> None:
    doc = json.loads(render_graph(scanned(), "json", None))
    nodes = {n["label"]: n for n in doc["nodes"]}
    assert set(nodes) == {"internet", "aws_lb.web", "aws_instance.app", "aws_db_instance.main",
                          "aws_security_group.lb", "aws_security_group.app", "aws_security_group.db"}
    assert nodes["aws_db_instance.main"]["environment"] == "prod"
    assert nodes["aws_db_instance.main"]["severity"] == "critical"
    assert "NET302" in nodes["aws_db_instance.main"]["rules"]
    label = {n["id"]: n["label"] for n in doc["nodes"]}
    edges = {(label[e["source"]], label[e["target"]], e["kind"], e["label"]) for e in doc["edges"]}
    assert ("internet", "aws_lb.web", "internet", "tcp/443") in edges
    assert ("aws_instance.app", "aws_security_group.app", "member", "") in edges
    assert ("aws_security_group.app", "aws_security_group.db", "references", "egress tcp/5432") in edges
    path_edges = {(a, b, lab) for a, b, kind, lab in edges if kind == "path"}
    assert path_edges == {("internet", "aws_lb.web", "443"), ("aws_lb.web", "aws_instance.app", "8080"),
                          ("aws_instance.app", "aws_db_instance.main", "5432")}
    assert [p["path"] for p in doc["paths"] if p["rule_id"] == "NET302"] == [
        ["internet", "aws_lb.web", "aws_instance.app", "aws_db_instance.main"]]


def test_dot_has_environment_clusters_and_highlighted_path() -> None:
    dot = render_graph(scanned(), "dot", None)
    assert dot.startswith("digraph iacscan {")
    assert 'subgraph cluster_0 {\n    label="prod";' in dot
    assert 'label="aws_db_instance.main\\n[NET302]" shape=cylinder color="#c00000"' in dot
    assert 'penwidth=3 label="5432"' in dot


def test_mermaid_and_focus() -> None:
    text = render_graph(scanned(), "mermaid", "aws_security_group.db")
    assert text.startswith("flowchart LR\n")
    assert 'subgraph env0["prod"]' in text
    assert "aws_security_group.db" in text and "aws_instance.app" in text
    assert "aws_lb.web" in text  # on the NET302 path through the focused group's member
    assert "aws_security_group.lb" not in text  # neither a neighbour nor on a path


def test_untrusted_names_are_escaped() -> None:
    result = scanned()
    workload = result.estate.workloads[uid("aws_instance.app")]
    workload.address = 'aws_instance.app["x\\"]\n<b>`|"]'
    mermaid = render_graph(result, "mermaid", None)
    assert "<b>" not in mermaid and '\\"]' not in mermaid
    assert "#60;b#62;" in mermaid
    dot = render_graph(result, "dot", None)
    assert 'aws_instance.app[\\"x\\\\\\"] <b>`|\\"]' in dot


def test_unknown_focus_and_format() -> None:
    with pytest.raises(UserError, match="--focus nothing.here"):
        render_graph(scanned(), "json", "nothing.here")
    with pytest.raises(UserError, match="unknown graph format"):
        render_graph(scanned(), "png", None)
