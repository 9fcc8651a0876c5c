"""Scanning and template parsing shared by the HCL expression parser (``hcl_parse``).

:class:`Scanner` holds the source position and the low-level helpers (whitespace and
comments, tokens, identifiers, nesting depth) plus the template grammar: quoted strings
with escapes, ``${...}`` interpolations, ``%{ if }``/``%{ for }`` directives with ``~``
strip markers, ``$${``/``%%{`` escapes, and heredocs. Expressions inside templates are
parsed by the subclass's :meth:`Scanner.expression`.
"""
from __future__ import annotations

import re

from iacscan.parsers.hcl_ast import (
    Interp, Literal, Node, Part, Template, TemplateFor, TemplateIf,
)

MAX_DEPTH = 64
MAX_TEXT = 200_000

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


class HclSyntaxError(ValueError):
    """The text is not a valid HCL expression or template."""


class Scanner:
    """Position in one source text, low-level helpers and the template grammar."""

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
        m = IDENT.match(self.src, self.pos)
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

    def peek_ident(self) -> bool:
        """True when an identifier comes next (without consuming it)."""
        self.skip()
        return IDENT.match(self.src, self.pos) is not None

    def expression(self) -> Node:
        """Parse one expression (provided by the expression parser)."""
        raise NotImplementedError

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
            body = dedent(body)
        sub = type(self)(body)
        sub.depth = self.depth
        return template_node(sub.template_parts(quoted=False))

    # -- templates ---------------------------------------------------------------------
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


def template_node(parts: tuple[Part, ...]) -> Node:
    """A plain literal when the template has no interpolation or directive."""
    if all(isinstance(p, str) for p in parts):
        return Literal("".join(parts))  # type: ignore[arg-type]
    return Template(parts)


def dedent(body: str) -> str:
    """Remove the common leading whitespace of a ``<<-`` heredoc's lines."""
    lines = body.split("\n")
    widths = [len(ln) - len(ln.lstrip(" \t")) for ln in lines if ln.strip()]
    cut = min(widths, default=0)
    return "\n".join(ln[cut:] for ln in lines)
