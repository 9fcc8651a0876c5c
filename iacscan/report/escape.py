"""Escaping of text that comes from scanned code before it reaches an output.

Resource names, descriptions, tags and file names are written by whoever wrote the
scanned code. In a terminal an ESC byte could recolour or rewrite the screen, a
newline could forge a line of output, and Unicode direction overrides could make a
name read differently than it is. ``terminal`` makes all of those visible instead.
"""
from __future__ import annotations

import re

# C0 controls (tab included), DEL, C1 controls, and the Unicode bidirectional
# embedding/override/isolate characters (the "Trojan Source" set), plus line/paragraph separators.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal(text: object) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\u202e``).

    Backslashes are left alone: they print harmlessly, and doubling them would make
    Windows paths and regexes harder to read.
    """
    return _UNSAFE.sub(_visible, str(text))


def sarif_message(text: object) -> str:
    """``text`` made safe for a SARIF plain-text message.

    SARIF messages treat ``[text](id)`` as an embedded link, so literal brackets (and
    the backslash that escapes them) are backslash-escaped (SARIF 2.1.0, 3.11.6);
    control characters are made visible as in ``terminal``.
    """
    escaped = str(text).replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return terminal(escaped)


# ---------------------------------------------------------------- Markdown and HTML (PR comments)

#: Inserted to break what GitHub would turn into a mention (``@user``), an issue
#: reference (``#123``) or an autolink (``http://``, ``www.``): WORD JOINER, invisible.
JOINER = "\u2060"
_LINE_BREAKS = re.compile("[\r\n\t\x0b\x0c\x85\u2028\u2029]+")
_DEFUSE = re.compile(r"(?<=[@#])(?=[\w-])|(?<=:)(?=/)|(?<=www)(?=\.)", re.IGNORECASE)
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
#: ASCII punctuation Markdown gives a meaning to somewhere (links, images, emphasis,
#: code, tables, headings, lists, math); each is backslash-escaped in Markdown text.
_MD_PUNCT = set("\\`*_{}[]()#+-.!|~=^$?@")
_BACKTICKS = re.compile("`+")


def one_line(text: object) -> str:
    """``text`` on one line: line breaks and tabs become a space, other controls are made visible."""
    return terminal(_LINE_BREAKS.sub(" ", str(text)))


def defuse(text: str) -> str:
    """``text`` with a word joiner after ``@``/``#`` and inside ``://`` and ``www.``, so GitHub
    makes no mention, issue reference or autolink of it (it still reads the same)."""
    return _DEFUSE.sub(JOINER, text)


def markdown_text(text: object) -> str:
    """``text`` from scanned code as inert Markdown inline text (also safe in a table cell).

    One line; HTML-significant characters become entities; Markdown punctuation is
    backslash-escaped (no link, image, emphasis, code span or cell break can start);
    mentions, issue references and autolinks are defused.
    """
    out = []
    for char in defuse(one_line(text)):
        if char in _HTML:
            out.append(_HTML[char])
        elif char in _MD_PUNCT:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def html_text(text: object) -> str:
    """``text`` from scanned code as inert text inside raw HTML (``<summary>…</summary>``).

    Markdown punctuation becomes numeric entities too, so the text stays inert even
    where a renderer reads Markdown inside HTML.
    """
    return "".join(_HTML.get(c) or (f"&#{ord(c)};" if c in _MD_PUNCT else c) for c in defuse(one_line(text)))


def markdown_code(text: object, in_table: bool = False) -> str:
    """``text`` as an inline code span whose delimiter is longer than any backtick run in it.

    In a table cell ``|`` is escaped too (GitHub splits cells before reading code spans).
    """
    body = one_line(text)
    if in_table:
        body = body.replace("|", "\\|")
    run = max((len(m.group()) for m in _BACKTICKS.finditer(body)), default=0)
    fence = "`" * (run + 1)
    if body.startswith("`") or body.endswith("`") or (body.startswith(" ") and body.endswith(" ")):
        body = f" {body} "
    return f"{fence}{body}{fence}" if body else ""


def markdown_fence(text: object, info: str = "") -> str:
    """``text`` (several lines) as a fenced code block that no line of it can close early."""
    lines = [terminal(line) for line in str(text).replace("\r\n", "\n").split("\n")]
    body = "\n".join(lines)
    run = max((len(m.group()) for m in _BACKTICKS.finditer(body)), default=0)
    fence = "`" * max(3, run + 1)
    return f"{fence}{info}\n{body}\n{fence}"


# ---------------------------------------------------------------- GitHub workflow commands

def workflow_message(text: object) -> str:
    """The message of a workflow command (``::error …::message``): one line, ``%``, CR, LF encoded.

    Controls (and Unicode line separators) are first made visible, so nothing after
    the message can start a new command line.
    """
    visible = terminal(str(text))
    return visible.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: object) -> str:
    """A property value of a workflow command (``file=…,title=…``): also ``:`` and ``,`` encoded."""
    return workflow_message(text).replace(":", "%3A").replace(",", "%2C")
