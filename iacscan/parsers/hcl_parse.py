"""A recursive-descent parser for HCL native-syntax expressions and templates.

It reads the text python-hcl2 puts inside ``"${...}"`` (and whole template strings)
and builds the tree of ``hcl_ast``. Grammar followed: the HCL native syntax
specification (literals, templates with interpolations and ``if``/``for`` directives
and strip markers, tuples, objects, traversals, splats, calls with ``...``, unary and
binary operators with HCL precedence, conditionals, ``for`` expressions, heredocs).

Syntax errors raise ``hcl_template.HclSyntaxError``; nesting is bounded by ``MAX_DEPTH``.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

from iacscan.parsers.hcl_ast import (
    AttrStep, Binary, Call, Conditional, ForExpr, IndexStep, Literal, Name, Node, ObjectExpr,
    Part, SplatStep, Step, Traversal, TupleExpr, Unary,
)
from iacscan.parsers.hcl_template import Scanner, template_node

_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_DIGITS = re.compile(r"[0-9]+")
_BLANKS = re.compile(r"[ \t]*")
# Binary operator levels, loosest first.
_LEVELS: tuple[tuple[str, ...], ...] = (
    ("||",), ("&&",), ("==", "!="), ("<=", ">=", "<", ">"), ("+", "-"), ("*", "/", "%"),
)
_KEYWORDS = {"true": True, "false": False, "null": None}


class _Parser(Scanner):
    """Expression grammar on top of the scanner and template grammar."""

    # -- expressions -----------------------------------------------------------------
    def expression(self) -> Node:
        """expr := binary ( '?' expr ':' expr )?"""
        self.enter()
        cond = self.binary(0)
        if self.peek("?"):
            self.pos += 1
            then = self.expression()
            self.expect(":")
            other = self.expression()
            cond = Conditional(cond, then, other)
        self.depth -= 1
        return cond

    def binary(self, level: int) -> Node:
        """One precedence level of left-associative binary operators."""
        if level == len(_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while True:
            self.skip()
            op = next((o for o in _LEVELS[level] if self.src.startswith(o, self.pos)), None)
            if op is None or self._not_operator(op):
                return left
            self.pos += len(op)
            left = Binary(op, left, self.binary(level + 1))

    def _not_operator(self, op: str) -> bool:
        """``<<`` starts a heredoc, not a comparison."""
        nxt = self.src[self.pos + len(op):self.pos + len(op) + 1]
        return op == "<" and nxt == "<"

    def unary(self) -> Node:
        """unary := ('!' | '-') unary | postfix"""
        self.skip()
        if self.src.startswith("!", self.pos) and not self.src.startswith("!=", self.pos):
            self.pos += 1
            self.enter()
            node = Unary("!", self.unary())
            self.depth -= 1
            return node
        if self.src.startswith("-", self.pos):
            self.pos += 1
            self.enter()
            operand = self.unary()
            self.depth -= 1
            if isinstance(operand, Literal) and _is_number(operand.value):
                return Literal(-operand.value)
            return Unary("-", operand)
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        """Attribute, index and splat steps after a primary expression."""
        steps: list[Step] = []
        legacy_splat = False
        while True:
            self.skip()
            if self.src.startswith(".", self.pos) and not self.src.startswith("...", self.pos):
                self.pos += 1
                if self.accept("*"):
                    steps.append(SplatStep())
                    legacy_splat = True
                    continue
                self.skip()
                digits = _DIGITS.match(self.src, self.pos)
                if digits:
                    self.pos = digits.end()
                    steps.append(AttrStep(int(digits.group())))
                    continue
                name = self.ident()
                if name is None:
                    raise self.error("expected attribute name")
                steps.append(AttrStep(name))
            elif self.src.startswith("[", self.pos):
                self.pos += 1
                if self.accept("*"):
                    self.expect("]")
                    steps.append(SplatStep())
                    continue
                if legacy_splat:  # an index ends a legacy attribute-only splat
                    node, steps, legacy_splat = Traversal(node, tuple(steps)), [], False
                key = self.expression()
                self.expect("]")
                steps.append(IndexStep(key))
            else:
                return Traversal(node, tuple(steps)) if steps else node

    def primary(self) -> Node:
        """Literals, names, calls, parentheses, tuples, objects, strings, heredocs."""
        self.skip()
        src, pos = self.src, self.pos
        if pos >= len(src):
            raise self.error("unexpected end of expression")
        c = src[pos]
        if "0" <= c <= "9":
            return self.number()
        if c == '"':
            self.pos += 1
            return template_node(self.template_parts(quoted=True))
        if src.startswith("<<", pos):
            return self.heredoc()
        if c == "(":
            self.pos += 1
            inner = self.expression()
            self.expect(")")
            return inner
        if c == "[":
            self.pos += 1
            return self.tuple_or_for()
        if c == "{":
            self.pos += 1
            return self.object_or_for()
        name = self.ident()
        if name is None:
            raise self.error(f"unexpected character {c!r}")
        while self.src.startswith("::", self.pos):  # provider::aws::fn
            self.pos += 2
            part = self.ident()
            if part is None:
                raise self.error("expected name after '::'")
            name += "::" + part
        gap = _BLANKS.match(self.src, self.pos)
        if gap and self.src.startswith("(", gap.end()):  # a call's "(" is on the same line
            self.pos = gap.end() + 1
            return self.call(name)
        if name in _KEYWORDS:
            return Literal(_KEYWORDS[name])
        return Name(name)

    def number(self) -> Literal:
        """A decimal number literal; integral values become ``int``."""
        m = _NUMBER.match(self.src, self.pos)
        assert m is not None
        self.pos = m.end()
        text = m.group()
        if m.group(1) is None and m.group(2) is None:
            return Literal(int(text))
        value = float(text)
        if math.isinf(value):
            raise self.error("number out of range")
        return Literal(int(value) if value.is_integer() and abs(value) < 2**53 else value)

    def call(self, name: str) -> Call:
        """Arguments after ``name(``."""
        args: list[Node] = []
        expand = False
        self.enter()
        while not self.accept(")"):
            args.append(self.expression())
            if self.accept("..."):
                expand = True
                self.expect(")")
                break
            if not self.accept(","):
                self.expect(")")
                break
        self.depth -= 1
        return Call(name, tuple(args), expand)

    def for_intro(self) -> tuple[str | None, str, Node]:
        """``for [k,] v in coll :`` after the ``for`` keyword."""
        first = self.ident()
        if first is None:
            raise self.error("expected iterator name")
        second = None
        if self.accept(","):
            second = self.ident()
            if second is None:
                raise self.error("expected iterator name")
        if not self.keyword("in"):
            raise self.error("expected 'in'")
        coll = self.expression()
        self.expect(":")
        return (first, second, coll) if second else (None, first, coll)

    def tuple_or_for(self) -> Node:
        """After ``[``: a for expression or a tuple."""
        self.enter()
        save = self.pos
        if self.keyword("for") and self.peek_ident():
            key_var, val_var, coll = self.for_intro()
            value = self.expression()
            cond = self.expression() if self.keyword("if") else None
            self.expect("]")
            self.depth -= 1
            return ForExpr(key_var, val_var, coll, None, value, cond, False)
        self.pos = save
        items: list[Node] = []
        while not self.accept("]"):
            items.append(self.expression())
            if not self.accept(","):
                self.expect("]")
                break
        self.depth -= 1
        return TupleExpr(tuple(items))

    def object_or_for(self) -> Node:
        """After ``{``: a for expression or an object."""
        self.enter()
        save = self.pos
        if self.keyword("for") and self.peek_ident():
            key_var, val_var, coll = self.for_intro()
            key = self.expression()
            self.expect("=>")
            value = self.expression()
            group = self.accept("...")
            cond = self.expression() if self.keyword("if") else None
            self.expect("}")
            self.depth -= 1
            return ForExpr(key_var, val_var, coll, key, value, cond, group)
        self.pos = save
        items: list[tuple[Node, Node]] = []
        while not self.accept("}"):
            items.append((self.object_key(), self.object_value()))
            self.accept(",")
        self.depth -= 1
        return ObjectExpr(tuple(items))

    def object_key(self) -> Node:
        """A bare identifier key is literal text; anything else is an expression."""
        save = self.pos
        name = self.ident()
        if name is not None and (self.peek(":") or (self.peek("=") and not self.peek("=="))):
            return Literal(name)
        self.pos = save
        return self.expression()

    def object_value(self) -> Node:
        """``= value`` or ``: value`` after an object key."""
        if self.peek("=") and not self.peek("=="):
            self.pos += 1
        else:
            self.expect(":")
        return self.expression()


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_CACHE_LIMIT = 4096  # longer texts are parsed every time rather than kept in the cache


def parse_expression(text: str) -> Node:
    """Parse the source of one expression; the whole text must be consumed."""
    return _parse_expression_cached(text) if len(text) <= _CACHE_LIMIT else _parse_expression(text)


def parse_template_parts(text: str) -> tuple[Part, ...]:
    """Parse unquoted template text (escapes already resolved, except ``$${``/``%%{``)."""
    return _parse_template_cached(text) if len(text) <= _CACHE_LIMIT else _parse_template(text)


def _parse_expression(text: str) -> Node:
    parser = _Parser(text)
    node = parser.expression()
    parser.skip()
    if parser.pos != len(text):
        raise parser.error("unexpected text after expression")
    return node


def _parse_template(text: str) -> tuple[Part, ...]:
    return _Parser(text).template_parts(quoted=False)


_parse_expression_cached = lru_cache(maxsize=8192)(_parse_expression)
_parse_template_cached = lru_cache(maxsize=8192)(_parse_template)
