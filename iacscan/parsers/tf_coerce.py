"""Tolerant readers for evaluated Terraform attribute values, and reference resolution.

Every attribute of a ``ResourceInstance`` may hold anything: a literal, a list, a dict,
``None``, an ``Unknown`` or a ``ResourceRef`` (an attribute known only after apply). The
helpers here never raise: a value of the wrong shape becomes an ``Unknown`` with the
reason, a scalar where Terraform takes a list becomes a one-element list.

``Refs`` turns references into model uids: a ``ResourceRef`` to ``X.id`` becomes
``make_uid(scope, X)`` when ``X`` is of an expected resource type, a literal AWS id
(``sg-…``) stays as written unless an instance in the input carries that id (plan JSON
values do), in which case it becomes that instance's uid.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from iacscan.model import Location, Unknown, Unresolved, make_uid
from iacscan.parsers.tf_types import LINE, ResourceInstance, ResourceRef

_INT = re.compile(r"^[+-]?\d+$")
_ADDRESS = re.compile(r"^(?:module\.[^.\[]+(?:\[[^\]]*\])?\.)*(data\.)?([A-Za-z0-9_-]+)\.")
#: ResourceRef attributes that denote one value (an id, an arn, a name) rather than a list.
_SCALAR_ATTRS = ("id", "arn", "name")


def after_apply(ref: ResourceRef, what: str) -> Unknown:
    """The Unknown for an attribute only known after apply."""
    return Unknown(f"{what} is {ref.address}.{ref.attribute}, known only after apply")


def as_list(value: Any, what: str) -> list[Any] | Unknown:
    """A list attribute: ``None`` → ``[]``; a scalar → one-element list; a map → Unknown."""
    if value is None:
        return []
    if isinstance(value, Unknown):
        return value
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, ResourceRef):
        if value.attribute in _SCALAR_ATTRS or value.attribute.endswith("_id"):
            return [value]
        return after_apply(value, what)
    if isinstance(value, dict):
        return Unknown(f"{what} is a map, expected a list")
    return [value]


def as_blocks(value: Any, what: str) -> list[dict[str, Any] | Unknown]:
    """Nested blocks: a list of dicts (a lone dict counts as one block); a whole-list or
    element that is not a block becomes an Unknown in the result."""
    if isinstance(value, dict):
        return [value]
    items = as_list(value, what)
    if isinstance(items, Unknown):
        return [items]
    out: list[dict[str, Any] | Unknown] = []
    for item in items:
        if isinstance(item, dict) or isinstance(item, Unknown):
            out.append(item)
        elif isinstance(item, ResourceRef):
            out.append(after_apply(item, what))
        elif item is not None:
            out.append(Unknown(f"{what} element {item!r} is not a block"))
    return out


def first_block(attrs: dict[str, Any], name: str) -> dict[str, Any] | Unknown | None:
    """The first ``name`` block, an Unknown when it cannot be read, None when absent."""
    blocks = as_blocks(attrs.get(name), name)
    return blocks[0] if blocks else None


def block_attr(attrs: dict[str, Any], path: str) -> Any:
    """``a.b.c``: attribute ``c`` of the first ``b`` block of the first ``a`` block."""
    *blocks, leaf = path.split(".")
    current: Any = attrs
    for name in blocks:
        current = first_block(current, name)
        if current is None or isinstance(current, Unknown):
            return current
    return current.get(leaf)


def as_int(value: Any, what: str) -> int | None | Unknown:
    """An integer: ints, integral floats and decimal strings; ``None``/``""`` → None."""
    if value is None or value == "":
        return None
    if isinstance(value, Unknown):
        return value
    if isinstance(value, ResourceRef):
        return after_apply(value, what)
    if isinstance(value, bool):
        return Unknown(f"{what} {value!r} is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT.match(value.strip()):
        return int(value.strip())
    return Unknown(f"{what} '{value}' is not a number")


def as_bool(value: Any, what: str) -> bool | None | Unknown:
    """A bool: booleans and the strings ``true``/``false``; ``None``/``""`` → None."""
    if value is None or value == "":
        return None
    if isinstance(value, Unknown):
        return value
    if isinstance(value, ResourceRef):
        return after_apply(value, what)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return Unknown(f"{what} '{value}' is not true or false")


def as_str(value: Any, what: str) -> str | None | Unknown:
    """A string: numbers and bools convert as Terraform converts them; ``None`` → None."""
    if value is None:
        return None
    if isinstance(value, Unknown):
        return value
    if isinstance(value, ResourceRef):
        return after_apply(value, what)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    kind = "a list" if isinstance(value, (list, tuple, set)) else "a map" if isinstance(value, dict) else "not text"
    return Unknown(f"{what} is {kind}, expected a string")


def text_or_none(value: Any, what: str) -> str | None | Unknown:
    """Like ``as_str`` with ``""`` meaning unset (plan JSON writes ``""`` for unset)."""
    text = as_str(value, what)
    return None if text == "" else text


def bool_or(value: Any, what: str, default: bool | None) -> bool | None | Unknown:
    """``as_bool`` with the provider's default when unset."""
    result = as_bool(value, what)
    return default if result is None else result


def volume_encryption(device: dict[str, Any]) -> bool | None | Unknown:
    """``encrypted`` of a volume or block device; when unset on one restored from a
    snapshot, an Unknown (it follows the snapshot's encryption)."""
    encrypted = as_bool(device.get("encrypted"), "encrypted")
    snapshot = device.get("snapshot_id")
    if encrypted is None and snapshot not in (None, ""):
        name = f"{snapshot.address}" if isinstance(snapshot, ResourceRef) else str(snapshot)
        return Unknown(f"encryption follows the snapshot {name}")
    return encrypted


def tags_of(attrs: dict[str, Any]) -> dict[str, str]:
    """The ``tags`` map with string keys and values only (``tags_all`` is ignored)."""
    tags = attrs.get("tags")
    if not isinstance(tags, dict):
        return {}
    return {k: v for k, v in tags.items() if isinstance(k, str) and isinstance(v, str)}


def line_of(inst: ResourceInstance, block: Any = None, attr: str = "") -> Location:
    """The location of a block (its ``LINE``), else of a top-level attribute, else of the
    resource itself."""
    line = block.get(LINE) if isinstance(block, dict) else None
    if not isinstance(line, int) or isinstance(line, bool) or line <= 0:
        line = inst.attr_lines.get(attr) if attr else None
    if not isinstance(line, int) or line <= 0:
        return inst.location
    return Location(inst.location.file, line)


def unresolved(inst: ResourceInstance, what: str, reason: str, location: Location | None = None) -> Unresolved:
    """An IAC002 note about ``inst``."""
    return Unresolved(inst.address, inst.uid, what, reason, location or inst.location)


def not_declared(value: Any, ref: str) -> str:
    """Why the object ``value`` (resolved to ``ref``) names is missing from the estate."""
    if isinstance(value, ResourceRef):
        if address_type(value.address)[1]:
            return f"{value.address} is a data source: it exists outside this configuration"
        return f"{value.address} is not declared in this configuration"
    return f"{ref} is not declared in this configuration"


def reason_of(value: Any, what: str) -> str:
    """Why ``value`` (an Unknown or None) does not name anything."""
    if isinstance(value, Unknown):
        return value.reason
    return f"{what} is not set"


def address_type(address: str) -> tuple[str, bool]:
    """The resource type an address names and whether it is a data source:
    ``module.a["k"].data.aws_vpc.main`` → ``("aws_vpc", True)``."""
    match = _ADDRESS.match(address)
    if match is None:
        return "", False
    return match.group(2), bool(match.group(1))


class Refs:
    """Index of the input instances, for turning references into uids."""

    def __init__(self, instances: Iterable[ResourceInstance]) -> None:
        self.by_uid: dict[str, ResourceInstance] = {}
        self.by_live: dict[str, ResourceInstance] = {}
        self.by_name: dict[tuple[str, str, str], list[ResourceInstance]] = defaultdict(list)
        #: instances per (scope, type) in input order (a literal name is looked up among them)
        self.by_scope_type: dict[tuple[str, str], list[ResourceInstance]] = defaultdict(list)
        self.position: dict[str, int] = {}  # input order of each uid
        for inst in instances:
            self.by_uid[inst.uid] = inst
            self.position.setdefault(inst.uid, len(self.position))
            self.by_scope_type[(inst.scope, inst.type)].append(inst)
            live = inst.attrs.get("id")
            if isinstance(live, str) and live:
                self.by_live[live] = inst
            name = inst.attrs.get("name")
            if isinstance(name, str) and name:
                self.by_name[(inst.scope, inst.type, name)].append(inst)

    def uid(self, value: Any, scope: str, types: tuple[str, ...], what: str) -> str | Unknown | None:
        """The uid (or raw id) ``value`` names: a ResourceRef to one of ``types`` → its uid;
        a literal id → the uid of the instance carrying it, else the literal; ``None``/``""``
        → None; anything else → Unknown with the reason."""
        if value is None or value == "":
            return None
        if isinstance(value, Unknown):
            return value
        if isinstance(value, ResourceRef):
            kind, _ = address_type(value.address)
            if kind in types:
                return make_uid(scope, value.address)
            return Unknown(f"{what} refers to {value.address}.{value.attribute}, not to an {' or '.join(types)}")
        if isinstance(value, str):
            found = self.by_live.get(value.strip())
            if found is not None and found.type in types:
                return found.uid
            return value.strip()
        return Unknown(f"{what} {value!r} is not an id")

    def any_uid(self, value: Any, scope: str, what: str) -> str | Unknown | None:
        """Like ``uid`` for a reference to a resource of any type."""
        if isinstance(value, ResourceRef):
            return make_uid(scope, value.address)
        found = self.by_live.get(value.strip()) if isinstance(value, str) else None
        return self.uid(value, scope, (found.type if found else "",), what)

    def uids(self, value: Any, scope: str, types: tuple[str, ...], what: str) -> list[str | Unknown]:
        """``uid`` for each element of a list attribute (unset elements dropped)."""
        items = as_list(value, what)
        if isinstance(items, Unknown):
            return [items]
        out: list[str | Unknown] = []
        for item in items:
            ref = self.uid(item, scope, types, what)
            if ref is not None and ref not in out:
                out.append(ref)
        return out

    def named(self, scope: str, types: tuple[str, ...], name: str) -> ResourceInstance | None:
        """The one instance of ``types`` in ``scope`` whose ``name`` attribute is ``name``."""
        found = [i for t in types for i in self.by_name.get((scope, t, name), [])]
        return found[0] if len(found) == 1 else None

    def deref(self, value: Any, scope: str) -> Any:
        """A ResourceRef to an attribute its target declares literally (``aws_vpc.x.cidr_block``)
        → that literal value; anything else unchanged."""
        if not isinstance(value, ResourceRef):
            return value
        target = self.by_uid.get(make_uid(scope, value.address))
        if target is None:
            return value
        literal = target.attrs.get(value.attribute)
        if literal is None or isinstance(literal, ResourceRef):
            return value
        return literal
