"""Inline suppressions (Terraform comments, CloudFormation Metadata), IAC004, and baselines."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from iacscan.cli import main
from iacscan.findings import Finding
from iacscan.suppress import Suppression, parse_directive, problem
from tests.helpers import FIXTURES, scan_path

SUPPRESS = FIXTURES / "suppress"
Hit = tuple[str, str, str, int]


def _hits(findings: list[Finding]) -> set[Hit]:
    return {(f.rule_id, f.resource, f.file, f.line) for f in findings}


def test_terraform_comments_hide_what_they_cover() -> None:
    result = scan_path(SUPPRESS / "terraform")
    assert _hits(result.suppressed) == {
        ("SG101", "aws_security_group.bastion", "main.tf", 9),  # comment inside that ingress block only
        ("SG101", "aws_security_group.legacy", "main.tf", 28),  # resource-level comment, two rule ids
        ("SG106", "aws_security_group.legacy", "main.tf", 25),
        ("SG106", "aws_security_group.legacy", "main.tf", 28),
    }
    shown = _hits(result.findings)
    assert ("SG101", "aws_security_group.bastion", "main.tf", 17) in shown  # the other ingress block
    assert ("SG106", "aws_security_group.bastion", "main.tf", 9) in shown  # SG106 was not named
    # no reason, expired, unknown rule, unknown option, and a string that only looks like a comment
    for resource, line in (("no_reason", 40), ("expired", 54), ("typo", 66), ("typo", 74)):
        assert ("SG101", f"aws_security_group.{resource}", "main.tf", line) in shown


def test_bad_terraform_suppressions_are_iac004_findings() -> None:
    result = scan_path(SUPPRESS / "terraform")
    bad = {(f.rule_id, f.resource, f.file, f.line): f.message for f in result.findings if f.rule_id == "IAC004"}
    assert set(bad) == {
        ("IAC004", "main.tf", "main.tf", 3),
        ("IAC004", "aws_security_group.no_reason", "main.tf", 41),
        ("IAC004", "aws_security_group.expired", "main.tf", 53),
        ("IAC004", "aws_security_group.typo", "main.tf", 67),
        ("IAC004", "aws_security_group.typo", "main.tf", 75),
    }
    assert "is outside any block" in bad[("IAC004", "main.tf", "main.tf", 3)]
    assert "has no reason" in bad[("IAC004", "aws_security_group.no_reason", "main.tf", 41)]
    assert "expired on 2020-01-31" in bad[("IAC004", "aws_security_group.expired", "main.tf", 53)]
    assert "SG999, which is not a rule id" in bad[("IAC004", "aws_security_group.typo", "main.tf", 67)]
    assert "unknown option 'reson'" in bad[("IAC004", "aws_security_group.typo", "main.tf", 75)]
    assert all(f.severity.value == "medium" for f in result.findings if f.rule_id == "IAC004")


def test_cloudformation_metadata_suppressions() -> None:
    result = scan_path(SUPPRESS / "cloudformation")
    assert _hits(result.suppressed) == {("SG101", "OpenSG", "template.yaml", 15)}
    shown = _hits(result.findings)
    assert {("SG101", "NoReasonSG", "template.yaml", 28), ("SG101", "ExpiredSG", "template.yaml", 43),
            ("SG106", "OpenSG", "template.yaml", 15)} <= shown
    assert {h for h in shown if h[0] == "IAC004"} == {("IAC004", "NoReasonSG", "template.yaml", 24),
                                                      ("IAC004", "ExpiredSG", "template.yaml", 37)}


def test_directive_syntax() -> None:
    assert parse_directive('# iacscan:ignore SG101 reason="VPN only" until=2030-01-01') == \
        (("SG101",), {"reason": "VPN only", "until": "2030-01-01"}, "")
    assert parse_directive("// iacscan:ignore sg101,SG102 reason=short") == \
        (("SG101", "SG102"), {"reason": "short"}, "")
    assert parse_directive("/* iacscan:ignore SG101 reason='single quotes' */") == \
        (("SG101",), {"reason": "single quotes"}, "")
    assert parse_directive("# iacscan:ignore SG-1 reason=x")[2] == "names SG-1, which is not a rule id"


def test_problems_and_dates() -> None:
    known, today = {"SG101"}, date(2026, 6, 1)
    ok = Suppression("a.tf", 2, ("SG101",), "why", "2026-06-01", "aws_security_group.a", 1, 9, ".")
    assert problem(ok, known, today) == ""  # valid through its last day
    assert problem(Suppression("a.tf", 2, ("SG101",), "why", "2026-05-31", "r", 1, 9, "."), known, today) == \
        "expired on 2026-05-31"
    assert "not a date" in problem(Suppression("a.tf", 2, ("SG101",), "why", "soon", "r", 1, 9, "."), known, today)
    assert "has no reason" in problem(Suppression("a.tf", 2, ("SG101",), "  ", None, "r", 1, 9, "."), known, today)
    assert "cannot be suppressed" in problem(Suppression("a.tf", 2, ("IAC001",), "x", None, "r", 1, 9, "."),
                                             known, today)
    assert problem(Suppression("a.tf", 2, (), "x", None, "r", 1, 9, "."), known, today) == "names no rule id"


def test_json_summary_counts_suppressed_without_listing_them(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(SUPPRESS / "terraform")
    assert main(["scan", ".", "--format", "json", "--fail-on", "none"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["suppressed"] == 4 and doc["summary"]["baselined"] == 0
    listed = {(f["rule_id"], f["resource"], f["line"]) for f in doc["findings"]}
    assert ("SG101", "aws_security_group.bastion", 9) not in listed
    assert ("SG101", "aws_security_group.bastion", 17) in listed


def test_disabling_iac004_in_a_ruleset(tmp_path: Path) -> None:
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text("extends: default\nrules:\n  IAC004: {enabled: false}\n", encoding="utf-8")
    result = scan_path(SUPPRESS / "terraform", ruleset=str(ruleset))
    assert not [f for f in result.findings if f.rule_id == "IAC004"]
    assert len(result.suppressed) == 4  # the valid suppressions still apply


# --- baselines -----------------------------------------------------------------------------------

def test_baseline_create_then_scan_hides_listed_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    code = tmp_path / "infra"
    code.mkdir()
    (code / "main.tf").write_text((FIXTURES / "rules" / "SG101" / "terraform" / "fail" / "main.tf")
                                  .read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["baseline", "create", "infra"]) == 0
    assert "wrote" in capsys.readouterr().err
    doc = json.loads((tmp_path / ".iacscan-baseline.json").read_text(encoding="utf-8"))
    assert doc["version"] == 1 and doc["findings"]
    assert list(doc["findings"][0]) == ["fingerprint", "rule_id", "resource", "file"]
    keys = [(e["file"], e["rule_id"], e["resource"], e["fingerprint"]) for e in doc["findings"]]
    assert keys == sorted(keys) and all(e["file"] == "infra/main.tf" for e in doc["findings"])

    # everything baselined: the scan passes and counts what it hid
    assert main(["scan", "infra", "--baseline", ".iacscan-baseline.json", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["findings"] == [] and report["summary"]["baselined"] == len(doc["findings"])

    # a new finding (moved lines do not matter: fingerprints have none) is reported
    text = (code / "main.tf").read_text(encoding="utf-8")
    (code / "main.tf").write_text("\n\n" + text + """
resource "aws_security_group" "brand_new" {
  description = "new"
  ingress {
    description = "new"
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
""", encoding="utf-8")
    assert main(["scan", "infra", "--baseline", ".iacscan-baseline.json", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert {(f["rule_id"], f["resource"]) for f in report["findings"]} == {("SG101", "aws_security_group.brand_new")}


def test_baseline_create_output_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(SUPPRESS)
    out = tmp_path / "b.json"
    assert main(["baseline", "create", "cloudformation", "-o", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert {(e["rule_id"], e["resource"]) for e in doc["findings"]} >= {("SG101", "NoReasonSG"),
                                                                       ("IAC004", "NoReasonSG")}
    assert ("SG101", "OpenSG") not in {(e["rule_id"], e["resource"]) for e in doc["findings"]}  # suppressed


@pytest.mark.parametrize("content, message", [
    (None, "baseline file not found"),
    ("{not json", "is not valid JSON (line 1)"),
    ('{"version": 2, "findings": []}', "is not an iacscan baseline"),
    ('{"version": 1, "findings": [{"rule_id": "SG101"}]}', "entry 1 has no 'fingerprint'"),
])
def test_bad_baseline_file_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str], content: str | None, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    if content is not None:
        (tmp_path / "b.json").write_text(content, encoding="utf-8")
    assert main(["scan", ".", "--baseline", "b.json"]) == 2
    assert message in capsys.readouterr().err
