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

import re
from typing import Any

from iacscan.model import Unknown
from iacscan.parsers import cfn_functions as fn
from iacscan.parsers.cfn_foreach import expand_resources
from iacscan.parsers.cfn_values import (
    NO_VALUE, CfnRef, LDict, LList, concat, intrinsic_name, line_of, section,
)

__all__ = ["NO_VALUE", "CfnRef", "LDict", "LList", "TemplateContext", "line_of"]

_MAX_DEPTH = 40
_SUB_VAR = re.compile(r"\$\{([^}]*)\}")
_PSEUDO_KNOWN = {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
_PSEUDO_UNKNOWN = ("AWS::Region", "AWS::AccountId", "AWS::StackName", "AWS::StackId",
                   "AWS::NotificationARNs")


class TemplateContext:
    """One template's parameters, mappings, conditions and resources, ready to resolve."""

    def __init__(self, data: dict[str, Any], overrides: dict[str, str] | None = None) -> None:
        self.data = data
        self.resources: dict[str, Any] = section(data, "Resources")
        self.mappings: dict[str, Any] = section(data, "Mappings")
        self.conditions_raw: dict[str, Any] = section(data, "Conditions")
        self.parameters: dict[str, Any] = {}
        self._conditions: dict[str, bool | Unknown] = {}
        self._evaluating: set[str] = set()
        self._load_parameters(section(data, "Parameters"), overrides or {})
        self.resources = expand_resources(self.resources, self.resolve)

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
        """The ``Type`` of a resource of the template, None when it is not declared."""
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
            value = self.truth(self.resolve(self.conditions_raw[name]), f"condition {name}")
        finally:
            self._evaluating.discard(name)
        self._conditions[name] = value
        return value

    @staticmethod
    def truth(value: Any, what: str) -> bool | Unknown:
        """A condition value as a boolean (``"true"``/``"false"`` accepted), else Unknown."""
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
        return concat(pieces)

    def _sub_var(self, name: str, variables: dict[str, Any], line: int, depth: int) -> Any:
        if name in variables:
            return variables[name]
        if "." in name and name.split(".", 1)[0] in self.resources:
            logical_id, attribute = name.split(".", 1)
            return self._resource_ref(logical_id, attribute, depth)
        return self._ref(name, line, depth)

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
    "Fn::If": TemplateContext._if,
    "Fn::Join": fn.fn_join,
    "Fn::Select": fn.fn_select,
    "Fn::Split": fn.fn_split,
    "Fn::FindInMap": fn.fn_find_in_map,
    "Fn::Cidr": fn.fn_cidr,
}
for _name in ("Fn::Base64", "Fn::Length", "Fn::ToJsonString", "Fn::ImportValue", "Fn::GetAZs"):
    _HANDLERS[_name] = lambda ctx, arg, line, depth, _n=_name: fn.fn_simple(ctx, _n, arg, line, depth)
for _name in ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition"):
    _HANDLERS[_name] = lambda ctx, arg, line, depth, _n=_name: fn.fn_logic(ctx, _n, arg, line, depth)
