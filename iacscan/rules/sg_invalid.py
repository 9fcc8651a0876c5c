"""SG107: rules AWS would reject or silently reinterpret."""
from __future__ import annotations

from collections.abc import Iterator

from iacscan import net
from iacscan.findings import Finding, Severity
from iacscan.model import PeerKind, Rule, is_unknown
from iacscan.rules._sg_common import rule_finding
from iacscan.rules.base import Context, Remediation, rule

_CIDR = PeerKind.CIDR  # (a module constant: enum member lookups cost in loops)

_PORTLESS_OK = {(None, None), (0, 0), (-1, -1)}


def _port_problems(protocol: str, lo: int | None, hi: int | None) -> list[tuple[str, str]]:
    if protocol == "all":
        if (lo, hi) not in _PORTLESS_OK:
            return [("ports-with-all", f"ports {lo}-{hi} are given with protocol all (-1), which "
                     "admits every port anyway (Terraform wants 0/0, AWS ignores them)")]
        return []
    if protocol in ("tcp", "udp"):
        if lo is None or hi is None:
            return [("missing-ports", f"a {protocol} rule needs from and to ports; AWS rejects it without them")]
        out = []
        bad = [p for p in (lo, hi) if not 0 <= p <= net.PORT_MAX]
        if bad:
            out.append(("port-range", f"port {bad[0]} is outside 0-65535"))
        if lo > hi:
            out.append(("port-order", f"from_port {lo} is greater than to_port {hi}"))
        return out
    if protocol in ("icmp", "icmpv6"):
        bad = [p for p in (lo, hi) if p is not None and not -1 <= p <= 255]
        if bad:
            return [("port-range", f"ICMP type/code {bad[0]} is outside -1-255")]
    return []


_PLAIN = (int, type(None))
_SETTINGS: dict[tuple[object, object, object], list[tuple[str, str]]] = {}


def problems(item: Rule) -> list[tuple[str, str]]:
    """(code, explanation) for each way the rule is invalid; Unknown values are not judged."""
    proto, lo, hi = item.protocol, item.from_port, item.to_port
    if type(proto) is str and type(lo) in _PLAIN and type(hi) in _PLAIN:
        key = (proto, lo, hi)  # protocol and ports are judged by value: remember them
        found = _SETTINGS.get(key)
        if found is None:
            found = _setting_problems(item)
            if len(_SETTINGS) < 100_000:
                _SETTINGS[key] = found
        out = list(found)
    else:
        out = _setting_problems(item)
    if item.peer.kind is _CIDR and net.parse_cidr(item.peer.value) is None:
        out.append(("cidr", f"{item.peer.value!r} is not a valid CIDR block"))
    return out


def _setting_problems(item: Rule) -> list[tuple[str, str]]:
    """The protocol and port part of ``problems``."""
    out: list[tuple[str, str]] = []
    if not is_unknown(item.protocol):
        protocol = str(item.protocol)
        if not net.is_valid_protocol(protocol):
            out.append(("protocol", f"protocol {protocol!r} is not one AWS accepts "
                        "(tcp, udp, icmp, icmpv6, -1/all or a number 0-255)"))
        elif not (is_unknown(item.from_port) or is_unknown(item.to_port)):
            out.extend(_port_problems(protocol, item.from_port, item.to_port))  # type: ignore[arg-type]
    return out


@rule(
    id="SG107", title="Invalid security group rule", severity=Severity.MEDIUM, family="sg",
    remediation=Remediation(
        summary="Correct the rule of {resource} ({protocol} {ports} with {peer}): valid protocol, "
                "from_port <= to_port within 0-65535, no ports with protocol -1, valid CIDR.",
        console="EC2 console → Security Groups → select the group of {resource} → Edit inbound or "
                "outbound rules → fix the rule's type, port range and source → Save rules. (The "
                "console does not accept invalid values, so the code is what needs fixing.)",
        cli="# After fixing the code, compare what AWS holds:\n"
            "aws ec2 describe-security-group-rules --filters Name=group-id,Values={live_id}",
        boto3='import boto3\nec2 = boto3.client("ec2")\n'
              'ec2.describe_security_group_rules(Filters=[{{"Name": "group-id", "Values": ["{live_id}"]}}])',
        terraform='# {resource}: a valid rule\ningress {{\n  protocol    = "tcp"   # or "-1" with from_port = 0, '
                  'to_port = 0\n  from_port   = 8080\n  to_port     = 8081  # from_port <= to_port\n'
                  '  cidr_blocks = ["10.0.0.0/16"]\n}}',
        cloudformation='# {resource}: a valid rule\nSecurityGroupIngress:\n  - IpProtocol: tcp   # or -1 '
                       'without FromPort/ToPort\n    FromPort: 8080\n    ToPort: 8081\n    CidrIp: 10.0.0.0/16',
    ),
)
def invalid_rule(ctx: Context) -> Iterator[Finding]:
    """What it finds
    Rules that AWS rejects or reinterprets: ``from_port`` greater than ``to_port``; a
    TCP/UDP port outside 0-65535 (``-1`` is only meaningful for ICMP and protocol all);
    a TCP/UDP rule without ports; ports other than ``0``/``0`` or ``-1``/``-1`` with
    protocol all (``-1``), where AWS ignores them (Terraform itself demands 0/0); an
    ICMP type or code outside -1-255; a protocol that is not ``tcp``, ``udp``, ``icmp``,
    ``icmpv6``, ``-1``/``all`` or a number 0-255; a CIDR block that does not parse. One
    finding per rule block and problem. Values the code does not resolve are not judged
    (IAC002 reports them).

    Why it matters
    An invalid rule fails the deployment at apply time, or, worse, deploys as something
    other than what the author read: ``protocol = "-1"`` with ``from_port = 443`` opens
    every port, not 443.

    Failing example
        resource "aws_security_group" "app" {
          ingress {
            from_port   = 8081
            to_port     = 8080
            protocol    = "tcp"
            cidr_blocks = ["10.0.0.0/16"]
          }
        }

    Passing example
        resource "aws_security_group" "app" {
          ingress {
            from_port   = 8080
            to_port     = 8081
            protocol    = "tcp"
            cidr_blocks = ["10.0.0.0/16"]
          }
        }

    Fix
    Write the rule as AWS reads it: a valid protocol, ports in order and in range, no
    ports with protocol -1 (use 0/0 in Terraform, omit them in CloudFormation), and a
    valid CIDR.
    """
    for group in ctx.estate.groups.values():
        seen: set[tuple[str, int, str, str]] | None = None  # made for the first invalid rule
        for item in group.rules:
            found = problems(item)
            if not found:
                continue
            if seen is None:
                seen = set()
            for code, text in found:
                which = item.peer.value if code == "cidr" else code
                key = (item.location.file, item.location.line, item.origin, which)
                if key in seen:
                    continue
                seen.add(key)
                yield rule_finding(ctx, group, item, f"invalid {item.direction.value} rule: {text}",
                                   details={"problem": code})
