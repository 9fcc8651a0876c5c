"""``json.dumps(value, indent=2, ensure_ascii=False)``, the same text, faster.

With an indent the standard library leaves its C encoder and walks the value in pure
Python through nested generators; reports are large (a finding carries its remediation
texts), so this walks it with plain appends instead, encoding every string with the
standard library's own C string encoder. The output is the standard library's, byte for
byte (tests compare the two): keys in insertion order, ``", "``-less separators of an
indented dump (``","`` and ``": "``), ``NaN``/``Infinity`` for such floats, ``TypeError``
for a value JSON cannot hold.
"""
from __future__ import annotations

import json.encoder
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

_STR = json.encoder.encode_basestring  # the C encoder when available (it is in CPython)
_INFINITY = float("inf")
_STEP = "  "
T = TypeVar("T")


class WrittenArray(Generic[T]):
    """A JSON array whose items ``write`` writes itself: ``write(item, newline, out)`` appends the
    text of ``item`` to ``out`` (``newline``: the line break and indent of the item's own level,
    as ``_value`` takes it). ``dumps`` writes the array around them as it writes a list.

    For arrays of many items of one shape (a report's findings), written faster by a writer
    that knows the shape than by walking a dict per item; the writer must give the text
    ``dumps`` would give for the item's data.
    """

    __slots__ = ("items", "write")

    def __init__(self, items: Sequence[T], write: Callable[[T, str, list[str]], None]) -> None:
        self.items = items
        self.write = write


def dumps(value: Any, end: str = "") -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False) + end`` (and ``WrittenArray`` as an array);
    ``end`` joined with the rest rather than added to a copy of a large text."""
    out: list[str] = []
    _value(value, "\n", out)
    out.append(end)
    return "".join(out)


def write(value: Any, newline: str) -> str:
    """The text of ``value`` placed where ``newline`` is its own line break and indent (a line
    break alone at the top, then two more spaces a level): what ``dumps`` writes for it there."""
    out: list[str] = []
    _value(value, newline, out)
    return "".join(out)


def write_into(value: Any, newline: str, out: list[str]) -> None:
    """Append the pieces of ``write(value, newline)`` to ``out``."""
    _value(value, newline, out)


#: ``string(text)``: the JSON text of the string ``text`` (an exact ``str``), as ``dumps`` writes it.
string: Callable[[str], str] = _STR


def text_object(value: Any, newline: str) -> str | None:
    """``write(value, newline)`` for a dict whose keys and values are all exact ``str``
    (None for anything else)."""
    if type(value) is not dict:
        return None
    if not value:
        return "{}"
    inner = newline + _STEP
    parts = []
    for key, item in value.items():
        if type(key) is not str or type(item) is not str:
            return None
        parts.append(_STR(key) + ": " + _STR(item))
    return "{" + inner + ("," + inner).join(parts) + newline + "}"


def text_array(items: Any, newline: str) -> str:
    """``write([str(item) for item in items], newline)``."""
    if not items:
        return "[]"
    inner = newline + _STEP
    return "[" + inner + ("," + inner).join([_STR(str(item)) for item in items]) + newline + "]"


def _value(value: Any, newline: str, out: list[str]) -> None:
    """Append the text of ``value``; ``newline`` is the line break and indent of its own level."""
    kind = type(value)
    if kind is str:
        out.append(_STR(value))
    elif kind is dict:
        _dict(value, newline, out)
    elif kind is list or kind is tuple:
        _list(value, newline, out)
    else:
        out.append(_scalar(value, newline, out))


def _dict(value: dict[Any, Any], newline: str, out: list[str]) -> None:
    if not value:
        out.append("{}")
        return
    inner = newline + _STEP
    separator = "{" + inner
    for key, item in value.items():
        out.append(separator)
        out.append(_STR(key) if type(key) is str else _key(key))
        out.append(": ")
        kind = type(item)
        if kind is str:
            out.append(_STR(item))
        elif kind is dict:
            _dict(item, inner, out)
        elif kind is list or kind is tuple:
            _list(item, inner, out)
        else:
            out.append(_scalar(item, inner, out))
        separator = "," + inner
    out.append(newline + "}")


def _list(value: list[Any] | tuple[Any, ...], newline: str, out: list[str]) -> None:
    if not value:
        out.append("[]")
        return
    inner = newline + _STEP
    separator = "[" + inner
    for item in value:
        out.append(separator)
        kind = type(item)
        if kind is str:
            out.append(_STR(item))
        elif kind is dict:
            _dict(item, inner, out)
        elif kind is list or kind is tuple:
            _list(item, inner, out)
        else:
            out.append(_scalar(item, inner, out))
        separator = "," + inner
    out.append(newline + "]")


def _written(value: WrittenArray[Any], newline: str, out: list[str]) -> None:
    if not value.items:
        out.append("[]")
        return
    inner = newline + _STEP
    separator = "[" + inner
    write = value.write
    for item in value.items:
        out.append(separator)
        write(item, inner, out)
        separator = "," + inner
    out.append(newline + "]")


def _scalar(value: Any, newline: str, out: list[str]) -> str:
    """The text of anything but an exact str, dict, list or tuple, tested in ``json``'s order
    (subclasses of str, int, float, list and dict as ``json`` writes them); containers that are
    subclasses are appended to ``out`` and "" returned. A ``WrittenArray`` is written as an array."""
    if type(value) is WrittenArray:
        _written(value, newline, out)
        return ""
    if isinstance(value, str):
        return _STR(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, (list, tuple)):
        _list(value, newline, out)
        return ""
    if isinstance(value, dict):
        _dict(value, newline, out)
        return ""
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def _key(key: Any) -> str:
    """A dict key that is not an exact str, converted as ``json`` converts it."""
    if isinstance(key, str):
        return _STR(key)
    if isinstance(key, float):
        return _STR(_float(key))
    if key is True:
        return '"true"'
    if key is False:
        return '"false"'
    if key is None:
        return '"null"'
    if isinstance(key, int):
        return _STR(int.__repr__(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)
