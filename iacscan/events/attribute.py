"""Drift attribution: who made each drifted change, and when, from CloudTrail events.

For every DRIFT finding, the latest security-group event that explains it:

- DRIFT501, a live rule the code lacks → the last ``Authorize…`` (same direction) or
  ``ModifySecurityGroupRules`` that set exactly that rule on the group (``added``);
- DRIFT501, a live group no code declares → its ``CreateSecurityGroup`` (``created``);
- DRIFT502, a code rule live state lacks → the last ``Revoke…`` of that rule (by its
  permissions, or by ``securityGroupRuleIds`` when an authorize event read gave the id;
  ``revoked``); a code group with no live group → its ``DeleteSecurityGroup`` (``deleted``);
- DRIFT503, a rule description that differs → the last event that set the rule (``changed``);
  a group name/VPC/description that differs → the group's ``CreateSecurityGroup`` (``created``);
- DRIFT504, a workload's groups → the last ``ModifyInstanceAttribute``/
  ``ModifyNetworkInterfaceAttribute`` with a ``groupSet`` for it (``groups set``).

Rules are compared as ``iacscan.drift_keys`` compares them (protocols, ports and CIDRs
normalised; ``self`` is the group's own id). The event's facts go into the finding's
``extra`` (``event_id``, ``event_name``, ``event_time``, ``actor``, ``source_ip``,
``region``, and ``change``), which the text and JSON reports show, and the message ends
with ``added by <actor> at <time>``. Neither changes the fingerprint. Events come from
CloudTrail files (``--attribute-from``) or from ``LookupEvents`` (``--attribute``: the
resource ids of the findings, in the regions of the live state, over the last 90 days).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from iacscan.drift_keys import AtomicKey, norm_ports, region_of, split_account
from iacscan.events.records import EventRecord
from iacscan.events.to_model import (
    Permission, created_rule_ids, group_of, items, location_of, modified_permission, permissions, rule_updates,
)
from iacscan.findings import Finding
from iacscan.model import PeerKind

if TYPE_CHECKING:
    from iacscan.events.lookup import LiveRead
    from iacscan.live.collect import ClientSource
    from iacscan.scan import ScanResult

_KINDS = {PeerKind.CIDR: "cidr", PeerKind.GROUP: "group", PeerKind.PREFIX_LIST: "prefix_list"}
_RULE_FIELDS = ("direction", "protocol", "ports", "peer")
_WORKLOAD_EVENTS = {"ModifyInstanceAttribute": "instanceId", "ModifyNetworkInterfaceAttribute": "networkInterfaceId"}


def key_of(perm: Permission, own: str, account: str, direction: str) -> AtomicKey:
    """The drift key of an event's atomic rule on group ``own``."""
    lo, hi = norm_ports(perm.protocol, perm.from_port, perm.to_port)
    peer = split_account(perm.peer, account) if perm.kind is PeerKind.GROUP else perm.peer
    return AtomicKey(direction, perm.protocol, lo, hi, _KINDS.get(perm.kind, "cidr"), peer)


def _rule(details: dict[str, Any]) -> tuple[str, ...] | None:
    """(direction, protocol, ports, peer) of a rule finding's details; None for others."""
    if not all(isinstance(details.get(k), str) for k in _RULE_FIELDS):
        return None
    return tuple(str(details[k]) for k in _RULE_FIELDS)


def _fields(key: AtomicKey) -> tuple[str, ...]:
    details = key.details()
    return tuple(details[k] for k in _RULE_FIELDS)


@dataclass
class EventIndex:
    """The events, indexed by what they changed (each list in time order)."""

    added: dict[tuple[str, tuple[str, ...]], list[EventRecord]] = field(default_factory=lambda: defaultdict(list))
    revoked: dict[tuple[str, tuple[str, ...]], list[EventRecord]] = field(default_factory=lambda: defaultdict(list))
    created: dict[str, EventRecord] = field(default_factory=dict)
    deleted: dict[str, EventRecord] = field(default_factory=dict)
    attached: dict[str, list[EventRecord]] = field(default_factory=lambda: defaultdict(list))
    rule_keys: dict[str, tuple[str, AtomicKey]] = field(default_factory=dict)  # sgr-… → (sg, key)

    @classmethod
    def of(cls, records: list[EventRecord]) -> EventIndex:
        index = cls()
        for record in sorted(records, key=lambda r: (r.time, r.index)):
            index.add(record)
        return index

    def add(self, record: EventRecord) -> None:
        name, gid = record.event_name, group_of(record)
        if name in _WORKLOAD_EVENTS:
            ident = record.request.get(_WORKLOAD_EVENTS[name])
            if isinstance(ident, str):
                self.attached[ident].append(record)
        elif name == "CreateSecurityGroup":
            self.created[gid] = record
        elif name == "DeleteSecurityGroup":
            self.deleted[gid] = record
        elif name.startswith(("Authorize", "Revoke")):
            self._rules(record, gid)
        elif name == "ModifySecurityGroupRules":
            for update in rule_updates(record):
                perm = modified_permission(update, record.account)
                known = self.rule_keys.get(str(update.get("SecurityGroupRuleId", "")))
                if perm is not None and known is not None:
                    key = key_of(perm, gid, record.account, known[1].direction)
                    self.added[(gid, _fields(key))].append(record)

    def _rules(self, record: EventRecord, gid: str) -> None:
        direction = "egress" if record.event_name.endswith("Egress") else "ingress"
        target = self.added if record.event_name.startswith("Authorize") else self.revoked
        keys = [key_of(p, gid, record.account, direction) for p in permissions(record.request, record.account)]
        for key in keys:
            target[(gid, _fields(key))].append(record)
        if target is self.added:
            for rule_id, _egress in created_rule_ids(record).items():
                if len(keys) == 1:
                    self.rule_keys[rule_id] = (gid, keys[0])
                else:  # several rules: the id's own entry says which
                    self._rule_from_response(record, gid, rule_id, direction)
        for entry in items(record.request.get("securityGroupRuleIds")):
            known = self.rule_keys.get(str(entry.get("securityGroupRuleId", "")))
            if known is not None:
                self.revoked[(known[0], _fields(known[1]))].append(record)

    def _rule_from_response(self, record: EventRecord, gid: str, rule_id: str, direction: str) -> None:
        for entry in items(record.response.get("securityGroupRuleSet")):
            if entry.get("securityGroupRuleId") != rule_id:
                continue
            update = {"SecurityGroupRule": {
                "IpProtocol": entry.get("ipProtocol"), "FromPort": entry.get("fromPort"), "ToPort": entry.get("toPort"),
                "CidrIpv4": entry.get("cidrIpv4"), "CidrIpv6": entry.get("cidrIpv6"),
                "PrefixListId": entry.get("prefixListId"),
                "ReferencedGroupId": (entry.get("referencedGroupInfo") or {}).get("groupId")}}
            perm = modified_permission(update, record.account)
            if perm is not None:
                self.rule_keys[rule_id] = (gid, key_of(perm, gid, record.account, direction))

    def explain(self, finding: Finding) -> tuple[str, EventRecord] | None:
        """(what the event did, the event) that explains a DRIFT finding, if any."""
        details = finding.details
        gid = str(details.get("live_id") or "")
        rule = _rule(details)
        if finding.rule_id == "DRIFT504":
            return _last("groups set", self.attached.get(gid))
        if rule is not None:
            if finding.rule_id == "DRIFT502":
                return _last("revoked", self.revoked.get((gid, rule)))
            verb = "changed" if finding.rule_id == "DRIFT503" else "added"
            return _last(verb, self.added.get((gid, rule)))
        if finding.rule_id == "DRIFT502":
            return ("deleted", self.deleted[gid]) if gid in self.deleted else None
        return ("created", self.created[gid]) if gid in self.created else None


def _last(verb: str, records: list[EventRecord] | None) -> tuple[str, EventRecord] | None:
    return (verb, records[-1]) if records else None


def attribute(result: ScanResult, records: list[EventRecord]) -> int:
    """Add the explaining event to each DRIFT finding of ``result``; how many got one."""
    index = EventIndex.of(records)
    done = 0
    for finding in result.findings:
        if not finding.rule_id.startswith("DRIFT"):
            continue
        found = index.explain(finding)
        if found is None:
            continue
        verb, record = found
        finding.extra.update(location_of(record).event_facts())
        finding.extra["change"] = verb
        finding.message += f"; {verb} by {record.actor} at {record.event_time}"
        done += 1
    return done


def mark_revoked(result: ScanResult, records: list[EventRecord]) -> int:
    """For ``iacscan events``: note on each finding about an added rule the first later
    revoke of that rule (``extra["revoked"]``: event id, time, actor); how many were.
    The finding stays: the rule was open until then."""
    from iacscan.events.records import parse_time

    index = EventIndex.of(records)
    done = 0
    for finding in result.findings:
        rule, when = _rule(finding.details), parse_time(str(finding.extra.get("event_time") or ""))
        if rule is None or when is None or not finding.extra.get("event_id"):
            continue
        later = [r for r in index.revoked.get((finding.resource, rule), []) if r.time > when]
        if later:
            first = later[0]
            finding.extra["revoked"] = {"event_id": first.event_id, "event_time": first.event_time,
                                        "actor": first.actor}
            done += 1
    return done


def wanted_ids(result: ScanResult) -> list[str]:
    """The live ids the DRIFT findings are about (groups and workloads)."""
    return sorted({str(f.details["live_id"]) for f in result.findings
                   if f.rule_id.startswith("DRIFT") and f.details.get("live_id")})


def live_regions(result: ScanResult) -> list[str]:
    """The regions of the live state compared."""
    regions = {region_of(uid)[1] for uid in list(result.estate.groups) + list(result.estate.workloads)}
    return sorted(r for r in regions if r)


def lookup_for(result: ScanResult, source: ClientSource, now: dt.datetime) -> LiveRead:
    """The events of the last 90 days about the findings' resources (``ResourceName`` lookups)."""
    from iacscan.events.lookup import HISTORY_DAYS, LiveRead, read_live
    from iacscan.events.records import ReadResult

    ids = wanted_ids(result)
    regions = live_regions(result)
    if not ids or not regions:
        return LiveRead(ReadResult())
    start = now - dt.timedelta(days=HISTORY_DAYS)
    return read_live(source, regions, start, now, lookups=[("ResourceName", ident) for ident in ids])
