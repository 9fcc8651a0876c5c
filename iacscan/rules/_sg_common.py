"""Helpers shared by the security-group rules (SG1xx): naming, texts and peer addresses.

Rule-level findings name the group, or the standalone rule resource the rule came
from (CONVENTIONS.md). ``rule_finding`` builds them with the standard details
(``direction``, ``protocol``, ``ports``, ``peer``) and renders the remediation with
extra values the templates use: ``{ip_permissions}`` (a JSON list for the AWS CLI and
boto3), ``{from_port}``, ``{to_port}``, ``{tf_protocol}`` and ``{cfn_protocol}``.
"""
from __future__ import annotations

import json
from typing import Any

from iacscan import net
from iacscan.findings import Finding, Severity
from iacscan.model import Estate, Peer, PeerKind, PrefixList, Rule, SecurityGroup, is_unknown
from iacscan.rules.base import Context

#: Names of well-known ports, for messages only.
SERVICES = {
    20: "FTP data", 21: "FTP", 22: "SSH", 23: "Telnet", 25: "SMTP", 53: "DNS", 110: "POP3",
    135: "MS RPC", 137: "NetBIOS", 138: "NetBIOS", 139: "NetBIOS", 161: "SNMP", 389: "LDAP",
    445: "SMB", 636: "LDAPS", 1433: "SQL Server", 1521: "Oracle", 2049: "NFS", 2375: "Docker",
    2376: "Docker TLS", 2379: "etcd", 3306: "MySQL", 3389: "RDP", 5432: "PostgreSQL",
    5601: "Kibana", 5900: "VNC", 5985: "WinRM", 5986: "WinRM", 6379: "Redis",
    6443: "Kubernetes API", 9042: "Cassandra", 9092: "Kafka", 9200: "Elasticsearch",
    10250: "kubelet", 11211: "Memcached", 27017: "MongoDB",
}

TERRAFORM_DEFAULT_DESCRIPTION = "Managed by Terraform"


def is_resolved(rule: Rule) -> bool:
    """True when protocol, ports and peer of the rule are all known (IAC002 covers the rest)."""
    return not (is_unknown(rule.protocol) or is_unknown(rule.from_port) or is_unknown(rule.to_port)
                or rule.peer.kind is PeerKind.UNKNOWN)


_PLAIN = (int, type(None))
_TRAFFIC_OF: dict[tuple[object, object, object], net.Traffic | None] = {}
_MISSING = object()
_UNKNOWN_PEER = PeerKind.UNKNOWN
_CIDR = PeerKind.CIDR


def traffic_of(rule: Rule) -> net.Traffic | None:
    """The traffic a resolved rule with a valid protocol and ports admits, else None (an
    invalid rule admits nothing AWS would accept: SG107 reports it)."""
    proto, lo, hi = rule.protocol, rule.from_port, rule.to_port
    if type(proto) is str and type(lo) in _PLAIN and type(hi) in _PLAIN:
        if rule.peer.kind is _UNKNOWN_PEER:
            return None
        key: tuple[object, object, object] = (proto, lo, hi)
        found = _TRAFFIC_OF.get(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        found = _traffic_of(rule)
        if len(_TRAFFIC_OF) < 100_000:
            _TRAFFIC_OF[key] = found
        return found
    return _traffic_of(rule)


def _traffic_of(rule: Rule) -> net.Traffic | None:
    if not is_resolved(rule) or not net.is_valid_protocol(str(rule.protocol)):
        return None
    if not _ports_valid(str(rule.protocol), rule.from_port, rule.to_port):
        return None
    return net.Traffic.of(str(rule.protocol), rule.from_port, rule.to_port)  # type: ignore[arg-type]


def _ports_valid(protocol: str, lo: object, hi: object) -> bool:
    """Ports AWS accepts: tcp/udp 0-65535 with from <= to (or -1 for all); ICMP type and
    code -1..255; anything for protocols without ports."""
    if not net.has_ports(protocol):
        return True
    top = 255 if protocol in ("icmp", "icmpv6") else net.PORT_MAX
    for value in (lo, hi):
        if value is not None and not (isinstance(value, int) and -1 <= value <= top):
            return False
    if protocol in ("tcp", "udp") and isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        return False
    return True


def target(group: SecurityGroup, rule: Rule) -> tuple[str, str]:
    """The (resource, uid) a finding about ``rule`` names."""
    if rule.origin:
        return rule.origin_address or group.address, rule.origin
    return group.address, group.uid


def ports_text(rule: Rule) -> str:
    """``22``, ``0-65535``, ``all`` (ports of a protocol without ports, or not given)."""
    lo, hi = rule.from_port, rule.to_port
    if is_unknown(lo) or is_unknown(hi):
        return "unknown"
    protocol = str(rule.protocol)
    if not net.has_ports(protocol) or (lo is None and hi is None):
        return "all"
    if protocol in ("icmp", "icmpv6") and lo == -1:
        return "all"
    if lo is None or hi is None:
        return str(hi if lo is None else lo)
    if lo == hi:
        return str(lo)
    return f"{lo}-{hi}"


def find_prefix_list(estate: Estate, ref: str) -> PrefixList | None:
    """The prefix list a peer names, by uid or live id."""
    found = estate.prefix_lists.get(ref)
    if found is not None:
        return found
    return next((p for p in estate.prefix_lists.values() if p.live_id and p.live_id == ref), None)


def peer_text(estate: Estate, peer: Peer) -> str:
    """What users read for a peer: a CIDR, a group or prefix-list address, ``self``."""
    if peer.kind is PeerKind.CIDR:
        return peer.value
    if peer.kind is PeerKind.GROUP:
        group = estate.find_group(peer.value)
        return group.address if group is not None else peer.value
    if peer.kind is PeerKind.PREFIX_LIST:
        plist = find_prefix_list(estate, peer.value)
        return plist.address if plist is not None else peer.value
    if peer.kind is PeerKind.SELF:
        return "self"
    return "unknown"


def peer_networks(estate: Estate, peer: Peer) -> list[str]:
    """The CIDRs a peer stands for: its own, or the known entries of a defined prefix list.
    Groups, ``self`` and unknown peers stand for no address range."""
    if peer.kind is PeerKind.CIDR:
        return [peer.value] if net.parse_cidr(peer.value) is not None else []
    if peer.kind is PeerKind.PREFIX_LIST:
        plist = find_prefix_list(estate, peer.value)
        if plist is not None:
            return [e for e in plist.entries if isinstance(e, str) and net.parse_cidr(e) is not None]
    return []


_CIDR_ADDRESSES: dict[str, net.AddressSet] = {}
_NO_ADDRESSES = (PeerKind.GROUP, PeerKind.SELF, PeerKind.UNKNOWN)  # peer_networks gives them none
_EMPTY = net.AddressSet()


def peer_addresses(estate: Estate, peer: Peer) -> net.AddressSet:
    """The addresses of ``peer_networks`` (CIDR peers remembered by value)."""
    if peer.kind in _NO_ADDRESSES:
        return _EMPTY
    if peer.kind is _CIDR and type(peer.value) is str:
        found = _CIDR_ADDRESSES.get(peer.value)
        if found is None:
            found = net.AddressSet.of(peer_networks(estate, peer))
            if len(_CIDR_ADDRESSES) < 100_000:
                _CIDR_ADDRESSES[peer.value] = found
        return found
    return net.AddressSet.of(peer_networks(estate, peer))


def rule_details(estate: Estate, rule: Rule) -> dict[str, str]:
    """The identifying details of a rule finding (no line numbers)."""
    return {"direction": rule.direction.value, "protocol": str(rule.protocol),
            "ports": ports_text(rule), "peer": peer_text(estate, rule.peer)}


def describe_rule(estate: Estate, rule: Rule) -> str:
    """``tcp 22 from 0.0.0.0/0`` / ``all to ::/0`` for messages."""
    protocol = str(rule.protocol)
    ports = ports_text(rule)
    what = protocol if ports == "all" and protocol == "all" else f"{protocol} {ports}"
    word = "from" if rule.direction.value == "ingress" else "to"
    return f"{what} {word} {peer_text(estate, rule.peer)}"


def _ip_permission(group: SecurityGroup, rule: Rule) -> dict[str, Any]:
    protocol = str(rule.protocol)
    perm: dict[str, Any] = {"IpProtocol": "-1" if protocol == "all" else protocol}
    if net.has_ports(protocol) and isinstance(rule.from_port, int) and isinstance(rule.to_port, int):
        perm["FromPort"], perm["ToPort"] = rule.from_port, rule.to_port
    peer = rule.peer
    if peer.kind is PeerKind.CIDR:
        key, inner = ("Ipv6Ranges", "CidrIpv6") if peer.is_ipv6 else ("IpRanges", "CidrIp")
        perm[key] = [{inner: peer.value}]
    elif peer.kind is PeerKind.PREFIX_LIST:
        perm["PrefixListIds"] = [{"PrefixListId": peer.value if peer.value.startswith("pl-") else "<prefix-list-id>"}]
    elif peer.kind in (PeerKind.GROUP, PeerKind.SELF):
        gid = peer.value if peer.value.startswith("sg-") else "<peer-group-id>"
        own = group.live_id or "<group-id>"
        perm["UserIdGroupPairs"] = [{"GroupId": own if peer.kind is PeerKind.SELF else gid}]
    return perm


def remediation_values(group: SecurityGroup, rule: Rule) -> dict[str, Any]:
    """Values the SG remediation templates use besides the finding's details."""
    protocol = str(rule.protocol)
    lo = rule.from_port if isinstance(rule.from_port, int) else (0 if protocol == "all" else -1)
    hi = rule.to_port if isinstance(rule.to_port, int) else (0 if protocol == "all" else -1)
    return {
        "ip_permissions": json.dumps([_ip_permission(group, rule)]),
        "from_port": lo, "to_port": hi,
        "tf_protocol": "-1" if protocol == "all" else protocol,
        "cfn_protocol": "-1" if protocol == "all" else protocol,
        "tf_peer_attr": _tf_peer_attr(rule.peer),
    }


def _tf_peer_attr(peer: Peer) -> str:
    if peer.kind is PeerKind.CIDR:
        return "ipv6_cidr_blocks" if peer.is_ipv6 else "cidr_blocks"
    return {PeerKind.PREFIX_LIST: "prefix_list_ids", PeerKind.GROUP: "security_groups",
            PeerKind.SELF: "self"}.get(peer.kind, "cidr_blocks")


def rule_finding(
    ctx: Context, group: SecurityGroup, rule: Rule, message: str, *,
    severity: Severity | None = None, details: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Finding:
    """A finding about one rule of ``group`` with the standard naming and details."""
    resource, uid = target(group, rule)
    full = rule_details(ctx.estate, rule)
    full.update(details or {})
    finding = ctx.finding(resource=resource, uid=uid, location=rule.location, message=message,
                          details=full, severity=severity, environment=group.environment,
                          extra=extra, live_id=group.live_id)
    values = {"resource": resource, "live_id": group.live_id or "<group-id>",
              **remediation_values(group, rule), **full}
    finding.remediation = ctx.meta.remediation.render(values)
    return finding


def group_finding(ctx: Context, group: SecurityGroup, message: str, *,
                  details: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> Finding:
    """A finding about a whole group, on the group's line."""
    return ctx.finding(resource=group.address, uid=group.uid, location=group.location, message=message,
                       details=details, environment=group.environment, extra=extra, live_id=group.live_id)
