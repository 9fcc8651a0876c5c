"""What one scanned file may cost: size, nesting depth, expanded values, parse time.

A scanner reads code it did not write. Each limit below turns a file that would take
unbounded memory or time into an ``IAC001`` finding whose message names the limit and
how to raise it; the rest of the scan goes on. Limits are set per scan with
``iacscan scan --limit KEY=VALUE`` (repeatable; ``docs/reliability.md``):

``file-size``  (default 50MB)  a Terraform, CloudFormation or variable file larger than this
               is not read. Accepts ``K``/``KB``, ``M``/``MB``, ``G``/``GB`` (powers of 1024).
``depth``      (default 100)   brackets/braces nested deeper than this (HCL, JSON, YAML flow
               style), or a decoded template nested deeper than this, is refused before
               the recursive parsers see it.
``values``     (default 2000000)  a YAML document whose anchors and aliases would expand to
               more values than this (an "alias bomb") is refused; cfn-lint's decoder
               shares aliased nodes, iacscan's resolver would copy them.
``file-timeout`` (default 120, seconds; 0 = no limit)  parsing one file (and, for
               CloudFormation, building its model) that takes longer is abandoned.
               Enforced with ``SIGALRM`` on the main thread of a POSIX process; elsewhere
               (Windows, worker threads) it is not enforced.

The active limits are process-wide (``current()``), set by the CLI with ``using()``
before a scan; worker processes forked for parsing inherit them.
"""
from __future__ import annotations

import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The limits of one scan (see the module docstring for each)."""

    file_size: int = 50 * MB
    depth: int = 100
    values: int = 1_000_000
    file_timeout: float = 120.0


#: The ``--limit`` keys, in the order the help lists them.
KEYS = {"file-size": "file_size", "depth": "depth", "values": "values", "file-timeout": "file_timeout"}
_DEFAULTS = Limits()
_ACTIVE: list[Limits] = [_DEFAULTS]


class LimitExceeded(ValueError):
    """A file exceeded a limit; ``str()`` says which, by how much, and how to raise it."""

    def __init__(self, key: str, what: str, line: int = 0) -> None:
        self.key, self.what, self.line = key, what, line
        value = getattr(current(), KEYS[key])
        shown = size_text(value) if key == "file-size" else (f"{value:g}s" if key == "file-timeout" else value)
        super().__init__(f"{what} (limit {key}={shown}; raise it with 'iacscan scan --limit {key}=N' "
                         "if the file is trusted)")


def current() -> Limits:
    """The limits in force."""
    return _ACTIVE[-1]


@contextmanager
def using(limits: Limits) -> Iterator[Limits]:
    """Make ``limits`` the ones in force inside the ``with`` block."""
    _ACTIVE.append(limits)
    try:
        yield limits
    finally:
        _ACTIVE.pop()


# ---------------------------------------------------------------- the --limit option

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*$", re.IGNORECASE)
_FACTOR = {"": 1, "k": 1024, "m": MB, "g": 1024 * MB}


def parse_limits(specs: list[str] | None, base: Limits | None = None) -> Limits:
    """``Limits`` from ``KEY=VALUE`` strings (``--limit``); ``ValueError`` with a usable message."""
    limits = base or _DEFAULTS
    for spec in specs or []:
        key, sep, raw = spec.partition("=")
        key = key.strip().lower().replace("_", "-")
        if not sep or key not in KEYS:
            raise ValueError(f"--limit expects KEY=VALUE with KEY one of {', '.join(KEYS)}; got {spec!r}")
        limits = replace(limits, **{KEYS[key]: _value(key, raw)})  # type: ignore[arg-type]
    return limits


def _value(key: str, raw: str) -> int | float:
    if key == "file-size":
        m = _SIZE.match(raw)
        if not m:
            raise ValueError(f"--limit file-size={raw!r}: expected a size such as 20MB, 512K or 1048576")
        size = int(float(m.group(1)) * _FACTOR[m.group(2).lower()])
        if size < 1:
            raise ValueError("--limit file-size must be at least 1 byte")
        return size
    try:
        number = float(raw) if key == "file-timeout" else int(raw)
    except ValueError:
        raise ValueError(f"--limit {key}={raw!r}: expected a number") from None
    if number < 0 or (key != "file-timeout" and number < 1):
        raise ValueError(f"--limit {key} must be {'0 or more' if key == 'file-timeout' else 'at least 1'}")
    return number


def help_text() -> str:
    """One line for ``--help``."""
    d = _DEFAULTS
    return (f"raise or lower a limit on each scanned file (repeatable): file-size={size_text(d.file_size)}, "
            f"depth={d.depth} (nesting), values={d.values} (YAML alias expansion), "
            f"file-timeout={d.file_timeout:g} (seconds, 0: none)")


def size_text(size: int) -> str:
    """``52428800`` → ``50MB``; sizes that are not whole KB/MB stay in bytes."""
    for unit, factor in (("GB", 1024 * MB), ("MB", MB), ("KB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"


# ---------------------------------------------------------------- the checks

def check_file_size(path: Path) -> None:
    """Raise ``LimitExceeded`` when ``path`` is larger than the ``file-size`` limit."""
    size = path.stat().st_size
    if size > current().file_size:
        raise LimitExceeded("file-size", f"the file is {size} bytes, larger than iacscan reads")


_OPEN, _CLOSE = frozenset("{[("), frozenset("}])")
_BRACKET = re.compile(r"[{}\[\]()]")


def check_nesting(text: str) -> None:
    """Raise ``LimitExceeded`` when brackets nest deeper than the ``depth`` limit.

    A cheap count over the whole text, strings and comments included (balanced brackets
    in strings add as much as they remove); it runs before any recursive parser.
    """
    limit = current().depth
    if text.count("{") + text.count("[") + text.count("(") <= limit:
        return
    depth = 0
    for match in _BRACKET.finditer(text):
        char = match.group()
        if char in _OPEN:
            depth += 1
            if depth > limit:
                line = text.count("\n", 0, match.start()) + 1
                raise LimitExceeded("depth", f"brackets nest more than {limit} levels deep", line)
        elif char in _CLOSE and depth:
            depth -= 1


def check_tree(data: Any) -> None:
    """Raise ``LimitExceeded`` when decoded ``data`` nests deeper than ``depth`` or would
    expand (aliases copied) to more than ``values`` values. Shared nodes are measured
    once (linear time however many aliases point at them); a node that contains itself
    is refused too."""
    limits = current()
    measured: dict[int, tuple[int, int]] = {}  # id → (values, height) once expanded
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            on_path.discard(key)
            below = [measured.get(id(c), (1, 1)) for c in children]
            size = 1 + sum(s for s, _ in below)
            height = 1 + max((h for _, h in below), default=0)
            measured[key] = (size, height)
            if size > limits.values:
                raise LimitExceeded("values", f"YAML anchors and aliases would expand to more than "
                                              f"{limits.values} values")
            if height > limits.depth:
                raise LimitExceeded("depth", f"the document nests more than {limits.depth} levels deep")
            continue
        if key in measured:
            continue
        if key in on_path:
            raise LimitExceeded("values", "a YAML alias refers to a node that contains it")
        if len(on_path) >= limits.depth:
            raise LimitExceeded("depth", f"the document nests more than {limits.depth} levels deep")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if _children(child) or id(child) in on_path)


def _children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return list(node.values())
    if isinstance(node, list):
        return node
    return []


# ---------------------------------------------------------------- time per file

class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so that broad ``except Exception`` in parsers
    does not swallow it before ``deadline`` turns it into ``LimitExceeded``."""


@contextmanager
def deadline(what: str = "reading the file") -> Iterator[None]:
    """Abandon the block with ``LimitExceeded('file-timeout')`` after ``file-timeout`` seconds.

    Only on the main thread of a POSIX process with no other alarm pending; otherwise
    the block runs unbounded. Nested uses keep the outer deadline.
    """
    seconds = current().file_timeout
    usable = (seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return

    def _alarm(signum: int, frame: Any) -> None:
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Timeout:
        raise LimitExceeded("file-timeout", f"{what} took longer than {seconds:g} seconds") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


__all__ = ["Limits", "LimitExceeded", "KEYS", "current", "using", "parse_limits", "help_text", "size_text",
           "check_file_size", "check_nesting", "check_tree", "deadline"]
