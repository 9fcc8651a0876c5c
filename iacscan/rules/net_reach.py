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
    """What it finds:
    A workload (instance, database, load balancer, ...) that the internet reaches directly
    on a port of the ruleset's ``sensitive_ports``: one of its groups admits 0.0.0.0/0 or
    ::/0 (a union of ranges covering the internet counts), its subnets' network ACLs let
    the traffic in, and it is publicly addressable. Data-tier workloads are critical.

    Why it matters:
    Admin, database and cache ports open to the whole internet are scanned within minutes.

    Failing example:
    An aws_instance with associate_public_ip_address = true whose group admits
    tcp/22 from 0.0.0.0/0.

    Passing example:
    The same instance whose group admits tcp/22 only from a bastion group.

    Fix:
    Narrow the ingress rule to the ranges or groups that need it. When the code does not
    say whether the workload has a public address, the finding says "exposure
    unconfirmed" and is one severity lower.
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
    """What it finds:
    A database or cache (data tier) that the internet reaches through one or more other
    workloads: internet -> load balancer -> app -> database, each hop allowed by the
    sender's egress and the receiver's ingress. Paths stop at data-tier workloads.

    Why it matters:
    One compromised internet-facing workload is then one hop from the data.

    Failing example:
    A public load balancer admits 0.0.0.0/0 on 443 and may send anywhere; the app group
    admits the load balancer's group and may send anywhere; the database admits the
    app group on 5432.

    Passing example:
    The same estate where the app group's egress does not reach the database (or the
    database admits only a group no internet-reachable workload carries).

    Fix:
    This is often the intended architecture: narrow each hop to what it needs, and add a
    NET304 policy stating who may reach the data tier. Paths whose entry is
    unconfirmed are reported one severity lower.
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
    """What it finds:
    A workload of one environment (prod, dev, ...) that workloads of another known
    environment can reach, directly or through workloads whose environment is unknown.
    The finding names the workload reached and shows the shortest path.

    Why it matters:
    Environments are separated so that a dev mistake or compromise cannot touch prod.

    Failing example:
    A dev instance's group may send anywhere and a prod database admits the dev group.

    Passing example:
    The prod database admits only prod groups.

    Fix:
    Remove the cross-environment rule; separate environments by VPC or account.
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
    """What it finds:
    A violation of a network-intent policy of the ruleset (``policies:``). ``deny: {from,
    to}``: a workload matching ``to`` is reachable from ``from`` (the internet, or
    workloads matching a selector), directly or through other workloads.
    ``allow_only: {to, from, ports}``: a direct flow into a ``to`` workload comes from a
    workload outside ``from`` or on other ports. Selectors: environment, tier, tag,
    resource (glob), kind.

    Why it matters:
    Policies state the intended architecture; a violation is a drift from it.

    Failing example:
    ``deny: {from: internet, to: {tier: data}}`` and a database reachable from a public
    load balancer through an app server.

    Passing example:
    The same policy and an estate where no path from the internet ends at a database.

    Fix:
    Narrow the rules in the path, or change the policy if the intent changed.
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
