"""Drift: which live security group (and VPC, and workload) each code object is.

Order of matching a code group to a live group:

1. by id — the ``live_id`` a plan or state gives the code group (``sg-…``);
2. by name within its VPC — the code group's VPC is a literal ``vpc-…`` id, or a code VPC
   matched to a live VPC (by ``live_id``, else by primary CIDR plus the ``Name`` tag when the
   code sets one, else by primary CIDR alone when only one live VPC has it);
3. by name alone when the VPC cannot be told, if exactly one live group has the name.

Names: the code's ``name``; a Terraform ``name_prefix`` (the model keeps the prefix) matches
a live name of that prefix followed by Terraform's 26-digit suffix; a Terraform group with
no name matches ``terraform-<digits>``; a CloudFormation group with no ``GroupName`` matches
the live tag ``aws:cloudformation:logical-id``. Two or more candidates are never guessed
between: the group is noted as not checked.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from iacscan import net
from iacscan.drift_keys import region_of, text
from iacscan.model import Estate, SecurityGroup, Vpc, Workload

_GENERATED = re.compile(r"\d{20,}")
_CFN_LOGICAL_ID = "aws:cloudformation:logical-id"


@dataclass
class LiveIndex:
    """The live side, indexed: groups by sg id, VPC regions, VPC ids by uid."""

    estate: Estate
    groups: dict[str, SecurityGroup] = field(default_factory=dict)  # sg id → group
    vpc_regions: dict[str, str] = field(default_factory=dict)  # vpc id → region
    regions: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, live: Estate) -> LiveIndex:
        index = cls(live)
        for group in live.groups.values():
            index.groups[group.live_id or group.address] = group
            region = region_of(group.uid)[1]
            index.regions.add(region)
            vpc = index.vpc_id(group.vpc)
            if vpc:
                index.vpc_regions.setdefault(vpc, region)
        for live_vpc in live.vpcs.values():
            index.vpc_regions.setdefault(live_vpc.live_id or live_vpc.address, region_of(live_vpc.uid)[1])
        return index

    def vpc_id(self, ref: object) -> str:
        """The ``vpc-…`` id a live group's ``vpc`` names ("" when none)."""
        if not isinstance(ref, str):
            return ""
        vpc = self.estate.vpcs.get(ref)
        if vpc is not None:
            return vpc.live_id or vpc.address
        return ref if ref.startswith("vpc-") else ""

    def sg_id(self, ref: str) -> str | None:
        """The sg id of a live group reference (uid or raw id)."""
        group = self.estate.groups.get(ref)
        if group is not None:
            return group.live_id or group.address
        return ref if ref.startswith("sg-") else None


def match_vpcs(code: Estate, live: Estate) -> dict[str, str]:
    """Code VPC uid → live ``vpc-…`` id, for the code VPCs that match exactly one live VPC."""
    out: dict[str, str] = {}
    live_vpcs = list(live.vpcs.values())
    for vpc in code.vpcs.values():
        if vpc.live_id:
            out[vpc.uid] = vpc.live_id
            continue
        found = _vpc_candidates(vpc, live_vpcs)
        if len(found) == 1:
            out[vpc.uid] = found[0].live_id or found[0].address
    return out


def _vpc_candidates(vpc: Vpc, live_vpcs: list[Vpc]) -> list[Vpc]:
    cidr = _primary_cidr(vpc)
    if cidr is None:
        return []
    found = [v for v in live_vpcs if _primary_cidr(v) == cidr]
    name = vpc.tags.get("Name")
    if name is not None:
        found = [v for v in found if v.tags.get("Name") == name]
    return found


def _primary_cidr(vpc: Vpc) -> str | None:
    first = vpc.cidrs[0] if vpc.cidrs else None
    return net.normalize_cidr(first) if isinstance(first, str) else None


def code_vpc_id(code: Estate, ref: object, vpc_map: dict[str, str]) -> str:
    """The live ``vpc-…`` id of a code object's ``vpc`` ("" when it cannot be told)."""
    if not isinstance(ref, str):
        return ""
    if ref.startswith("vpc-"):
        return ref
    vpc = code.vpcs.get(ref)
    if vpc is None:
        return ""
    return vpc.live_id or vpc_map.get(ref, "")


def names_match(code: SecurityGroup, live: SecurityGroup) -> bool:
    """Whether the live group carries the name the code gives (see the module docstring)."""
    live_name = text(live.name) or ""
    if code.is_default:
        return live.is_default
    if code.source == "cloudformation" and code.name is None:
        return live.tags.get(_CFN_LOGICAL_ID) == code.address
    name = text(code.name)
    if name is None:
        return code.name is None and _generated(live_name, "terraform-")
    if live_name == name:
        return True
    return code.source in ("terraform", "plan") and _generated(live_name, name)


def _generated(live_name: str, prefix: str) -> bool:
    return live_name.startswith(prefix) and bool(_GENERATED.fullmatch(live_name[len(prefix):]))


def candidates(code: SecurityGroup, vpc: str, pool: Iterable[SecurityGroup], index: LiveIndex) -> list[SecurityGroup]:
    """Live groups of ``pool`` the code group may be: same VPC (when known) and name."""
    found = [g for g in pool if (not vpc or index.vpc_id(g.vpc) == vpc) and names_match(code, g)]
    exact = [g for g in found if text(g.name) == text(code.name)]
    return exact or found


def match_workload(code: Workload, live: list[Workload]) -> Workload | None:
    """The live workload the code one is: by live id, else an instance by a unique ``Name`` tag."""
    if code.live_id:
        return next((w for w in live if w.live_id == code.live_id), None)
    name = code.tags.get("Name") or (code.name if isinstance(code.name, str) else None)
    if code.kind != "aws_instance" or not name:
        return None
    found = [w for w in live if w.live_id.startswith("i-") and w.tags.get("Name") == name]
    return found[0] if len(found) == 1 else None
