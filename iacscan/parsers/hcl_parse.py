"""A recursive-descent parser for HCL native-syntax expressions and templates.

It reads the text python-hcl2 puts inside ``"${...}"`` (and whole template strings)
and builds the tree of ``hcl_ast``. Grammar followed: the HCL native syntax
specification (literals, templates with interpolations and ``if``/``for`` directives
and strip markers, tuples, objects, traversals, splats, calls with ``...``, unary and
binary operators with HCL precedence, conditionals, ``for`` expressions, heredocs).

Syntax errors raise :class:`HclSyntaxError`; nesting is bounded by ``MAX_DEPTH``.
"""
from __future__ import annotations

import re
from functools import lru_cache

from iacscan.parsers.hcl_ast import (
    AttrStep, Binary, Call, Conditional, ForExpr, IndexStep, Interp, Literal, Name, Node,
    ObjectExpr, Part, SplatStep, Step, Template, TemplateFor, TemplateIf, Traversal,
    TupleExpr, Unary,
)

MAX_DEPTH = 64
MAX_TEXT = 200_000

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_DIGITS = re.compile(r"[0-9]+")
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
# Binary operator levels, loosest first.
_LEVELS: tuple[tuple[str, ...], ...] = (
    ("||",), ("&&",), ("==", "!="), ("<=", ">=", "<", ">"), ("+", "-"), ("*", "/", "%"),
)
_KEYWORDS = {"true": True, "false": False, "null": None}


class HclSyntaxError(ValueError):
    """The text is not a valid HCL expression or template."""


class _Parser:
    """Scannerless parser over one source text."""

    def __init__(self, src: str) -> None:
        if len(src) > MAX_TEXT:
            raise HclSyntaxError("expression too long")
        self.src = src
        self.pos = 0
        self.depth = 0

    # -- low level -------------------------------------------------------------------
    def error(self, message: str) -> HclSyntaxError:
        """A syntax error at the current position."""
        return HclSyntaxError(f"{message} at offset {self.pos}")

    def skip(self) -> None:
        """Skip whitespace, newlines and comments."""
        src, n = self.src, len(self.src)
        while self.pos < n:
            c = src[self.pos]
            if c in " \t\r\n":
                self.pos += 1
            elif c == "#" or src.startswith("//", self.pos):
                end = src.find("\n", self.pos)
                self.pos = n if end < 0 else end + 1
            elif src.startswith("/*", self.pos):
                end = src.find("*/", self.pos + 2)
                if end < 0:
                    raise self.error("unterminated comment")
                self.pos = end + 2
            else:
                return

    def peek(self, token: str) -> bool:
        """True when ``token`` comes next (after whitespace)."""
        self.skip()
        return self.src.startswith(token, self.pos)

    def accept(self, token: str) -> bool:
        """Consume ``token`` when it comes next."""
        if self.peek(token):
            self.pos += len(token)
            return True
        return False

    def expect(self, token: str) -> None:
        """Consume ``token`` or fail."""
        if not self.accept(token):
            raise self.error(f"expected {token!r}")

    def ident(self) -> str | None:
        """Consume and return an identifier, if one comes next."""
        self.skip()
        m = _IDENT.match(self.src, self.pos)
        if not m:
            return None
        self.pos = m.end()
        return m.group()

    def keyword(self, word: str) -> bool:
        """Consume the keyword ``word`` when it comes next as a whole identifier."""
        save = self.pos
        if self.ident() == word:
            return True
        self.pos = save
        return False

    def enter(self) -> None:
        """Count one nesting level."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error("expression nested too deeply")

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
            return _template_node(self.template_parts(quoted=True))
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
        if self.peek("("):
            self.pos += 1
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

    def peek_ident(self) -> bool:
        """True when an identifier comes next (without consuming it)."""
        self.skip()
        return _IDENT.match(self.src, self.pos) is not None

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

    def heredoc(self) -> Node:
        """``<<EOT`` / ``<<-EOT`` heredoc template."""
        m = _HEREDOC.match(self.src, self.pos)
        if not m:
            raise self.error("malformed heredoc")
        indent, marker = m.group(1) == "-", m.group(2)
        end = re.compile(r"^[ \t]*" + re.escape(marker) + r"[ \t]*$", re.M)
        close = end.search(self.src, m.end())
        if not close:
            raise self.error("unterminated heredoc")
        body = self.src[m.end():close.start()]
        self.pos = close.end()
        if indent:
            body = _dedent(body)
        return _template_node(parse_template_parts(body))

    # -- templates -------------------------------------------------------------------
    def template_parts(self, quoted: bool) -> tuple[Part, ...]:
        """Template text up to the closing quote (``quoted``) or the end of the source."""
        flat = self.flat_template(quoted)
        parts, rest = _nest(flat, 0, ())
        if rest != len(flat):
            raise self.error("unexpected template directive")
        return parts

    def flat_template(self, quoted: bool) -> list[object]:
        """Literal text, interpolations and directive markers in order, strip applied."""
        src, n = self.src, len(self.src)
        out: list[object] = []
        buf: list[str] = []
        strip_next = False
        while True:
            if self.pos >= n:
                if quoted:
                    raise self.error("unterminated string")
                break
            c = src[self.pos]
            if quoted and c == '"':
                self.pos += 1
                break
            if quoted and c == "\\":
                buf.append(self.escape())
            elif src.startswith("$${", self.pos) or src.startswith("%%{", self.pos):
                buf.append(c + "{")
                self.pos += 3
            elif src.startswith("${", self.pos) or src.startswith("%{", self.pos):
                strip_left = src.startswith("~", self.pos + 2)
                self.pos += 3 if strip_left else 2
                out.append(_strip("".join(buf), strip_next, strip_left))
                buf = []
                item, strip_next = (self.interp() if c == "$" else self.directive())
                out.append(item)
            else:
                buf.append(c)
                self.pos += 1
        out.append(_strip("".join(buf), strip_next, False))
        return [p for p in out if p != ""]

    def escape(self) -> str:
        """A backslash escape inside a quoted string."""
        src, pos = self.src, self.pos
        kind = src[pos + 1:pos + 2]
        if kind in _ESCAPES:
            self.pos += 2
            return _ESCAPES[kind]
        width = {"u": 4, "U": 8}.get(kind)
        digits = src[pos + 2:pos + 2 + width] if width else ""
        if width and re.fullmatch(r"[0-9A-Fa-f]+", digits) and len(digits) == width:
            code = int(digits, 16)
            if code <= 0x10FFFF:
                self.pos += 2 + width
                return chr(code)
        raise self.error("invalid escape sequence")

    def close_brace(self) -> bool:
        """``}`` or ``~}`` closing an interpolation or directive; True when stripping."""
        strip = self.accept("~")
        if not self.src.startswith("}", self.pos):
            raise self.error("expected '}'")
        self.pos += 1
        return strip

    def interp(self) -> tuple[Interp, bool]:
        """``expr }`` after ``${``."""
        start = self.pos
        expr = self.expression()
        text = self.src[start:self.pos].strip()
        return Interp(expr, text), self.close_brace()

    def directive(self) -> tuple[tuple[object, ...], bool]:
        """``if``/``else``/``endif``/``for``/``endfor`` after ``%{``."""
        word = self.ident()
        if word == "if":
            item: tuple[object, ...] = ("if", self.expression())
        elif word == "for":
            first = self.ident()
            second = self.ident() if self.accept(",") else None
            if first is None or not self.keyword("in"):
                raise self.error("malformed for directive")
            item = ("for", first if second else None, second or first, self.expression())
        elif word in ("else", "endif", "endfor"):
            item = (word,)
        else:
            raise self.error("unknown template directive")
        return item, self.close_brace()


def _nest(flat: list[object], i: int, stops: tuple[str, ...],
          depth: int = 0) -> tuple[tuple[Part, ...], int]:
    """Build nested template parts from ``flat[i:]`` until a directive in ``stops``."""
    if depth > MAX_DEPTH:
        raise HclSyntaxError("template directives nested too deeply")
    parts: list[Part] = []
    while i < len(flat):
        item = flat[i]
        if isinstance(item, tuple):
            if item[0] in stops:
                return tuple(parts), i
            if item[0] == "if":
                then, i = _nest(flat, i + 1, ("else", "endif"), depth + 1)
                other: tuple[Part, ...] = ()
                if i < len(flat) and flat[i] == ("else",):
                    other, i = _nest(flat, i + 1, ("endif",), depth + 1)
                if i >= len(flat) or flat[i] != ("endif",):
                    raise HclSyntaxError("missing endif")
                parts.append(TemplateIf(item[1], then, other))
            elif item[0] == "for":
                body, i = _nest(flat, i + 1, ("endfor",), depth + 1)
                if i >= len(flat):
                    raise HclSyntaxError("missing endfor")
                parts.append(TemplateFor(item[1], item[2], item[3], body))
            else:
                raise HclSyntaxError(f"unexpected {item[0]} directive")
        else:
            parts.append(item)  # type: ignore[arg-type]
        i += 1
    if stops:
        raise HclSyntaxError(f"missing {stops[-1]}")
    return tuple(parts), i


def _strip(text: str, left: bool, right: bool) -> str:
    """Apply ``~`` strip markers to a literal template segment."""
    if left:
        text = text.lstrip()
    return text.rstrip() if right else text


def _template_node(parts: tuple[Part, ...]) -> Node:
    """A plain literal when the template has no interpolation or directive."""
    if all(isinstance(p, str) for p in parts):
        return Literal("".join(parts))  # type: ignore[arg-type]
    return Template(parts)


def _dedent(body: str) -> str:
    """Remove the common leading whitespace of a ``<<-`` heredoc's lines."""
    lines = body.split("\n")
    widths = [len(ln) - len(ln.lstrip(" \t")) for ln in lines if ln.strip()]
    cut = min(widths, default=0)
    return "\n".join(ln[cut:] for ln in lines)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@lru_cache(maxsize=4096)
def parse_expression(text: str) -> Node:
    """Parse the source of one expression; the whole text must be consumed."""
    parser = _Parser(text)
    node = parser.expression()
    parser.skip()
    if parser.pos != len(text):
        raise parser.error("unexpected text after expression")
    return node


@lru_cache(maxsize=4096)
def parse_template_parts(text: str) -> tuple[Part, ...]:
    """Parse unquoted template text (escapes already resolved, except ``$${``/``%%{``)."""
    parser = _Parser(text)
    return parser.template_parts(quoted=False)
