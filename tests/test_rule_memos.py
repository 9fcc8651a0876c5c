"""Helpers that keep rules and reachability from repeating work: each gives what the plain
computation gives (tokens, group lookup, remediation rendering, rule coverage, group sides)."""
from __future__ import annotations

import re

import pytest

from iacscan.environments import tokens
from iacscan.graph import EstateGraph
from iacscan.model import Direction, Estate, Location, Peer, PeerKind, Rule, SecurityGroup, Workload
from iacscan.net import AddressSet, Intervals, Traffic
from iacscan.reach_exposure import Network
from iacscan.reach_groups import (
    NOTHING, PeerResolver, compile_group, covered_traffic, cut_mask, traffic_mask, union_all,
)
from iacscan.rules.base import Remediation
from iacscan.rules.sg_shadow import _covers, peer_covers, shadowed

_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=[0-9])")


@pytest.mark.parametrize("text", [
    "svc-0002-dev-lb", "prod", "ProdWebSG", "prod2", "web-prod2-a", "2prod", "", "--", "a_b.c/d e",
    "stagingDB", "dev\u00e9x", "\u0130stanbul-prod", "x\u00b2-dev", "-prod-", "PROD", "my_app-Staging",
])
def test_tokens_give_what_the_camel_case_split_gives(text: str) -> None:
    assert tokens(text) == [t for t in _SPLIT.split(_CAMEL.sub(" ", text).lower()) if t]


def _group(uid: str, live_id: str = "", rules: list[Rule] | None = None) -> SecurityGroup:
    return SecurityGroup(uid, uid.split("#")[1], None, None, None, rules=rules or [], live_id=live_id)


def test_graph_find_group_answers_as_the_estate_does() -> None:
    estate = Estate()
    for group in (_group("a#g1", "sg-1"), _group("a#g2", "sg-2"), _group("b#g1", "sg-1")):
        estate.groups[group.uid] = group
    graph = EstateGraph(estate)
    for ref in ("a#g1", "b#g1", "sg-1", "sg-2", "sg-3", "a#g9"):
        assert graph.find_group(ref) is estate.find_group(ref), ref
    assert graph.find_group("sg-1") is estate.groups["a#g1"]  # the first in estate order


def test_graph_members_resolve_one_or_several_references() -> None:
    estate = Estate()
    estate.groups["a#g1"] = _group("a#g1", "sg-1")
    estate.groups["a#g2"] = _group("a#g2")
    estate.workloads["a#w1"] = Workload("a#w1", "w1", "aws_instance", groups=["sg-1"])
    estate.workloads["a#w2"] = Workload("a#w2", "w2", "aws_instance", groups=["a#g2", "a#g1", "sg-1"])
    estate.workloads["a#w3"] = Workload("a#w3", "w3", "aws_instance", groups=["sg-9"])
    graph = EstateGraph(estate)
    assert [w.uid for w in graph.members("a#g1")] == ["a#w1", "a#w2"]
    assert [g.uid for g in graph.groups_of(estate.workloads["a#w2"])] == ["a#g2", "a#g1"]
    assert graph.groups_of(estate.workloads["a#w3"]) == []


def test_remediation_keeps_fixed_templates_and_formats_the_others() -> None:
    remediation = Remediation(summary="fix {resource} on {protocol} {ports}", console="no {{fields}} here",
                              cli="", terraform="{missing} stays")
    first = remediation.render({"resource": "r1", "protocol": "tcp", "ports": "22"})
    second = remediation.render({"resource": "r2", "protocol": "all", "ports": "all"})
    assert first == {"summary": "fix r1 on tcp 22", "console": "no {fields} here", "terraform": "{missing} stays"}
    assert second == {"summary": "fix r2 on all traffic", "console": "no {fields} here", "terraform": "{missing} stays"}
    assert Remediation(summary="only {{braces}}").render({"x": 1}) == {"summary": "only {braces}"}


def _cidr_rule(cidr: str, lo: int, hi: int, line: int) -> Rule:
    return Rule(Direction.INGRESS, "tcp", lo, hi, Peer(PeerKind.CIDR, cidr), location=Location("main.tf", line))


def test_traffic_coverage_memo_answers_for_distinct_equal_and_other_traffics() -> None:
    wide, narrow = Traffic.of("tcp", 0, 1000), Traffic.of("tcp", 22, 22)
    twin = Traffic(by_protocol=(("tcp", Intervals(((22, 22),))),))  # equal to narrow, another object
    assert _covers(wide, narrow) and _covers(wide, twin) and _covers(narrow, twin)
    assert not _covers(narrow, wide) and not _covers(twin, wide)
    assert _covers(wide, narrow)  # asked again: the remembered answer


def test_cidr_coverage_is_remembered_by_value() -> None:
    outer, inner = Peer(PeerKind.CIDR, "10.0.0.0/8"), Peer(PeerKind.CIDR, "10.1.0.0/16")
    v6 = Peer(PeerKind.CIDR, "::/0")
    for _ in range(2):
        assert peer_covers(outer, inner) and not peer_covers(inner, outer)
        assert not peer_covers(v6, inner) and not peer_covers(Peer(PeerKind.CIDR, "bad"), inner)


def test_shadowed_compares_rules_of_the_same_peer_only() -> None:
    group = _group("a#g", rules=[
        _cidr_rule("10.0.0.0/8", 0, 1000, 1), _cidr_rule("10.1.0.0/16", 22, 22, 2),
        Rule(Direction.INGRESS, "tcp", 22, 22, Peer(PeerKind.GROUP, "a#x"), location=Location("main.tf", 3)),
        Rule(Direction.INGRESS, "tcp", 0, 100, Peer(PeerKind.GROUP, "a#y"), location=Location("main.tf", 4)),
        Rule(Direction.INGRESS, "tcp", 22, 22, Peer(PeerKind.GROUP, "a#y"), location=Location("main.tf", 5)),
        Rule(Direction.EGRESS, "tcp", 22, 22, Peer(PeerKind.CIDR, "10.1.0.0/16"), location=Location("main.tf", 6)),
    ])
    found = [(item.location.line, other.location.line) for item, other in shadowed(group)]
    assert found == [(2, 1), (5, 4)]


def test_union_all_and_cut_mask() -> None:
    a, b = Traffic.of("tcp", 22, 22), Traffic.of("udp", 53, 53)
    assert union_all([]) is NOTHING and union_all([NOTHING, a]) is a
    assert union_all([a, b]) == a.union(b)
    assert union_all([a, Traffic(everything=True), b]).everything
    restrict = Traffic.of("tcp", 0, 100)
    assert cut_mask(a.union(b), restrict) == traffic_mask(a.union(b).intersection(restrict))
    assert cut_mask(b, restrict) == 0


def test_groups_with_the_same_ranges_get_equal_sides() -> None:
    def group(uid: str, peer: str) -> SecurityGroup:
        return _group(uid, rules=[
            _cidr_rule("0.0.0.0/0", 443, 443, 1), _cidr_rule("10.0.0.0/16", 8080, 8080, 2),
            Rule(Direction.INGRESS, "tcp", 22, 22, Peer(PeerKind.GROUP, peer), location=Location("main.tf", 3)),
        ])
    estate = Estate()
    for uid, peer in (("a#g", "a#h"), ("b#g", "b#h"), ("a#h", "a#g"), ("b#h", "b#g")):
        estate.groups[uid] = group(uid, peer)
    resolver = PeerResolver(estate)
    first, second = compile_group(estate.groups["a#g"], resolver), compile_group(estate.groups["b#g"], resolver)
    assert first.ingress.groups == {"a#h": Traffic.of("tcp", 22, 22)}
    assert second.ingress.groups == {"b#h": Traffic.of("tcp", 22, 22)}
    for side in (first.ingress, second.ingress):
        assert side.anyone == Traffic.of("tcp", 443, 443)
        assert list(side.cidrs) == [(AddressSet.of(["10.0.0.0/16"]), Traffic.of("tcp", 8080, 8080))]
        assert side.total == union_all([Traffic.of("tcp", p, p) for p in (443, 8080, 22)])
        assert side.internet == covered_traffic(side.entries, lambda a: a.is_internet)


def test_network_addresses_take_the_callers_subnet_key() -> None:
    estate = Estate()
    workload = Workload("a#w", "w", "aws_instance", subnets=["a#s1"], vpc="a#vpc")
    network = Network(estate)
    assert network.addresses(workload, ("a#s1",)) == network.addresses(workload) == (None, None)


def test_exposed_groups_lists_the_groups_the_internet_reaches_in_order_per_estate() -> None:
    from iacscan.rules._sg_exposure import exposed_groups, internet_exposure

    def estate_of(*groups: SecurityGroup) -> Estate:
        estate = Estate()
        for group in groups:
            estate.groups[group.uid] = group
        return estate

    open_a = _group("a#open", rules=[_cidr_rule("0.0.0.0/0", 22, 22, 1)])
    private = _group("a#private", rules=[_cidr_rule("10.0.0.0/8", 22, 22, 2)])
    halves = _group("a#halves", rules=[_cidr_rule("0.0.0.0/1", 80, 80, 3), _cidr_rule("128.0.0.0/1", 80, 80, 4)])
    first = estate_of(open_a, private, halves)
    found = exposed_groups(first)
    assert [(g.uid, [e.rule.location.line for e in exps]) for g, exps in found] == [
        ("a#open", [1]), ("a#halves", [3, 4])]
    assert all(exps is internet_exposure(first, g) for g, exps in found)
    second = estate_of(private)
    assert exposed_groups(second) == []
    assert [g.uid for g, _ in exposed_groups(first)] == ["a#open", "a#halves"]
    assert exposed_groups(Estate()) == []  # no group: nothing asks internet_exposure
    assert [g.uid for g, _ in exposed_groups(first)] == ["a#open", "a#halves"]


def test_remediation_with_names_that_are_not_plain_formats_with_every_value() -> None:
    remediation = Remediation(summary="{ids[0]} of {resource}", console="{resource}: {{literal}}")
    # values reach the templates as text, so ids[0] is the first character of "['sg-1']"
    assert remediation.render({"ids": ["sg-1"], "resource": "r", "other": 2}) == {
        "summary": "[ of r", "console": "r: {literal}"}
