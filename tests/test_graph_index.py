"""EstateGraph's dict indexes agree with its networkx graph; the SG101 exposure shared by
group shape keeps each group's own rules; gc_paused restores the collector's state."""
from __future__ import annotations

import gc
from typing import Any

import pytest

from iacscan.graph import EstateGraph
from iacscan.model import Direction, Estate, Location, Peer, PeerKind, Rule, SecurityGroup, Tier, Workload
from iacscan.gcpause import gc_paused
from iacscan.rules._sg_exposure import internet_exposure
from tests.helpers import FIXTURES, scan_path


def _networkx_answers(graph: EstateGraph, uid: str) -> tuple[bool, list[str]]:
    """is_used / referenced_by computed from the networkx graph, as before the indexes."""
    refs = sorted({u for u, _, d in graph.g.in_edges(uid, data=True) if d.get("kind") == "references"})
    members = [u for u, _, d in graph.g.in_edges(uid, data=True) if d.get("kind") == "member"]
    return bool(members or refs), refs


def test_indexes_agree_with_the_networkx_graph_on_the_demo() -> None:
    result = scan_path(FIXTURES / "demo")
    graph = EstateGraph(result.estate)
    assert "g" not in vars(graph)  # not built until asked for
    for uid in result.estate.groups:
        used, refs = _networkx_answers(graph, uid)
        assert (graph.is_used(uid), graph.referenced_by(uid)) == (used, refs), uid
        member_uids = sorted(w.uid for w in graph.members(uid))
        assert member_uids == sorted(u for u, _, d in graph.g.in_edges(uid, data=True) if d.get("kind") == "member")


def _rule(value: str, port: int, line: int) -> Rule:
    return Rule(Direction.INGRESS, "tcp", port, port, Peer(PeerKind.CIDR, value), location=Location("main.tf", line))


def _group(name: str, line: int) -> SecurityGroup:
    rules = [_rule("0.0.0.0/1", 22, line), _rule("128.0.0.0/1", 22, line + 1), _rule("10.0.0.0/8", 22, line + 2)]
    return SecurityGroup(f".#aws_security_group.{name}", f"aws_security_group.{name}", name, "d", None, {}, rules,
                         Location("main.tf", line))


def test_groups_of_the_same_shape_get_their_own_rules_and_partners() -> None:
    estate = Estate(root=".")
    a, b = _group("a", 1), _group("b", 10)
    estate.groups = {a.uid: a, b.uid: b}
    for group in (a, b):
        found = internet_exposure(estate, group)
        assert [e.rule for e in found] == group.rules[:2]
        assert all(r is e for e, r in zip((x.rule for x in found), group.rules))
        assert found[0].partners == [group.rules[1]] and found[1].partners == [group.rules[0]]
        assert [e.partners[0] is group.rules[1 - i] for i, e in enumerate(found)] == [True, True]
        assert not found[0].alone and found[0].families == {"IPv4"}


def test_groups_of_resolves_live_ids_like_find_group() -> None:
    estate = Estate(root=".")
    first, second = _group("a", 1), _group("b", 10)
    first.live_id = second.live_id = "sg-0123"
    estate.groups = {first.uid: first, second.uid: second}
    w = Workload(".#aws_instance.x", "aws_instance.x", "aws_instance", Tier.APP, ["sg-0123", first.uid, "sg-none"],
                 None, [], None, [], {})
    estate.workloads = {w.uid: w}
    graph = EstateGraph(estate)
    assert graph.groups_of(w) == [first] and estate.find_group("sg-0123") is first
    assert graph.members(first.uid) == [w] and graph.members(second.uid) == []


def test_gc_paused_restores_the_collector_state() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()



def test_gc_paused_gives_the_collector_back_when_the_block_raises() -> None:
    with pytest.raises(OSError):
        with gc_paused():
            raise OSError("disk gone")
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_scan_runs_with_the_collector_paused_and_gives_it_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """``scan`` pauses the cyclic collector for its whole run (iacscan.gcpause) and leaves it
    as it found it (observed by wrapping the real ``load_estate``, which still does the work)."""
    from iacscan import scan as scan_module

    seen: list[bool] = []
    real = scan_module.load_estate

    def watching(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(scan_module, "load_estate", watching)
    result = scan_path(FIXTURES / "demo")
    assert seen == [False] and result.findings
    assert gc.isenabled() and gc.get_freeze_count() == 0
