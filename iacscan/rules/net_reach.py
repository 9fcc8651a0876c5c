"""NET3xx: reachability rules, on the flows of ``iacscan.reach``.

Each finding names the workload reached and carries its shortest path: ``path`` is the
list of addresses (from ``internet`` for internet paths) and ``extra["hops"]`` the
protocol and ports of each hop. Where the code does not say whether a workload has a
public address, the finding says "exposure unconfirmed" and is one severity lower.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from iacscan.findings import Finding, Severity
from iacscan.model import Tier
from iacscan.net import Traffic
from iacscan.policies import Policy, parse_policies
from iacscan.reach_paths import draw, hop_fields
from iacscan.reach_queries import (
    Hit, allow_only_violations, deny_hits, direct_hits, environment_crossings, internet_hits,
)
from iacscan.rules.base import Context, Remediation, rule

_LOWER = {Severity.CRITICAL: Severity.HIGH, Severity.HIGH: Severity.MEDIUM, Severity.MEDIUM: Severity.LOW,
          Severity.LOW: Severity.INFO, Severity.INFO: Severity.INFO}


def lower(severity: Severity, confirmed: bool) -> Severity:
    """One step lower when the exposure is unconfirmed."""
    return severity if confirmed else _LOWER[severity]


def sensitive_traffic(ctx: Context) -> Traffic:
    out = Traffic()
    for lo, hi in ctx.ruleset.sensitive_ports:
        out = out.union(Traffic.of("tcp", lo, hi)).union(Traffic.of("udp", lo, hi))
    return out


def _path_finding(ctx: Context, hit: Hit, *, message: str, details: dict[str, Any], severity: Severity,
                  extra: dict[str, Any] | None = None) -> Finding:
    reach = ctx.graph.reach
    path, hops = hit.path(reach)
    more: dict[str, Any] = {"hops": hops, "drawn": draw(path, hops)}
    if hit.from_internet:
        exposure = reach.exposure(reach.sigs[hit.nodes[0].sig].rep if len(hit.nodes) > 1 else hit.target)
        more["exposure"] = "confirmed" if hit.confirmed else "unconfirmed"
        more["exposure_reason"] = exposure.reason
        if not hit.confirmed:
            message += f" ({exposure.reason})"
    more.update(extra or {})
    target = hit.target
    return ctx.finding(resource=target.address, uid=target.uid, location=target.location,
                       message=f"{message}: {more['drawn']}", details=details, severity=severity,
                       environment=target.environment, extra=more, path=path, live_id=target.live_id)


@rule("NET301", "Workload reachable from the internet on a sensitive port", Severity.HIGH, "net",
      Remediation(
          summary="Stop admitting the internet on {ports} to {resource}: narrow the ingress rule of its "
                  "security group to the ranges or groups that need it, or put the workload behind a load balancer.",
          console="EC2 > Security Groups > the group of {resource} > Inbound rules: remove 0.0.0.0/0 and ::/0 "
                  "on {ports}, add the ranges or groups that need access.",
          cli="aws ec2 revoke-security-group-ingress --group-id <group-id> --ip-permissions "
              "IpProtocol={protocol},FromPort=<from>,ToPort=<to>,IpRanges=[{{CidrIp=0.0.0.0/0}}]",
          boto3="ec2.revoke_security_group_ingress(GroupId='<group-id>', IpPermissions=[...])",
          terraform="In the group of {resource}, replace cidr_blocks = [\"0.0.0.0/0\"] on {ports} with "
                    "security_groups = [aws_security_group.<trusted>.id] or a narrow range.",
          cloudformation="In the group of {resource}, replace CidrIp: 0.0.0.0/0 on {ports} with "
                         "SourceSecurityGroupId or a narrow CidrIp."))
def net301(ctx: Context) -> Iterator[Finding]:
    """A workload the internet reaches directly on a sensitive port.

    What it finds:
        A workload (instance, database, cache, load balancer, launch template...) that
        the internet reaches in one hop on a port of the ruleset's ``sensitive_ports``:
        one of its groups admits ``0.0.0.0/0`` or ``::/0`` (ranges whose union covers
        the internet count), the network ACLs of its subnets let that traffic in, and
        the workload is publicly addressable. When the code says which ports the
        workload listens on (a database port, listener ports), only those count.
        High; critical for data-tier workloads. When the code does not say whether the
        workload has a public address, the finding says "exposure unconfirmed" and is
        one severity lower.

    Why it matters:
        Admin, database and cache ports open to the whole internet are found by
        scanners within minutes and are the usual way in for brute force and exploits.

    Failing example:
        resource "aws_security_group" "ssh" {
          ingress {
            from_port   = 22
            to_port     = 22
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }
        resource "aws_instance" "bastion" {
          subnet_id                   = aws_subnet.public.id
          associate_public_ip_address = true
          vpc_security_group_ids      = [aws_security_group.ssh.id]
        }

    Passing example:
        resource "aws_security_group" "ssh" {
          ingress {
            from_port   = 22
            to_port     = 22
            protocol    = "tcp"
            cidr_blocks = ["203.0.113.0/24"]  # the office
          }
        }

    Fix:
        Narrow the ingress rule to the ranges or groups that need it, use Session
        Manager instead of SSH, or put the workload in a private subnet behind a load
        balancer.
    """
    sensitive = sensitive_traffic(ctx)
    for hit in direct_hits(ctx.graph.reach):
        exposed = hit.last.intersection(sensitive)
        if not exposed:
            continue
        narrow = len(exposed.describe()) <= 40
        protocol, ports = hop_fields(exposed if narrow else hit.last)
        what = exposed.describe() if narrow else f"{hit.last.describe()}, which includes sensitive ports"
        base = Severity.CRITICAL if hit.target.tier is Tier.DATA else Severity.HIGH
        yield _path_finding(
            ctx, hit, message=f"{hit.target.address} is reachable from the internet on {what}",
            details={"protocol": protocol, "ports": ports}, severity=lower(base, hit.confirmed),
            extra={"sensitive": exposed.describe()})


@rule("NET302", "Data-tier workload reachable from the internet through other workloads", Severity.CRITICAL,
      "net", Remediation(
          summary="Break the chain to {resource}: admit only the application tier's group on the database port, "
                  "and stop the internet-facing tiers from reaching it.",
          console="EC2 > Security Groups: make the data tier's group admit only the app tier's group, "
                  "and the app tier's egress reach only what it needs.",
          terraform="Reference the app tier's group in the data group's ingress (security_groups = [...]) "
                    "and narrow the egress of the tiers in the path.",
          cloudformation="Use SourceSecurityGroupId of the app tier in the data group's ingress and narrow "
                         "SecurityGroupEgress of the tiers in the path."))
def net302(ctx: Context) -> Iterator[Finding]:
    """A database or cache the internet reaches through other workloads.

    What it finds:
        A data-tier workload (database, cache, search domain...) at the end of a path
        internet -> W1 -> ... -> data, where each hop is allowed by the sender's egress
        and the receiver's ingress (group references, ranges holding the receiver's
        subnet, or anyone). The finding carries the shortest path (confirmed entries
        before unconfirmed ones) with protocol and ports per hop. Paths stop at
        data-tier workloads; one whose entry exposure is unconfirmed is one severity
        lower.

    Why it matters:
        Whoever takes over an internet-facing workload on the path is then one or two
        hops from the data. The chain is often intended; this rule makes it visible so
        that every hop is as narrow as it should be.

    Failing example:
        # lb admits 443 from 0.0.0.0/0 and sends 8080 to app; app admits 8080 from lb
        # and egress is open; db admits 5432 from app:
        #   internet -> aws_lb.web:443 -> aws_instance.app:8080 -> aws_db_instance.main:5432
        resource "aws_security_group" "app" {
          egress {
            from_port   = 0
            to_port     = 0
            protocol    = "-1"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }

    Passing example:
        # the app's egress reaches HTTPS only, so the path stops at the app
        resource "aws_security_group" "app" {
          egress {
            from_port   = 443
            to_port     = 443
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }

    Fix:
        Narrow each hop to what it needs; admit the data tier only from the group that
        must reach it; state the intent with a NET304 policy
        (``deny: {from: internet, to: {tier: data}}``) if no path should exist.
    """
    for hit in internet_hits(ctx.graph.reach, data_entries=False):
        if hit.target.tier is not Tier.DATA or len(hit.nodes) < 2:
            continue
        protocol, ports = hop_fields(hit.last)
        yield _path_finding(
            ctx, hit, message=f"{hit.target.address} (data tier) is reachable from the internet through "
                              f"{len(hit.nodes) - 1} other workload(s)",
            details={"protocol": protocol, "ports": ports}, severity=lower(ctx.severity, hit.confirmed))


@rule("NET303", "Path from one environment into another", Severity.HIGH, "net", Remediation(
    summary="Remove the flow from {from_environment} into {to_environment}: reference only groups of the "
            "same environment, and keep environments in separate VPCs.",
    terraform="Replace the cross-environment group reference or CIDR in the ingress/egress rules of the path.",
    cloudformation="Replace the cross-environment SourceSecurityGroupId/DestinationSecurityGroupId or CIDR."))
def net303(ctx: Context) -> Iterator[Finding]:
    """A workload of one environment reaches a workload of another.

    What it finds:
        A workload of a known environment (prod, staging, dev...) that workloads of
        another known environment reach, directly or through workloads whose
        environment is unknown. The finding names the workload reached, with the
        shortest path from the other environment. Hops into a workload that the whole
        internet confirmedly reaches on the same traffic are not counted (everyone
        reaches it, not just the other environment).

    Why it matters:
        Environments are separated so that a dev mistake, a test tool or a compromised
        staging host cannot touch production data.

    Failing example:
        resource "aws_security_group" "prod_db" {
          tags = { Environment = "prod" }
          ingress {
            from_port       = 5432
            to_port         = 5432
            protocol        = "tcp"
            security_groups = [aws_security_group.dev_app.id]  # dev
          }
        }

    Passing example:
        resource "aws_security_group" "prod_db" {
          tags = { Environment = "prod" }
          ingress {
            from_port       = 5432
            to_port         = 5432
            protocol        = "tcp"
            security_groups = [aws_security_group.prod_app.id]
          }
        }

    Fix:
        Remove the cross-environment reference or range; keep environments in
        separate VPCs or accounts.
    """
    for source_env, hit in environment_crossings(ctx.graph.reach):
        target_env = hit.target.environment or ""
        protocol, ports = hop_fields(hit.last)
        yield _path_finding(
            ctx, hit, message=f"{hit.target.address} ({target_env}) is reachable from {source_env}",
            details={"from_environment": source_env, "to_environment": target_env},
            severity=ctx.severity, extra={"protocol": protocol, "ports": ports})


@rule("NET304", "Network-intent policy violated", Severity.HIGH, "net", Remediation(
    summary="Change the rules in the path so that policy {policy} holds, or change the policy.",
    terraform="Narrow the ingress/egress rules of the groups in the path.",
    cloudformation="Narrow the ingress/egress rules of the groups in the path."))
def net304(ctx: Context) -> Iterator[Finding]:
    """A network-intent policy of the ruleset is violated.

    What it finds:
        A violation of a policy under ``policies:`` in the ruleset (validated when the
        ruleset loads). ``deny: {from, to[, ports]}``: a workload matching ``to`` is
        reachable from ``from`` (``internet``, or workloads matching a selector),
        directly or through other workloads; the finding shows the shortest path.
        ``allow_only: {to, from[, ports]}``: a direct flow into a ``to`` workload comes
        from outside ``from`` or on other ports; the finding lists the offending
        sources. Selectors match ``environment``, ``tier`` (web/app/data), ``tag``
        (``{Key: value}``), ``resource`` and ``kind`` (globs). Severity is the
        policy's ``severity`` (default high), one lower for unconfirmed exposure.

    Why it matters:
        Policies state the intended architecture ("nothing on the internet reaches the
        data tier", "dev stays out of prod"); a violation is a drift from it that no
        single-rule check can see.

    Failing example:
        policies:
          - id: no-internet-to-data
            deny: {from: internet, to: {tier: data}}
            severity: critical
        # and a database reachable through a public load balancer and an app server

    Passing example:
        # the same policy, and an app tier whose egress does not reach the database

    Fix:
        Narrow the rules along the path (or of the offending sources), or change the
        policy if the intent changed.
    """
    for policy in parse_policies(ctx.ruleset.policies):
        severity = policy.severity or ctx.severity
        if policy.kind == "deny":
            yield from _deny(ctx, policy, severity)
        else:
            yield from _allow_only(ctx, policy, severity)


def _deny(ctx: Context, policy: Policy, severity: Severity) -> Iterator[Finding]:
    for hit in deny_hits(ctx.graph.reach, policy):
        source = "the internet" if hit.from_internet else (hit.source.address if hit.source else "?")
        yield _path_finding(
            ctx, hit, message=f"policy {policy.id}: {hit.target.address} is reachable from {source} "
                              f"(deny from {policy.source.describe()} to {policy.target.describe()})",
            details={"policy": policy.id}, severity=lower(severity, hit.confirmed),
            extra={"policy_kind": "deny"})


def _allow_only(ctx: Context, policy: Policy, severity: Severity) -> Iterator[Finding]:
    for target, intrusions in allow_only_violations(ctx.graph.reach, policy):
        first = intrusions[0]
        confirmed = first.confirmed
        source = first.source.address if first.source is not None else "internet"
        protocol, ports = hop_fields(first.traffic)
        hops = [{"resource": target.address, "protocol": protocol, "ports": ports,
                 "traffic": first.traffic.describe()}]
        path = [source, target.address]
        others = [{"source": i.source.address if i.source else "internet", "traffic": i.traffic.describe()}
                  for i in intrusions]
        message = (f"policy {policy.id}: {target.address} is reached from {source} on {first.traffic.describe()}"
                   f" (allow only from {policy.source.describe()}"
                   f"{' on ' + policy.port_text if policy.port_text else ''}): {draw(path, hops)}")
        yield ctx.finding(resource=target.address, uid=target.uid, location=target.location, message=message,
                          details={"policy": policy.id}, severity=lower(severity, confirmed),
                          environment=target.environment, path=path, live_id=target.live_id,
                          extra={"hops": hops, "intrusions": others, "policy_kind": "allow_only"})
