"""Drift: compare the security groups the code declares with those live state holds.

``compare_estates(code, live, ruleset)`` matches code groups to live groups
(``iacscan.drift_match``), splits both sides into atomic keys (``iacscan.drift_keys``),
records the differences in a ``Comparison``, and runs the DRIFT rules (plus IAC001/IAC002)
on the merged estate. The rules read the comparison with ``comparison_for(estate)``; an
estate that was not prepared here (a plain ``iacscan scan``, even of code and a snapshot
together) has none, and the DRIFT rules then report nothing: drift is only judged when
asked for, by ``iacscan drift``.

Scope: a live group no code declares is reported only when it sits in a VPC the code
covers (a VPC of a matched group, a code VPC matched to a live one, or a literal VPC id the
code uses); a snapshot of a whole account compared with one module does not report every
other group. Default groups are never "unmanaged": only the rules they gained beyond AWS's
own (all in from itself, all out) count. A failed ``DescribeSecurityGroups`` in a region
turns "missing from live" into an IAC002 note for that region; it is never claimed.
"""
from __future__ import annotations

import dataclasses
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from iacscan.drift_keys import (
    AtomicKey, could_be, expected_description, is_aws_default, key_of, region_of, text,
)
from iacscan.drift_match import LiveIndex, candidates, code_vpc_id, match_vpcs, match_workload, names_match
from iacscan.model import Estate, Rule, SecurityGroup, Unknown, Unresolved, Workload

if TYPE_CHECKING:
    from iacscan.ruleset import Ruleset
    from iacscan.scan import ScanResult

#: Rules that run under ``iacscan drift`` besides the drift family.
ALSO_RUN = ("IAC001", "IAC002")
SG_OPERATIONS = ("DescribeSecurityGroups",)
#: AWS's egress of a group created without egress rules (CloudFormation, the API).
_ALL_OUT_V4 = AtomicKey("egress", "all", None, None, "cidr", "0.0.0.0/0")
_ALL_OUT_V6 = AtomicKey("egress", "all", None, None, "cidr", "::/0")


@dataclass
class Pair:
    """A code group and the live group it is (``how``: ``id`` or ``name``)."""

    code: SecurityGroup
    live: SecurityGroup
    how: str


@dataclass
class RuleDiff:
    """Rule differences of one live group (``code`` is None for an undeclared default group)."""

    code: SecurityGroup | None
    live: SecurityGroup
    live_only: list[tuple[AtomicKey, Rule]] = field(default_factory=list)
    code_only: list[tuple[AtomicKey, Rule | None]] = field(default_factory=list)  # None: AWS's implicit egress
    changed: list[tuple[AtomicKey, Rule, Rule]] = field(default_factory=list)


@dataclass
class GroupChange:
    """A group attribute that differs: ``what`` is name, description or vpc."""

    pair: Pair
    what: str
    code_value: str
    live_value: str


@dataclass
class WorkloadDiff:
    code: Workload
    live: Workload
    code_groups: list[str]
    live_groups: list[str]


@dataclass
class Comparison:
    """Everything the DRIFT rules report, computed once per ``iacscan drift`` run."""

    pairs: list[Pair] = field(default_factory=list)
    rules: list[RuleDiff] = field(default_factory=list)
    changes: list[GroupChange] = field(default_factory=list)
    missing: list[SecurityGroup] = field(default_factory=list)
    unmanaged: list[SecurityGroup] = field(default_factory=list)
    workloads: list[WorkloadDiff] = field(default_factory=list)
    notes: list[Unresolved] = field(default_factory=list)
    code_to_live: dict[str, str] = field(default_factory=dict)  # code group uid → sg id
    #: live groups a code group may be (several candidates): noted, never "unmanaged"
    maybe: set[str] = field(default_factory=set)
    #: VPCs ("" = any) holding a code group whose name is unknown: their live groups are noted
    unsure_vpcs: set[str] = field(default_factory=set)


_ACTIVE: dict[int, tuple[weakref.ref[Estate], Comparison]] = {}


def activate(estate: Estate, comparison: Comparison) -> None:
    """Make ``comparison`` the one the DRIFT rules see for ``estate``."""
    for key in [k for k, (ref, _) in _ACTIVE.items() if ref() is None]:
        del _ACTIVE[key]
    _ACTIVE[id(estate)] = (weakref.ref(estate), comparison)


def comparison_for(estate: Estate) -> Comparison | None:
    """The comparison prepared for ``estate``; None when drift was not asked for."""
    found = _ACTIVE.get(id(estate))
    if found is None or found[0]() is not estate:
        return None
    return found[1]


def failures(live: Estate, operations: tuple[str, ...]) -> dict[str, str]:
    """Region → "Operation failed in region: Error" for the live calls that failed."""
    out: dict[str, str] = {}
    for item in getattr(live, "live_failures", None) or []:
        if isinstance(item, dict) and item.get("operation") in operations:
            region = str(item.get("region", ""))
            out.setdefault(region, f"{item.get('operation')} failed in {region}: {item.get('error', 'error')}")
    return out


def compare(code: Estate, live: Estate) -> Comparison:
    """Match and diff ``code`` against ``live`` (see the module docstring)."""
    index = LiveIndex.of(live)
    vpc_map = match_vpcs(code, live)
    cmp = Comparison()
    sg_failed = failures(live, SG_OPERATIONS)
    for error in live.errors:  # a snapshot (or a region of it) that could not be read at all
        sg_failed.setdefault("*", f"the snapshot could not be read: {error.message}")
    used: set[str] = set()
    pending = _match_by_id(code, index, cmp, used)
    covered = {v for v in (code_vpc_id(code, g.vpc, vpc_map) for g in code.groups.values()) if v}
    covered |= set(vpc_map.values())
    # groups whose VPC is known first: a group matched by name alone must not take their live twin
    for group in sorted(pending, key=lambda g: (not code_vpc_id(code, g.vpc, vpc_map), g.uid)):
        _match_by_name(code, group, code_vpc_id(code, group.vpc, vpc_map), index, cmp, used, sg_failed)
    covered |= {index.vpc_id(p.live.vpc) for p in cmp.pairs} - {""}
    cmp.code_to_live = {p.code.uid: p.live.live_id for p in cmp.pairs}
    for pair in cmp.pairs:
        cmp.rules.append(_rule_diff(code, index, cmp, pair.code, pair.live))
        cmp.changes.extend(_group_changes(pair, code, index, vpc_map))
    for sg_id, group in sorted(index.groups.items()):
        if sg_id in used or index.vpc_id(group.vpc) not in covered:
            continue
        if group.is_default:
            cmp.rules.append(_rule_diff(code, index, cmp, None, group))
        elif sg_id in cmp.maybe:
            continue
        elif "" in cmp.unsure_vpcs or index.vpc_id(group.vpc) in cmp.unsure_vpcs:
            _note(cmp, group, "whether the code declares it",
                  "a code group in its VPC has an unknown name and may be this one")
        else:
            cmp.unmanaged.append(group)
    cmp.workloads = _workload_diffs(code, live, index, cmp)
    return cmp


def _match_by_id(code: Estate, index: LiveIndex, cmp: Comparison, used: set[str]) -> list[SecurityGroup]:
    pending = []
    for group in code.groups.values():
        live = index.groups.get(group.live_id) if group.live_id else None
        if live is not None and live.live_id not in used:
            used.add(live.live_id)
            cmp.pairs.append(Pair(group, live, "id"))
        else:
            pending.append(group)
    return pending


def _match_by_name(code: Estate, group: SecurityGroup, vpc: str, index: LiveIndex, cmp: Comparison,
                   used: set[str], sg_failed: dict[str, str]) -> None:
    pool = [g for sg, g in index.groups.items() if sg not in used]
    found = [] if group.live_id else candidates(group, vpc, pool, index)
    if len(found) == 1:
        used.add(found[0].live_id)
        cmp.pairs.append(Pair(group, found[0], "name"))
        return
    if len(found) > 1:
        cmp.maybe |= {g.live_id for g in found}
        ids = ", ".join(sorted(g.live_id for g in found))
        _note(cmp, group, "its live counterpart", f"several live groups match it ({ids}); drift was not checked")
        return
    region = index.vpc_regions.get(vpc, "") if vpc else ""
    if vpc and not region:
        _note(cmp, group, "its live counterpart",
              f"its VPC {vpc} is not in the live snapshot; drift could not be checked")
    elif region in sg_failed or (not region and sg_failed):
        reason = sg_failed.get(region) or "; ".join(sorted(sg_failed.values()))
        _note(cmp, group, "whether it exists in live state", f"could not be checked: {reason}")
    elif isinstance(group.name, Unknown) and not group.live_id:
        cmp.unsure_vpcs.add(vpc)
        _note(cmp, group, "its live counterpart", f"its name is unknown ({group.name.reason})")
    else:
        cmp.missing.append(group)


def _note(cmp: Comparison, group: SecurityGroup, what: str, reason: str) -> None:
    cmp.notes.append(Unresolved(resource=group.address, uid=group.uid, what=what, reason=reason,
                                location=group.location))


def _code_resolver(code: Estate, cmp: Comparison) -> Any:
    def resolve(ref: str) -> str | None:
        found = code.groups.get(ref)
        if found is None:
            return None
        return cmp.code_to_live.get(ref) or found.live_id or None
    return resolve


def _rule_diff(code: Estate, index: LiveIndex, cmp: Comparison, group: SecurityGroup | None,
               live: SecurityGroup) -> RuleDiff:
    own, account = live.live_id, region_of(live.uid)[0]
    diff = RuleDiff(group, live)
    live_keys: dict[AtomicKey, Rule] = {}
    for rule in live.rules:
        key = key_of(rule, own, account, index.sg_id, index.estate)
        if key is not None:
            live_keys.setdefault(key, rule)
    code_keys: dict[AtomicKey, Rule | None] = {}
    uncertain: list[Rule] = []
    for rule in group.rules if group is not None else []:
        key = key_of(rule, own, account, _code_resolver(code, cmp), code)
        if key is None:
            uncertain.append(rule)
        else:
            code_keys.setdefault(key, rule)
    if group is not None and group.implicit_egress:
        code_keys.setdefault(_ALL_OUT_V4, None)
    for key, rule in live_keys.items():
        if key in code_keys:
            _compare_descriptions(diff, key, code_keys[key], rule)
        elif group is None and is_aws_default(key, own):
            continue
        elif group is not None and group.implicit_egress and key == _ALL_OUT_V6:
            continue
        elif any(could_be(rule, key) for rule in uncertain):
            _note(cmp, group or live, f"live {key.describe()} on {own}",
                  "a rule of the code whose peer is unknown (or has no live group) may be this one")
        else:
            diff.live_only.append((key, rule))
    diff.code_only = [(k, r) for k, r in code_keys.items() if k not in live_keys]
    return diff


def _compare_descriptions(diff: RuleDiff, key: AtomicKey, code: Rule | None, live: Rule) -> None:
    if code is None or isinstance(code.description, Unknown):
        return
    if text(code.description) != text(live.description):
        diff.changed.append((key, code, live))


def _group_changes(pair: Pair, code: Estate, index: LiveIndex, vpc_map: dict[str, str]) -> list[GroupChange]:
    out: list[GroupChange] = []
    group, live = pair.code, pair.live
    if group.is_default:
        return out
    wanted = expected_description(group)
    if not isinstance(wanted, Unknown) and text(wanted) != text(live.description):
        out.append(GroupChange(pair, "description", text(wanted) or "", text(live.description) or ""))
    if pair.how == "id":
        name = text(group.name)
        if name is not None and not names_match(group, live):
            out.append(GroupChange(pair, "name", name, text(live.name) or ""))
        vpc = code_vpc_id(code, group.vpc, vpc_map)
        if vpc and vpc != index.vpc_id(live.vpc):
            out.append(GroupChange(pair, "vpc", vpc, index.vpc_id(live.vpc)))
    return out


def _workload_diffs(code: Estate, live: Estate, index: LiveIndex, cmp: Comparison) -> list[WorkloadDiff]:
    live_loads = [w for w in live.workloads.values() if w.live_id]
    out = []
    for load in sorted(code.workloads.values(), key=lambda w: w.uid):
        if not load.groups:
            continue
        found = match_workload(load, live_loads)
        wanted = _code_group_ids(code, load, cmp)
        if found is None or wanted is None:
            continue
        have = sorted({index.sg_id(g) or g for g in found.groups if isinstance(g, str)})
        if set(wanted) != set(have):
            out.append(WorkloadDiff(load, found, wanted, have))
    return out


def _code_group_ids(code: Estate, load: Workload, cmp: Comparison) -> list[str] | None:
    ids = set()
    for ref in load.groups:
        if not isinstance(ref, str):
            return None
        found = ref if ref.startswith("sg-") else cmp.code_to_live.get(ref) or (
            code.groups[ref].live_id if ref in code.groups else "")
        if not found:
            return None
        ids.add(found)
    return sorted(ids)


def drift_ruleset(ruleset: Ruleset) -> Ruleset:
    """``ruleset`` with every rule off but the drift family and IAC001/IAC002."""
    from iacscan.rules.base import iter_rules
    from iacscan.ruleset import RuleSettings

    rules = dict(ruleset.rules)
    for registered in iter_rules():
        meta = registered.meta
        if meta.family != "drift" and meta.id not in ALSO_RUN:
            rules[meta.id] = RuleSettings(enabled=False)
    return dataclasses.replace(ruleset, rules=rules)


def compare_estates(code: Estate, live: Estate, ruleset: Ruleset) -> ScanResult:
    """Compare ``code`` with ``live`` and run the drift rules on the two merged."""
    from iacscan.scan import run_rules

    comparison = compare(code, live)
    merged = Estate(root=code.root)
    merged.merge(code)
    merged.merge(live)
    if hasattr(merged, "live_failures"):
        setattr(merged, "live_failures", list(getattr(live, "live_failures", None) or []))
    merged.unresolved.extend(comparison.notes)
    merged.files = sorted(set(merged.files))
    activate(merged, comparison)
    return run_rules(merged, drift_ruleset(ruleset))
