"""The list, text, mapping and logic intrinsic functions (``Fn::Join``, ``Fn::Select``,
``Fn::Split``, ``Fn::FindInMap``, ``Fn::Cidr``, ``Fn::Base64``, ``Fn::Length``,
``Fn::ToJsonString``, ``Fn::ImportValue``, ``Fn::GetAZs``, ``Fn::Equals/And/Or/Not``,
``Condition``), evaluated against a ``TemplateContext``. Bad shapes give ``Unknown``."""
from __future__ import annotations

import base64
import ipaddress
import json
from typing import TYPE_CHECKING, Any

from iacscan.model import Unknown
from iacscan.parsers.cfn_values import (
    NO_VALUE, CfnRef, LList, as_index, concat, contains_unknown, plain,
)

if TYPE_CHECKING:
    from iacscan.parsers.cfn_intrinsics import TemplateContext


def fn_join(ctx: TemplateContext, arg: Any, line: int, depth: int) -> Any:
    """``Fn::Join [delimiter, list]``; a single reference stays a reference."""
    if not isinstance(arg, list) or len(arg) != 2:
        return Unknown("Fn::Join takes [delimiter, list]")
    delim = ctx.resolve(arg[0], line, depth)
    items = ctx.resolve(arg[1], line, depth)
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
    return concat(parts)


def fn_select(ctx: TemplateContext, arg: Any, line: int, depth: int) -> Any:
    """``Fn::Select [index, list]``."""
    if not isinstance(arg, list) or len(arg) != 2:
        return Unknown("Fn::Select takes [index, list]")
    index = ctx.resolve(arg[0], line, depth)
    items = ctx.resolve(arg[1], line, depth)
    if isinstance(items, Unknown):
        return items
    if isinstance(index, Unknown):
        return index
    number = as_index(index)
    if number is None or not isinstance(items, list):
        return Unknown("Fn::Select with a bad index or a non-list")
    if not 0 <= number < len(items):
        return Unknown(f"Fn::Select index {number} is out of range")
    return items[number]


def fn_split(ctx: TemplateContext, arg: Any, line: int, depth: int) -> Any:
    """``Fn::Split [delimiter, text]``."""
    if not isinstance(arg, list) or len(arg) != 2:
        return Unknown("Fn::Split takes [delimiter, text]")
    delim = ctx.resolve(arg[0], line, depth)
    text = ctx.resolve(arg[1], line, depth)
    if isinstance(text, Unknown):
        return text
    if not isinstance(delim, str) or not delim or not isinstance(text, str):
        return Unknown("Fn::Split of a non-text value")
    out = LList(text.split(delim))
    out.line = line
    return out


def fn_find_in_map(ctx: TemplateContext, arg: Any, line: int, depth: int) -> Any:
    """``Fn::FindInMap [map, key, key, {DefaultValue}]``.

    An unknown key (``AWS::Region``…) still gives a value when every entry it could
    select holds the same one."""
    if not isinstance(arg, list) or len(arg) not in (3, 4):
        return Unknown("Fn::FindInMap takes [map, key, key]")
    keys = [ctx.resolve(a, line, depth) for a in arg[:3]]
    default = NO_VALUE
    if len(arg) == 4 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
        default = ctx.resolve(arg[3]["DefaultValue"], line, depth)
    if any(not isinstance(k, (str, int, Unknown)) or isinstance(k, bool) for k in keys):
        return Unknown("Fn::FindInMap with a non-text key")
    candidates: list[Any] = [ctx.mappings]
    missing = False
    for key in keys:
        found: list[Any] = []
        for node in candidates:
            if isinstance(node, dict) and isinstance(key, Unknown):
                found.extend(node.values())
            elif isinstance(node, dict) and str(key) in node:
                found.append(node[str(key)])
            else:
                missing = True
        candidates = found
    unknown = next((k for k in keys if isinstance(k, Unknown)), None)
    values = [ctx.resolve(node, line, depth) for node in candidates]
    if missing or not values:
        if default is NO_VALUE:
            return unknown or Unknown(f"Fn::FindInMap {'/'.join(map(str, keys))} is not in the mappings")
        values.append(default)
    if all(plain(v) == plain(values[0]) for v in values[1:]):
        return values[0]
    return unknown


def fn_cidr(ctx: TemplateContext, arg: Any, line: int, depth: int) -> Any:
    """``Fn::Cidr [block, count, bits]``: the first ``count`` subnets with ``bits`` host bits."""
    if not isinstance(arg, list) or len(arg) != 3:
        return Unknown("Fn::Cidr takes [block, count, bits]")
    block, count, bits = (ctx.resolve(a, line, depth) for a in arg)
    for value in (block, count, bits):
        if isinstance(value, Unknown):
            return value
    number, size = as_index(count), as_index(bits)
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


def fn_simple(ctx: TemplateContext, name: str, arg: Any, line: int, depth: int) -> Any:
    """``Fn::Base64``, ``Fn::Length``, ``Fn::ToJsonString``, ``Fn::ImportValue``, ``Fn::GetAZs``."""
    value = ctx.resolve(arg, line, depth)
    if name == "Fn::Base64":
        return value if not isinstance(value, str) else base64.b64encode(value.encode()).decode()
    if name == "Fn::Length":
        return len(value) if isinstance(value, list) else Unknown("Fn::Length of a non-list")
    if name == "Fn::ToJsonString":
        if contains_unknown(value):
            return Unknown("Fn::ToJsonString of a value with unknown parts")
        return json.dumps(value, separators=(",", ":"))
    if name == "Fn::ImportValue":
        return Unknown(f"Fn::ImportValue {value} comes from another stack")
    return Unknown("Fn::GetAZs lists the availability zones only at deployment")


def fn_logic(ctx: TemplateContext, name: str, arg: Any, line: int, depth: int) -> Any:
    """``Fn::Equals/And/Or/Not`` and ``Condition``: True, False or Unknown."""
    if name == "Condition":
        cond = ctx.resolve(arg, line, depth)
        return ctx.condition(cond) if isinstance(cond, str) else Unknown("Condition with a computed name")
    if not isinstance(arg, list):
        return Unknown(f"{name} takes a list")
    if name == "Fn::Equals":
        if len(arg) != 2:
            return Unknown("Fn::Equals takes two values")
        left, right = (ctx.resolve(a, line, depth) for a in arg)
        for side in (left, right):
            if isinstance(side, Unknown):
                return side
        if contains_unknown(left) or contains_unknown(right):
            return Unknown("Fn::Equals of values only known at deployment")
        return plain(left) == plain(right)
    values = [ctx.truth(ctx.resolve(a, line, depth), name) for a in arg]
    if name == "Fn::Not":
        if len(values) != 1:
            return Unknown("Fn::Not takes one condition")
        return values[0] if isinstance(values[0], Unknown) else not values[0]
    decisive = name == "Fn::Or"  # Or: any True decides; And: any False decides
    if any(v is decisive for v in values):
        return decisive
    unknown = next((v for v in values if isinstance(v, Unknown)), None)
    return unknown if unknown is not None else not decisive
