"""Terraform addresses and references as they appear in plan JSON, split into parts.

A plan instance address (``module.net["a"].aws_security_group.web[0]``) is a chain of
module calls, each with an optional instance key, then a resource (``type.name`` or
``data.type.name``) with an optional key. A configuration reference
(``aws_security_group.web.id``, ``module.bastion.security_group_id``, ``var.x``) is a
dotted traversal whose steps may carry ``[key]`` indexes. Keys are kept as written
(``0``, ``"admin"``) so that they compare equal to the keys in plan addresses.
"""
from __future__ import annotations

from dataclasses import dataclass

#: A module call step: (call name, key as written or None when the step has no key).
ModuleStep = tuple[str, "str | None"]


@dataclass(frozen=True)
class Address:
    """One resource instance address, split."""

    modules: tuple[ModuleStep, ...]
    resource: str  # ``type.name`` or ``data.type.name``
    key: str | None  # instance key as written (``0``, ``"admin"``), None without count/for_each

    @property
    def module_prefix(self) -> str:
        """``module.a["k"].module.b.`` (empty for the root module)."""
        return "".join(f"module.{name}{_bracket(key)}." for name, key in self.modules)

    @property
    def config_address(self) -> str:
        """The address without any instance key (``module.a.aws_x.y``): the configuration's."""
        return "".join(f"module.{name}." for name, _ in self.modules) + self.resource

    def __str__(self) -> str:
        return f"{self.module_prefix}{self.resource}{_bracket(self.key)}"


def _bracket(key: str | None) -> str:
    return "" if key is None else f"[{key}]"


def split_steps(text: str) -> list[tuple[str, str | None]] | None:
    """``a.b["k"].c[0]`` → ``[("a", None), ("b", '"k"'), ("c", "0")]``; None when malformed.

    Dots and brackets inside quoted keys are part of the key.
    """
    steps: list[tuple[str, str | None]] = []
    i, n = 0, len(text)
    while i < n:
        start = i
        while i < n and text[i] not in ".[":
            i += 1
        name = text[start:i]
        if not name:
            return None
        key: str | None = None
        if i < n and text[i] == "[":
            end = _close_bracket(text, i)
            if end < 0:
                return None
            key = text[i + 1:end]
            i = end + 1
            if i < n and text[i] == "[":  # a second index (``x[0][1]``): not an address we use
                return None
        steps.append((name, key))
        if i < n:
            if text[i] != ".":
                return None
            i += 1
            if i == n:
                return None
    return steps


def _close_bracket(text: str, start: int) -> int:
    """Index of the ``]`` closing the ``[`` at ``start`` (quoted strings skipped), or -1."""
    i = start + 1
    quoted = False
    while i < len(text):
        char = text[i]
        if quoted:
            if char == "\\":
                i += 1
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == "]":
            return i
        i += 1
    return -1


def parse_address(text: str) -> Address | None:
    """A plan instance address split into modules, resource and key; None when malformed."""
    steps = split_steps(text)
    if not steps:
        return None
    modules: list[ModuleStep] = []
    i = 0
    while i + 1 < len(steps) and steps[i] == ("module", None):
        modules.append(steps[i + 1])
        i += 2
    rest = steps[i:]
    if len(rest) == 3 and rest[0] == ("data", None) and rest[1][1] is None:
        return Address(tuple(modules), f"data.{rest[1][0]}.{rest[2][0]}", rest[2][1])
    if len(rest) == 2 and rest[0][1] is None:
        return Address(tuple(modules), f"{rest[0][0]}.{rest[1][0]}", rest[1][1])
    return None
