"""Security-group events → the model, so the SG rules judge what each event did.

Every group an event touches becomes a ``SecurityGroup`` with scope
``cloudtrail:<account>:<region>``, its ``sg-…`` id as address and ``live_id``, and
``source = "cloudtrail"``. Events are applied in time order:

- ``CreateSecurityGroup`` gives the group its name, description and VPC, and its location.
  The EC2 API cannot create a group with rules: they come with the authorize events that
  follow. AWS's default allow-all egress of a new group is not modelled (no event adds it).
- ``AuthorizeSecurityGroupIngress``/``Egress`` add one ``Rule`` per peer of each
  ``ipPermissions`` item (IPv4, IPv6, group pairs, prefix lists), each located at the event:
  a finding about it names the event (time, actor, source IP, region, event id).
- ``ModifySecurityGroupRules`` adds the rule as it was changed to, located at that event.
  The request does not say whether the rule is ingress or egress: that is taken from the
  authorize event that created the rule (its ``securityGroupRuleSet`` response), when it is
  among the events read; otherwise an IAC002 note says the change was not judged.
- Revokes and ``DeleteSecurityGroup`` judge nothing: a rule that was opened and later
  revoked was still open meanwhile, so its authorize event is judged all the same.
- ``ModifyInstanceAttribute``/``ModifyNetworkInterfaceAttribute`` with a ``groupSet``
  become a workload (``aws_instance``/``aws_network_interface``) with those groups.

Groups known only from authorize events have an unknown name and description (the events
do not say them), so SG106 judges only their rules' descriptions.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from iacscan.events.records import EventRecord
from iacscan.model import (
    Direction, Estate, Location, Peer, PeerKind, Rule, SecurityGroup, Unknown, Unresolved, Workload, make_uid,
)
from iacscan.net import normalize_cidr, normalize_protocol
from iacscan.parsers.live_common import as_int

SOURCE = "cloudtrail"
_NOT_IN_EVENTS = Unknown("not in the CloudTrail events read (no CreateSecurityGroup event for the group)")
_DIRECTIONS = {"AuthorizeSecurityGroupIngress": Direction.INGRESS, "AuthorizeSecurityGroupEgress": Direction.EGRESS,
               "RevokeSecurityGroupIngress": Direction.INGRESS, "RevokeSecurityGroupEgress": Direction.EGRESS}
_WORKLOAD_IDS = {"ModifyInstanceAttribute": ("instanceId", "aws_instance"),
                 "ModifyNetworkInterfaceAttribute": ("networkInterfaceId", "aws_network_interface")}


def scope_of(record: EventRecord) -> str:
    return f"cloudtrail:{record.account}:{record.region}"


def location_of(record: EventRecord) -> Location:
    """Where a finding about what ``record`` did is located: the event itself."""
    return Location(file=record.file, line=0, resource_id=record.event_id, event_id=record.event_id,
                    event_name=record.event_name, event_time=record.event_time, actor=record.actor,
                    source_ip=record.source_ip, region=record.region)


def items(value: Any) -> list[dict[str, Any]]:
    """The dict entries of CloudTrail's ``{"items": [...]}`` wrapper (a bare list is accepted too)."""
    if isinstance(value, dict):
        value = value.get("items")
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


@dataclass(frozen=True)
class Permission:
    """One atomic rule an event names: protocol, ports and one peer (as AWS ids)."""

    protocol: str
    from_port: int | None
    to_port: int | None
    kind: PeerKind
    peer: str  # CIDR (normalised), sg-… (or owner/sg-…), pl-…
    description: str | None = None

    def rule(self, own: str, direction: Direction, location: Location) -> Rule:
        if self.kind is PeerKind.GROUP and self.peer == own:
            peer = Peer(PeerKind.SELF)
        else:
            peer = Peer(self.kind, self.peer)
        return Rule(direction=direction, protocol=self.protocol, from_port=self.from_port, to_port=self.to_port,
                    peer=peer, description=self.description, location=location)


def permissions(request: dict[str, Any], account: str) -> list[Permission]:
    """The atomic rules of an authorize/revoke request: ``ipPermissions.items`` (or the
    older single-rule form ``ipProtocol``/``fromPort``/``toPort``/``cidrIp`` at the top)."""
    perms = items(request.get("ipPermissions"))
    if not perms and "ipProtocol" in request:
        perms = [{**request, "ipRanges": {"items": [{"cidrIp": request["cidrIp"]}]} if "cidrIp" in request else {}}]
    return [p for perm in perms for p in _split(perm, account)]


def _split(perm: dict[str, Any], account: str) -> Iterator[Permission]:
    protocol = normalize_protocol(perm.get("ipProtocol", "-1"))
    lo, hi = (None, None) if protocol == "all" else (as_int(perm.get("fromPort")), as_int(perm.get("toPort")))

    def make(kind: PeerKind, peer: str, description: Any) -> Permission:
        return Permission(protocol, lo, hi, kind, peer, description if isinstance(description, str) else None)

    for entry in items(perm.get("ipRanges")):
        cidr = str(entry.get("cidrIp", ""))
        yield make(PeerKind.CIDR, normalize_cidr(cidr) or cidr, entry.get("description"))
    for entry in items(perm.get("ipv6Ranges")):
        cidr = str(entry.get("cidrIpv6", ""))
        yield make(PeerKind.CIDR, normalize_cidr(cidr) or cidr, entry.get("description"))
    for entry in items(perm.get("prefixListIds")):
        yield make(PeerKind.PREFIX_LIST, str(entry.get("prefixListId", "")), entry.get("description"))
    for entry in items(perm.get("groups")):
        yield make(PeerKind.GROUP, _group_ref(entry.get("groupId"), entry.get("userId"), account),
                   entry.get("description"))


def _group_ref(group: Any, owner: Any, account: str) -> str:
    ident = str(group or "")
    if isinstance(owner, str) and owner and owner != account and account != "unknown":
        return f"{owner}/{ident}"
    return ident


def modified_permission(update: dict[str, Any], account: str) -> Permission | None:
    """The rule a ``SecurityGroupRuleUpdate`` sets (None when it names no peer)."""
    spec = update.get("SecurityGroupRule")
    if not isinstance(spec, dict):
        return None
    protocol = normalize_protocol(spec.get("IpProtocol", "-1"))
    lo, hi = (None, None) if protocol == "all" else (as_int(spec.get("FromPort")), as_int(spec.get("ToPort")))
    description = spec.get("Description") if isinstance(spec.get("Description"), str) else None
    for key, kind in (("CidrIpv4", PeerKind.CIDR), ("CidrIpv6", PeerKind.CIDR),
                      ("PrefixListId", PeerKind.PREFIX_LIST), ("ReferencedGroupId", PeerKind.GROUP)):
        value = spec.get(key)
        if isinstance(value, str) and value:
            peer = (normalize_cidr(value) or value) if kind is PeerKind.CIDR else value
            return Permission(protocol, lo, hi, kind, peer, description)
    return None


def rule_updates(record: EventRecord) -> list[dict[str, Any]]:
    """The ``SecurityGroupRule`` updates of a ``ModifySecurityGroupRules`` event (one or a list)."""
    inner = record.request.get("ModifySecurityGroupRulesRequest") or {}
    updates = inner.get("SecurityGroupRule")
    if isinstance(updates, dict):
        return [updates]
    return [u for u in updates if isinstance(u, dict)] if isinstance(updates, list) else []


def group_of(record: EventRecord) -> str:
    """The ``sg-…`` id an SG event is about ("" for workload events)."""
    if record.event_name == "CreateSecurityGroup":
        return str(record.response.get("groupId", ""))
    if record.event_name == "ModifySecurityGroupRules":
        return str((record.request.get("ModifySecurityGroupRulesRequest") or {}).get("GroupId", ""))
    return str(record.request.get("groupId", ""))


def created_rule_ids(record: EventRecord) -> dict[str, bool]:
    """``sgr-…`` → is egress, for the rules an authorize event's response lists."""
    out: dict[str, bool] = {}
    for entry in items(record.response.get("securityGroupRuleSet")):
        ident = entry.get("securityGroupRuleId")
        if isinstance(ident, str):
            out[ident] = bool(entry.get("isEgress", record.event_name.endswith("Egress")))
    return out


@dataclass
class _Builder:
    estate: Estate
    rule_egress: dict[str, bool] = field(default_factory=dict)

    def group(self, record: EventRecord, gid: str) -> SecurityGroup:
        uid = make_uid(scope_of(record), gid)
        found = self.estate.groups.get(uid)
        if found is None:
            found = SecurityGroup(uid=uid, address=gid, name=_NOT_IN_EVENTS, description=_NOT_IN_EVENTS, vpc=None,
                                  location=location_of(record), source=SOURCE, live_id=gid)
            self.estate.groups[uid] = found
        return found

    def apply(self, record: EventRecord) -> None:
        name = record.event_name
        if name in _WORKLOAD_IDS:
            self.workload(record)
            return
        gid = group_of(record)
        if not gid or name == "DeleteSecurityGroup":
            return
        group = self.group(record, gid)
        if name == "CreateSecurityGroup":
            self.create(group, record)
        elif name.startswith("Authorize"):
            direction = _DIRECTIONS[name]
            group.rules.extend(p.rule(gid, direction, location_of(record))
                               for p in permissions(record.request, record.account))
            self.rule_egress.update(created_rule_ids(record))
        elif name == "ModifySecurityGroupRules":
            self.modify(group, record)

    def create(self, group: SecurityGroup, record: EventRecord) -> None:
        request = record.request
        group.name = str(request["groupName"]) if isinstance(request.get("groupName"), str) else None
        description = request.get("groupDescription")
        group.description = description if isinstance(description, str) else None
        group.vpc = request["vpcId"] if isinstance(request.get("vpcId"), str) else None
        group.location = location_of(record)
        group.tags.update(_tags(request))

    def modify(self, group: SecurityGroup, record: EventRecord) -> None:
        for update in rule_updates(record):
            rule_id = str(update.get("SecurityGroupRuleId", ""))
            perm = modified_permission(update, record.account)
            if perm is None:
                continue
            if rule_id not in self.rule_egress:
                self.estate.unresolved.append(Unresolved(
                    resource=group.address, uid=group.uid, what=f"direction of rule {rule_id or '?'}",
                    reason=f"{record.event_name} does not say whether the rule is ingress or egress, and no "
                           "authorize event read created it",
                    location=location_of(record)))
                continue
            direction = Direction.EGRESS if self.rule_egress[rule_id] else Direction.INGRESS
            group.rules.append(perm.rule(group.live_id, direction, location_of(record)))

    def workload(self, record: EventRecord) -> None:
        key, kind = _WORKLOAD_IDS[record.event_name]
        ident = record.request.get(key)
        if not isinstance(ident, str) or not ident:
            return
        scope = scope_of(record)
        groups: list[str | Unknown] = []
        for entry in items(record.request.get("groupSet")):
            gid = entry.get("groupId")
            if isinstance(gid, str):
                uid = make_uid(scope, gid)
                groups.append(uid if uid in self.estate.groups else gid)
        uid = make_uid(scope, ident)
        self.estate.workloads[uid] = Workload(uid=uid, address=ident, kind=kind, groups=groups,
                                              location=location_of(record), source=SOURCE, live_id=ident)


def _tags(request: dict[str, Any]) -> dict[str, str]:
    """Tags given at creation (``tagSpecificationSet.items[].tags``)."""
    out: dict[str, str] = {}
    for spec in items(request.get("tagSpecificationSet")):
        for tag in items(spec.get("tags")) or items(spec.get("Tags")):
            key, value = tag.get("key", tag.get("Key")), tag.get("value", tag.get("Value", ""))
            if isinstance(key, str):
                out[key] = str(value)
    return out


def build_estate(records: list[EventRecord], root: str = ".") -> Estate:
    """The estate that ``records`` (in time order) describe."""
    estate = Estate(root=root)
    estate.sources.add(SOURCE)
    builder = _Builder(estate)
    for record in sorted(records, key=lambda r: (r.time, r.index)):
        builder.apply(record)
    return estate
