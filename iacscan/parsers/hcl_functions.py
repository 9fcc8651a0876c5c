"""Terraform built-in functions: the registry, collection and type-conversion functions.

Each function receives evaluated arguments. Functions in ``TOLERANT`` may receive
arguments holding ``Unknown``/``ResourceRef`` elements and keep them as elements (a
list with one unknown element is still a known list); every other function is only
called when no argument holds anything unknown (the evaluator checks first).
String, number, encoding and network functions live in ``hcl_functions_text``.
Each ``fn_<name>`` implements the Terraform function ``<name>``.
"""
from __future__ import annotations

from typing import Any, Callable

from iacscan.model import Unknown
from iacscan.parsers.hcl_functions_text import TEXT_FUNCTIONS
from iacscan.parsers.hcl_values import (
    MARKERS, MAX_ITEMS, EvalError, as_unknown, hash_key, hcl_equal, is_number, need_known, to_bool,
    to_int, to_number, to_string,
)
from iacscan.parsers.tf_types import ResourceRef


def _known(value: Any) -> Any:
    """``value`` itself, or raise UnknownResult when the value as a whole is unknown."""
    unknown = as_unknown(value)
    if unknown is not None:
        need_known(unknown)
    return value


def _list(value: Any, what: str = "argument") -> list[Any]:
    """A known list argument."""
    value = _known(value)
    if not isinstance(value, list):
        raise EvalError(f"{what} must be a list, got {type(value).__name__}")
    return value


def _map(value: Any) -> dict[str, Any]:
    """A known map argument."""
    value = _known(value)
    if not isinstance(value, dict):
        raise EvalError(f"a map is required, got {type(value).__name__}")
    return value


def _is_pending(value: Any) -> bool:
    return isinstance(value, (Unknown, ResourceRef))


def _contains(items: list[Any], value: Any) -> bool:
    """Whether a known element of ``items`` equals the known ``value``."""
    key = hash_key(value)
    return key is not None and any(hash_key(item) == key for item in items)


def _dedup(items: list[Any]) -> list[Any]:
    """Known items without repeats (first kept); items not fully known are all kept."""
    seen: set[Any] = set()
    out: list[Any] = []
    for item in items:
        key = hash_key(item)
        if key is None or key not in seen:
            out.append(item)
            seen.add(key)
    return out


def make_set(items: list[Any]) -> list[Any]:
    """A Terraform set as a list: known primitives deduplicated and sorted (numbers
    become strings when mixed with strings), then references, then unknowns."""
    known = [item for item in items if not _is_pending(item)]
    refs = list(dict.fromkeys(item for item in items if isinstance(item, ResourceRef)))
    unknowns = [item for item in items if isinstance(item, Unknown)]
    if known and all(isinstance(i, str) or is_number(i) for i in known):
        if any(isinstance(i, str) for i in known):
            ordered: list[Any] = sorted({to_string(i) for i in known})
        else:
            ordered = sorted(set(known))
    elif known and all(isinstance(i, bool) for i in known):
        ordered = sorted(set(known))
    else:
        ordered = _dedup(known)
    return ordered + refs + unknowns


def fn_concat(*lists: Any) -> list[Any]:
    out: list[Any] = []
    for value in lists:
        out.extend(_list(value))
        if len(out) > MAX_ITEMS:
            raise EvalError("result too large")
    return out


def fn_tolist(value: Any) -> Any:
    return None if value is None else _list(value)


def fn_toset(value: Any) -> Any:
    return None if value is None else make_set(_list(value))


def fn_tomap(value: Any) -> Any:
    return None if value is None else _map(value)


def fn_flatten(value: Any) -> list[Any]:
    out: list[Any] = []

    def walk(items: list[Any], depth: int) -> None:
        if depth > 64:
            raise EvalError("list nested too deeply")
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                out.append(item)
            if len(out) > MAX_ITEMS:
                raise EvalError("result too large")

    walk(_list(value), 0)
    return out


def fn_distinct(value: Any) -> list[Any]:
    return _dedup(_list(value))


def fn_compact(value: Any) -> list[Any]:
    return [item for item in _list(value) if item is not None and item != ""]


def fn_length(value: Any) -> int:
    value = _known(value)
    if isinstance(value, (list, dict, str)):
        return len(value)
    raise EvalError(f"cannot take the length of a {type(value).__name__}")


def fn_coalesce(*args: Any) -> Any:
    for arg in args:
        if isinstance(arg, Unknown):
            need_known(arg)
        if arg is not None and arg != "":
            return arg
    raise EvalError("no non-null, non-empty argument")


def fn_coalescelist(*args: Any) -> Any:
    for arg in args:
        if _list(arg):
            return arg
    raise EvalError("no non-empty list argument")


def fn_merge(*maps: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for value in maps:
        if value is not None:
            out.update(_map(value))
    return out


def fn_lookup(mapping: Any, key: Any, *default: Any) -> Any:
    if len(default) > 1:
        raise EvalError("lookup takes 2 or 3 arguments")
    mapping, key = _map(mapping), to_string(need_known(key))
    if key in mapping:
        return mapping[key]
    if default:
        return default[0]
    raise EvalError(f"key {key!r} not found")


def fn_element(items: Any, index: Any) -> Any:
    items, index = _list(items), to_int(need_known(index))
    if not items:
        raise EvalError("element() of an empty list")
    return items[index % len(items)]


def fn_slice(items: Any, start: Any, end: Any) -> list[Any]:
    items, start, end = _list(items), to_int(need_known(start)), to_int(need_known(end))
    if not 0 <= start <= end <= len(items):
        raise EvalError("slice() indexes out of range")
    return items[start:end]


def fn_reverse(items: Any) -> list[Any]:
    return list(reversed(_list(items)))


def fn_keys(mapping: Any) -> list[str]:
    return [key for key in sorted(_map(mapping)) if key not in MARKERS]


def fn_values(mapping: Any) -> list[Any]:
    mapping = _map(mapping)
    return [mapping[key] for key in sorted(mapping) if key not in MARKERS]


def fn_zipmap(keys: Any, values: Any) -> dict[str, Any]:
    keys, values = need_known(_list(keys)), _list(values)
    if len(keys) != len(values):
        raise EvalError("zipmap() lists differ in length")
    return {to_string(k): v for k, v in zip(keys, values)}


def fn_one(items: Any) -> Any:
    items = _list(items)
    if len(items) > 1:
        raise EvalError("one() of a list with more than one element")
    return items[0] if items else None


def fn_contains(items: Any, value: Any) -> bool:
    items = _list(items)
    if hash_key(value) is None:
        need_known(value)
    if _contains(items, value):  # the same reference is the same value
        return True
    need_known(value)  # a reference not found might still equal an element
    for item in items:
        need_known(item)
    return False


def fn_chunklist(items: Any, size: Any) -> list[Any]:
    items, size = _list(items), to_int(need_known(size))
    if size < 0:
        raise EvalError("chunklist() size must not be negative")
    if size == 0:
        return [items]
    return [items[i:i + size] for i in range(0, len(items), size)]


def fn_setproduct(*sets: Any) -> list[list[Any]]:
    lists = [_list(value) for value in sets]
    if len(lists) < 2:
        raise EvalError("setproduct() needs at least two sets")
    size = 1
    for items in lists:
        size *= len(items)
        if size > MAX_ITEMS:
            raise EvalError("result too large")
    out: list[list[Any]] = [[]]
    for items in lists:
        out = [prefix + [item] for prefix in out for item in items]
    return out


def fn_setunion(*sets: Any) -> list[Any]:
    return make_set(fn_concat(*sets))


def fn_identity(value: Any) -> Any:
    return value


def fn_list(*items: Any) -> list[Any]:
    return list(items)


# -- functions that need fully known arguments ---------------------------------------
def fn_index(items: Any, value: Any) -> int:
    for position, item in enumerate(_list(items)):
        if hcl_equal(item, value):
            return position
    raise EvalError("index(): value not found")


def fn_setintersection(first: Any, *others: Any) -> list[Any]:
    rest = [{hash_key(item) for item in _list(other)} for other in others]
    return make_set([i for i in _list(first) if all(hash_key(i) in keys for keys in rest)])


def fn_setsubtract(first: Any, second: Any) -> list[Any]:
    keys = {hash_key(item) for item in _list(second)}
    return make_set([i for i in _list(first) if hash_key(i) not in keys])


def fn_sort(items: Any) -> list[str]:
    return sorted(to_string(item) for item in _list(items))


def fn_transpose(mapping: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, items in _map(mapping).items():
        for item in _list(items):
            out.setdefault(to_string(item), []).append(key)
    return {key: sorted(value) for key, value in out.items()}


def fn_matchkeys(values: Any, keys: Any, search: Any) -> list[Any]:
    values, keys, search = _list(values), _list(keys), _list(search)
    if len(values) != len(keys):
        raise EvalError("matchkeys() lists differ in length")
    wanted = {hash_key(item) for item in search}
    return [v for v, k in zip(values, keys) if hash_key(k) in wanted]


def fn_alltrue(items: Any) -> bool:
    return all(to_bool(item) for item in _list(items))


def fn_anytrue(items: Any) -> bool:
    return any(to_bool(item) for item in _list(items))


def fn_tostring(value: Any) -> Any:
    return None if value is None else to_string(value)


def fn_tonumber(value: Any) -> Any:
    return None if value is None else to_number(value)


def fn_tobool(value: Any) -> Any:
    return None if value is None else to_bool(value)


#: Functions that keep unknown elements (or pass references through) themselves.
TOLERANT_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "concat": fn_concat, "tolist": fn_tolist, "toset": fn_toset, "tomap": fn_tomap,
    "flatten": fn_flatten, "distinct": fn_distinct, "compact": fn_compact,
    "length": fn_length, "coalesce": fn_coalesce, "coalescelist": fn_coalescelist,
    "merge": fn_merge, "lookup": fn_lookup, "element": fn_element, "slice": fn_slice,
    "reverse": fn_reverse, "keys": fn_keys, "values": fn_values, "zipmap": fn_zipmap,
    "one": fn_one, "contains": fn_contains, "chunklist": fn_chunklist,
    "setunion": fn_setunion, "setproduct": fn_setproduct,
    "sensitive": fn_identity, "nonsensitive": fn_identity,
    "list": fn_list,
}

FUNCTIONS: dict[str, Callable[..., Any]] = {
    **TOLERANT_FUNCTIONS,
    "index": fn_index, "setintersection": fn_setintersection,
    "setsubtract": fn_setsubtract, "sort": fn_sort, "transpose": fn_transpose,
    "matchkeys": fn_matchkeys, "alltrue": fn_alltrue, "anytrue": fn_anytrue,
    "tostring": fn_tostring, "tonumber": fn_tonumber, "tobool": fn_tobool,
    **TEXT_FUNCTIONS,
}

TOLERANT = frozenset(TOLERANT_FUNCTIONS)

#: Functions never evaluated here: they read files, the clock or randomness.
UNEVALUATED: dict[str, str] = {
    **{name: "no file reads" for name in (
        "file", "templatefile", "filebase64", "fileexists", "fileset", "filemd5",
        "filesha1", "filesha256", "filesha512", "filebase64sha256", "filebase64sha512",
        "abspath", "pathexpand",
    )},
    **{name: "value chosen at apply time" for name in (
        "timestamp", "plantimestamp", "uuid", "bcrypt",
    )},
    "yamlencode": "its exact output is not reproduced",
    "yamldecode": "YAML decoding is not reproduced",
}
