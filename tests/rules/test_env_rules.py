"""ENV201-ENV203: fixtures (both formats) and model-built semantics."""
from __future__ import annotations

from collections.abc import Sequence

from iacscan.model import (
    Direction, Estate, Location, Peer, PeerKind, Rule, SecurityGroup, Subnet, Unknown, Vpc, Workload,
)
from iacscan.ruleset import load_ruleset
from iacscan.scan import ScanResult, run_rules
from tests.helpers import hits, rule_fixture, scan_path


# ------------------------------------------------------------------ fixtures

def test_env201_terraform_fail() -> None:
    assert hits(scan_path(rule_fixture("ENV201", "terraform", "fail")), "ENV201") == {
        ("ENV201", "aws_instance.fail_dev_box", "main.tf", 15),
        ("ENV201", "aws_instance.fail_prod_app", "main.tf", 22),
    }


def test_env201_cloudformation_fail() -> None:
    assert hits(scan_path(rule_fixture("ENV201", "cloudformation", "fail.yaml")), "ENV201") == {
        ("ENV201", "FailInstance", "fail.yaml", 12),
    }


def test_env202_terraform_fail() -> None:
    assert hits(scan_path(rule_fixture("ENV202", "terraform", "fail")), "ENV202") == {
        ("ENV202", "aws_security_group.fail_db", "main.tf", 14),
        ("ENV202", "aws_security_group.fail_cache", "main.tf", 30),  # the standalone rule's line
    }


def test_env202_cloudformation_fail() -> None:
    assert hits(scan_path(rule_fixture("ENV202", "cloudformation", "fail.yaml")), "ENV202") == {
        ("ENV202", "FailDbGroup", "fail.yaml", 18),
        ("ENV202", "FailCacheGroup", "fail.yaml", 33),
    }


def test_env203_terraform_fail() -> None:
    assert hits(scan_path(rule_fixture("ENV203", "terraform", "fail")), "ENV203") == {
        ("ENV203", "aws_instance.fail_web", "main.tf", 20),
    }


def test_env203_cloudformation_fail() -> None:
    assert hits(scan_path(rule_fixture("ENV203", "cloudformation", "fail.yaml")), "ENV203") == {
        ("ENV203", "FailWeb", "fail.yaml", 22),
    }


def test_env_pass_fixtures_have_no_findings() -> None:
    for rule_id in ("ENV201", "ENV202", "ENV203"):
        assert hits(scan_path(rule_fixture(rule_id, "terraform", "pass")), rule_id) == set(), rule_id
        assert hits(scan_path(rule_fixture(rule_id, "cloudformation", "pass.yaml")), rule_id) == set(), rule_id


def test_env201_fixture_details() -> None:
    result = scan_path(rule_fixture("ENV201", "terraform", "fail"))
    details = {f.resource: f.details for f in result.findings if f.rule_id == "ENV201"}
    assert details == {
        "aws_instance.fail_dev_box": {"group": "aws_security_group.app_prod", "group_environment": "prod",
                                      "workload_environment": "dev"},
        "aws_instance.fail_prod_app": {"group": "aws_security_group.app_dev", "group_environment": "dev",
                                       "workload_environment": "prod"},
    }


# ------------------------------------------------------------------ model-built semantics

def _group(name: str, env_tag: str | None = None, vpc: str | Unknown | None = None,
           rules: list[Rule] | None = None, line: int = 1) -> SecurityGroup:
    return SecurityGroup(uid=f".#aws_security_group.{name}", address=f"aws_security_group.{name}", name=None,
                         description="x", vpc=vpc, tags={"Environment": env_tag} if env_tag else {},
                         rules=rules or [], location=Location("main.tf", line))


def _workload(name: str, groups: list[str | Unknown], env_tag: str | None = None,
              vpc: str | Unknown | None = None, subnets: list[str | Unknown] | None = None) -> Workload:
    return Workload(uid=f".#aws_instance.{name}", address=f"aws_instance.{name}", kind="aws_instance",
                    groups=groups, vpc=vpc, subnets=subnets or [],
                    tags={"Environment": env_tag} if env_tag else {}, location=Location("main.tf", 50))


def _run(estate: Estate, ruleset: str | None = None) -> ScanResult:
    return run_rules(estate, load_ruleset(ruleset))


def _estate(groups: Sequence[SecurityGroup], workloads: Sequence[Workload] = (), vpcs: Sequence[Vpc] = (),
            subnets: Sequence[Subnet] = ()) -> Estate:
    estate = Estate()
    estate.groups = {g.uid: g for g in groups}
    estate.workloads = {w.uid: w for w in workloads}
    estate.vpcs = {v.uid: v for v in vpcs}
    estate.subnets = {s.uid: s for s in subnets}
    return estate


def test_env201_needs_both_environments_known() -> None:
    prod = _group("prod_app", "prod")
    unlabelled = _group("app")
    estate = _estate([prod, unlabelled], [
        _workload("box", [prod.uid]),  # no environment: not judged
        _workload("dev_box", [unlabelled.uid], "dev"),  # group without environment: not judged
        _workload("other", [Unknown("var.sg"), "sg-0123456789abcdef0"], "dev"),  # unresolved groups
    ])
    assert hits(_run(estate), "ENV201") == set()


def test_env201_shared_environment_is_never_a_mismatch() -> None:
    shared = _group("monitoring", "Shared")
    common = _group("common_tools", "common")
    estate = _estate([shared, common], [_workload("dev_box", [shared.uid, common.uid], "dev")])
    assert hits(_run(estate), "ENV201") == set()


def test_env201_tag_values_are_normalised_before_comparing() -> None:
    group = _group("app", "Production")
    estate = _estate([group], [_workload("box", [group.uid], "prod")])
    assert hits(_run(estate), "ENV201") == set()


def test_env201_severity_and_environment() -> None:
    group = _group("app", "prod")
    estate = _estate([group], [_workload("box", [group.uid], "staging")])
    [finding] = [f for f in _run(estate).findings if f.rule_id == "ENV201"]
    assert (finding.severity.value, finding.environment, finding.line) == ("high", "staging", 50)
    assert finding.details["group_environment"] == "prod"


def _ingress(peer: Peer, line: int, protocol: str = "tcp", ports: tuple[int | None, int | None] = (5432, 5432),
             direction: Direction = Direction.INGRESS, origin: str = "") -> Rule:
    return Rule(direction, protocol, ports[0], ports[1], peer, location=Location("main.tf", line),
                origin=origin, origin_address=origin.split("#")[-1])


def test_env202_rule_level_findings_and_details() -> None:
    dev = _group("app_dev", "dev")
    shared = _group("ci", "shared")
    prod = _group("db", "prod", rules=[
        _ingress(Peer(PeerKind.GROUP, dev.uid), 10),
        _ingress(Peer(PeerKind.GROUP, dev.uid), 11, "all", (None, None)),
        _ingress(Peer(PeerKind.GROUP, shared.uid), 12),
        _ingress(Peer(PeerKind.SELF), 13),
        _ingress(Peer(PeerKind.GROUP, "sg-0123456789abcdef0"), 14),  # not in the model
        _ingress(Peer(PeerKind.UNKNOWN, unknown=Unknown("var.sg")), 15),
        _ingress(Peer(PeerKind.GROUP, dev.uid), 16, direction=Direction.EGRESS),
    ])
    result = _run(_estate([dev, shared, prod]))
    assert hits(result, "ENV202") == {
        ("ENV202", "aws_security_group.db", "main.tf", 10),
        ("ENV202", "aws_security_group.db", "main.tf", 11),
    }
    details = sorted((f.details["protocol"], f.details["ports"], f.details["peer"], f.details["peer_environment"])
                     for f in result.findings if f.rule_id == "ENV202")
    assert details == [("all", "all", "aws_security_group.app_dev", "dev"),
                       ("tcp", "5432", "aws_security_group.app_dev", "dev")]


def test_env202_standalone_rule_names_the_group_at_the_rule_line() -> None:
    dev = _group("app_dev", "dev")
    rule = Rule(Direction.INGRESS, "tcp", 6379, 6379, Peer(PeerKind.GROUP, dev.uid),
                location=Location("rules.tf", 7), origin=".#aws_security_group_rule.x",
                origin_address="aws_security_group_rule.x")
    prod = _group("cache", "prod", rules=[rule])
    assert hits(_run(_estate([dev, prod])), "ENV202") == {("ENV202", "aws_security_group.cache", "rules.tf", 7)}


def test_env202_peer_found_by_live_id() -> None:
    dev = _group("app_dev", "dev")
    dev.live_id = "sg-0aaaaaaaaaaaaaaaa"
    prod = _group("db", "prod", rules=[_ingress(Peer(PeerKind.GROUP, "sg-0aaaaaaaaaaaaaaaa"), 9)])
    assert hits(_run(_estate([dev, prod])), "ENV202") == {("ENV202", "aws_security_group.db", "main.tf", 9)}


def _vpc(name: str, scope: str = ".") -> Vpc:
    return Vpc(uid=f"{scope}#aws_vpc.{name}", address=f"aws_vpc.{name}", location=Location("main.tf", 1))


def test_env203_model_vpcs_differ() -> None:
    blue, green = _vpc("blue"), _vpc("green")
    group = _group("app", vpc=blue.uid)
    estate = _estate([group], [_workload("web", [group.uid], vpc=green.uid)], [blue, green])
    result = _run(estate)
    assert hits(result, "ENV203") == {("ENV203", "aws_instance.web", "main.tf", 50)}
    [finding] = [f for f in result.findings if f.rule_id == "ENV203"]
    assert finding.details == {"group": "aws_security_group.app", "group_vpc": "aws_vpc.blue",
                               "workload_vpc": "aws_vpc.green"}


def test_env203_same_address_in_two_roots_are_different_vpcs() -> None:
    prod, dev = _vpc("main", "envs/prod"), _vpc("main", "envs/dev")
    group = _group("app", vpc=prod.uid)
    estate = _estate([group], [_workload("web", [group.uid], vpc=dev.uid)], [prod, dev])
    assert hits(_run(estate), "ENV203") == {("ENV203", "aws_instance.web", "main.tf", 50)}


def test_env203_workload_vpc_from_its_subnets() -> None:
    blue, green = _vpc("blue"), _vpc("green")
    subnet = Subnet(uid=".#aws_subnet.a", address="aws_subnet.a", vpc=green.uid)
    group = _group("app", vpc=blue.uid)
    estate = _estate([group], [_workload("web", [group.uid], subnets=[subnet.uid])], [blue, green], [subnet])
    assert hits(_run(estate), "ENV203") == {("ENV203", "aws_instance.web", "main.tf", 50)}


def test_env203_unknown_or_uncertain_vpcs_are_not_judged() -> None:
    blue = _vpc("blue")
    blue.live_id = "vpc-0bbbbbbbbbbbbbbbb"
    in_blue_by_id = _group("by_id", vpc="vpc-0bbbbbbbbbbbbbbbb")
    raw = _group("raw", vpc="vpc-0ccccccccccccccccc")
    unknown = _group("unknown", vpc=Unknown("var.vpc_id"))
    default_vpc = _group("default_vpc", vpc=None)
    groups = [in_blue_by_id, raw, unknown, default_vpc]
    estate = _estate(groups, [
        _workload("in_blue", [g.uid for g in groups], vpc=blue.uid),  # raw id vs model VPC: uncertain
        _workload("no_vpc", [g.uid for g in groups]),
        _workload("unknown_vpc", [g.uid for g in groups], vpc=Unknown("var.vpc")),
    ], [blue])
    assert hits(_run(estate), "ENV203") == set()


def test_env203_two_raw_ids_differ() -> None:
    group = _group("app", vpc="vpc-0aaaaaaaaaaaaaaaa")
    estate = _estate([group], [_workload("web", [group.uid], vpc="vpc-0bbbbbbbbbbbbbbbb")])
    assert hits(_run(estate), "ENV203") == {("ENV203", "aws_instance.web", "main.tf", 50)}


def test_env_rules_have_documentation_sections() -> None:
    from iacscan.rules.base import REGISTRY, iter_rules

    list(iter_rules())
    for rule_id in ("ENV201", "ENV202", "ENV203"):
        doc = REGISTRY[rule_id].meta.doc
        for section in ("What it finds:", "Why it matters:", "Failing example:", "Passing example:", "Fix:"):
            assert section in doc, (rule_id, section)
        assert REGISTRY[rule_id].meta.family == "env"

