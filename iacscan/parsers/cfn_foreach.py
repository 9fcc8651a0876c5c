"""Expand ``Fn::ForEach`` loops of the ``AWS::LanguageExtensions`` transform in ``Resources``.

``Fn::ForEach::Name: [Identifier, Collection, {OutputKey: Body}]`` declares one resource
per element of the collection: ``${Identifier}`` / ``&{Identifier}`` in the output key
and in strings of the body become the element (``&{}`` keeps only its alphanumerics),
and ``Ref: Identifier`` becomes the element itself. Loops may nest. The expanded
resources keep the lines of the loop's body. A collection that cannot be resolved
(a parameter without value, ``Fn::GetAZs``…) expands to nothing.
"""
from __future__ import annotations

import re
from typing import Any

from iacscan.parsers.cfn_values import LDict, LList, line_of

PREFIX = "Fn::ForEach::"
_MAX_RESOURCES = 10_000


def expand_resources(resources: dict[str, Any], resolve: Any) -> dict[str, Any]:
    """``resources`` with every ``Fn::ForEach::…`` entry replaced by the resources it declares.

    ``resolve(node)`` evaluates the collection (it may be a ``Ref`` to a list parameter).
    """
    if not any(isinstance(key, str) and key.startswith(PREFIX) for key in resources):
        return resources
    out: dict[str, Any] = LDict()
    for key, value in resources.items():
        if isinstance(key, str) and key.startswith(PREFIX):
            for new_key, body in _expand(value, resolve, depth=0):
                if len(out) < _MAX_RESOURCES:
                    out[new_key] = body
        else:
            out[key] = value
    return out


def _expand(loop: Any, resolve: Any, depth: int) -> list[tuple[Any, Any]]:
    if depth > 5 or not isinstance(loop, list) or len(loop) != 3 or not isinstance(loop[2], dict):
        return []
    identifier, collection, template = loop
    values = resolve(collection)
    if not isinstance(identifier, str) or not isinstance(values, list):
        return []
    pairs: list[tuple[Any, Any]] = []
    for value in values:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            continue
        text = str(value)
        for key, body in template.items():
            if isinstance(key, str) and key.startswith(PREFIX):
                pairs.extend(_expand(substitute(body, identifier, text), resolve, depth + 1))
            else:
                pairs.append((_KeyWithLine(_replace(str(key), identifier, text), line_of(key)),
                              substitute(body, identifier, text)))
    return pairs


class _KeyWithLine(str):
    """An expanded logical id that still knows the line of the loop's output key."""

    line: int = 0

    def __new__(cls, text: str, line: int) -> _KeyWithLine:
        obj = super().__new__(cls, text)
        obj.line = line
        return obj


def _replace(text: str, identifier: str, value: str) -> str:
    text = text.replace("${" + identifier + "}", value)
    return text.replace("&{" + identifier + "}", re.sub(r"[^A-Za-z0-9]", "", value))


def substitute(node: Any, identifier: str, value: str) -> Any:
    """A copy of ``node`` with the loop identifier replaced by ``value`` (lines kept)."""
    if isinstance(node, dict):
        if len(node) == 1 and node.get("Ref") == identifier:
            return value
        out = LDict()
        out.line = line_of(node)
        for key, item in node.items():
            new_key = _replace(key, identifier, value) if isinstance(key, str) else key
            out[new_key] = substitute(item, identifier, value)
        return out
    if isinstance(node, list):
        items = LList(substitute(item, identifier, value) for item in node)
        items.line = line_of(node)
        return items
    if isinstance(node, str):
        return _replace(node, identifier, value)
    return node
