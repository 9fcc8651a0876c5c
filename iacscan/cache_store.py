"""Files of the on-disk cache: entry checks, atomic writes, pruning, and ``EntryStore``.

``iacscan.cache`` (the parse cache) and the stage caches (``EntryStore`` users: the
Terraform root cache, the CloudFormation model cache) share these. Every disk problem is a
miss or a skipped write, never an error.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

#: First key of every entry's header line.
MAGIC = "iacscan-parse-cache"


#: Entries not used for this long are deleted (checked at most once a day).
MAX_AGE = 30 * 24 * 3600
_PRUNE_EVERY = 24 * 3600
_MARKER = "last-prune"


def prune(directory: Path, now: float | None = None) -> int:
    """Delete entries unused for ``MAX_AGE`` (and stale temporary files), at most once a day.

    Entries of other versions are never read again, and every edit of a file leaves its old
    entry behind; this keeps the directory from growing without end. Returns the count deleted.
    """
    now = time.time() if now is None else now
    marker = directory / _MARKER
    try:
        if now - marker.stat().st_mtime < _PRUNE_EVERY:
            return 0
    except OSError:
        pass
    try:
        marker.touch()
        os.utime(marker, (now, now))
    except OSError:
        return 0
    removed = 0
    for path in directory.glob("*/*/*"):  # <kind>/<2 hex>/<entry> for every kind of entry
        try:
            age = now - path.stat().st_mtime
            if age > MAX_AGE or (path.name.startswith(".tmp-") and age > 3600):
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


def touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def usable_dir(directory: Path) -> bool:
    """Create the directory (private) if needed; refuse one that other users may write to."""
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = directory.stat()
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        return False
    if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
        return False
    return True


# --- entries of other kinds -----------------------------------------------------------------


class EntryStore:
    """JSON entries of one kind (a subdirectory of the cache directory), same safety as the parse cache.

    Later stages (evaluated Terraform root modules, CloudFormation models) keep their results
    here. ``key`` is whatever identifies the input (e.g. the hashes of every file a root module
    read); the entry's name hashes it with ``tag`` (versions and parser source, see
    ``parser_tag``) and ``kind``. An entry is line 1 a header (magic, name, SHA-256 of the body),
    line 2 the JSON body; ``read`` returns None for anything else, never raises for a disk or
    content problem, and ``write`` is atomic and silent on failure. The caller checks the types
    of what ``read`` returns (a decoded entry is untrusted data, not code).
    """

    def __init__(self, directory: Path, kind: str, tag: str | None = None) -> None:
        self.directory = Path(directory)
        self.kind = kind
        if tag is None:
            from iacscan.cache import parser_tag  # the parse cache's tag names the parser sources

            tag = parser_tag()
        self.tag = tag
        self.usable = usable_dir(self.directory)
        if self.usable:
            prune(self.directory)
        self.hits = self.misses = self.writes = 0

    def name(self, key: str | bytes) -> str:
        """The entry's file name: a hash of the tag, the kind and the key."""
        basis = hashlib.sha256(self.tag.encode())
        basis.update(b"\0" + self.kind.encode() + b"\0")
        basis.update(key if isinstance(key, bytes) else key.encode("utf-8", "surrogatepass"))
        return basis.hexdigest()

    def path(self, key: str | bytes) -> Path:
        name = self.name(key)
        return self.directory / self.kind / name[:2] / name

    def read(self, key: str | bytes) -> Any:
        """The decoded body stored under ``key``, or None (missing, corrupt, foreign, unusable)."""
        body = self.read_body(key)
        if body is None:
            return None
        try:
            return json.loads(body.decode("utf-8", "surrogatepass"))
        except (ValueError, UnicodeError, RecursionError):
            self.hits -= 1  # the bytes were intact but are not JSON: a miss after all
            self.misses += 1
            return None

    def write(self, key: str | bytes, data: Any) -> bool:
        """Store ``data`` (plain JSON values) under ``key``; False when it could not be written."""
        try:
            body = json.dumps(data, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False).encode("utf-8", "surrogatepass")
        except (TypeError, ValueError, RecursionError):
            return False
        return self.write_body(key, body)

    def read_body(self, key: str | bytes) -> bytes | None:
        """The checked body bytes stored under ``key`` (for callers with their own JSON decoding,
        e.g. an ``object_hook``), or None; same checks and accounting as ``read``."""
        if not self.usable:
            return None
        body = read_entry(self.path(key), self.name(key))
        if body is None:
            self.misses += 1
        else:
            self.hits += 1
        return body

    def write_body(self, key: str | bytes, body: bytes) -> bool:
        """Store already encoded body bytes under ``key`` (atomic); False when not written."""
        if not self.usable:
            return False
        name = self.name(key)
        if write_atomic(self.path(key), entry_bytes(name, body)):
            self.writes += 1
            return True
        return False


def entry_bytes(name: str, body: bytes) -> bytes:
    """An entry: a header line (magic, ``name``, SHA-256 of the body), then the body."""
    header = json.dumps({"magic": MAGIC, "name": name, "sha256": hashlib.sha256(body).hexdigest()})
    return header.encode() + b"\n" + body


def read_entry(path: Path, name: str) -> bytes | None:
    """The checked body of the entry file ``path`` (which must be entry ``name``), its
    modification time refreshed (it says when an entry was last used); None on any problem."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    body = checked_body(raw, name)
    if body is not None:
        touch(path)
    return body


def checked_body(raw: bytes, name: str) -> bytes | None:
    """The body of an entry whose header names ``name`` and the body's SHA-256, else None."""
    head, sep, body = raw.partition(b"\n")
    if not sep:
        return None
    try:
        header = json.loads(head)
    except ValueError:
        return None
    if not isinstance(header, dict) or header.get("magic") != MAGIC or header.get("name") != name:
        return None
    if header.get("sha256") != hashlib.sha256(body).hexdigest():
        return None
    return body


def write_atomic(target: Path, data: bytes) -> bool:
    """Write through a temporary file renamed into place; False on any OS error."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temp, target)
        except BaseException:
            _remove(temp)
            raise
    except OSError:
        return False
    return True
