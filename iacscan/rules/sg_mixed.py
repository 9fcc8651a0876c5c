"""SG110: a Terraform group with inline rules and standalone rule resources at once."""
from __future__ import annotations

from collections.abc import Iterator

from iacscan.findings import Finding, Severity
from iacscan.rules._sg_common import group_finding
from iacscan.rules.base import Context, Remediation, rule


@rule(
    id="SG110", title="Inline and standalone rules for the same group", severity=Severity.MEDIUM,
    family="sg",
    remediation=Remediation(
        summary="Manage the rules of {resource} one way only: move the inline ingress/egress blocks "
                "into aws_vpc_security_group_ingress_rule / _egress_rule resources (or the other way round).",
        console="Nothing to change in the console: the conflict is in the Terraform code. After fixing "
                "it, check the group's rules in EC2 console → Security Groups → Inbound/Outbound rules.",
        cli="# After the fix, check that AWS holds exactly the rules the code declares:\n"
            "aws ec2 describe-security-group-rules --filters Name=group-id,Values={live_id}",
        boto3='import boto3\nec2 = boto3.client("ec2")\n'
              'ec2.describe_security_group_rules(Filters=[{{"Name": "group-id", "Values": ["{live_id}"]}}])',
        terraform='resource "aws_security_group" "web" {{\n  name        = "web"\n'
                  '  description = "Web servers"\n  vpc_id      = aws_vpc.main.id\n'
                  '  # no ingress/egress blocks here\n}}\n\n'
                  'resource "aws_vpc_security_group_ingress_rule" "web_https" {{\n'
                  '  security_group_id = aws_security_group.web.id\n  ip_protocol       = "tcp"\n'
                  '  from_port         = 443\n  to_port           = 443\n  cidr_ipv4         = "10.0.0.0/16"\n'
                  '  description       = "HTTPS from the VPC"\n}}',
        cloudformation="# Not a CloudFormation problem: CloudFormation unites inline rules and\n"
                       "# AWS::EC2::SecurityGroupIngress/Egress resources without conflict.",
    ),
)
def inline_and_standalone(ctx: Context) -> Iterator[Finding]:
    """What it finds
    A Terraform ``aws_security_group`` (or ``aws_default_security_group``) that has inline
    ``ingress``/``egress`` blocks and also rules from ``aws_security_group_rule``,
    ``aws_vpc_security_group_ingress_rule`` or ``aws_vpc_security_group_egress_rule``
    resources. The finding names the group and lists the standalone rule resources in
    ``details.standalone``. Only Terraform code is judged: CloudFormation merges both
    kinds without conflict.

    Why it matters
    The AWS provider treats inline blocks as the complete rule set of the group, so each
    apply removes the standalone rules and the next apply adds them back: rules flap,
    plans never settle, and traffic is cut between the two applies. The provider
    documentation says not to mix them.

    Failing example
        resource "aws_security_group" "web" {
          ingress {
            from_port   = 443
            to_port     = 443
            protocol    = "tcp"
            cidr_blocks = ["10.0.0.0/16"]
          }
        }

        resource "aws_security_group_rule" "ssh" {
          type              = "ingress"
          security_group_id = aws_security_group.web.id
          from_port         = 22
          to_port           = 22
          protocol          = "tcp"
          cidr_blocks       = ["10.0.0.0/16"]
        }

    Passing example
        resource "aws_security_group" "web" {
          description = "Web servers"
        }

        resource "aws_vpc_security_group_ingress_rule" "https" {
          security_group_id = aws_security_group.web.id
          ip_protocol       = "tcp"
          from_port         = 443
          to_port           = 443
          cidr_ipv4         = "10.0.0.0/16"
        }

    Fix
    Pick one style per group; the provider recommends one
    ``aws_vpc_security_group_ingress_rule``/``_egress_rule`` resource per rule.
    """
    for group in ctx.estate.groups.values():
        if group.source not in ("terraform", "plan"):
            continue
        origins = [r.origin for r in group.rules]
        if all(origins) or not any(origins):
            continue  # only one kind of rule (or none)
        inline = [r for r in group.rules if not r.origin]
        standalone = sorted({r.origin_address or r.origin for r in group.rules if r.origin})
        if inline and standalone:
            msg = (f"the group has {len(inline)} inline rule(s) and standalone rules from "
                   f"{', '.join(standalone)}; Terraform will keep removing and re-adding them")
            yield group_finding(ctx, group, msg, details={"standalone": standalone})
