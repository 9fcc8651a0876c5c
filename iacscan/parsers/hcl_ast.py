"""Syntax tree of HCL native-syntax expressions and templates (see ``hcl_parse``).

Nodes are small immutable records; ``hcl_eval`` walks them. A traversal such as
``var.ports[count.index]`` is one :class:`Traversal` with a root expression and a
sequence of steps, so that a traversal rooted at a name can be handed to the scope
in one piece.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union


@dataclass(frozen=True, slots=True)
class Literal:
    """A number, string without interpolation, bool or null."""

    value: Any


@dataclass(frozen=True, slots=True)
class Name:
    """A bare root identifier (``var``, ``local``, ``each``, an iterator, a resource type)."""

    name: str


@dataclass(frozen=True, slots=True)
class AttrStep:
    """``.name`` (also the legacy ``.0`` index, kept as an int in ``name``)."""

    name: str | int


@dataclass(frozen=True, slots=True)
class IndexStep:
    """``[expr]``."""

    key: Node


@dataclass(frozen=True, slots=True)
class SplatStep:
    """``[*]`` or ``.*``: the following steps apply to every element."""


Step = Union[AttrStep, IndexStep, SplatStep]


@dataclass(frozen=True, slots=True)
class Traversal:
    """``root`` followed by attribute, index and splat steps."""

    root: Node
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class Call:
    """``name(args...)``; ``expand`` when the last argument ends with ``...``."""

    name: str
    args: tuple[Node, ...]
    expand: bool = False


@dataclass(frozen=True, slots=True)
class Unary:
    """``!x`` or ``-x``."""

    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    """``left op right`` for the arithmetic, comparison and logical operators."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Conditional:
    """``cond ? then : other``."""

    cond: Node
    then: Node
    other: Node


@dataclass(frozen=True, slots=True)
class TupleExpr:
    """``[a, b, ...]``."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class ObjectExpr:
    """``{k = v, ...}``; a bare identifier key is a ``Literal`` string."""

    items: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True, slots=True)
class ForExpr:
    """``[for k, v in coll : val if cond]`` or ``{for k, v in coll : key => val... if cond}``."""

    key_var: str | None
    val_var: str
    coll: Node
    key: Node | None  # object form only
    value: Node
    cond: Node | None
    group: bool  # object form with ``...``


@dataclass(frozen=True, slots=True)
class Interp:
    """``${expr}`` inside a template; ``text`` is the expression source (for messages)."""

    expr: Node
    text: str


@dataclass(frozen=True, slots=True)
class TemplateIf:
    """``%{ if cond }then%{ else }other%{ endif }``."""

    cond: Node
    then: tuple[Part, ...]
    other: tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class TemplateFor:
    """``%{ for k, v in coll }body%{ endfor }``."""

    key_var: str | None
    val_var: str
    coll: Node
    body: tuple[Part, ...]


Part = Union[str, Interp, TemplateIf, TemplateFor]


@dataclass(frozen=True, slots=True)
class Template:
    """A string with interpolations or directives."""

    parts: tuple[Part, ...]


Node = Union[
    Literal, Name, Traversal, Call, Unary, Binary, Conditional, TupleExpr, ObjectExpr,
    ForExpr, Template,
]
