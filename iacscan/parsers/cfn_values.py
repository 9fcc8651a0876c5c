"""Resolved CloudFormation values: line-carrying containers, resource references, coercions.

``LDict``/``LList`` are what ``TemplateContext.resolve`` builds for mappings and sequences
(they remember the 1-based line they were written on); ``CfnRef`` is a ``Ref``/``GetAtt``
to a resource of the template; ``NO_VALUE`` is ``AWS::NoValue`` before it is removed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from iacscan.model import Unknown

#: Marker for ``Ref: AWS::NoValue``; removed from the enclosing dict or list.
NO_VALUE = object()


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


def text_of(value: Any) -> str | Unknown | CfnRef:
    """A scalar as CloudFormation turns it into text (booleans lower-case)."""
    if isinstance(value, (Unknown, CfnRef)):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if value is None:
        return Unknown("null where text is expected")
    return Unknown("a list or mapping where text is expected")


def concat(parts: list[Any]) -> str | Unknown:
    """The text of ``parts`` joined; Unknown when a part is unknown or a resource's id."""
    out: list[str] = []
    for part in parts:
        text = text_of(part)
        if isinstance(text, CfnRef):
            return Unknown(f"the physical id of {text} is only known after deployment")
        if isinstance(text, Unknown):
            return text
        out.append(text)
    return "".join(out)


def as_index(value: Any) -> int | None:
    """An integer argument (``1`` or ``"1"``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def plain(value: Any) -> Any:
    """Comparable form: scalars as text (CloudFormation compares strings)."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    text = text_of(value)
    return text if isinstance(text, str) else value


def contains_unknown(value: Any) -> bool:
    """True when ``value`` holds an Unknown or a resource reference anywhere."""
    if isinstance(value, (Unknown, CfnRef)):
        return True
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    return False


def section(data: dict[str, Any], name: str) -> dict[str, Any]:
    """A top-level template section as a mapping (empty when absent or malformed)."""
    value = data.get(name)
    return value if isinstance(value, dict) else {}
