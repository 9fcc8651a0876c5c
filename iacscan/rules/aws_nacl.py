"""AWS406: network ACL entries that admit the internet on all ports or a sensitive port.

Network ACLs are stateless and ordered: AWS evaluates the entries of a direction by
ascending rule number and the first entry that matches a packet decides. An allow entry
therefore only admits what no lower-numbered deny entry already refused.
"""
from __future__ import annotations

from collections.abc import Iterator

from iacscan.findings import Finding, Severity
from iacscan.model import NaclEntry, NetworkAcl, is_unknown
from iacscan.net import ALL_PORTS, AddressSet, Intervals, Traffic, normalize_cidr
from iacscan.rules.base import Context, Remediation, rule
from iacscan.ruleset import Ruleset

_PORT_PROTOCOLS = ("tcp", "udp")


@rule(
    id="AWS406",
    title="Network ACL admits the internet on all ports or a sensitive port",
    severity=Severity.MEDIUM,
    family="aws",
    options={"ephemeral_from": 1024},
    remediation=Remediation(
        summary="Narrow inbound entry {rule_number} of {resource} (admits {cidr} on {ports}): admit the "
                "internet only on the ports the subnet serves publicly, and refuse sensitive ports with "
                "lower-numbered deny entries.",
        console="VPC console → Network ACLs → select the ACL → Inbound rules → Edit inbound rules → "
                "change rule {rule_number} to the needed ports (or add a deny rule with a lower "
                "number for the sensitive ports) → Save changes.",
        cli="aws ec2 replace-network-acl-entry --network-acl-id <acl-id> --ingress --rule-number {rule_number} "
            "--protocol tcp --port-range From=443,To=443 --cidr-block {cidr} --rule-action allow",
        boto3="boto3.client('ec2').replace_network_acl_entry(NetworkAclId='<acl-id>', Egress=False, "
              "RuleNumber={rule_number}, Protocol='6', PortRange={{'From': 443, 'To': 443}}, "
              "CidrBlock='{cidr}', RuleAction='allow')",
        terraform="# in {resource}:\ningress {{\n  rule_no    = {rule_number}\n  action     = \"allow\"\n"
                  "  protocol   = \"tcp\"\n  from_port  = 443\n  to_port    = 443\n  cidr_block = \"{cidr}\"\n}}",
        cloudformation="InboundHttps:\n  Type: AWS::EC2::NetworkAclEntry\n  Properties:\n"
                       "    NetworkAclId: !Ref {resource}\n    RuleNumber: {rule_number}\n    Protocol: 6\n"
                       "    RuleAction: allow\n    CidrBlock: {cidr}\n    PortRange:\n      From: 443\n      To: 443",
    ),
)
def aws406_nacl_internet(ctx: Context) -> Iterator[Finding]:
    """Network ACL admits the internet on all ports or a sensitive port.

    What it finds:
        An inbound ``allow`` entry of a network ACL (``aws_network_acl`` ingress
        blocks, ``aws_network_acl_rule``, ``aws_default_network_acl``,
        ``AWS::EC2::NetworkAclEntry``) whose range is the whole internet
        (``0.0.0.0/0`` or ``::/0``) and which admits all traffic (protocol ``-1``),
        all TCP or UDP ports, or a sensitive port of the ruleset. Entries are read in
        AWS's order: traffic that a lower-numbered ``deny`` entry for a range covering
        the same internet range refuses first is not counted. An entry with an
        unresolved rule number, protocol, range or ports is not judged, and such a
        deny entry is not counted as refusing anything. The finding names the ACL and
        points at the entry; ``details.ports`` lists what gets through.

        Because ACLs are stateless, a subnet needs an inbound entry for the return
        traffic of its outbound connections, on the ephemeral ports: AWS documents
        ``1024-65535`` from ``0.0.0.0/0``. A TCP or UDP entry whose range starts at or
        above the rule option ``ephemeral_from`` (default 1024) and ends at 65535 is
        taken as that return-traffic entry and not judged for sensitive ports (set the
        option to 65536 to judge it). Protocol ``-1`` and ``0-65535`` are always judged.

    Why it matters:
        Network ACLs are the subnet-level second line behind security groups. An ACL
        that lets the whole internet in on every port (or on SSH, RDP, database
        ports) leaves a single security-group mistake between those services and
        the internet (CIS AWS 5.1).

    Failing example:
        resource "aws_network_acl" "public" {
          vpc_id = aws_vpc.main.id
          ingress {
            rule_no    = 100
            action     = "allow"
            protocol   = "-1"
            from_port  = 0
            to_port    = 0
            cidr_block = "0.0.0.0/0"
          }
        }

    Passing example:
        resource "aws_network_acl" "public" {
          vpc_id = aws_vpc.main.id
          ingress {
            rule_no    = 100
            action     = "allow"
            protocol   = "tcp"
            from_port  = 443
            to_port    = 443
            cidr_block = "0.0.0.0/0"
          }
        }

    Fix:
        Admit the internet only on the ports the subnet serves publicly (and the
        ephemeral return ports 1024-65535 where needed), or deny sensitive ports
        with lower-numbered deny entries.
    """
    for nacl in ctx.estate.nacls.values():
        ingress = sorted((e for e in nacl.entries if not e.egress and not is_unknown(e.rule_number)),
                         key=lambda e: int(e.rule_number))  # type: ignore[arg-type]
        for index, entry in enumerate(ingress):
            finding = _judge(ctx, nacl, entry, ingress[:index])
            if finding is not None:
                yield finding


def _traffic(entry: NaclEntry) -> Traffic | None:
    """What the entry matches, or None when a field of it is unresolved."""
    if is_unknown(entry.protocol) or is_unknown(entry.from_port) or is_unknown(entry.to_port):
        return None
    protocol = str(entry.protocol)
    if protocol == "all":
        return Traffic(everything=True)
    return Traffic.of(protocol, entry.from_port, entry.to_port)  # type: ignore[arg-type]


def _addresses(entry: NaclEntry) -> AddressSet | None:
    if is_unknown(entry.cidr):
        return None
    cidr = normalize_cidr(str(entry.cidr))
    return AddressSet.of([cidr]) if cidr else None


def _judge(ctx: Context, nacl: NetworkAcl, entry: NaclEntry, earlier: list[NaclEntry]) -> Finding | None:
    if entry.action.lower() != "allow" or _is_ephemeral(entry, ctx.options.get("ephemeral_from", 1024)):
        return None
    addresses, traffic = _addresses(entry), _traffic(entry)
    if addresses is None or traffic is None or not addresses.is_internet:
        return None
    for deny in earlier:
        if deny.action.lower() != "deny":
            continue
        deny_addresses, deny_traffic = _addresses(deny), _traffic(deny)
        if deny_addresses is not None and deny_traffic is not None and deny_addresses.covers(addresses):
            traffic = traffic.difference(deny_traffic)
    problem, ports = _exposure(traffic, ctx.ruleset)
    if problem is None:
        return None
    cidr = normalize_cidr(str(entry.cidr)) or str(entry.cidr)
    return ctx.finding(
        resource=nacl.address, uid=nacl.uid, location=entry.location,
        message=f"network ACL {nacl.address} inbound entry {entry.rule_number} admits {cidr} on "
                f"{'all traffic' if ports == 'all' else ports}",
        details={"direction": "ingress", "rule_number": entry.rule_number, "protocol": str(entry.protocol),
                 "ports": ports, "cidr": cidr, "problem": problem},
    )


def _is_ephemeral(entry: NaclEntry, lowest: object) -> bool:
    """A tcp/udp entry for return traffic: from ``lowest`` or above up to 65535."""
    if entry.protocol not in _PORT_PROTOCOLS or not isinstance(lowest, int):
        return False
    low, high = entry.from_port, entry.to_port
    return isinstance(low, int) and isinstance(high, int) and 0 < lowest <= low and high == 65535


def _exposure(traffic: Traffic, ruleset: Ruleset) -> tuple[str | None, str]:
    """(``all_ports`` | ``sensitive_port`` | None, a description of what is admitted)."""
    if traffic.everything:
        return "all_ports", "all"
    open_all = [p for p in _PORT_PROTOCOLS if traffic.ports(p) == ALL_PORTS]
    if open_all:
        return "all_ports", ", ".join(f"{p}/all" for p in open_all)
    sensitive = Intervals.of(ruleset.sensitive_ports)
    hits = [f"{p}/{traffic.ports(p).intersection(sensitive).describe()}" for p in _PORT_PROTOCOLS
            if traffic.ports(p).intersection(sensitive)]
    if hits:
        return "sensitive_port", ", ".join(hits)
    return None, ""
