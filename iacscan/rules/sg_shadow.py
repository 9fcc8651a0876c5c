"""SG111: rules that another rule of the same group and direction already covers."""
from __future__ import annotations

from collections.abc import Iterator

from iacscan import net
from iacscan.findings import Finding, Severity
from iacscan.model import Peer, PeerKind, Rule, SecurityGroup
from iacscan.rules._sg_common import describe_rule, rule_details, rule_finding, target, traffic_of
from iacscan.rules.base import Context, Remediation, rule

_CIDR, _UNKNOWN = PeerKind.CIDR, PeerKind.UNKNOWN  # (module constants: enum member lookups cost in loops)


def peer_covers(outer: Peer, inner: Peer) -> bool:
    """True when every source/destination ``inner`` names is also named by ``outer``."""
    if outer.kind is not inner.kind or outer.kind is _UNKNOWN:
        return False
    if outer.kind is _CIDR:
        key = (outer.value, inner.value)
        found = _CIDR_COVERS.get(key)
        if found is None:
            a, b = net.parse_cidr(outer.value), net.parse_cidr(inner.value)
            found = a is not None and b is not None and a.version == b.version and b.subnet_of(a)  # type: ignore[arg-type]
            if len(_CIDR_COVERS) < 100_000:
                _CIDR_COVERS[key] = found
        return found
    return outer.value == inner.value


#: ``peer_covers`` of two CIDR peers, by their values (estates repeat the same few ranges)
_CIDR_COVERS: dict[tuple[str, str], bool] = {}


#: ``Traffic.covers`` by the identities of the two traffics (rules share the remembered
#: traffic objects of ``traffic_of``); the entries keep both alive, so the ids stay theirs.
_COVERS: dict[tuple[int, int], tuple[net.Traffic, net.Traffic, bool]] = {}


def _covers(outer: net.Traffic, inner: net.Traffic) -> bool:
    found = _COVERS.get((id(outer), id(inner)))
    if found is not None:
        return found[2]
    result = outer.covers(inner)
    if len(_COVERS) < 100_000:
        _COVERS[(id(outer), id(inner))] = (outer, inner, result)
    return result


def _order(item: Rule, index: int) -> tuple[str, int, int]:
    return (item.location.file, item.location.line, index)


def shadowed(group: SecurityGroup) -> Iterator[tuple[Rule, Rule]]:
    """(shadowed rule, a rule that covers it), each shadowed rule once. Of two identical
    rules only the later one (by file, line, position) is shadowed."""
    # Only rules of the same bucket can cover each other (``peer_covers``): the same
    # direction and kind of peer, and the same peer unless it is a CIDR. Rules without
    # traffic (``traffic_of``) are not compared; it is asked only in shared buckets.
    buckets: dict[tuple[int, int, str], list[tuple[int, Rule]]] = {}
    for index, candidate in enumerate(group.rules):
        peer = candidate.peer
        key = (id(candidate.direction), id(peer.kind), "" if peer.kind is _CIDR else peer.value)
        bucket = buckets.get(key)
        if bucket is None:
            buckets[key] = [(index, candidate)]
        else:
            bucket.append((index, candidate))
    if len(buckets) == len(group.rules):
        return  # no rule shares a bucket with another
    entries: list[tuple[int, Rule, net.Traffic, list[tuple[int, Rule, net.Traffic]]]] = []
    for bucket in buckets.values():
        if len(bucket) < 2:
            continue
        members = [(index, item, traffic) for index, item in bucket if (traffic := traffic_of(item))]
        if len(members) > 1:
            entries.extend((index, item, traffic, members) for index, item, traffic in members)
    entries.sort(key=_first)  # rule order
    for i, item, traffic, members in entries:
        for j, other, other_traffic in members:
            if i == j:
                continue
            if not (peer_covers(other.peer, item.peer) and _covers(other_traffic, traffic)):
                continue
            mutual = traffic.covers(other_traffic) and peer_covers(item.peer, other.peer)
            if mutual and _order(item, i) < _order(other, j):
                continue
            yield item, other
            break


def _first(entry: tuple[int, Rule, net.Traffic, object]) -> int:
    return entry[0]


@rule(
    id="SG111", title="Duplicate or shadowed rule", severity=Severity.LOW, family="sg",
    remediation=Remediation(
        summary="Remove the rule {protocol} {ports} with {peer} from {resource}: another rule of the "
                "group already admits all of it.",
        console="EC2 console → Security Groups → select the group of {resource} → Edit inbound or "
                "outbound rules → delete the redundant rule → Save rules.",
        cli="aws ec2 revoke-security-group-ingress --group-id {live_id} --ip-permissions '{ip_permissions}'\n"
            "# (revoke-security-group-egress for an egress rule)",
        boto3='import boto3\nec2 = boto3.client("ec2")\n'
              'ec2.revoke_security_group_ingress(GroupId="{live_id}", IpPermissions={ip_permissions})',
        terraform="# {resource}: delete the redundant block (or the redundant entry of its\n"
                  "# cidr_blocks list) for {protocol} {ports} with {peer}",
        cloudformation="# {resource}: delete the redundant SecurityGroupIngress/Egress entry\n"
                       "# for {protocol} {ports} with {peer}",
    ),
)
def shadowed_rule(ctx: Context) -> Iterator[Finding]:
    """What it finds
    A rule that admits nothing new because another rule of the same group and direction
    already admits all of it: the same peer (group, prefix list, ``self``) or a CIDR that
    contains its CIDR (``10.0.0.0/8`` holds ``10.1.0.0/16``), on traffic that covers its
    traffic (protocol all covers everything; ``tcp 0-1000`` covers ``tcp 22``). Of two
    identical rules the later one (by file and line) is reported, once. Rules from one
    block count too (``cidr_blocks = ["10.0.0.0/8", "10.1.0.0/16"]``). Descriptions are
    ignored. Rules with values iacscan cannot resolve, and invalid rules (SG107), are not
    compared.

    Why it matters
    Redundant rules hide the real policy from reviewers, make a later narrowing look
    effective when it is not (removing the wide rule is what matters), count against the
    rules-per-group quota, and with inline Terraform rules cause perpetual plan diffs.

    Failing example
        resource "aws_security_group" "db" {
          ingress {
            from_port   = 5432
            to_port     = 5432
            protocol    = "tcp"
            cidr_blocks = ["10.0.0.0/8"]
          }
          ingress {
            from_port   = 5432
            to_port     = 5432
            protocol    = "tcp"
            cidr_blocks = ["10.1.0.0/16"]
          }
        }

    Passing example
        resource "aws_security_group" "db" {
          ingress {
            from_port   = 5432
            to_port     = 5432
            protocol    = "tcp"
            cidr_blocks = ["10.1.0.0/16"]
          }
        }

    Fix
    Delete the redundant rule, or narrow the covering one if it is the rule that is too
    wide.
    """
    for group in ctx.estate.groups.values():
        for item, other in shadowed(group):
            where = f"{other.location.file}:{other.location.line}" if other.location.file else target(group, other)[0]
            msg = (f"{describe_rule(ctx.estate, item)} is already admitted by the rule at {where} "
                   f"({describe_rule(ctx.estate, other)})")
            extra = {"covered_by": {"resource": target(group, other)[0], "file": other.location.file,
                                    "line": other.location.line, **rule_details(ctx.estate, other)}}
            yield rule_finding(ctx, group, item, msg, extra=extra)

