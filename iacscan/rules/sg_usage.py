"""SG108 and SG109: default groups in use or with rules, and groups nothing uses."""
from __future__ import annotations

from collections.abc import Iterator

from iacscan.findings import Finding, Severity
from iacscan.model import Estate, PeerKind, SecurityGroup, Unknown
from iacscan.rules._sg_common import group_finding
from iacscan.rules.base import Context, Remediation, rule


def scope_of(uid: str) -> str:
    return uid.partition("#")[0]


@rule(
    id="SG108", title="Default security group has rules or is in use", severity=Severity.MEDIUM,
    family="sg",
    remediation=Remediation(
        summary="Remove every rule from the default security group of the VPC and give {resource}'s "
                "workloads their own groups.",
        console="VPC console → Security groups → the group named 'default' of the VPC → Inbound rules → "
                "Edit → delete all → Save; same for Outbound rules. Then attach purpose-made groups to "
                "the instances and other resources that use it.",
        cli="aws ec2 describe-security-group-rules --filters Name=group-id,Values={live_id}\n"
            "aws ec2 revoke-security-group-ingress --group-id {live_id} --security-group-rule-ids <sgr-ids>\n"
            "aws ec2 revoke-security-group-egress --group-id {live_id} --security-group-rule-ids <sgr-ids>",
        boto3='import boto3\nec2 = boto3.client("ec2")\n'
              'rules = ec2.describe_security_group_rules(Filters=[{{"Name": "group-id", "Values": ["{live_id}"]}}])\n'
              'ids_in = [r["SecurityGroupRuleId"] for r in rules["SecurityGroupRules"] if not r["IsEgress"]]\n'
              'ids_out = [r["SecurityGroupRuleId"] for r in rules["SecurityGroupRules"] if r["IsEgress"]]\n'
              'if ids_in:\n    ec2.revoke_security_group_ingress(GroupId="{live_id}", SecurityGroupRuleIds=ids_in)\n'
              'if ids_out:\n    ec2.revoke_security_group_egress(GroupId="{live_id}", SecurityGroupRuleIds=ids_out)',
        terraform='# Adopt the default group with no rules: Terraform then removes all of them.\n'
                  'resource "aws_default_security_group" "default" {{\n  vpc_id = aws_vpc.main.id\n}}',
        cloudformation="# CloudFormation cannot manage a VPC's default group. Give every resource its own\n"
                       "# AWS::EC2::SecurityGroup, and empty the default group with the CLI above\n"
                       "# (or a custom resource) after the stack creates the VPC.",
    ),
)
def default_group_used(ctx: Context) -> Iterator[Finding]:
    """What it finds
    A VPC's default security group (Terraform ``aws_default_security_group``, a live group
    named ``default``) that has any rule, or that a workload carries, or that another
    group's rule names as its peer. One finding per default group.

    Why it matters
    AWS gives the default group to resources launched without a group, and its stock
    rules let every member talk to every other on all ports. Rules added to it reach
    everything that lands in it by accident. CIS AWS Foundations asks that the default
    group restricts all traffic and that nothing uses it.

    Failing example
        resource "aws_default_security_group" "default" {
          vpc_id = aws_vpc.main.id
          ingress {
            protocol  = "-1"
            from_port = 0
            to_port   = 0
            self      = true
          }
        }

    Passing example
        resource "aws_default_security_group" "default" {
          vpc_id = aws_vpc.main.id
        }

    Fix
    Declare the default group with no rules (Terraform then deletes the stock ones) and
    attach purpose-made groups to every workload.
    """
    for group in ctx.estate.groups.values():
        if not group.is_default:
            continue
        members = sorted(w.address for w in ctx.graph.members(group.uid))
        referrers = sorted(ctx.estate.groups[u].address for u in ctx.graph.referenced_by(group.uid))
        facts = []
        if group.rules:
            facts.append(f"has {len(group.rules)} rule{'s' if len(group.rules) > 1 else ''}")
        if members:
            facts.append(f"is carried by {', '.join(members)}")
        if referrers:
            facts.append(f"is named as a peer by {', '.join(referrers)}")
        if facts:
            yield group_finding(ctx, group, "the default security group " + "; ".join(facts),
                                extra={"rules": len(group.rules), "members": members, "referenced_by": referrers})


def uncertain_scopes(estate: Estate) -> set[str]:
    """Scopes where some group reference is unknown, so any group of it might be the one used."""
    scopes: set[str] = set()
    for workload in estate.workloads.values():
        for ref in workload.groups:
            if isinstance(ref, Unknown):
                scopes.add(scope_of(workload.uid))
                break
    unknown = PeerKind.UNKNOWN
    for group in estate.groups.values():
        for item in group.rules:
            if item.peer.kind is unknown:
                scopes.add(scope_of(group.uid))
                break
    scopes |= {scope_of(u.uid) for u in estate.unresolved if "group" in u.what.lower()}
    return scopes


def _unused(ctx: Context, group: SecurityGroup, skip: set[str], with_workloads: set[str]) -> bool:
    scope = scope_of(group.uid)
    return (not group.is_default and scope not in skip and scope in with_workloads
            and not ctx.graph.is_used(group.uid))


@rule(
    id="SG109", title="Security group that nothing uses", severity=Severity.LOW, family="sg",
    remediation=Remediation(
        summary="Delete {resource} if nothing needs it, or attach it where it was meant to go.",
        console="EC2 console → Security Groups → select the group → check 'Related resources' / network "
                "interfaces → if none, Actions → Delete security groups.",
        cli="aws ec2 describe-network-interfaces --filters Name=group-id,Values={live_id}\n"
            "aws ec2 delete-security-group --group-id {live_id}",
        boto3='import boto3\nec2 = boto3.client("ec2")\n'
              'enis = ec2.describe_network_interfaces(Filters=[{{"Name": "group-id", "Values": ["{live_id}"]}}])\n'
              'if not enis["NetworkInterfaces"]:\n    ec2.delete_security_group(GroupId="{live_id}")',
        terraform="# Remove the resource block of {resource} (and its standalone rules),\n"
                  "# or reference it: vpc_security_group_ids = [aws_security_group.<name>.id]",
        cloudformation="# Remove {resource} from the template, or reference it:\n"
                       "# SecurityGroupIds: [!Ref {resource}]",
    ),
)
def unused_group(ctx: Context) -> Iterator[Finding]:
    """What it finds
    A security group that no workload carries and no other group's rule names as a peer
    (self-references do not count as use). iacscan only sees the code it scans, so the
    rule is conservative and stays silent:

    - for groups in a scope (a Terraform root module directory, a CloudFormation
      template) that declares no workload at all: such code usually creates groups for
      other stacks to use (through outputs, exports or remote state) and iacscan cannot
      see those users;
    - for every group of a scope where some group reference could not be resolved (a
      workload's group list, a rule's peer, or an IAC002 note about a group): the
      unknown value might be this group;
    - for default groups (SG108 judges those).

    Groups inside modules are judged like the others, within their root module, because
    the parser resolves module outputs that carry group ids; when it cannot, the
    reference is unknown and the scope is skipped.

    Limits: a group used only by a resource kind iacscan does not model as a workload
    (for example a DMS replication instance), or exported through a CloudFormation
    ``Outputs`` export or a Terraform output in code that also declares workloads, is
    reported although something uses it. Suppress or baseline such findings.

    Why it matters
    Unused groups clutter reviews and audits, count against the per-VPC quota, and are
    often the remains of a half-finished change: the group someone meant to attach is
    not attached, and the instance runs with a different, maybe wider, group.

    Failing example
        resource "aws_security_group" "old" {
          description = "No longer used"
        }

        resource "aws_instance" "web" {
          vpc_security_group_ids = [aws_security_group.web.id]
        }

    Passing example
        resource "aws_security_group" "web" {
          description = "Web servers"
        }

        resource "aws_instance" "web" {
          vpc_security_group_ids = [aws_security_group.web.id]
        }

    Fix
    Delete the group, or attach it to the workload it was written for.
    """
    skip = uncertain_scopes(ctx.estate)
    with_workloads = {w.uid.partition("#")[0] for w in ctx.estate.workloads.values()}  # their scope_of
    for group in ctx.estate.groups.values():
        if _unused(ctx, group, skip, with_workloads):
            yield group_finding(ctx, group, "no workload carries this security group and no other group's "
                                "rule names it")
