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
