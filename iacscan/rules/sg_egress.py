"""SG105: declared egress to the whole internet on all protocols and ports."""
from __future__ import annotations

from collections.abc import Iterator

from iacscan.findings import Finding, Severity
from iacscan.model import Direction
from iacscan.rules._sg_common import describe_rule, peer_addresses, rule_finding, traffic_of
from iacscan.rules.base import Context, Remediation, rule

_OUT = Direction.EGRESS  # (a module constant: enum member lookups cost in loops)

_EGRESS = Remediation(
    summary="Replace the allow-all egress rule to {peer} with rules for the destinations and "
            "ports the workload needs (HTTPS to the internet or to VPC endpoints, the database "
            "port to the database's group…).",
    console="EC2 console → Security Groups → select the group of {resource} → Outbound rules → "
            "Edit outbound rules → delete the 'All traffic' rule to {peer} → add rules for the "
            "destinations needed → Save rules.",
    cli="aws ec2 revoke-security-group-egress --group-id {live_id} --ip-permissions '{ip_permissions}'\n"
        "aws ec2 authorize-security-group-egress --group-id {live_id} --protocol tcp --port 443 "
        "--cidr 0.0.0.0/0",
    boto3='import boto3\nec2 = boto3.client("ec2")\n'
          'ec2.revoke_security_group_egress(GroupId="{live_id}", IpPermissions={ip_permissions})\n'
          'ec2.authorize_security_group_egress(GroupId="{live_id}", IpPermissions=[{{"IpProtocol": "tcp", '
          '"FromPort": 443, "ToPort": 443, "IpRanges": [{{"CidrIp": "0.0.0.0/0"}}]}}])',
    terraform='# {resource}: instead of protocol "-1" to {peer}\n'
              'egress {{\n  description = "HTTPS out"\n  protocol    = "tcp"\n  from_port   = 443\n'
              '  to_port     = 443\n  cidr_blocks = ["0.0.0.0/0"]\n}}',
    cloudformation='# {resource}: instead of IpProtocol -1 to {peer}\n'
                   'SecurityGroupEgress:\n  - IpProtocol: tcp\n    FromPort: 443\n    ToPort: 443\n'
                   '    CidrIp: 0.0.0.0/0\n    Description: HTTPS out',
)


@rule(
    id="SG105", title="Unrestricted egress to the internet", severity=Severity.LOW, family="sg",
    remediation=_EGRESS,
)
def internet_all_egress(ctx: Context) -> Iterator[Finding]:
    """What it finds
    Declared egress rules to ``0.0.0.0/0`` or ``::/0`` (or a prefix list the code defines
    that holds one of them) on all protocols (``protocol = "-1"``, ``IpProtocol: -1``).
    Only rules written in the code are reported: the allow-all egress AWS gives a
    CloudFormation or console-created group that declares no egress rule is not reported
    (there is no line to point at; write an explicit narrower egress rule to replace it).
    Terraform removes that implicit rule from the groups it creates.

    Why it matters
    Allow-all egress lets a compromised workload download tools, reach command-and-control
    servers and exfiltrate data on any port. Narrow egress is a cheap second line of
    defence. The severity is low because many workloads legitimately need broad egress.

    Failing example
        resource "aws_security_group" "app" {
          egress {
            from_port   = 0
            to_port     = 0
            protocol    = "-1"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }

    Passing example
        resource "aws_security_group" "app" {
          egress {
            from_port   = 443
            to_port     = 443
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }

    Fix
    Allow the destinations and ports the workload needs: HTTPS out (or only to VPC
    endpoints and a proxy), the database port to the database's security group, DNS to
    the VPC resolver.
    """
    for group in ctx.estate.groups.values():
        for item in group.rules:
            if item.direction is not _OUT or item.protocol != "all":
                continue  # only protocol all admits all traffic (``net.Traffic.of``)
            traffic = traffic_of(item)
            if traffic is None or not traffic.everything:
                continue
            if peer_addresses(ctx.estate, item.peer).is_internet:
                msg = f"{describe_rule(ctx.estate, item)}: egress to the whole internet on all protocols and ports"
                yield rule_finding(ctx, group, item, msg)
