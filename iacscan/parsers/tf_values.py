"""Small value helpers of the Terraform loader: safe evaluation, walking a traversal into a
value, and turning ``count``/``for_each`` values into instance keys."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from iacscan.model import Unknown
from iacscan.parsers import hcl_eval
from iacscan.parsers.tf_types import LINE, ResourceRef, Scope

Step = str | int
Missing = Callable[[tuple[Step, ...]], Any]


class ResourceObject(dict):  # type: ignore[type-arg]
    """A whole resource instance used as a value (``aws_vpc.main``): its declared attributes;
    any other attribute is a ``ResourceRef``."""

    address: str = ""


def safe_eval(value: Any, scope: Scope) -> Any:
    """``hcl_eval.evaluate`` that never raises: a failure becomes ``Unknown``."""
    try:
        return hcl_eval.evaluate(value, scope)
    except RecursionError:
        return Unknown("expression nests too deeply to evaluate")
    except Exception as exc:  # noqa: BLE001 - an odd expression must not stop the scan
        text = value if isinstance(value, str) else type(value).__name__
        return Unknown(f"cannot evaluate {str(text)[:80]!r}: {type(exc).__name__}: {exc}")


def ref_path(attribute: str, rest: Iterable[Step]) -> str:
    """``attribute`` extended by further traversal steps (``vpc_config.0.id``)."""
    return ".".join([attribute, *(str(step) for step in rest)]) if attribute else ".".join(str(s) for s in rest)


def walk(value: Any, rest: tuple[Step, ...], missing: Missing) -> Any:
    """Follow attribute/index/splat ``rest`` into ``value``. ``missing(remaining)`` gives the
    value of a step that finds nothing (a ``ResourceRef`` for resources, else ``Unknown``)."""
    for position, step in enumerate(rest):
        if isinstance(value, Unknown):
            return value
        if isinstance(value, ResourceRef):
            return ResourceRef(value.address, ref_path(value.attribute, rest[position:]))
        if step == "*":
            return _splat(value, rest[position + 1:], missing)
        if isinstance(value, ResourceObject) and step not in value:
            return ResourceRef(value.address, ref_path("", rest[position:]))
        found, value = _step(value, step)
        if not found:
            return missing(rest[position:])
    return value


def _splat(value: Any, rest: tuple[Step, ...], missing: Missing) -> Any:
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    return [walk(item, rest, missing) for item in items]


def _step(value: Any, step: Step) -> tuple[bool, Any]:
    if isinstance(value, dict):
        if step in value and step != LINE:
            return True, value[step]
        if isinstance(step, int) and str(step) in value:
            return True, value[str(step)]
        return False, None
    if isinstance(value, (list, tuple)):
        index = _as_int(step)
        if index is not None and 0 <= index < len(value):
            return True, value[index]
    return False, None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def count_value(value: Any) -> int | Unknown:
    """The number of instances ``count`` asks for, or ``Unknown``."""
    if isinstance(value, Unknown):
        return value
    number = _as_int(value)
    if number is None or number < 0:
        return Unknown(f"count is {_describe(value)}, not a known whole number")
    return number


def for_each_items(value: Any) -> list[tuple[str, Any]] | Unknown:
    """``(each.key, each.value)`` pairs of a resource/module ``for_each``, sorted by key."""
    if isinstance(value, Unknown):
        return value
    if value is None:
        return []
    if isinstance(value, dict):
        if any(not isinstance(key, str) for key in value):
            return Unknown("for_each map has keys only known after apply")
        return sorted(((key, item) for key, item in value.items() if key != LINE), key=lambda kv: kv[0])
    if isinstance(value, (list, tuple, set, frozenset)):
        keys = {_set_key(item) for item in value}
        if any(key is None for key in keys):
            return Unknown("for_each set has values only known after apply")
        return [(key, key) for key in sorted(k for k in keys if k is not None)]
    return Unknown(f"for_each is {_describe(value)}, not a map or set")


def _set_key(item: Any) -> str | None:
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, (str, int, float)):
        return str(item)
    return None


def dynamic_items(value: Any) -> list[tuple[Any, Any]] | Unknown:
    """``(iterator.key, iterator.value)`` pairs of a ``dynamic`` block's ``for_each``:
    maps by sorted key, lists by index, sets by value."""
    if isinstance(value, Unknown):
        return value
    if isinstance(value, ResourceRef):
        return Unknown(f"for_each is {value}, only known after apply")
    if value is None:
        return []
    if isinstance(value, dict):
        return sorted(((k, v) for k, v in value.items() if k != LINE), key=lambda kv: str(kv[0]))
    if isinstance(value, (list, tuple)):
        return list(enumerate(value))
    if isinstance(value, (set, frozenset)):
        return [(item, item) for item in sorted(value, key=str)]
    return Unknown(f"for_each is {_describe(value)}, not a collection")


def _describe(value: Any) -> str:
    if isinstance(value, ResourceRef):
        return f"{value} (only known after apply)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def key_suffix(key: str | int | None) -> str:
    """The address suffix of an instance key: ``[0]``, ``["a"]`` or nothing."""
    if key is None:
        return ""
    if isinstance(key, int):
        return f"[{key}]"
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'["{escaped}"]'
