"""SG103 and SG104: wide port ranges open to the internet, and broad public source ranges."""
from __future__ import annotations

from collections.abc import Iterator

from iacscan import net
from iacscan.findings import Finding, Severity
from iacscan.model import Direction, PeerKind
from iacscan.rules._sg_common import describe_rule, peer_addresses, peer_networks, rule_finding, traffic_of
from iacscan.rules._sg_exposure import exposed_groups, exposed_rule_ids
from iacscan.rules.base import Context, Remediation, rule
from iacscan.rules.sg_internet import REVOKE_INGRESS

_NARROW = Remediation(
    summary="Replace {peer} with the specific ranges (or security groups) that need {protocol} {ports}.",
    console="EC2 console → Security Groups → select the group of {resource} → Inbound rules → "
            "Edit inbound rules → change the source {peer} of the {protocol} {ports} rule to the "
            "specific ranges that need it → Save rules.",
    cli="aws ec2 revoke-security-group-ingress --group-id {live_id} --ip-permissions '{ip_permissions}'\n"
        "aws ec2 authorize-security-group-ingress --group-id {live_id} --protocol {protocol} "
        "--port {ports} --cidr <specific-cidr>",
    boto3='import boto3\nec2 = boto3.client("ec2")\n'
          'ec2.revoke_security_group_ingress(GroupId="{live_id}", IpPermissions={ip_permissions})\n'
          '# then authorize_security_group_ingress(...) with the specific ranges',
    terraform='# {resource}: list the specific ranges instead of {peer}\n'
              'ingress {{\n  protocol    = "{tf_protocol}"\n  from_port   = {from_port}\n'
              '  to_port     = {to_port}\n  cidr_blocks = ["198.51.100.0/24"]\n}}',
    cloudformation='# {resource}: list the specific ranges instead of {peer}\n'
                   'SecurityGroupIngress:\n  - IpProtocol: "{cfn_protocol}"\n    FromPort: {from_port}\n'
                   '    ToPort: {to_port}\n    CidrIp: 198.51.100.0/24',
)


@rule(
    id="SG103", title="Wide port range open to the internet", severity=Severity.HIGH, family="sg",
    remediation=REVOKE_INGRESS,
)
def internet_wide_range(ctx: Context) -> Iterator[Finding]:
    """What it finds
    Ingress rules that admit the whole internet (see SG101 for what counts) on a TCP or
    UDP port range of more ports than the ruleset's ``wide_port_range`` (1024 by default,
    100 in ``strict``). Ranges of every port are SG102's and not reported here. A range
    that also holds a sensitive port is reported by SG101 as well: the two findings say
    different things (a sensitive service is exposed; many services may be).

    Why it matters
    A wide range publishes whatever happens to listen in it, today and after the next
    deployment: ephemeral services, debug servers, management agents.

    Failing example
        resource "aws_security_group" "app" {
          ingress {
            from_port   = 1024
            to_port     = 65535
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }

    Passing example
        resource "aws_security_group" "app" {
          ingress {
            from_port   = 443
            to_port     = 443
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }

    Fix
    Open the ports the service really listens on, one rule each, or admit the range only
    from the networks that need it.
    """
    limit = ctx.ruleset.wide_port_range
    for group, exposures in exposed_groups(ctx.estate):
        for exp in exposures:
            if exp.all_ports():
                continue
            for proto in ("tcp", "udp"):
                count = exp.ports(proto).size()
                if count > limit:
                    msg = (f"{describe_rule(ctx.estate, exp.rule)} admits the internet on {count} "
                           f"{proto} ports ({exp.ports(proto).describe()}), more than the limit of {limit}")
                    yield rule_finding(ctx, group, exp.rule, msg, extra={"port_count": count, "limit": limit})
                    break


_NO_ADDRESSES = (PeerKind.GROUP, PeerKind.SELF, PeerKind.UNKNOWN)  # ``peer_addresses`` gives them none
_NONE_EXPOSED: frozenset[int] = frozenset()
_INGRESS = Direction.INGRESS  # (a module constant: enum member lookups cost in loops)


def _is_broad(networks: list[str], share: float, threshold: float) -> bool:
    if threshold > 0:
        return share > threshold
    for text in networks:
        network = net.parse_cidr(text)
        if network is None or not net.AddressSet.of([text]).is_public():
            continue
        if network.prefixlen < (16 if network.version == 4 else 32):
            return True
    return False


@rule(
    id="SG104", title="Ingress from an overly broad public range", severity=Severity.MEDIUM, family="sg",
    remediation=_NARROW,
)
def broad_public_source(ctx: Context) -> Iterator[Finding]:
    """What it finds
    Ingress rules whose source is a public address range that is not the whole internet
    but still very large, on any protocol and port. With the default
    ``broad_range_share: 0`` a range is broad when it is public and wider than a /16 for
    IPv4 (``/15`` or shorter prefix, 131,072 addresses or more) or wider than a /32 for
    IPv6. With ``broad_range_share`` set above 0 (say ``0.001``) a range is broad when it
    holds more than that share of all public IPv4 or IPv6 space. Private, shared and
    documentation ranges (``10.0.0.0/8``, ``100.64.0.0/10``…) are never broad here. The
    share of public space is reported in ``extra.public_share``. Rules that admit the
    whole internet, alone or together with other rules, are SG101–SG103's.

    Why it matters
    A range of millions of addresses is the internet in all but name: cloud providers,
    ISPs and botnets live in it. It usually comes from a typo (``/8`` for ``/28``) or a
    shortcut.

    Failing example
        resource "aws_security_group" "api" {
          ingress {
            from_port   = 443
            to_port     = 443
            protocol    = "tcp"
            cidr_blocks = ["52.0.0.0/8"]
          }
        }

    Passing example
        resource "aws_security_group" "api" {
          ingress {
            from_port   = 443
            to_port     = 443
            protocol    = "tcp"
            cidr_blocks = ["52.94.76.0/22"]
          }
        }

    Fix
    List the specific ranges of the partner or office that needs access, or use a
    managed prefix list that holds them.
    """
    threshold = ctx.ruleset.broad_range_share
    exposed_ids = {id(g): exposed_rule_ids(found) for g, found in exposed_groups(ctx.estate)}
    for group in ctx.estate.groups.values():
        exposed = exposed_ids.get(id(group), _NONE_EXPOSED)
        for item in group.rules:
            if item.direction is not _INGRESS or item.peer.kind in _NO_ADDRESSES:
                continue  # egress, or a peer that stands for no addresses (``peer_addresses``)
            addresses = peer_addresses(ctx.estate, item.peer)
            if not addresses or addresses.is_internet or id(item) in exposed or traffic_of(item) is None:
                continue
            if not addresses.is_public():
                continue
            share = addresses.public_share()
            if _is_broad(peer_networks(ctx.estate, item.peer), share, threshold):
                msg = (f"{describe_rule(ctx.estate, item)} admits a public range holding "
                       f"{share:.4%} of the public address space")
                yield rule_finding(ctx, group, item, msg, extra={"public_share": round(share, 8)})
