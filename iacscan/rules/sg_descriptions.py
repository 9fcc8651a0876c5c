"""SG106: groups and rules without a description."""
from __future__ import annotations

from collections.abc import Iterator

from iacscan.findings import Finding, Severity
from iacscan.model import Rule, SecurityGroup, is_unknown
from iacscan.rules._sg_common import TERRAFORM_DEFAULT_DESCRIPTION, group_finding, peer_text, rule_finding
from iacscan.rules.base import Context, Remediation, rule


def _missing(value: object) -> bool:
    """True for no description, an empty one, or Terraform's placeholder; Unknown is not missing."""
    if is_unknown(value):
        return False
    text = "" if value is None else str(value).strip()
    return not text or text == TERRAFORM_DEFAULT_DESCRIPTION


def _any_missing(rules: list[Rule]) -> bool:
    """True when some rule's description is ``_missing``."""
    for item in rules:
        value = item.description
        if type(value) is str:
            text = value.strip()
            if not text or text == TERRAFORM_DEFAULT_DESCRIPTION:
                return True
        elif _missing(value):
            return True
    return False


def _blocks(group: SecurityGroup) -> dict[tuple[object, ...], list[Rule]]:
    """Atomic rules grouped by the block that declared them: location and origin, and the
    direction, protocol and ports (which a code block shares, and which tell apart the
    rules of live groups, whose rules all have the same empty location)."""
    blocks: dict[tuple[object, ...], list[Rule]] = {}
    for item in group.rules:
        location = item.location
        # the block's identity (the direction's identity stands for its value, the line for its text)
        key = (location.file, location.line, item.origin, id(item.direction),
               str(item.protocol), str(item.from_port), str(item.to_port))
        blocks.setdefault(key, []).append(item)
    return blocks


@rule(
    id="SG106", title="Security group or rule without a description", severity=Severity.LOW, family="sg",
    remediation=Remediation(
        summary="Say what {resource} (or its rule {protocol} {ports} with {peer}) is for in its description.",
        console="EC2 console → Security Groups → select the group → Edit inbound/outbound rules → fill in "
                "each rule's Description → Save rules. A group's own description cannot be edited: it is "
                "set when the group is created.",
        cli="aws ec2 update-security-group-rule-descriptions-ingress --group-id {live_id} "
            "--ip-permissions '<the rule as in describe-security-groups, with \"Description\": \"...\">'",
        boto3='import boto3\nec2 = boto3.client("ec2")\n'
              'ec2.update_security_group_rule_descriptions_ingress(GroupId="{live_id}", '
              'IpPermissions=[<the rule, with its ranges carrying "Description": "...">])',
        terraform='resource "aws_security_group" "web" {{\n  description = "Web servers behind the public ALB"\n'
                  '  ingress {{\n    description     = "HTTPS from the ALB"\n    protocol        = "tcp"\n'
                  '    from_port       = 443\n    to_port         = 443\n'
                  '    security_groups = [aws_security_group.alb.id]\n  }}\n}}',
        cloudformation='WebSecurityGroup:\n  Type: AWS::EC2::SecurityGroup\n  Properties:\n'
                       '    GroupDescription: Web servers behind the public ALB\n    SecurityGroupIngress:\n'
                       '      - IpProtocol: tcp\n        FromPort: 443\n        ToPort: 443\n'
                       '        SourceSecurityGroupId: !Ref AlbSecurityGroup\n'
                       '        Description: HTTPS from the ALB',
    ),
)
def missing_description(ctx: Context) -> Iterator[Finding]:
    """What it finds
    Security groups without a description, and rule blocks without one (one finding per
    ``ingress``/``egress`` block, standalone rule resource or CloudFormation entry, even
    when the block lists several CIDRs). Terraform's default group description
    ``Managed by Terraform`` counts as missing: the provider writes it when the code says
    nothing. Default security groups are not judged for their group description (AWS sets
    it and it cannot be changed); their rules are. A description the code computes from a
    value iacscan cannot resolve is not reported.

    Why it matters
    Reviewers, auditors and the on-call engineer need to know why a port is open and for
    whom. Rules nobody can explain are rules nobody dares to remove.

    Failing example
        resource "aws_security_group" "web" {
          ingress {
            from_port   = 443
            to_port     = 443
            protocol    = "tcp"
            cidr_blocks = ["10.0.0.0/16"]
          }
        }

    Passing example
        resource "aws_security_group" "web" {
          description = "Web servers behind the internal ALB"
          ingress {
            description = "HTTPS from the VPC"
            from_port   = 443
            to_port     = 443
            protocol    = "tcp"
            cidr_blocks = ["10.0.0.0/16"]
          }
        }

    Fix
    Add ``description`` to the group and to each rule (CloudFormation ``GroupDescription``
    and ``Description``). Changing a group's description replaces the group in AWS, so
    plan that change; rule descriptions can be changed in place.
    """
    for group in ctx.estate.groups.values():
        if not group.is_default and _missing(group.description):
            default = group.description == TERRAFORM_DEFAULT_DESCRIPTION
            text = f"only Terraform's default description '{TERRAFORM_DEFAULT_DESCRIPTION}'" if default else "no description"
            yield group_finding(ctx, group, f"the security group has {text}", details={"what": "group"})
        if not _any_missing(group.rules):
            continue  # a block is reported when its first rule has no description
        for block in _blocks(group).values():
            first = block[0]
            if not _missing(first.description):
                continue
            peers = ", ".join(sorted({peer_text(ctx.estate, r.peer) for r in block}))
            msg = f"this {first.direction.value} rule has no description"
            yield rule_finding(ctx, group, first, msg, details={"what": "rule", "peer": peers})
