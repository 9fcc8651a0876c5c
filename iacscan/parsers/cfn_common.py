"""What every CloudFormation resource mapper shares: the per-template ``Builder`` and coercions.

Values reaching these helpers are already resolved by ``cfn_intrinsics`` (plain Python,
``CfnRef``, ``Unknown``). The coercions follow what CloudFormation itself accepts:
numbers written as strings (``"22"``), booleans as ``"true"``, a single string where a
list belongs. Anything else becomes ``Unknown`` with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from iacscan.model import Estate, Location, Unknown, Unresolved, make_uid
from iacscan.parsers.cfn_intrinsics import CfnRef, TemplateContext

SG = "AWS::EC2::SecurityGroup"
VPC = "AWS::EC2::VPC"
SUBNET = "AWS::EC2::Subnet"
PREFIX_LIST = "AWS::EC2::PrefixList"

#: Attributes of ``Fn::GetAtt`` that return the same physical id as ``Ref``.
ID_ATTRIBUTES: dict[str, frozenset[str]] = {
    SG: frozenset({"GroupId", "Id"}),
    VPC: frozenset({"VpcId", "Id"}),
    SUBNET: frozenset({"SubnetId", "Id"}),
    PREFIX_LIST: frozenset({"PrefixListId", "Id"}),
    "AWS::EC2::NetworkInterface": frozenset({"Id", "NetworkInterfaceId"}),
    "AWS::EC2::LaunchTemplate": frozenset({"LaunchTemplateId", "Id"}),
    "AWS::EC2::RouteTable": frozenset({"RouteTableId", "Id"}),
    "AWS::EC2::InternetGateway": frozenset({"InternetGatewayId", "Id"}),
    "AWS::EC2::NetworkAcl": frozenset({"Id", "NetworkAclId"}),
    "AWS::EC2::Instance": frozenset({"InstanceId", "Id"}),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": frozenset({"LoadBalancerArn", "Arn"}),
    "AWS::EC2::EIP": frozenset({"AllocationId", "PublicIp"}),
}


@dataclass
class Builder:
    """The state of turning one template into the model."""

    ctx: TemplateContext
    file: str
    estate: Estate
    env_hint: str | None = None
    #: logical id → (type, resolved properties, 1-based line) of every resource that exists
    resources: dict[str, tuple[str, dict[str, Any], int]] = field(default_factory=dict)
    #: uids of groups that declare egress (inline or standalone): no implicit allow-all
    egress_declared: set[str] = field(default_factory=set)

    def uid(self, logical_id: str) -> str:
        return make_uid(self.file, logical_id)

    def loc(self, line: int) -> Location:
        return Location(self.file, line)

    def note(self, logical_id: str, what: str, reason: str, line: int) -> None:
        """Record an ``Unresolved`` (IAC002) for a value that decides findings."""
        self.estate.unresolved.append(
            Unresolved(resource=logical_id, uid=self.uid(logical_id), what=what, reason=reason,
                       location=self.loc(line)))

    def type_of(self, logical_id: str) -> str | None:
        return self.ctx.resource_type(logical_id)

    def target(self, value: Any, types: tuple[str, ...]) -> str | None:
        """The logical id ``value`` refers to when it is a Ref/GetAtt-id to one of ``types``."""
        if not isinstance(value, CfnRef):
            return None
        rtype = self.type_of(value.logical_id)
        if rtype not in types:
            return None
        if value.attribute is not None and value.attribute not in ID_ATTRIBUTES.get(rtype, frozenset()):
            return None
        return value.logical_id

    def ref_id(self, value: Any, types: tuple[str, ...]) -> str | Unknown | None:
        """A uid (reference to a resource of ``types``), a raw id, Unknown, or None (absent)."""
        if value is None:
            return None
        if isinstance(value, Unknown):
            return value
        if isinstance(value, CfnRef):
            logical_id = self.target(value, types)
            if logical_id is not None:
                return self.uid(logical_id)
            return Unknown(self._not_an_id(value, types))
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return str(value)
        return Unknown(f"{kind_of(value)} where an id is expected")

    def _not_an_id(self, ref: CfnRef, types: tuple[str, ...]) -> str:
        rtype = self.type_of(ref.logical_id) or "resource"
        if rtype == "AWS::CloudFormation::Stack":
            return f"{ref} is an output of a nested stack, which is not read"
        if ref.attribute is not None:
            return f"{ref} (an attribute of a {rtype}) is only known after deployment"
        return f"{ref} is a {rtype}, not a {' or '.join(types)}"

    def id_list(self, value: Any, types: tuple[str, ...]) -> list[str | Unknown]:
        """A list of ids (a single value is taken as a one-element list)."""
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        out: list[str | Unknown] = []
        for item in items:
            ref = self.ref_id(item, types)
            if ref is not None and ref not in out:
                out.append(ref)
        return out

    def group_names(self, value: Any) -> list[str | Unknown]:
        """Groups given by name (``SecurityGroups`` of an instance in the default VPC)."""
        out: list[str | Unknown] = []
        for item in (value if isinstance(value, list) else [] if value is None else [value]):
            out.append(self.group_by_name(item))
        return out

    def group_by_name(self, item: Any) -> str | Unknown:
        """A group named by ``GroupName`` (or a Ref, which returns the name in a default VPC)."""
        if isinstance(item, (CfnRef, Unknown)):
            ref = self.ref_id(item, (SG,))
            return ref if ref is not None else Unknown("no group")
        name = as_str(item)
        if not isinstance(name, str):
            return name if isinstance(name, Unknown) else Unknown("no group name")
        if name.startswith("sg-"):
            return name
        for logical_id, (rtype, props, _line) in self.resources.items():
            if rtype == SG and props.get("GroupName") == name:
                return self.uid(logical_id)
        return Unknown(f"security group named {name!r} is not declared in this template")


def kind_of(value: Any) -> str:
    """A value's kind in CloudFormation terms, for messages."""
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return type(value).__name__


def as_str(value: Any) -> str | Unknown | None:
    if value is None or isinstance(value, (str, Unknown)):
        return value
    if isinstance(value, CfnRef):
        return Unknown(f"the physical id of {value} is only known after deployment")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return Unknown(f"{kind_of(value)} where text is expected")


def as_int(value: Any, what: str = "value") -> int | Unknown | None:
    if value is None:
        return None
    if isinstance(value, Unknown):
        return value
    if isinstance(value, bool):
        return Unknown(f"{what} is a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    return Unknown(f"{what} {value!r} is not a number")


def as_bool(value: Any, what: str = "value") -> bool | Unknown | None:
    if value is None or isinstance(value, (bool, Unknown)):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return Unknown(f"{what} {value!r} is not a boolean")


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def tags_of(value: Any) -> dict[str, str]:
    """``Tags: [{Key, Value}]`` (or a plain mapping, as SAM and some resources use)."""
    out: dict[str, str] = {}
    if isinstance(value, dict):
        pairs = [(k, v) for k, v in value.items()]
    else:
        pairs = [(t.get("Key"), t.get("Value")) for t in as_list(value) if isinstance(t, dict)]
    for key, val in pairs:
        key_text, val_text = as_str(key), as_str(val)
        if isinstance(key_text, str) and isinstance(val_text, str):
            out[key_text] = val_text
    return out
