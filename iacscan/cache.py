"""A parse cache on disk: Terraform files parsed once, reused while their content is unchanged.

Parsing HCL with python-hcl2 is the expensive part of reading Terraform (~13 µs/byte), so
the ``Block`` trees of each file (``iacscan.parsers.tf_files``) are kept as plain JSON in the
user's cache directory: ``$IACSCAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/iacscan``, else
``~/.cache/iacscan``.

An entry's name is a hash of the file's text and of everything that shapes the parse result:
this cache format, the iacscan version, the python-hcl2 version and the source of iacscan's
parser modules (so a changed parser never reads entries written by the old one).
An entry is never trusted blindly: its header must name the same key and a SHA-256 of its
body, and the body must decode into well-typed blocks; anything else (truncated, corrupt,
foreign, older) counts as a miss and is rewritten. Entries are plain JSON, so a planted file
cannot execute code, and a directory that other users could write to is not used at all.
Writes go to a temporary file renamed into place, so concurrent runs never see half an entry.
Entries unused for 30 days are deleted (checked at most once a day).
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import re
from pathlib import Path
from typing import Any

from iacscan import __version__
from iacscan.cache_store import MAX_AGE, checked_body, entry_bytes, prune, read_entry, usable_dir, write_atomic
from iacscan.parsers.tf_files import Block

__all__ = ["MAX_AGE", "DiskParseCache", "default_dir", "parser_tag", "prune"]

#: Bump when the entry layout changes.
FORMAT = 1
ENV_DIR = "IACSCAN_CACHE_DIR"

Key = tuple[bool, bytes]


def default_dir() -> Path:
    """Where the cache lives unless told otherwise (see the module docstring)."""
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "iacscan"


@functools.lru_cache(maxsize=4)
def parser_tag(version: str = __version__) -> str:
    """What the cached results depend on besides the file text: the versions of iacscan and
    python-hcl2 and a hash of the source of every iacscan parser module (a parser changed
    without a version bump must not read what the old one wrote)."""
    return f"f{FORMAT}/iacscan-{version}/hcl2-{_hcl2_version()}/parsers-{_parsers_digest()}"


def _hcl2_version() -> str:
    """python-hcl2's version, read from its ``version.py`` (cheaper than importing or metadata)."""
    spec = importlib.util.find_spec("hcl2")
    if spec is None or not spec.origin:
        return "none"
    try:
        text = (Path(spec.origin).parent / "version.py").read_text(encoding="utf-8")
    except OSError:
        return "unknown"
    found = re.search(r"""__version__\s*=\s*(?:version\s*=\s*)?['"]([^'"]+)['"]""", text)
    return found.group(1) if found else "h" + hashlib.sha256(text.encode()).hexdigest()[:12]


def _parsers_digest() -> str:
    from iacscan import parsers

    digest = hashlib.sha256()
    try:
        for path in sorted(Path(parsers.__file__).parent.glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    except OSError:
        return "unknown"
    return digest.hexdigest()[:16]


class DiskParseCache(dict[Key, list[Block]]):
    """The loader's in-memory parse cache (``tf_files.ParseCache``), backed by a directory.

    ``get`` and ``in`` look on disk when the memory has nothing; storing an entry writes it
    to disk as well. Every disk problem (unreadable, read-only, full) is a silent miss.
    """

    def __init__(self, directory: Path, version: str = __version__) -> None:
        super().__init__()
        self.directory = Path(directory)
        self.tag = parser_tag(version)
        self.usable = usable_dir(self.directory)
        if self.usable:
            prune(self.directory)
        self.hits = self.misses = self.writes = 0

    # --- dict protocol used by tf_files.load_file and tf_parallel.preparse ------------
    def get(self, key: Key, default: Any = None) -> Any:  # type: ignore[override]
        """The blocks for ``key`` from memory or disk, else ``default``."""
        found = super().get(key)
        if found is None:
            found = self._load(key)
        return default if found is None else found

    def __contains__(self, key: object) -> bool:
        if super().__contains__(key):
            return True
        return isinstance(key, tuple) and self._load(key) is not None  # type: ignore[arg-type]

    def __setitem__(self, key: Key, blocks: list[Block]) -> None:
        super().__setitem__(key, blocks)
        self._store(key, blocks)

    # --- disk ----------------------------------------------------------------------
    def entry_path(self, key: Key) -> Path:
        """The file that holds (or would hold) the entry for ``key``."""
        name = self.entry_name(key)
        return self.directory / "tf" / name[:2] / name

    def entry_name(self, key: Key) -> str:
        """Hash of the tag, the syntax (HCL or JSON) and the text's digest."""
        is_json, digest = key
        basis = hashlib.sha256(self.tag.encode())
        basis.update(b"\0json\0" if is_json else b"\0hcl\0")
        basis.update(digest)
        return basis.hexdigest()

    def _load(self, key: Key) -> list[Block] | None:
        if not self.usable:
            return None
        body = read_entry(self.entry_path(key), self.entry_name(key))
        blocks = None if body is None else decode_body(body)
        if blocks is None:
            self.misses += 1
            return None
        self.hits += 1
        super().__setitem__(key, blocks)
        return blocks

    def _store(self, key: Key, blocks: list[Block]) -> None:
        if not self.usable:
            return
        name = self.entry_name(key)
        data = encode_entry(blocks, name)
        if data is None:
            return
        if write_atomic(self.entry_path(key), data):
            self.writes += 1


# --- entry format -------------------------------------------------------------------------
# line 1: {"magic": ..., "name": <entry name>, "sha256": <hex of the body>}
# line 2: the body, a JSON list of encoded blocks


def encode_entry(blocks: list[Block], name: str) -> bytes | None:
    """The bytes of an entry, or None when the blocks do not survive a JSON round trip."""
    try:
        body = json.dumps([encode_block(b) for b in blocks], separators=(",", ":"),
                          ensure_ascii=False, allow_nan=False).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError):
        return None
    if decode_body(body) != blocks:  # e.g. tuples or odd types in the values: do not cache
        return None
    return entry_bytes(name, body)


def decode_entry(raw: bytes, name: str) -> list[Block] | None:
    """The blocks of an entry, or None when it is not exactly what ``name`` should hold."""
    body = checked_body(raw, name)
    return None if body is None else decode_body(body)


def decode_body(body: bytes) -> list[Block] | None:
    """Blocks from an entry's body, checking every field's type; None on any mismatch."""
    try:
        data = json.loads(body.decode("utf-8", "surrogatepass"))
        if not isinstance(data, list):
            return None
        return [decode_block(item) for item in data]
    except (ValueError, TypeError, KeyError, UnicodeError, RecursionError):
        return None


def encode_block(block: Block) -> dict[str, Any]:
    """A block as plain JSON data (``file`` is not kept: cached blocks are file-independent)."""
    return {"k": block.kind, "l": block.labels, "n": block.line, "a": block.attrs,
            "al": block.attr_lines, "el": block.element_lines,
            "b": [encode_block(child) for child in block.blocks]}


def decode_block(data: Any) -> Block:
    """The inverse of ``encode_block``; raises TypeError on anything unexpected."""
    if not isinstance(data, dict) or set(data) != {"k", "l", "n", "a", "al", "el", "b"}:
        raise TypeError("not a block")
    kind, labels, line, attrs = data["k"], data["l"], data["n"], data["a"]
    attr_lines, element_lines, children = data["al"], data["el"], data["b"]
    _check(isinstance(kind, str) and _is_int(line) and isinstance(attrs, dict))
    _check(isinstance(labels, list) and all(isinstance(label, str) for label in labels))
    _check(isinstance(attr_lines, dict) and all(_is_int(v) for v in attr_lines.values()))
    _check(isinstance(element_lines, dict) and all(
        isinstance(v, list) and all(_is_int(n) for n in v) for v in element_lines.values()))
    _check(isinstance(children, list))
    return Block(kind=kind, labels=labels, line=line, file="", attrs=attrs, attr_lines=attr_lines,
                 element_lines=element_lines, blocks=[decode_block(child) for child in children])


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check(condition: bool) -> None:
    if not condition:
        raise TypeError("malformed cache entry")
