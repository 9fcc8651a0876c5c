"""SG101 and SG102: ingress from the whole internet to sensitive ports, or to everything."""
from __future__ import annotations

from collections.abc import Iterator

from iacscan import net
from iacscan.findings import Finding, Severity
from iacscan.rules._sg_common import SERVICES, describe_rule, peer_text, rule_finding
from iacscan.rules._sg_exposure import Exposure, exposed_groups
from iacscan.rules.base import Context, Remediation, rule

REVOKE_INGRESS = Remediation(
    summary="Remove the rule that opens {protocol} {ports} to {peer}, or narrow its source to the "
            "networks that need it (a VPN, a bastion's group, a load balancer's group).",
    console="EC2 console → Security Groups → select the group of {resource} → Inbound rules → "
            "Edit inbound rules → delete the rule for {protocol} {ports} from {peer} (or change its "
            "source) → Save rules.",
    cli="aws ec2 revoke-security-group-ingress --group-id {live_id} --ip-permissions '{ip_permissions}'",
    boto3='import boto3\nec2 = boto3.client("ec2")\n'
          'ec2.revoke_security_group_ingress(GroupId="{live_id}", IpPermissions={ip_permissions})',
    terraform='# {resource}: admit only the networks that need {protocol} {ports}\n'
              'ingress {{\n  description = "<who needs it>"\n  protocol    = "{tf_protocol}"\n'
              '  from_port   = {from_port}\n  to_port     = {to_port}\n'
              '  cidr_blocks = ["10.0.0.0/16"]  # not {peer}\n}}',
    cloudformation='# {resource}: admit only the networks that need {protocol} {ports}\n'
                   'SecurityGroupIngress:\n  - IpProtocol: "{cfn_protocol}"\n    FromPort: {from_port}\n'
                   '    ToPort: {to_port}\n    CidrIp: 10.0.0.0/16  # not {peer}\n'
                   '    Description: <who needs it>',
)


def _sensitive(ctx: Context) -> net.Intervals:
    ports = list(ctx.ruleset.sensitive_ports) + [(p, p) for p in ctx.ruleset.admin_ports]
    return net.Intervals.of(ports)


def _port_names(ports: list[int]) -> str:
    named = [f"{p} ({SERVICES[p]})" if p in SERVICES else str(p) for p in ports[:12]]
    return ", ".join(named) + (f" and {len(ports) - 12} more" if len(ports) > 12 else "")


def _how(ctx: Context, exp: Exposure) -> str:
    families = " and ".join(sorted(exp.families))
    if exp.alone:
        return f"admits the whole internet ({families})"
    others = ", ".join(sorted({peer_text(ctx.estate, r.peer) for r in exp.partners}))
    return f"together with {others} admits all of {families}"


def _together(ctx: Context, exp: Exposure) -> dict[str, object]:
    if exp.alone:
        return {}
    return {"together_with": sorted({peer_text(ctx.estate, r.peer) for r in exp.partners})}


@rule(
    id="SG101", title="Sensitive port open to the internet", severity=Severity.CRITICAL, family="sg",
    remediation=REVOKE_INGRESS,
)
def internet_sensitive_port(ctx: Context) -> Iterator[Finding]:
    """What it finds
    Ingress rules that admit the whole internet (``0.0.0.0/0`` or ``::/0``) to a sensitive
    port of the ruleset (``sensitive_ports``; SSH, RDP, databases, caches, Docker…). A port
    range counts when a sensitive port lies inside it (``0-1000`` holds 22); the finding
    lists those ports. Several rules together count too: ``0.0.0.0/1`` and
    ``128.0.0.0/1`` on port 22 are all of IPv4, and both rules are reported. A prefix
    list counts with the entries the code gives it; ``self``, other groups and prefix
    lists the code does not define never count as the internet. Protocol numbers are
    read as names (``6`` is tcp, ``17`` udp). Rules open on all protocols or all ports
    are SG102's, not this rule's. A source that could not be resolved (a variable with
    no value) is not guessed: IAC002 reports it.

    Severity: critical when an admin port (``admin_ports``, 22 and 3389 by default) is
    open, high for the other sensitive ports.

    Why it matters
    Internet-wide scanners find an open SSH, RDP or database port within minutes and try
    stolen or default credentials and known exploits on it.

    Failing example
        resource "aws_security_group" "web" {
          ingress {
            from_port   = 22
            to_port     = 22
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }

    Passing example
        resource "aws_security_group" "web" {
          ingress {
            from_port       = 22
            to_port         = 22
            protocol        = "tcp"
            security_groups = [aws_security_group.bastion.id]
          }
        }

    Fix
    Admit only the networks that need the port (a VPN range, a bastion's or load
    balancer's security group), or reach the hosts with AWS Systems Manager Session
    Manager instead of opening SSH/RDP at all.
    """
    sensitive = _sensitive(ctx)
    admin = set(ctx.ruleset.admin_ports)
    known: dict[tuple[net.Intervals, net.Intervals], list[int]] = {}  # exposures repeat the same ports
    for group, exposures in exposed_groups(ctx.estate):
        for exp in exposures:
            if exp.all_ports():
                continue
            key = (exp.ports("tcp"), exp.ports("udp"))
            found = known.get(key)
            if found is None:
                found = known[key] = sorted({p for ports in key for lo, hi in
                                             ports.intersection(sensitive).spans for p in range(lo, hi + 1)})
            found = list(found)
            if not found:
                continue
            severity = Severity.CRITICAL if admin & set(found) else Severity.HIGH
            msg = (f"{describe_rule(ctx.estate, exp.rule)} {_how(ctx, exp)} to sensitive "
                   f"port{'s' if len(found) > 1 else ''} {_port_names(found)}")
            yield rule_finding(ctx, group, exp.rule, msg, severity=severity,
                               extra={"sensitive_ports": found, **_together(ctx, exp)})


@rule(
    id="SG102", title="All ports or protocols open to the internet", severity=Severity.CRITICAL,
    family="sg", remediation=REVOKE_INGRESS,
)
def internet_all_traffic(ctx: Context) -> Iterator[Finding]:
    """What it finds
    Ingress rules that admit the whole internet (``0.0.0.0/0``, ``::/0``, or several
    ranges that together cover IPv4 or IPv6, see SG101) on all protocols
    (``protocol = "-1"``/``all``, CloudFormation ``IpProtocol: -1`` with or without
    ports, ``aws_vpc_security_group_ingress_rule`` with ``ip_protocol = "-1"``) or on every
    TCP or UDP port (``0-65535``).

    Why it matters
    Every service on the instances is reachable from anywhere, including the ones nobody
    meant to publish (databases, admin consoles, debug ports).

    Failing example
        resource "aws_vpc_security_group_ingress_rule" "any" {
          security_group_id = aws_security_group.web.id
          ip_protocol       = "-1"
          cidr_ipv4         = "0.0.0.0/0"
        }

    Passing example
        resource "aws_vpc_security_group_ingress_rule" "https" {
          security_group_id = aws_security_group.web.id
          ip_protocol       = "tcp"
          from_port         = 443
          to_port           = 443
          cidr_ipv4         = "0.0.0.0/0"
        }

    Fix
    Replace the rule with rules for the ports the service really offers (often only 443
    on a load balancer), and keep the instances behind it in a group that admits only the
    load balancer's group.
    """
    for group, exposures in exposed_groups(ctx.estate):
        for exp in exposures:
            if not exp.all_ports():
                continue
            scope = "all protocols and ports" if exp.everything else "every port"
            msg = f"{describe_rule(ctx.estate, exp.rule)} {_how(ctx, exp)} on {scope}"
            yield rule_finding(ctx, group, exp.rule, msg, extra=_together(ctx, exp))
