"""A fast reader of HCL native syntax into ``Block`` trees (the shape ``tf_files.hcl_blocks`` gives).

python-hcl2 parses about 13 µs per byte (a lark LALR parse, then a transform and a
serialisation); a 20 MB estate would spend minutes there. The loader does not need a full
syntax tree: it needs the blocks, the attribute values in python-hcl2's serialised form
(literals as Python values, literal tuples and objects as lists and dicts, every other
expression as ``"${source}"`` text that ``hcl_eval`` parses lazily) and start lines. This
module tokenises a file with one regular expression and reads that structure directly.

It is deliberately strict: anything it does not recognise raises ``FastParseError`` and the
caller falls back to python-hcl2, which either parses the file or reports the syntax error
with its line (so error reporting is unchanged). Every ``${...}`` expression it produces is
checked with ``hcl_parse`` so that a malformed expression is not accepted silently.

Differences from python-hcl2 (deliberate): expression text is the source text (python-hcl2
re-prints it; both parse to the same tree), and heredoc bodies are the text as written
(python-hcl2 8.1.4 escapes double quotes inside ``<<-`` heredocs).
"""
from __future__ import annotations

import re
from typing import Any

from iacscan.parsers.hcl_parse import parse_expression
from iacscan.parsers.tf_files import Block


class FastParseError(Exception):
    """The fast reader does not handle this text (the caller falls back to python-hcl2)."""


_TOKEN = re.compile(r"""
 (?P<nl>\n)
|(?P<ws>[ \t\r]+)
|(?P<cm>\#[^\n]*|//[^\n]*)
|(?P<bc>/\*)
|(?P<hd><<-?)(?=[A-Za-z_])
|(?P<st>")
|(?P<num>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![A-Za-z_0-9]))
|(?P<id>[A-Za-z_][A-Za-z0-9_-]*(?:::[A-Za-z_][A-Za-z0-9_-]*)*)
|(?P<op>==|!=|<=|>=|&&|\|\||=>|\.\.\.|[-+*/%<>!?:=.,\[\](){}~])
""", re.X)
_STRING_STOP = re.compile(r'["\\\n$%]')
_HEREDOC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\n")
_ESCAPE = re.compile(r'\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))', re.S)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_CLOSE = {"(": ")", "[": "]", "{": "}"}
#: A line ending in one of these continues the expression on the next line.
_TRAILING_OPS = frozenset({"?", ":", "==", "!=", "<=", ">=", "<", ">", "&&", "||", "+", "-", "*", "/", "%",
                           "=>", "."})
#: A line starting with one of these continues the expression of the line before.
_LEADING_OPS = frozenset({"?", ":", "==", "!=", "<=", ">=", "<", ">", "&&", "||", "+", "*", "/", "%", "."})

# token kinds
NL, NUM, ID, OP, STR, HEREDOC, EOF = range(7)


class _Tokens:
    """The tokens of one file: parallel lists (kind, text, start, end, line)."""

    __slots__ = ("src", "kind", "text", "start", "end", "line", "parts")

    def __init__(self, src: str) -> None:
        self.src = src
        self.kind: list[int] = []
        self.text: list[str] = []
        self.start: list[int] = []
        self.end: list[int] = []
        self.line: list[int] = []
        #: for STR/HEREDOC tokens: the decoded value (plain or template text)
        self.parts: dict[int, Any] = {}


def tokenize(src: str) -> _Tokens:
    """Split ``src`` into tokens (strings, heredocs and comments in one piece each)."""
    toks = _Tokens(src)
    _scan(src, 0, toks, 1, None)
    toks.kind.append(EOF)
    toks.text.append("")
    toks.start.append(len(src))
    toks.end.append(len(src))
    toks.line.append(toks.line[-1] if toks.line else 1)
    return toks


def _scan(src: str, pos: int, toks: _Tokens | None, line: int, stop_brace: int | None) -> tuple[int, int]:
    """Tokenise from ``pos``; with ``stop_brace`` (inside ``${...}``) stop at the unmatched ``}``.
    Returns (position after the stop, line). ``toks`` None only measures."""
    n = len(src)
    match = _TOKEN.match
    depth = 0
    while pos < n:
        m = match(src, pos)
        if m is None:
            raise FastParseError(f"unexpected character {src[pos]!r} at line {line}")
        group = m.lastgroup
        end = m.end()
        if group == "ws" or group == "cm":
            pos = end
            continue
        if group == "nl":
            if toks is not None and stop_brace is None:
                _add(toks, NL, "\n", pos, end, line)
            line += 1
            pos = end
            continue
        if group == "bc":
            close = src.find("*/", end)
            if close < 0:
                raise FastParseError("unterminated comment")
            line += src.count("\n", pos, close)
            pos = close + 2
            continue
        if group == "st":
            start_line = line
            pos, line, value = _string(src, end, line)
            if toks is not None and stop_brace is None:
                toks.parts[len(toks.kind)] = value
                _add(toks, STR, "", m.start(), pos, start_line)
            continue
        if group == "hd":
            start_line = line
            pos, line, value = _heredoc(src, end, line, m.group("hd") == "<<-")
            if toks is not None and stop_brace is None:
                toks.parts[len(toks.kind)] = value
                _add(toks, HEREDOC, "", m.start(), pos, start_line)
            continue
        text = m.group()
        if stop_brace is not None:
            if text in ("{", "(", "["):
                depth += 1
            elif text in ("}", ")", "]"):
                if depth == 0:
                    if text != "}":
                        raise FastParseError("unbalanced brackets in an interpolation")
                    return end, line
                depth -= 1
        elif toks is not None:
            _add(toks, NUM if group == "num" else ID if group == "id" else OP, text, pos, end, line)
        pos = end
    if stop_brace is not None:
        raise FastParseError("unterminated interpolation")
    return pos, line


def _add(toks: _Tokens, kind: int, text: str, start: int, end: int, line: int) -> None:
    toks.kind.append(kind)
    toks.text.append(text)
    toks.start.append(start)
    toks.end.append(end)
    toks.line.append(line)


def _string(src: str, pos: int, line: int) -> tuple[int, int, str]:
    """Scan a quoted string from after its ``"``: (end, line, value). The value has the
    literal parts unescaped and interpolations/directives as written (python-hcl2's form)."""
    out: list[str] = []
    literal_start = pos
    search = _STRING_STOP.search
    while True:
        m = search(src, pos)
        if m is None:
            raise FastParseError("unterminated string")
        i = m.start()
        c = src[i]
        if c == '"':
            out.append(_unescape(src[literal_start:i]))
            return i + 1, line, "".join(out)
        if c == "\n":
            raise FastParseError("newline in a quoted string")
        if c == "\\":
            pos = i + 2
            continue
        if src.startswith("{", i + 1):
            if src.startswith(c, i - 1) and i - 1 >= literal_start and _escaped_marker(src, literal_start, i):
                pos = i + 2  # $${ or %%{: a literal marker, kept as written
                continue
            out.append(_unescape(src[literal_start:i]))
            end, line = _scan(src, i + 2, None, line, 0)
            out.append(src[i:end])
            literal_start = pos = end
            continue
        pos = i + 1


def _escaped_marker(src: str, literal_start: int, i: int) -> bool:
    """True when the ``$``/``%`` at ``i`` follows an odd run of the same character."""
    c, run, j = src[i], 0, i - 1
    while j >= literal_start and src[j] == c:
        run += 1
        j -= 1
    return run % 2 == 1


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return _ESCAPE.sub(_escape_value, text)


def _escape_value(m: re.Match[str]) -> str:
    if m.group(1) or m.group(2):
        return chr(int(m.group(1) or m.group(2), 16))
    found = _SIMPLE_ESCAPES.get(m.group(3))
    if found is None:
        raise FastParseError(f"unknown escape \\{m.group(3)}")
    return found


def _heredoc(src: str, pos: int, line: int, indented: bool) -> tuple[int, int, str]:
    """Scan a heredoc from after ``<<``/``<<-``: (end, line, body without the last newline)."""
    m = _HEREDOC_NAME.match(src, pos)
    if m is None:
        raise FastParseError("bad heredoc marker")
    marker = m.group()[:-1]
    pos = m.end()
    line += 1
    lines: list[str] = []
    while True:
        nl = src.find("\n", pos)
        text = src[pos:] if nl < 0 else src[pos:nl]
        if text.strip() == marker:
            end = pos + len(text)
            break
        if nl < 0:
            raise FastParseError("unterminated heredoc")
        lines.append(text)
        pos = nl + 1
        line += 1
    if indented:
        widths = [len(t) - len(t.lstrip(" \t")) for t in lines if t.strip()]
        cut = min(widths) if widths else 0
        lines = [t[cut:] for t in lines]
    return end, line, "\n".join(lines)


# --- structure ----------------------------------------------------------------------------


class _Reader:
    def __init__(self, toks: _Tokens) -> None:
        self.t = toks
        self.kind = toks.kind
        self.text = toks.text
        self.match = _match_brackets(toks)

    def fail(self, i: int, what: str) -> FastParseError:
        return FastParseError(f"line {self.t.line[i]}: {what}")

    def skip_nl(self, i: int) -> int:
        kind = self.kind
        while kind[i] == NL:
            i += 1
        return i

    def body(self, block: Block, i: int, nested: bool) -> int:
        """Read attributes and blocks into ``block`` from ``i``; returns the index after the
        closing ``}`` (nested) or of EOF."""
        kind, text = self.kind, self.text
        while True:
            i = self.skip_nl(i)
            k = kind[i]
            if k == EOF:
                if nested:
                    raise self.fail(i, "unclosed block")
                return i
            if k == OP and text[i] == "}":
                if not nested:
                    raise self.fail(i, "unexpected }")
                return i + 1
            if k != ID:
                raise self.fail(i, "expected an attribute or block name")
            name, line = text[i], self.t.line[i]
            if kind[i + 1] == OP and text[i + 1] == "=":
                end = self.expr_end(i + 2, "attr")
                block.attrs[name] = self.value(i + 2, end)
                block.attr_lines[name] = line
                lines = self.element_lines(i + 2, end)
                if lines:
                    block.element_lines[name] = lines
                else:
                    block.element_lines.pop(name, None)
                i = end
                if kind[i] == NL:
                    continue
                if kind[i] == EOF or (kind[i] == OP and text[i] == "}" and nested):
                    continue
                raise self.fail(i, "expected a newline after an attribute")
            labels: list[str] = []
            j = i + 1
            while kind[j] in (STR, ID):
                if kind[j] == STR:
                    value = self.t.parts[j]
                    if "${" in value or "%{" in value:
                        raise self.fail(j, "template in a block label")
                    labels.append(value)
                else:
                    labels.append(text[j])
                j += 1
            if not (kind[j] == OP and text[j] == "{"):
                raise self.fail(j, "expected { after a block header")
            child = Block(kind=name, labels=labels, line=line, file=block.file)
            i = self.body(child, j + 1, True)
            block.blocks.append(child)
            if kind[i] not in (NL, EOF) and not (kind[i] == OP and text[i] == "}" and nested):
                raise self.fail(i, "expected a newline after a block")

    def expr_end(self, i: int, context: str) -> int:
        """Index of the token that ends the expression starting at ``i``."""
        kind, text, match = self.kind, self.text, self.match
        start = i
        while True:
            k = kind[i]
            if k == EOF:
                break
            if k == OP:
                tx = text[i]
                if tx in ("(", "[", "{"):
                    i = match[i] + 1
                    continue
                if tx in (")", "]", "}"):
                    break
                if tx == "," and context != "attr":
                    break
            elif k == NL:
                if context == "tuple":
                    i += 1
                    continue
                if i > start and kind[i - 1] == OP and text[i - 1] in _TRAILING_OPS:
                    i += 1
                    continue
                nxt = self.skip_nl(i)
                if kind[nxt] == OP and text[nxt] in _LEADING_OPS and nxt > i:
                    i = nxt
                    continue
                break
            i += 1
        if context == "tuple":
            while i > start and kind[i - 1] == NL:
                i -= 1
        if i == start:
            raise self.fail(i, "expected an expression")
        return i

    def source(self, i: int, end: int) -> str:
        return self.t.src[self.t.start[i]:self.t.end[end - 1]]

    def value(self, i: int, end: int) -> Any:
        """The python-hcl2 serialised form of the expression in tokens [i, end)."""
        kind, text = self.kind, self.text
        k = kind[i]
        if end == i + 1:
            if k == NUM:
                return _number(text[i], self)
            if k == ID:
                return _KEYWORDS.get(text[i], text[i]) if text[i] in _KEYWORDS else text[i]
            if k == STR or k == HEREDOC:
                value = self.t.parts[i]
                if k == STR and ("${" in value or "%{" in value):
                    _check_template(self.source(i, end))
                return value
            raise self.fail(i, "unexpected token")
        if k == OP:
            tx = text[i]
            if tx in ("[", "{") and self.match[i] == end - 1 and not self._is_for(i):
                return self.tuple(i, end) if tx == "[" else self.object(i, end)
            if tx == "-" and end == i + 2 and kind[i + 1] == NUM:
                number = _number(text[i + 1], self)
                return -number if isinstance(number, (int, float)) else "${-" + text[i + 1] + "}"
        source = self.source(i, end)
        _check_expression(source)
        return "${" + source + "}"

    def _is_for(self, i: int) -> bool:
        j = self.skip_nl(i + 1)
        return self.kind[j] == ID and self.text[j] == "for"

    def tuple(self, i: int, end: int) -> list[Any]:
        items: list[Any] = []
        j = i + 1
        close = end - 1
        while True:
            j = self.skip_nl(j)
            if j >= close:
                return items
            stop = self.expr_end(j, "tuple")
            items.append(self.value(j, stop))
            j = self.skip_nl(stop)
            if j == close:
                return items
            if not (self.kind[j] == OP and self.text[j] == ","):
                raise self.fail(j, "expected , in a tuple")
            j += 1

    def object(self, i: int, end: int) -> dict[str, Any]:
        kind, text = self.kind, self.text
        items: dict[str, Any] = {}
        j = i + 1
        close = end - 1
        while True:
            j = self.skip_nl(j)
            if j >= close:
                return items
            key_end = j
            while key_end < close and not (kind[key_end] == OP and text[key_end] in ("=", ":")):
                if kind[key_end] == OP and text[key_end] in ("(", "[", "{"):
                    key_end = self.match[key_end] + 1
                else:
                    key_end += 1
            if key_end >= close:
                raise self.fail(j, "expected = in an object")
            key = self.key(j, key_end)
            stop = self.expr_end(key_end + 1, "object")
            items[key] = self.value(key_end + 1, stop)
            j = stop
            if kind[j] == OP and text[j] == ",":
                j += 1
            elif kind[j] == NL:
                pass
            elif j != close:
                raise self.fail(j, "expected , or a newline between object items")

    def key(self, i: int, end: int) -> str:
        kind = self.kind
        if end == i + 1:
            if kind[i] == ID or kind[i] == NUM:
                return self.text[i]
            if kind[i] == STR:
                value = self.t.parts[i]
                if "${" in value or "%{" in value:
                    _check_template(self.source(i, end))
                return value
        if kind[i] == OP and self.text[i] == "(" and self.match[i] == end - 1:
            source = self.source(i, end)
            _check_expression(source)
            return "${" + source + "}"
        raise self.fail(i, "unsupported object key")

    def element_lines(self, i: int, end: int) -> list[int]:
        """Start lines of the elements of a literal tuple value (python-hcl2's element lines)."""
        if not (self.kind[i] == OP and self.text[i] == "[" and self.match[i] == end - 1) or self._is_for(i):
            return []
        lines: list[int] = []
        j, close = i + 1, end - 1
        while True:
            j = self.skip_nl(j)
            if j >= close:
                return lines
            lines.append(self.t.line[j])
            j = self.skip_nl(self.expr_end(j, "tuple"))
            if j == close:
                return lines
            j += 1


_KEYWORDS: dict[str, Any] = {"true": True, "false": False, "null": None}


def _number(text: str, reader: _Reader) -> Any:
    if "e" in text or "E" in text:
        return "${" + text + "}"
    return float(text) if "." in text else int(text)


def _match_brackets(toks: _Tokens) -> dict[int, int]:
    """Index of the closing bracket of every opening one."""
    found: dict[int, int] = {}
    stack: list[int] = []
    kind, text = toks.kind, toks.text
    for i, k in enumerate(kind):
        if k != OP:
            continue
        tx = text[i]
        if tx in _CLOSE:
            stack.append(i)
        elif tx in (")", "]", "}"):
            if not stack or _CLOSE[text[stack[-1]]] != tx:
                raise FastParseError(f"line {toks.line[i]}: unbalanced {tx}")
            found[stack.pop()] = i
    if stack:
        raise FastParseError(f"line {toks.line[stack[-1]]}: unclosed {text[stack[-1]]}")
    return found


def _check_expression(source: str) -> None:
    try:
        parse_expression(source)
    except Exception as exc:  # noqa: BLE001 - any failure: let python-hcl2 decide
        raise FastParseError(f"expression not understood: {exc}") from None


def _check_template(source: str) -> None:
    _check_expression(source)


def fast_blocks(text: str, rel: str) -> list[Block]:
    """The top-level blocks of one HCL file, or ``FastParseError``."""
    reader = _Reader(tokenize(text))
    top = Block(kind="", labels=[], line=1, file=rel)
    reader.body(top, 0, False)
    return top.blocks  # top-level attributes are dropped, as tf_files.hcl_blocks does


def fast_attributes(text: str) -> dict[str, Any]:
    """The attributes of a ``.tfvars`` document (blocks are not expected there)."""
    reader = _Reader(tokenize(text))
    top = Block(kind="", labels=[], line=1, file="")
    reader.body(top, 0, False)
    if top.blocks:
        raise FastParseError("blocks in a variable file")
    return top.attrs
