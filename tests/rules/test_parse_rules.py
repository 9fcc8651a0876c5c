"""IAC001 (parse errors) and IAC002 (unresolved values): fixtures and model-built cases."""
from __future__ import annotations

import pytest

from iacscan.findings import Severity
from iacscan.model import (
    Direction, Estate, Location, ParseError, Peer, PeerKind, Rule, SecurityGroup, Unknown, Unresolved,
)
from iacscan.ruleset import load_ruleset
from iacscan.scan import ScanResult, run_rules
from tests.helpers import hits, rule_fixture, scan_path

FAIL = {
    ("IAC001", "terraform", "fail"): {("IAC001", "main.tf", "main.tf", 6)},
    ("IAC001", "cloudformation", "fail.yaml"): {("IAC001", "fail.yaml", "fail.yaml", 8)},
    ("IAC002", "terraform", "fail"): {
        ("IAC002", "aws_security_group.fail_unknown", "main.tf", 18),  # cidr_blocks = [var.admin_cidr]
        ("IAC002", "aws_security_group.fail_unknown", "main.tf", 25),  # from_port = var.app_port
        ("IAC002", "aws_security_group_rule.fail_unknown_group", "main.tf", 34),  # security_group_id
    },
    ("IAC002", "cloudformation", "fail.yaml"): {("IAC002", "FailParam", "fail.yaml", 12)},
}
PASS = [(rid, "terraform", "pass") for rid in ("IAC001", "IAC002")] + [
    (rid, "cloudformation", "pass.yaml") for rid in ("IAC001", "IAC002")]


def _scan(*parts: str) -> ScanResult:
    return scan_path(rule_fixture(*parts))


@pytest.mark.parametrize("case", sorted(FAIL), ids=lambda c: "/".join(c))
def test_fail_fixture(case: tuple[str, str, str]) -> None:
    result = _scan(*case)
    assert result.rule_errors == []
    assert hits(result, case[0]) == FAIL[case]


@pytest.mark.parametrize("case", PASS, ids=lambda c: "/".join(c))
def test_pass_fixture(case: tuple[str, str, str]) -> None:
    result = _scan(*case)
    assert result.rule_errors == []
    assert result.estate.groups
    assert hits(result, case[0]) == set()


def test_broken_file_does_not_stop_the_scan() -> None:
    result = _scan("IAC001", "terraform", "fail")
    assert hits(result, "SG101") == {("SG101", "aws_security_group.fail_still_scanned", "ok.tf", 3)}
    (finding,) = [f for f in result.findings if f.rule_id == "IAC001"]
    assert finding.severity is Severity.HIGH
    assert finding.message.endswith("fix the syntax; the rest of the scan went on")


def test_unresolved_messages_name_the_variable() -> None:
    result = _scan("IAC002", "terraform", "fail")
    messages = {f.line: f.message for f in result.findings if f.rule_id == "IAC002"}
    assert "var.admin_cidr" in messages[18]
    assert "var.app_port" in messages[25]
    assert "var.group_id" in messages[34]
    assert hits(result, "SG101") == set()
    cfn = _scan("IAC002", "cloudformation", "fail.yaml")
    assert "AdminCidr" in next(f.message for f in cfn.findings if f.rule_id == "IAC002")


def _run(estate: Estate) -> ScanResult:
    result = run_rules(estate, load_ruleset())
    assert result.rule_errors == []
    return result


def test_one_iac001_per_error() -> None:
    estate = Estate(errors=[ParseError("a/main.tf", 3, "Unexpected token."), ParseError("b.yaml", 1, "bad")])
    result = _run(estate)
    found = sorted((f.resource, f.file, f.line, f.message) for f in result.findings if f.rule_id == "IAC001")
    assert found == [
        ("a/main.tf", "a/main.tf", 3, "Unexpected token: fix the syntax; the rest of the scan went on"),
        ("b.yaml", "b.yaml", 1, "bad: fix the syntax; the rest of the scan went on"),
    ]


def test_iac002_deduplicates_per_resource_and_value() -> None:
    unknown = Peer(PeerKind.UNKNOWN, unknown=Unknown("var.cidrs has no value"))
    rules = [Rule(Direction.INGRESS, "tcp", 22, 22, unknown, "d", Location("main.tf", 5)),
             Rule(Direction.INGRESS, "tcp", 22, 22, unknown, "d", Location("main.tf", 5)),
             Rule(Direction.INGRESS, "tcp", 443, 443, unknown, "d", Location("main.tf", 12)),
             Rule(Direction.EGRESS, Unknown("local.proto is unknown"), 0, 0, Peer(PeerKind.CIDR, "10.0.0.0/8"),
                  "d", Location("main.tf", 20))]
    group = SecurityGroup(uid=".#aws_security_group.a", address="aws_security_group.a", name="a",
                          description="g", vpc=None, rules=rules, location=Location("main.tf", 1))
    note = Unresolved("aws_security_group_rule.r", ".#aws_security_group_rule.r", "security_group_id",
                      "var.sg has no value", Location("main.tf", 30))
    result = _run(Estate(groups={group.uid: group}, unresolved=[note, note]))
    found = sorted((f.resource, f.line, f.details["what"]) for f in result.findings if f.rule_id == "IAC002")
    assert found == [
        ("aws_security_group.a", 5, "peer of ingress rule (tcp 22)"),
        ("aws_security_group.a", 12, "peer of ingress rule (tcp 443)"),
        ("aws_security_group.a", 20, "protocol of egress rule"),
        ("aws_security_group_rule.r", 30, "security_group_id"),
    ]
    assert all(f.severity is Severity.INFO for f in result.findings if f.rule_id == "IAC002")
