"""Shared set-up of the reliability tests: a small estate with known findings, and scans of it."""
from __future__ import annotations

from pathlib import Path

from iacscan.findings import Finding
from iacscan.ruleset import load_ruleset
from iacscan.scan import ScanOptions, ScanResult, scan

GOOD_TF = """\
resource "aws_security_group" "ssh" {
  description = "ssh"
  ingress {
    description = "ssh from anywhere"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""

GOOD_CFN = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Rdp:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: rdp
      SecurityGroupIngress:
        - IpProtocol: tcp
          Description: rdp from anywhere
          FromPort: 3389
          ToPort: 3389
          CidrIp: 0.0.0.0/0
"""

#: The findings the good files must keep, whatever sits next to them.
GOOD_SG101 = {("SG101", "aws_security_group.ssh", "good/main.tf", 3), ("SG101", "Rdp", "good/template.yaml", 8)}


def write_good(root: Path) -> None:
    """``good/main.tf`` and ``good/template.yaml``: one open admin port each (SG101)."""
    (root / "good").mkdir(parents=True, exist_ok=True)
    (root / "good" / "main.tf").write_text(GOOD_TF, encoding="utf-8")
    (root / "good" / "template.yaml").write_text(GOOD_CFN, encoding="utf-8")


def scan_dir(root: Path) -> ScanResult:
    """Scan everything under ``root`` in this process, serially, without a parse cache."""
    return scan(root, [root], load_ruleset(), ScanOptions(jobs=1))


def tuples(findings: list[Finding], rule_id: str | None = None) -> set[tuple[str, str, str, int]]:
    """``(rule_id, resource, file, line)`` of the findings (of one rule)."""
    return {(f.rule_id, f.resource, f.file, f.line) for f in findings if rule_id in (None, f.rule_id)}


def good_findings(result: ScanResult) -> set[tuple[str, str, str, int]]:
    """The findings located in the good files."""
    return {t for t in tuples(result.findings) if t[2].startswith("good/")}
