"""Value helpers shared by the HCL evaluator and its functions: conversions, equality,
indexing, and the handling of values that are not known (``Unknown``, ``ResourceRef``).

Terraform values map onto Python as: string → ``str``, number → ``int`` (when integral)
or ``float``, bool → ``bool``, null → ``None``, list/tuple/set → ``list`` (sets sorted),
map/object → ``dict``. ``Unknown`` and ``ResourceRef`` stand for values not known before
apply.
"""
from __future__ import annotations

import math
import re
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

from iacscan.model import Unknown
from iacscan.parsers.tf_types import LINE, ResourceRef, Scope

MAX_ITEMS = 100_000
MAX_STRING = 1_000_000
MAX_WEIGHT = 1_000_000
#: Keys python-hcl2 and the loader add to block dicts; not attributes of the block.
MARKERS = frozenset({LINE, "__is_block__"})
_NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


class EvalError(Exception):
    """An expression cannot be evaluated (a type error, a missing key, bad arguments)."""


class BudgetExceeded(EvalError):
    """The evaluation used up its work budget (never caught by ``try``/``can``)."""


class UnknownResult(Exception):
    """Raised inside a function to make its whole result the given ``Unknown``."""

    def __init__(self, unknown: Unknown) -> None:
        super().__init__(unknown.reason)
        self.unknown = unknown


def as_unknown(value: Any) -> Unknown | None:
    """``value`` itself when Unknown; an Unknown naming it when a ResourceRef; else None."""
    if isinstance(value, Unknown):
        return value
    if isinstance(value, ResourceRef):
        return Unknown(f"{value.address}.{value.attribute} is known only after apply")
    return None


def deep_unknown(value: Any) -> Unknown | None:
    """The first Unknown (or ResourceRef, as Unknown) anywhere inside ``value``.

    Also the guard against hostile sizes: the whole value is walked, and one heavier than
    ``MAX_WEIGHT`` (elements, plus string length / 16, shared references counted each
    time) is an ``EvalError``."""
    found = as_unknown(value)
    if found is not None or not isinstance(value, (list, dict)):
        return found
    weight = 0
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        weight += 1 + (len(item) >> 4 if isinstance(item, str) else 0)
        if weight > MAX_WEIGHT:
            raise EvalError("value too large to evaluate")
        if found is None:
            found = as_unknown(item)
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
    return found


def ensure_fits(length: int) -> None:
    """Refuse to build a string longer than ``MAX_STRING``."""
    if length > MAX_STRING:
        raise EvalError("result too large")


def hash_key(value: Any) -> Any:
    """A hashable key equal for values ``hcl_equal`` calls equal; None when not known.

    A ``ResourceRef`` has a key of its own: the same reference is the same value."""
    if isinstance(value, Unknown):
        return None
    if isinstance(value, ResourceRef):
        return ("ref", value.address, value.attribute)
    if isinstance(value, bool):
        return ("b", value)
    if is_number(value):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if value is None:
        return ("null",)
    if isinstance(value, list):
        keys = tuple(hash_key(item) for item in value)
        return None if None in keys else ("l", keys)
    if isinstance(value, dict):
        pairs = tuple(sorted((str(k), hash_key(v)) for k, v in value.items()))
        return None if any(v is None for _, v in pairs) else ("m", pairs)
    return ("o", id(value))


def need_known(value: Any) -> Any:
    """Return ``value`` or raise ``UnknownResult`` when it (or anything in it) is not known."""
    found = deep_unknown(value)
    if found is not None:
        raise UnknownResult(found)
    return value


def is_number(value: Any) -> bool:
    """True for int/float but not bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def norm_number(value: int | float) -> int | float:
    """Integral floats become ints; infinities and NaN are errors."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise EvalError("number out of range")
        if value.is_integer() and abs(value) < 2**63:
            return int(value)
    return value


def to_number(value: Any) -> int | float:
    """Terraform number conversion: numbers, and strings holding a decimal number."""
    if is_number(value):
        return value  # type: ignore[no-any-return]
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
        if "." in value or "e" in value or "E" in value:
            return norm_number(float(value))
        return int(value)
    raise EvalError(f"a number is required, got {describe(value)}")


def to_int(value: Any) -> int:
    """A whole number."""
    number = to_number(value)
    if isinstance(number, float):
        raise EvalError(f"a whole number is required, got {number}")
    return number


def to_bool(value: Any) -> bool:
    """Terraform bool conversion: bools and the strings ``true``/``false``."""
    if isinstance(value, bool):
        return value
    if value == "true" or value == "false":
        return value == "true"
    raise EvalError(f"a bool is required, got {describe(value)}")


def format_number(value: int | float) -> str:
    """Numbers as Terraform prints them (``5``, ``1.5``)."""
    value = norm_number(value)
    if isinstance(value, int):
        return str(value)
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def to_string(value: Any) -> str:
    """Terraform string conversion of a primitive value."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_number(value):
        return format_number(value)
    raise EvalError(f"a string is required, got {describe(value)}")


def describe(value: Any) -> str:
    """A short type name for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def hcl_equal(left: Any, right: Any) -> bool:
    """Terraform ``==``: no conversion between types; collections compared deeply.

    Both values must be fully known (callers check ``deep_unknown`` first)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if is_number(left) and is_number(right):
        return bool(left == right)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(hcl_equal, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(hcl_equal(v, right[k]) for k, v in left.items())
    if type(left) is not type(right):
        return False
    return bool(left == right)


def index_value(value: Any, steps: tuple[Any, ...]) -> Any:
    """Apply attribute/index steps (str, int, or ``"*"`` for a splat) to a Python value.

    Steps into a ``ResourceRef`` extend its attribute path (``vpc_config.0.id``); a dict
    carrying a non-empty ``address`` attribute (a whole resource object built by the
    loader) answers a missing key with a ``ResourceRef`` to that attribute."""
    for i, step in enumerate(steps):
        if isinstance(value, Unknown):
            return value
        if isinstance(value, ResourceRef):
            path = ".".join([value.attribute, *(str(s) for s in steps[i:])] if value.attribute
                            else [str(s) for s in steps[i:]])
            return ResourceRef(value.address, path)
        if step == "*":
            items = [] if value is None else value if isinstance(value, list) else [value]
            return [index_value(item, steps[i + 1:]) for item in items]
        address = getattr(value, "address", "") if isinstance(value, dict) else ""
        if address and isinstance(address, str) and str(step) not in value:
            return ResourceRef(address, ".".join(str(s) for s in steps[i:]))
        value = _index_one(value, step)
    return value


def _index_one(value: Any, key: Any) -> Any:
    """One attribute or index step."""
    if isinstance(value, dict):
        key = to_string(key)
        if key not in value:
            raise EvalError(f"no attribute or key {key!r}")
        return value[key]
    if isinstance(value, list):
        if isinstance(key, str) and not _NUMBER_TEXT.fullmatch(key):
            raise EvalError(f"cannot get attribute {key!r} of a list")
        index = to_int(key)
        if not 0 <= index < len(value):
            raise EvalError(f"index {index} out of range for a list of {len(value)}")
        return value[index]
    if value is None:
        raise EvalError("cannot index a null value")
    raise EvalError(f"cannot index a {describe(value)} with {key!r}")


def check_size(value: Any) -> Any:
    """Refuse results too large to keep (hostile input)."""
    if isinstance(value, (str, list, dict)) and len(value) > (
        MAX_STRING if isinstance(value, str) else MAX_ITEMS
    ):
        raise EvalError("result too large")
    return value


#: Work allowed for one evaluation (node evaluations plus result sizes). An evaluation the
#: scope starts while resolving a reference (a local, an output) gets a budget of its own.
MAX_WORK = 2_000_000
_BUDGET: ContextVar[list[int] | None] = ContextVar("hcl_eval_budget", default=None)


@contextmanager
def work_budget() -> Iterator[None]:
    """Give one evaluation its own work budget."""
    token = _BUDGET.set([MAX_WORK])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def charge(amount: int) -> None:
    """Spend ``amount`` of the current budget; an exhausted budget is an error."""
    budget = _BUDGET.get()
    if budget is not None:
        budget[0] -= amount
        if budget[0] < 0:
            raise BudgetExceeded("expression too expensive to evaluate")


class ChildScope:
    """Scope with local names (for-expression iterators, ``each``, ``count``)."""

    def __init__(self, parent: Scope, names: dict[str, Any]) -> None:
        self.parent = parent
        self.names = names

    def resolve(self, traversal: tuple[str | int, ...]) -> Any:
        """Local names first (indexing into their values), else the parent scope."""
        root = traversal[0]
        if isinstance(root, str) and root in self.names:
            return index_value(self.names[root], traversal[1:])
        return self.parent.resolve(traversal)


def arith(op: str, left: int | float, right: int | float) -> Any:
    """Arithmetic and ordering on numbers."""
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op in ("/", "%") and right == 0:
        raise EvalError("division by zero")
    if op == "/":
        return left / right
    if op == "%":
        if isinstance(left, int) and isinstance(right, int):
            rem = abs(left) % abs(right)
            return -rem if left < 0 else rem
        return math.fmod(left, right)
    return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]


def iterate(coll: Any) -> list[tuple[Any, Any]]:
    """(key, value) pairs of a collection in Terraform order (maps by sorted key; the
    loader's line and block markers are not elements)."""
    if isinstance(coll, dict):
        return [(key, coll[key]) for key in sorted(coll) if key not in MARKERS]
    if isinstance(coll, list):
        return list(enumerate(coll))
    raise EvalError(f"cannot iterate over a {type(coll).__name__ if coll is not None else 'null'}")
