"""Evaluate CloudFormation intrinsic functions, parameters and conditions.

A ``TemplateContext`` holds one decoded template (cfn-lint's decoder output: dicts, lists
and strings carrying ``start_mark``) and resolves property values into plain Python:

- ``LDict`` / ``LList`` (dict/list subclasses with a 1-based ``line``) for mappings and
  sequences, so the model builder can still point at a list item's line;
- ``CfnRef(logical_id, attribute)`` for ``Ref``/``Fn::GetAtt`` to a resource of the
  template (its physical id is only known after deployment);
- ``Unknown(reason)`` for anything that cannot be known from the code (``AWS::Region``,
  ``Fn::ImportValue``, a parameter without a value, an undecided condition…).

``AWS::NoValue`` removes the dict entry or list element that holds it. Nothing here
raises on bad input: wrong shapes become ``Unknown``.
"""
from __future__ import annotations

import base64
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any

from iacscan.model import Unknown

#: Marker for ``Ref: AWS::NoValue``; removed from the enclosing dict or list.
NO_VALUE = object()

_MAX_DEPTH = 40
_SUB_VAR = re.compile(r"\$\{([^}]*)\}")
_PSEUDO_KNOWN = {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
_PSEUDO_UNKNOWN = ("AWS::Region", "AWS::AccountId", "AWS::StackName", "AWS::StackId",
                   "AWS::NotificationARNs")


class LDict(dict):  # type: ignore[type-arg]
    """A resolved mapping that remembers the 1-based line it was written on."""

    line: int = 0


class LList(list):  # type: ignore[type-arg]
    """A resolved sequence that remembers the 1-based line it was written on."""

    line: int = 0


@dataclass(frozen=True)
class CfnRef:
    """``Ref`` (attribute None) or ``Fn::GetAtt`` to a resource declared in the template."""

    logical_id: str
    attribute: str | None = None

    def __str__(self) -> str:
        return self.logical_id if self.attribute is None else f"{self.logical_id}.{self.attribute}"


def line_of(node: object, default: int = 0) -> int:
    """The 1-based line of a decoded node (or a resolved LDict/LList), else ``default``."""
    line = getattr(node, "line", None)
    if isinstance(line, int) and line > 0:
        return line
    mark = getattr(node, "start_mark", None)
    if mark is not None and isinstance(getattr(mark, "line", None), int):
        return int(mark.line) + 1
    return default


def intrinsic_name(node: object) -> str | None:
    """``Ref``/``Fn::X``/``Condition`` when ``node`` is a one-key intrinsic mapping."""
    if isinstance(node, dict) and len(node) == 1:
        key = next(iter(node))
        if isinstance(key, str) and (key == "Ref" or key.startswith("Fn::") or key == "Condition"):
            return key
    return None


def _text(value: Any) -> str | Unknown | CfnRef:
    """A scalar as CloudFormation turns it into text (booleans lower-case)."""
    if isinstance(value, (Unknown, CfnRef)):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return Unknown("a list or mapping where text is expected")


def _concat(parts: list[Any]) -> str | Unknown:
    out: list[str] = []
    for part in parts:
        text = _text(part)
        if isinstance(text, CfnRef):
            return Unknown(f"the physical id of {text} is only known after deployment")
        if isinstance(text, Unknown):
            return text
        out.append(text)
    return "".join(out)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


class TemplateContext:
    """One template's parameters, mappings, conditions and resources, ready to resolve."""

    def __init__(self, data: dict[str, Any], overrides: dict[str, str] | None = None) -> None:
        self.data = data
        self.resources: dict[str, Any] = _section(data, "Resources")
        self.mappings: dict[str, Any] = _section(data, "Mappings")
        self.conditions_raw: dict[str, Any] = _section(data, "Conditions")
        self.parameters: dict[str, Any] = {}
        self._conditions: dict[str, bool | Unknown] = {}
        self._evaluating: set[str] = set()
        self._attr_props: dict[tuple[str, str], str] = {}
        self._load_parameters(_section(data, "Parameters"), overrides or {})

    # -- parameters -----------------------------------------------------------------
    def _load_parameters(self, params: dict[str, Any], overrides: dict[str, str]) -> None:
        for name, spec in params.items():
            spec = spec if isinstance(spec, dict) else {}
            ptype = str(spec.get("Type", "String"))
            if name in overrides:
                value: Any = overrides[name]
            elif "Default" in spec:
                value = spec["Default"]
                if ptype.startswith("AWS::SSM::Parameter::Value"):
                    value = Unknown(f"parameter {name} is read from SSM parameter {value}")
            else:
                value = Unknown(f"parameter {name} has no value")
            if not isinstance(value, Unknown) and ("List" in ptype) and isinstance(value, str):
                value = LList(part.strip() for part in value.split(",")) if value else LList()
            elif isinstance(value, str):
                value = str(value)
            self.parameters[str(name)] = value

    def resource_type(self, logical_id: str) -> str | None:
        res = self.resources.get(logical_id)
        if isinstance(res, dict) and isinstance(res.get("Type"), str):
            return str(res["Type"])
        return None

    def exists(self, logical_id: str) -> bool | Unknown:
        """False when the resource's ``Condition`` is false (it is not created)."""
        res = self.resources.get(logical_id)
        if not isinstance(res, dict):
            return False
        cond = res.get("Condition")
        if cond is None:
            return True
        return self.condition(str(cond))

    # -- conditions -----------------------------------------------------------------
    def condition(self, name: str) -> bool | Unknown:
        """The value of a named condition (Unknown when it depends on unknown values)."""
        if name in self._conditions:
            return self._conditions[name]
        if name not in self.conditions_raw:
            return Unknown(f"condition {name} is not declared")
        if name in self._evaluating:
            return Unknown(f"condition {name} refers to itself")
        self._evaluating.add(name)
        try:
            value = self._truth(self.resolve(self.conditions_raw[name]), f"condition {name}")
        finally:
            self._evaluating.discard(name)
        self._conditions[name] = value
        return value

    @staticmethod
    def _truth(value: Any, what: str) -> bool | Unknown:
        if isinstance(value, Unknown):
            return value
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return Unknown(f"{what} is not a boolean")

    # -- resolution -----------------------------------------------------------------
    def resolve(self, node: Any, line: int = 0, depth: int = 0) -> Any:
        """``node`` with every intrinsic evaluated (see the module docstring)."""
        if depth > _MAX_DEPTH:
            return Unknown("value nests too deeply to resolve")
        line = line_of(node, line)
        name = intrinsic_name(node)
        if name is not None:
            try:
                return self._intrinsic(name, node[name], line, depth + 1)
            except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
                return Unknown(f"{name} could not be evaluated: {exc}")
        if isinstance(node, dict):
            out = LDict()
            out.line = line
            for key, value in node.items():
                resolved = self.resolve(value, line, depth + 1)
                if resolved is not NO_VALUE:
                    out[str(key)] = resolved
            return out
        if isinstance(node, list):
            items = LList()
            items.line = line
            for value in node:
                resolved = self.resolve(value, line, depth + 1)
                if resolved is not NO_VALUE:
                    items.append(resolved)
            return items
        if isinstance(node, str):
            return str(node)
        return node

    def _intrinsic(self, name: str, arg: Any, line: int, depth: int) -> Any:
        handler = _HANDLERS.get(name)
        if handler is None:
            return Unknown(f"{name} is not supported")
        return handler(self, arg, line, depth)

    def _ref(self, arg: Any, line: int, depth: int) -> Any:
        target = self.resolve(arg, line, depth)
        if not isinstance(target, str):
            return Unknown("Ref to a computed name")
        if target == "AWS::NoValue":
            return NO_VALUE
        if target in _PSEUDO_KNOWN:
            return _PSEUDO_KNOWN[target]
        if target in _PSEUDO_UNKNOWN:
            return Unknown(f"{target} is only known at deployment")
        if target in self.parameters:
            return self.parameters[target]
        if target in self.resources:
            return self._resource_ref(target, None)
        return Unknown(f"Ref to {target}, which the template does not declare")

    def _resource_ref(self, logical_id: str, attribute: str | None, depth: int = 0) -> Any:
        if self.exists(logical_id) is False:
            return Unknown(f"{logical_id} is not created (its condition is false)")
        if attribute is not None:
            prop = ATTRIBUTE_PROPERTIES.get((self.resource_type(logical_id) or "", attribute))
            if prop is not None:
                return self._property_of(logical_id, prop, depth)
        return CfnRef(logical_id, attribute)

    def _property_of(self, logical_id: str, prop: str, depth: int) -> Any:
        res = self.resources.get(logical_id)
        props = res.get("Properties") if isinstance(res, dict) else None
        if not isinstance(props, dict) or prop not in props:
            return Unknown(f"{logical_id}.{prop} is not set")
        value = self.resolve(props[prop], line_of(props), depth + 1)
        return Unknown(f"{logical_id}.{prop} is not set") if value is NO_VALUE else value

    def _getatt(self, arg: Any, line: int, depth: int) -> Any:
        if isinstance(arg, str):
            logical_id, _, attribute = str(arg).partition(".")
        elif isinstance(arg, list) and len(arg) == 2:
            logical_id = self.resolve(arg[0], line, depth)
            attribute = self.resolve(arg[1], line, depth)
        else:
            return Unknown("Fn::GetAtt takes [resource, attribute]")
        if not isinstance(logical_id, str) or not isinstance(attribute, str):
            return Unknown("Fn::GetAtt with a computed resource or attribute")
        if logical_id not in self.resources:
            return Unknown(f"Fn::GetAtt {logical_id}.{attribute}: {logical_id} is not declared")
        return self._resource_ref(logical_id, attribute, depth)

    def _sub(self, arg: Any, line: int, depth: int) -> Any:
        variables: dict[str, Any] = {}
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict):
            text = self.resolve(arg[0], line, depth)
            for key, value in arg[1].items():
                variables[str(key)] = self.resolve(value, line, depth)
        else:
            text = self.resolve(arg, line, depth)
        if not isinstance(text, str):
            return text if isinstance(text, Unknown) else Unknown("Fn::Sub of a non-string")
        pieces: list[Any] = []
        pos = 0
        for match in _SUB_VAR.finditer(text):
            pieces.append(text[pos:match.start()])
            pos = match.end()
            inner = match.group(1)
            if inner.startswith("!"):
                pieces.append("${" + inner[1:] + "}")
            else:
                pieces.append(self._sub_var(inner.strip(), variables, line, depth))
        pieces.append(text[pos:])
        meaningful = [p for p in pieces if p != ""]
        if len(meaningful) == 1 and not isinstance(meaningful[0], str):
            return meaningful[0]
        return _concat(pieces)

    def _sub_var(self, name: str, variables: dict[str, Any], line: int, depth: int) -> Any:
        if name in variables:
            return variables[name]
        if "." in name and name.split(".", 1)[0] in self.resources:
            logical_id, attribute = name.split(".", 1)
            return self._resource_ref(logical_id, attribute, depth)
        return self._ref(name, line, depth)

    def _join(self, arg: Any, line: int, depth: int) -> Any:
        if not isinstance(arg, list) or len(arg) != 2:
            return Unknown("Fn::Join takes [delimiter, list]")
        delim = self.resolve(arg[0], line, depth)
        items = self.resolve(arg[1], line, depth)
        if isinstance(items, Unknown):
            return items
        if not isinstance(delim, str) or not isinstance(items, list):
            return Unknown("Fn::Join with a non-text delimiter or a non-list")
        if len(items) == 1 and isinstance(items[0], (CfnRef, Unknown)):
            return items[0]
        parts: list[Any] = []
        for index, item in enumerate(items):
            if index:
                parts.append(delim)
            parts.append(item)
        return _concat(parts)

    def _select(self, arg: Any, line: int, depth: int) -> Any:
        if not isinstance(arg, list) or len(arg) != 2:
            return Unknown("Fn::Select takes [index, list]")
        index = self.resolve(arg[0], line, depth)
        items = self.resolve(arg[1], line, depth)
        if isinstance(items, Unknown):
            return items
        if isinstance(index, Unknown):
            return index
        number = _as_int(index)
        if number is None or not isinstance(items, list):
            return Unknown("Fn::Select with a bad index or a non-list")
        if not 0 <= number < len(items):
            return Unknown(f"Fn::Select index {number} is out of range")
        return items[number]

    def _split(self, arg: Any, line: int, depth: int) -> Any:
        if not isinstance(arg, list) or len(arg) != 2:
            return Unknown("Fn::Split takes [delimiter, text]")
        delim = self.resolve(arg[0], line, depth)
        text = self.resolve(arg[1], line, depth)
        if isinstance(text, Unknown):
            return text
        if not isinstance(delim, str) or not delim or not isinstance(text, str):
            return Unknown("Fn::Split of a non-text value")
        out = LList(text.split(delim))
        out.line = line
        return out

    def _if(self, arg: Any, line: int, depth: int) -> Any:
        if not isinstance(arg, list) or len(arg) != 3:
            return Unknown("Fn::If takes [condition, then, else]")
        cond_name = self.resolve(arg[0], line, depth)
        if not isinstance(cond_name, str):
            return Unknown("Fn::If with a computed condition name")
        cond = self.condition(cond_name)
        if isinstance(cond, bool):
            return self.resolve(arg[1] if cond else arg[2], line, depth)
        then, other = self.resolve(arg[1], line, depth), self.resolve(arg[2], line, depth)
        if then == other and then is not NO_VALUE:
            return then
        return Unknown(f"condition {cond_name} is undecided ({cond.reason})")

    def _find_in_map(self, arg: Any, line: int, depth: int) -> Any:
        if not isinstance(arg, list) or len(arg) not in (3, 4):
            return Unknown("Fn::FindInMap takes [map, key, key]")
        keys = [self.resolve(a, line, depth) for a in arg[:3]]
        default = NO_VALUE
        if len(arg) == 4 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
            default = self.resolve(arg[3]["DefaultValue"], line, depth)
        for key in keys:
            if isinstance(key, Unknown):
                return key if default is NO_VALUE else default
            if not isinstance(key, (str, int)):
                return Unknown("Fn::FindInMap with a non-text key")
        node: Any = self.mappings
        for key in keys:
            if not isinstance(node, dict) or str(key) not in node:
                if default is not NO_VALUE:
                    return default
                return Unknown(f"Fn::FindInMap {'/'.join(map(str, keys))} is not in the mappings")
            node = node[str(key)]
        return self.resolve(node, line, depth)

    def _cidr(self, arg: Any, line: int, depth: int) -> Any:
        if not isinstance(arg, list) or len(arg) != 3:
            return Unknown("Fn::Cidr takes [block, count, bits]")
        block, count, bits = (self.resolve(a, line, depth) for a in arg)
        for value in (block, count, bits):
            if isinstance(value, Unknown):
                return value
        number, size = _as_int(count), _as_int(bits)
        try:
            network = ipaddress.ip_network(str(block), strict=False)
        except ValueError:
            return Unknown(f"Fn::Cidr of {block!r}, which is not a CIDR")
        if number is None or size is None or not 0 < size <= network.max_prefixlen:
            return Unknown("Fn::Cidr with a bad count or size")
        prefix = network.max_prefixlen - size
        if prefix < network.prefixlen:
            return Unknown("Fn::Cidr subnets larger than the block")
        out = LList()
        out.line = line
        for index, subnet in enumerate(network.subnets(new_prefix=prefix)):
            if index >= number:
                break
            out.append(str(subnet))
        return out

    def _simple(self, name: str, arg: Any, line: int, depth: int) -> Any:
        value = self.resolve(arg, line, depth)
        if name == "Fn::Base64":
            return value if not isinstance(value, str) else base64.b64encode(value.encode()).decode()
        if name == "Fn::Length":
            return len(value) if isinstance(value, list) else Unknown("Fn::Length of a non-list")
        if name == "Fn::ToJsonString":
            if _contains_unknown(value):
                return Unknown("Fn::ToJsonString of a value with unknown parts")
            return json.dumps(value, separators=(",", ":"))
        if name == "Fn::ImportValue":
            return Unknown(f"Fn::ImportValue {value} comes from another stack")
        return Unknown("Fn::GetAZs lists the availability zones only at deployment")

    def _logic(self, name: str, arg: Any, line: int, depth: int) -> Any:
        if name == "Condition":
            cond = self.resolve(arg, line, depth)
            return self.condition(cond) if isinstance(cond, str) else Unknown("Condition with a computed name")
        if not isinstance(arg, list):
            return Unknown(f"{name} takes a list")
        if name == "Fn::Equals":
            if len(arg) != 2:
                return Unknown("Fn::Equals takes two values")
            left, right = (self.resolve(a, line, depth) for a in arg)
            for side in (left, right):
                if isinstance(side, Unknown):
                    return side
            if _contains_unknown(left) or _contains_unknown(right):
                return Unknown("Fn::Equals of values only known at deployment")
            return _plain(left) == _plain(right)
        values = [self._truth(self.resolve(a, line, depth), name) for a in arg]
        if name == "Fn::Not":
            if len(values) != 1:
                return Unknown("Fn::Not takes one condition")
            return values[0] if isinstance(values[0], Unknown) else not values[0]
        decisive = name == "Fn::Or"  # Or: any True decides; And: any False decides
        if any(v is decisive for v in values):
            return decisive
        unknown = next((v for v in values if isinstance(v, Unknown)), None)
        return unknown if unknown is not None else not decisive


def _plain(value: Any) -> Any:
    """Comparable form: scalars as text (CloudFormation compares strings)."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    text = _text(value)
    return text if isinstance(text, str) else value


def _contains_unknown(value: Any) -> bool:
    if isinstance(value, (Unknown, CfnRef)):
        return True
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_unknown(v) for v in value.values())
    return False


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    return value if isinstance(value, dict) else {}


#: GetAtt attributes that are simply one of the resource's own properties.
ATTRIBUTE_PROPERTIES: dict[tuple[str, str], str] = {
    ("AWS::EC2::SecurityGroup", "VpcId"): "VpcId",
    ("AWS::EC2::Subnet", "VpcId"): "VpcId",
    ("AWS::EC2::Subnet", "CidrBlock"): "CidrBlock",
    ("AWS::EC2::VPC", "CidrBlock"): "CidrBlock",
    ("AWS::EC2::PrefixList", "PrefixListName"): "PrefixListName",
}

_HANDLERS: dict[str, Any] = {
    "Ref": TemplateContext._ref,
    "Fn::GetAtt": TemplateContext._getatt,
    "Fn::Sub": TemplateContext._sub,
    "Fn::Join": TemplateContext._join,
    "Fn::Select": TemplateContext._select,
    "Fn::Split": TemplateContext._split,
    "Fn::If": TemplateContext._if,
    "Fn::FindInMap": TemplateContext._find_in_map,
    "Fn::Cidr": TemplateContext._cidr,
}
for _name in ("Fn::Base64", "Fn::Length", "Fn::ToJsonString", "Fn::ImportValue", "Fn::GetAZs"):
    _HANDLERS[_name] = lambda self, arg, line, depth, _n=_name: self._simple(_n, arg, line, depth)
for _name in ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition"):
    _HANDLERS[_name] = lambda self, arg, line, depth, _n=_name: self._logic(_n, arg, line, depth)
