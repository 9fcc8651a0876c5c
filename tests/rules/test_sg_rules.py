"""SG101-SG111: exact findings on the fixtures (both formats) and model-built semantics."""
from __future__ import annotations

from pathlib import Path

import pytest

from iacscan.findings import Finding, Severity
from iacscan.model import (
    Direction, Estate, Location, Peer, PeerKind, PrefixList, Rule, SecurityGroup, Unknown, Workload,
)
from iacscan.ruleset import load_ruleset
from iacscan.scan import ScanResult, run_rules
from tests.helpers import hits, rule_fixture, scan_path

# ------------------------------------------------------------------ fixtures

FAIL = {
    ("SG101", "terraform", "fail"): {
        ("SG101", "aws_security_group.fail_ssh", "main.tf", 13),  # after a self = true block
        ("SG101", "aws_security_group.fail_postgres", "main.tf", 25),
        ("SG101", "aws_security_group.fail_split", "main.tf", 37),  # 0.0.0.0/1 ...
        ("SG101", "aws_security_group.fail_split", "main.tf", 44),  # ... + 128.0.0.0/1
        ("SG101", "aws_security_group.fail_prefix", "main.tf", 56),  # prefix list + open CIDR
        ("SG101", "aws_security_group.fail_numbers", "main.tf", 69),  # protocol "6"
        ("SG101", "aws_security_group.fail_numbers", "main.tf", 76),  # protocol "17"
        ("SG101", "aws_security_group.fail_ipv6", "main.tf", 88),  # ::/0
        ("SG101", "aws_security_group.fail_range", "main.tf", 100),  # 0-1000 holds 22
        ("SG101", "aws_vpc_security_group_ingress_rule.fail_redis", "main.tf", 114),
        ("SG101", "aws_security_group_rule.fail_mongo", "main.tf", 123),
        ("SG101", "aws_security_group.fail_dynamic", "main.tf", 141),  # dynamic "ingress" over [22, 3389]
    },
    ("SG101", "cloudformation", "fail.yaml"): {
        ("SG101", "FailSsh", "fail.yaml", 9),
        ("SG101", "FailPostgres", "fail.yaml", 24),  # IpProtocol "6", ::/0
        ("SG101", "FailRdpIngress", "fail.yaml", 29),
    },
    ("SG102", "terraform", "fail"): {
        ("SG102", "aws_security_group.fail_all", "main.tf", 5),
        ("SG102", "aws_security_group.fail_tcp_all", "main.tf", 16),
        ("SG102", "aws_vpc_security_group_ingress_rule.fail_all_rule", "main.tf", 30),
    },
    ("SG102", "cloudformation", "fail.yaml"): {
        ("SG102", "FailAll", "fail.yaml", 9),  # IpProtocol -1 without ports
        ("SG102", "FailAllIngress", "fail.yaml", 16),
    },
    ("SG103", "terraform", "fail"): {
        ("SG103", "aws_security_group.fail_wide", "main.tf", 5),
        ("SG103", "aws_security_group.fail_wide", "main.tf", 12),
    },
    ("SG103", "cloudformation", "fail.yaml"): {("SG103", "FailWide", "fail.yaml", 9)},
    ("SG104", "terraform", "fail"): {
        ("SG104", "aws_security_group.fail_broad", "main.tf", 5),
        ("SG104", "aws_security_group.fail_broad", "main.tf", 12),
    },
    ("SG104", "cloudformation", "fail.yaml"): {("SG104", "FailBroad", "fail.yaml", 9)},
    ("SG105", "terraform", "fail"): {
        ("SG105", "aws_security_group.fail_egress", "main.tf", 5),
        ("SG105", "aws_vpc_security_group_egress_rule.fail_egress_v6", "main.tf", 14),
    },
    ("SG105", "cloudformation", "fail.yaml"): {("SG105", "FailEgress", "fail.yaml", 9)},
    ("SG106", "terraform", "fail"): {
        ("SG106", "aws_security_group.fail_no_desc", "main.tf", 3),
        ("SG106", "aws_security_group.fail_no_desc", "main.tf", 5),  # one for a block of two CIDRs
        ("SG106", "aws_security_group.fail_default_desc", "main.tf", 13),  # "Managed by Terraform"
        ("SG106", "aws_security_group.fail_default_desc", "main.tf", 22),
        ("SG106", "aws_security_group_rule.fail_rule", "main.tf", 34),
    },
    ("SG106", "cloudformation", "fail.yaml"): {
        ("SG106", "FailNoGroupDesc", "fail.yaml", 4),
        ("SG106", "FailNoRuleDesc", "fail.yaml", 18),
    },
    ("SG107", "terraform", "fail"): {
        ("SG107", "aws_security_group.fail_invalid", "main.tf", 5),  # 8081 > 8080
        ("SG107", "aws_security_group.fail_invalid", "main.tf", 12),  # ports with -1
        ("SG107", "aws_security_group.fail_invalid", "main.tf", 19),  # tcpx
        ("SG107", "aws_security_group.fail_invalid", "main.tf", 26),  # 70000
        ("SG107", "aws_security_group.fail_invalid", "main.tf", 33),  # 10.0.0.300/24
    },
    ("SG107", "cloudformation", "fail.yaml"): {
        ("SG107", "FailInvalid", "fail.yaml", 9),
        ("SG107", "FailInvalid", "fail.yaml", 14),
    },
    ("SG108", "terraform", "fail"): {
        ("SG108", "aws_default_security_group.fail_default", "main.tf", 11),
        ("SG108", "aws_default_security_group.fail_default_used", "main.tf", 22),
    },
    ("SG109", "terraform", "fail"): {("SG109", "aws_security_group.fail_unused", "main.tf", 3)},
    ("SG109", "cloudformation", "fail.yaml"): {("SG109", "FailUnused", "fail.yaml", 4)},
    ("SG110", "terraform", "fail"): {("SG110", "aws_security_group.fail_mixed", "main.tf", 3)},
    ("SG111", "terraform", "fail"): {
        ("SG111", "aws_security_group.fail_dup", "main.tf", 12),  # the later duplicate only
        ("SG111", "aws_security_group.fail_shadow", "main.tf", 23),  # covered by a later rule
        ("SG111", "aws_security_group.fail_shadow", "main.tf", 37),  # inside its own block
    },
    ("SG111", "cloudformation", "fail.yaml"): {("SG111", "FailDup", "fail.yaml", 14)},
}

PASS = [
    (f"SG1{n:02d}", "terraform", "pass") for n in range(1, 12)
] + [
    (f"SG1{n:02d}", "cloudformation", "pass.yaml") for n in range(1, 12)
] + [
    ("SG109", "terraform", "pass_no_workloads"),
    ("SG109", "terraform", "pass_unknown"),
]

_CACHE: dict[tuple[str, ...], ScanResult] = {}


def _scan(*parts: str, ruleset: str | None = None) -> ScanResult:
    key = (*parts, ruleset or "")
    if key not in _CACHE:
        _CACHE[key] = scan_path(rule_fixture(*parts), ruleset)
    return _CACHE[key]


@pytest.mark.parametrize("case", sorted(FAIL), ids=lambda c: "/".join(c))
def test_fail_fixture(case: tuple[str, str, str]) -> None:
    result = _scan(*case)
    assert result.rule_errors == []
    assert hits(result, case[0]) == FAIL[case]


@pytest.mark.parametrize("case", PASS, ids=lambda c: "/".join(c))
def test_pass_fixture(case: tuple[str, str, str]) -> None:
    result = _scan(*case)
    assert result.rule_errors == []
    assert result.estate.groups, "the fixture must hold groups to judge"
    assert hits(result, case[0]) == set()


def _by_line(result: ScanResult, rule_id: str) -> dict[tuple[str, int], Finding]:
    return {(f.resource, f.line): f for f in result.findings if f.rule_id == rule_id}


def test_sg101_fixture_severities_and_details() -> None:
    found = _by_line(_scan("SG101", "terraform", "fail"), "SG101")
    assert found[("aws_security_group.fail_ssh", 13)].severity is Severity.CRITICAL
    assert found[("aws_security_group.fail_postgres", 25)].severity is Severity.HIGH
    assert found[("aws_security_group.fail_split", 37)].severity is Severity.CRITICAL
    assert found[("aws_security_group.fail_split", 37)].extra["together_with"] == ["128.0.0.0/1"]
    assert found[("aws_security_group.fail_numbers", 69)].details == {
        "direction": "ingress", "protocol": "tcp", "ports": "3306", "peer": "0.0.0.0/0"}
    assert found[("aws_security_group.fail_numbers", 76)].details["protocol"] == "udp"
    assert found[("aws_security_group.fail_ipv6", 88)].details["peer"] == "::/0"
    assert found[("aws_security_group.fail_range", 100)].details["ports"] == "0-1000"
    assert 22 in found[("aws_security_group.fail_range", 100)].extra["sensitive_ports"]
    assert found[("aws_security_group.fail_prefix", 56)].details["peer"] == "0.0.0.0/0"


def test_sg101_pass_reports_the_unresolved_variable_instead() -> None:
    result = _scan("SG101", "terraform", "pass")
    notes = [f for f in result.findings if f.rule_id == "IAC002"]
    assert {(f.resource, f.line) for f in notes} == {("aws_security_group.pass_bastion", 15)}
    assert "var.admin_cidr" in notes[0].message


def test_sg102_is_not_also_sg101_or_sg103() -> None:
    result = _scan("SG102", "terraform", "fail")
    assert hits(result, "SG101") == set()
    assert hits(result, "SG103") == set()


def test_sg103_strict_ruleset_lowers_the_limit() -> None:
    result = _scan("SG103", "terraform", "pass", ruleset="strict")
    assert hits(result, "SG103") == {("SG103", "aws_security_group.pass_narrow", "main.tf", 6)}


def test_sg109_pass_unknown_fixture_really_has_an_unknown_group() -> None:
    result = _scan("SG109", "terraform", "pass_unknown")
    assert any(isinstance(g, Unknown) for w in result.estate.workloads.values() for g in w.groups)


def test_sg110_details_list_standalone_rules() -> None:
    (finding,) = [f for f in _scan("SG110", "terraform", "fail").findings if f.rule_id == "SG110"]
    assert finding.details == {"standalone": [
        "aws_security_group_rule.fail_mixed_ssh", "aws_vpc_security_group_egress_rule.fail_mixed_out"]}


def test_remediation_renders_real_commands() -> None:
    found = _by_line(_scan("SG101", "terraform", "fail"), "SG101")
    rem = found[("aws_security_group.fail_ssh", 13)].remediation
    assert rem["cli"] == (
        "aws ec2 revoke-security-group-ingress --group-id <group-id> --ip-permissions "
        "'[{\"IpProtocol\": \"tcp\", \"FromPort\": 22, \"ToPort\": 22, \"IpRanges\": [{\"CidrIp\": \"0.0.0.0/0\"}]}]'")
    assert "revoke_security_group_ingress(GroupId=\"<group-id>\"" in rem["boto3"]
    assert "from_port   = 22" in rem["terraform"] and "FromPort: 22" in rem["cloudformation"]


# ------------------------------------------------------------------ model-built

F = "main.tf"


def rule(proto: str | Unknown, lo: object, hi: object, peer: Peer | str, line: int,
         direction: Direction = Direction.INGRESS, description: str | None = "d", origin: str = "") -> Rule:
    if isinstance(peer, str):
        peer = Peer(PeerKind.CIDR, peer)
    return Rule(direction, proto, lo, hi, peer, description, Location(F, line),  # type: ignore[arg-type]
                origin=f".#{origin}" if origin else "", origin_address=origin)


def group(name: str, *rules: Rule, scope: str = ".", **kw: object) -> SecurityGroup:
    address = f"aws_security_group.{name}"
    kw.setdefault("description", "g")
    return SecurityGroup(uid=f"{scope}#{address}", address=address, name=name, vpc=None,
                         rules=list(rules), location=Location(F, 1), **kw)  # type: ignore[arg-type]


def run(*groups: SecurityGroup, ruleset: str | None = None, **estate_kw: object) -> ScanResult:
    estate = Estate(groups={g.uid: g for g in groups}, **estate_kw)  # type: ignore[arg-type]
    result = run_rules(estate, load_ruleset(ruleset))
    assert result.rule_errors == []
    return result


def lines(result: ScanResult, rule_id: str) -> set[int]:
    return {f.line for f in result.findings if f.rule_id == rule_id}


def severity_at(result: ScanResult, rule_id: str, line: int) -> Severity:
    (finding,) = [f for f in result.findings if f.rule_id == rule_id and f.line == line]
    return finding.severity


def test_union_of_halves_on_the_same_port_is_the_internet() -> None:
    result = run(group("a", rule("tcp", 22, 22, "0.0.0.0/1", 3), rule("tcp", 20, 30, "128.0.0.0/1", 4),
                       rule("tcp", 22, 22, "10.0.0.0/8", 5)))
    assert lines(result, "SG101") == {3, 4}  # the private range takes no part
    assert severity_at(result, "SG101", 4) is Severity.CRITICAL
    assert lines(result, "SG104") == set()  # reported as internet, not as broad


def test_union_needs_overlapping_traffic_and_full_cover() -> None:
    disjoint = run(group("a", rule("tcp", 22, 22, "0.0.0.0/1", 3), rule("tcp", 3389, 3389, "128.0.0.0/1", 4)))
    assert lines(disjoint, "SG101") == set()
    gap = run(group("a", rule("tcp", 22, 22, "0.0.0.0/1", 3), rule("tcp", 22, 22, "128.0.0.0/2", 4)))
    assert lines(gap, "SG101") == set()
    assert lines(gap, "SG104") == {3, 4}
    ipv6 = run(group("a", rule("tcp", 22, 22, "::/1", 3), rule("tcp", 22, 22, "8000::/1", 4)))
    assert lines(ipv6, "SG101") == {3, 4}


def test_admin_ports_are_critical_other_sensitive_ports_high() -> None:
    result = run(group("a", rule("tcp", 22, 22, "0.0.0.0/0", 3), rule("tcp", 5432, 5432, "0.0.0.0/0", 4),
                       rule("tcp", 3389, 3389, "::/0", 5), rule("tcp", 443, 443, "0.0.0.0/0", 6)))
    assert lines(result, "SG101") == {3, 4, 5}
    assert severity_at(result, "SG101", 3) is Severity.CRITICAL
    assert severity_at(result, "SG101", 4) is Severity.HIGH
    assert severity_at(result, "SG101", 5) is Severity.CRITICAL


def test_ruleset_pinned_severity_wins(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("extends: default\nrules:\n  SG101: {severity: medium}\n")
    result = run(group("a", rule("tcp", 22, 22, "0.0.0.0/0", 3)), ruleset=str(path))
    assert severity_at(result, "SG101", 3) is Severity.MEDIUM


def test_protocol_all_is_sg102_only() -> None:
    result = run(group("a", rule("all", None, None, "0.0.0.0/0", 3), rule("udp", 0, 65535, "0.0.0.0/0", 4)))
    assert lines(result, "SG102") == {3, 4}
    assert lines(result, "SG101") == lines(result, "SG103") == set()


def test_range_with_sensitive_ports_and_wide_range() -> None:
    result = run(group("a", rule("tcp", 0, 1000, "0.0.0.0/0", 3), rule("tcp", 0, 2000, "0.0.0.0/0", 4),
                       rule("tcp", 30000, 40000, "0.0.0.0/0", 5)))
    assert lines(result, "SG101") == {3, 4}
    assert lines(result, "SG103") == {4, 5}


def test_wide_port_range_option(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("extends: default\nwide_port_range: 10\n")
    g = group("a", rule("tcp", 8000, 8010, "0.0.0.0/0", 3), rule("tcp", 8000, 8009, "0.0.0.0/0", 4))
    assert lines(run(g), "SG103") == set()
    assert lines(run(g, ruleset=str(path)), "SG103") == {3}


def test_broad_range_default_is_wider_than_a_slash_16() -> None:
    result = run(group("a", rule("tcp", 443, 443, "52.0.0.0/15", 3), rule("tcp", 443, 443, "52.2.0.0/16", 4),
                       rule("tcp", 443, 443, "10.0.0.0/8", 5), rule("tcp", 443, 443, "2600::/31", 6),
                       rule("tcp", 443, 443, "2600::/32", 7), rule("tcp", 443, 443, "0.0.0.0/0", 8)))
    assert lines(result, "SG104") == {3, 6}
    (finding,) = [f for f in result.findings if f.rule_id == "SG104" and f.line == 3]
    assert 0 < finding.extra["public_share"] < 0.001


def test_broad_range_share_option(tmp_path: Path) -> None:
    g = group("a", rule("tcp", 443, 443, "52.0.0.0/8", 3), rule("tcp", 443, 443, "52.2.0.0/16", 4))
    loose = tmp_path / "loose.yaml"
    loose.write_text("extends: default\nbroad_range_share: 0.01\n")
    tight = tmp_path / "tight.yaml"
    tight.write_text("extends: default\nbroad_range_share: 0.00001\n")
    assert lines(run(g, ruleset=str(loose)), "SG104") == set()
    assert lines(run(g, ruleset=str(tight)), "SG104") == {3, 4}


def test_unknown_peer_is_not_guessed() -> None:
    peer = Peer(PeerKind.UNKNOWN, unknown=Unknown("var.admin_cidr has no value"))
    result = run(group("a", rule("tcp", 22, 22, peer, 3), rule(Unknown("var.p has no value"), 22, 22,
                                                               "0.0.0.0/0", 4)))
    assert {f.rule_id for f in result.findings} == {"IAC002"}
    messages = sorted(f.message for f in result.findings)
    assert any("var.admin_cidr has no value" in m for m in messages)
    assert any("var.p has no value" in m for m in messages)


def test_self_groups_and_undefined_prefix_lists_are_not_the_internet() -> None:
    result = run(
        group("a", rule("all", None, None, Peer(PeerKind.SELF), 3),
              rule("tcp", 22, 22, Peer(PeerKind.GROUP, "sg-0123"), 4),
              rule("tcp", 22, 22, Peer(PeerKind.PREFIX_LIST, "pl-0123"), 5)))
    assert {f.rule_id for f in result.findings} == set()


def test_defined_prefix_list_with_the_internet_counts() -> None:
    plist = PrefixList(uid=".#aws_ec2_managed_prefix_list.open", address="aws_ec2_managed_prefix_list.open",
                       entries=["203.0.113.0/24", "0.0.0.0/0"])
    result = run(group("a", rule("tcp", 22, 22, Peer(PeerKind.PREFIX_LIST, plist.uid), 3)),
                 prefix_lists={plist.uid: plist})
    assert lines(result, "SG101") == {3}
    (finding,) = [f for f in result.findings if f.rule_id == "SG101"]
    assert finding.details["peer"] == "aws_ec2_managed_prefix_list.open"


def test_standalone_rule_is_named_itself() -> None:
    result = run(group("a", rule("tcp", 22, 22, "0.0.0.0/0", 9, origin="aws_security_group_rule.ssh")))
    (finding,) = [f for f in result.findings if f.rule_id == "SG101"]
    assert (finding.resource, finding.uid, finding.line) == ("aws_security_group_rule.ssh",
                                                             ".#aws_security_group_rule.ssh", 9)


def test_implicit_egress_is_not_sg105() -> None:
    result = run(group("a", implicit_egress=True, source="cloudformation"),
                 group("b", rule("all", None, None, "::/0", 3, direction=Direction.EGRESS),
                       rule("tcp", 0, 65535, "0.0.0.0/0", 4, direction=Direction.EGRESS)))
    assert lines(result, "SG105") == {3}


def test_shadowing_reports_the_later_duplicate_and_covered_rules() -> None:
    result = run(group("a", rule("tcp", 22, 22, "10.0.0.0/16", 3), rule("tcp", 22, 22, "10.0.0.0/16", 4),
                       rule("tcp", 80, 80, Peer(PeerKind.SELF), 5), rule("all", None, None, Peer(PeerKind.SELF), 6),
                       rule("tcp", 22, 22, "10.0.0.0/16", 7, direction=Direction.EGRESS),
                       rule("tcp", 22, 23, "10.0.0.0/24", 8)))
    assert lines(result, "SG111") == {4, 5}


def test_unused_groups_and_conservatism() -> None:
    web = Workload(uid=".#aws_instance.web", address="aws_instance.web", kind="aws_instance",
                   groups=[".#aws_security_group.used"])
    estate_groups = (group("used"), group("unused"), group("other", scope="other"))
    result = run(*estate_groups, workloads={web.uid: web})
    assert {f.resource for f in result.findings if f.rule_id == "SG109"} == {"aws_security_group.unused"}
    vague = Workload(uid=".#aws_instance.x", address="aws_instance.x", kind="aws_instance",
                     groups=[Unknown("var.groups has no value")])
    result = run(*estate_groups, workloads={web.uid: web, vague.uid: vague})
    assert lines(result, "SG109") == set()
    referencing = group("ref", rule("tcp", 22, 22, Peer(PeerKind.UNKNOWN, unknown=Unknown("data source")), 3))
    result = run(*estate_groups, referencing, workloads={web.uid: web})
    assert lines(result, "SG109") == set()


def test_default_group_rules_or_members() -> None:
    web = Workload(uid=".#aws_instance.web", address="aws_instance.web", kind="aws_instance",
                   groups=[".#aws_security_group.used_default"])
    result = run(group("empty_default", is_default=True), group("used_default", is_default=True),
                 group("ruled_default", rule("all", None, None, Peer(PeerKind.SELF), 3), is_default=True),
                 workloads={web.uid: web})
    assert {f.resource for f in result.findings if f.rule_id == "SG108"} == {
        "aws_security_group.used_default", "aws_security_group.ruled_default"}
    assert {f.resource for f in result.findings if f.rule_id == "SG109"} == set()


def test_sg110_only_terraform() -> None:
    inline = rule("tcp", 443, 443, "10.0.0.0/16", 3)
    standalone = rule("tcp", 22, 22, "10.0.0.0/16", 9, origin="aws_security_group_rule.x")
    result = run(group("tf", inline, standalone), group("cfn", inline, standalone, source="cloudformation"))
    assert {f.resource for f in result.findings if f.rule_id == "SG110"} == {"aws_security_group.tf"}


def test_sg107_unknown_values_are_not_judged() -> None:
    result = run(group("a", rule("tcp", Unknown("var.a"), 10, "10.0.0.0/8", 3), rule("tcp", 10, 5, "10.0.0.0/8", 4),
                       rule("tcp", -1, -1, "10.0.0.0/8", 5), rule("tcp", None, None, "10.0.0.0/8", 6)))
    assert lines(result, "SG107") == {4, 5, 6}


def test_sg106_descriptions() -> None:
    g = group("a", rule("tcp", 1, 1, "10.0.0.0/8", 3, description=None),
              rule("tcp", 1, 1, "10.1.0.0/16", 3, description=None),
              rule("tcp", 2, 2, "10.0.0.0/8", 4, description=Unknown("var.d")))
    g.description = "Managed by Terraform"
    result = run(g, group("dflt", is_default=True, description=None))
    assert lines(result, "SG106") == {1, 3}
    assert len([f for f in result.findings if f.rule_id == "SG106"]) == 2


def test_sg106_tells_apart_live_rules_that_share_an_empty_location() -> None:
    live = Location("", 0, resource_id="sg-0db")
    ingress = Rule(Direction.INGRESS, "tcp", 5432, 5432, Peer(PeerKind.GROUP, "sg-0app"), None, live)
    egress = Rule(Direction.EGRESS, "all", None, None, Peer(PeerKind.CIDR, "0.0.0.0/0"), None, live)
    db = SecurityGroup(uid="live:1:r#sg-0db", address="sg-0db", name="db", description="g", vpc=None,
                       rules=[ingress, egress], location=live, source="live", live_id="sg-0db")
    found = [(f.details["direction"], f.details["peer"]) for f in run(db).findings if f.rule_id == "SG106"]
    assert sorted(found) == [("egress", "0.0.0.0/0"), ("ingress", "sg-0app")]


def test_invalid_ports_are_sg107_only_never_shadowing_or_internet() -> None:
    result = run(group("a", rule("tcp", -5, 22, "0.0.0.0/0", 3), rule("tcp", 70000, 70001, "0.0.0.0/0", 4)))
    assert lines(result, "SG107") == {3, 4}
    assert lines(result, "SG111") == set()
    assert lines(result, "SG101") == set()
