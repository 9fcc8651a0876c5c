"""Find the files a scan reads: Terraform module directories, CloudFormation templates, plans.

Walks each given path, skips ``.terraform/`` and ``.git/`` (and other hidden tool
directories), and never follows a link that leaves the scanned root. Which YAML/JSON
files are CloudFormation is decided later by the CloudFormation parser, by content.

What cannot be read is not silently lost (``record``): a Terraform file or ``.template``
that is a dangling link, a link loop or not a regular file (a named pipe, a device) is a
``ParseError`` (IAC001); a link that leaves the root is an ``Unresolved`` note (IAC002).
YAML/JSON files in those states are skipped silently: nothing says they are templates.
"""
from __future__ import annotations

import errno
import fnmatch
import os
import posixpath
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from iacscan.model import Estate, Location, ParseError, Unresolved, make_uid

SKIP_DIRS = {".terraform", ".git", ".hg", ".svn", "node_modules", ".venv", "__pycache__", ".terragrunt-cache"}
TF_SUFFIXES = (".tf", ".tf.json")
TFVARS_SUFFIXES = (".tfvars", ".tfvars.json")
DOC_SUFFIXES = (".yaml", ".yml", ".json", ".template")


@dataclass
class Discovered:
    root: Path
    terraform_dirs: list[Path] = field(default_factory=list)
    documents: list[Path] = field(default_factory=list)  # YAML/JSON candidates (CFN or plan)
    skipped_links: list[Path] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)  # glob patterns relative to root
    #: Terraform files and ``.template``s that cannot be read, and why
    unreadable: list[tuple[Path, str]] = field(default_factory=list)


def inside(root: Path, path: Path) -> bool:
    """True when ``path`` (links resolved) lies inside ``root``."""
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


class Within:
    """``inside(root, path)`` for many paths under one root, resolving each directory once.

    A path that is not itself a link lies where its directory resolves to; only links (and
    names such as ``..``) are resolved one by one, exactly as ``inside`` does.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        try:
            self._real: str | None = str(root.resolve())
        except (OSError, RuntimeError):
            self._real = None
        self._prefix = self._real.rstrip("/") + "/" if self._real is not None else ""
        self._dirs: dict[str, str | None] = {}

    def __call__(self, path: Path, link: bool) -> bool:
        """True when ``path`` (``link``: whether it is a link itself) lies inside the root."""
        return self.text(str(path), link)

    def text(self, path: str, link: bool) -> bool:
        """``self(Path(path), link)`` for the text of a path as ``Path`` writes it (tidy)."""
        directory, name = _split(path)
        if self._real is None or link or name in ("", ".", ".."):
            return inside(self.root, Path(path))
        real_dir = self._resolve_dir(directory or ".")
        if real_dir is None:
            return inside(self.root, Path(path))
        real = real_dir.rstrip("/") + "/" + name
        return real == self._real or real.startswith(self._prefix)

    def _resolve_dir(self, directory: str) -> str | None:
        """``Path(directory).resolve()`` as text (None when it fails), from its parent's when
        ``directory`` is not a link itself."""
        if directory in self._dirs:
            return self._dirs[directory]
        parent, name = os.path.split(directory)
        real: str | None = None
        if parent and parent != directory and name not in ("", ".", ".."):
            try:
                plain = not stat.S_ISLNK(os.lstat(directory).st_mode)
            except OSError:
                plain = False
            real_parent = self._resolve_dir(parent) if plain else None
            if real_parent is not None:
                real = real_parent.rstrip("/") + "/" + name
        if real is None:
            try:
                real = str(Path(directory).resolve())
            except (OSError, RuntimeError):
                real = None
        self._dirs[directory] = real
        return real


def _posix_split(path: str) -> tuple[str, str]:
    """``posixpath.split(path)`` for a ``str``, inline (asked for every file a scan suppresses in)."""
    cut = path.rfind("/") + 1
    head, tail = path[:cut], path[cut:]
    if head and head != "/" * len(head):
        head = head.rstrip("/")
    return head, tail


_split = _posix_split if os.path is posixpath else os.path.split


def discover(root: Path, paths: list[Path], exclude: Sequence[str] = ()) -> Discovered:
    """Classify the files under ``paths`` (files or directories) within ``root``.

    ``exclude``: glob patterns (``vendor``, ``modules/old/**``, ``*.generated.tf``) matched
    against paths relative to ``root``; a matching directory is not walked, a matching
    file not read (a Terraform module is still read whole when one of its files is).
    """
    found = Discovered(root=root)
    found.exclude = list(exclude)
    tf_dirs: dict[Path, None] = {}  # in the order found (nearly sorted already: sorting is quick)
    docs: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            _walk(root, path, tf_dirs, docs, found)
        elif path.is_file() or path.is_symlink():
            _classify(root, path, tf_dirs, docs, found)
    found.terraform_dirs = sorted(tf_dirs)
    found.documents = sorted(docs)
    return found


def _walk(root: Path, top: Path, tf_dirs: dict[Path, None], docs: dict[Path, None], found: Discovered) -> None:
    """Classify what is below ``top`` as ``os.walk(top, followlinks=False)`` visits it (top-down,
    a directory before its subdirectories, names sorted, a link to a directory not entered), from
    ``os.scandir`` entries: a plain file or directory costs no ``lstat`` and no ``Path``."""
    stack = [os.fspath(top)]
    while stack:
        dirpath = stack.pop()
        try:
            with os.scandir(dirpath) as listing:
                entries = list(listing)
        except OSError:  # os.walk passes over a directory it cannot list
            continue
        subdirs: list[os.DirEntry[str]] = []
        files: list[os.DirEntry[str]] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            (subdirs if is_dir else files).append(entry)
        current = _DirPath(dirpath)
        kept = sorted((e for e in subdirs if e.name not in SKIP_DIRS and _subdir_ok(root, current, e, found)),
                      key=_name)
        for entry in sorted(files, key=_name):
            if found.exclude or not _plain_entry(current, entry, tf_dirs, docs):
                _classify(root, current.path / entry.name, tf_dirs, docs, found)
        stack.extend(e.path for e in reversed(kept) if not _is_link(e))


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _is_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return False


class _DirPath:
    """The ``Path`` of a directory being walked, made only when something asks for it."""

    __slots__ = ("text", "_path", "terraform")

    def __init__(self, text: str) -> None:
        self.text = text
        self._path: Path | None = None
        self.terraform = False  # a Terraform file of this directory was found

    @property
    def path(self) -> Path:
        if self._path is None:
            self._path = Path(self.text)
        return self._path


def _subdir_ok(root: Path, current: _DirPath, entry: os.DirEntry[str], found: Discovered) -> bool:
    """``_dir_ok`` for a subdirectory, answered without a path for a plain directory when
    nothing is excluded."""
    if not found.exclude and not _is_link(entry):
        return True
    return _dir_ok(root, current.path / entry.name, found)


def _plain_entry(current: _DirPath, entry: os.DirEntry[str], tf_dirs: dict[Path, None],
                 docs: dict[Path, None]) -> bool:
    """``_classify`` for a regular file that is not a link (what nearly every file is), from its
    directory entry; False (nothing done) for anything else, which ``_classify`` then judges.
    Only when there are no exclude patterns."""
    try:
        if entry.is_symlink() or not (entry.is_file(follow_symlinks=False) or entry.is_dir(follow_symlinks=False)):
            return False
    except OSError:
        return False
    lower = entry.name.lower()
    if lower.endswith(TF_SUFFIXES):
        if not current.terraform:
            tf_dirs[current.path] = None
            current.terraform = True
    elif lower.endswith(TFVARS_SUFFIXES):
        pass
    elif lower.endswith(DOC_SUFFIXES):
        docs[current.path / entry.name] = None
    return True


def excluded(root: Path, path: Path, patterns: Sequence[str]) -> bool:
    """True when ``path`` or a directory above it (below ``root``) matches one of ``patterns``."""
    if not patterns:
        return False
    rel = relative(root, path)
    parts = rel.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    for pattern in patterns:
        pattern = pattern.strip().rstrip("/")
        variants = {pattern, pattern.removeprefix("**/"), pattern.removeprefix("./")}
        if any(fnmatch.fnmatchcase(c, v) for c in candidates for v in variants if v):
            return True
    return False


def _dir_ok(root: Path, path: Path, found: Discovered) -> bool:
    if excluded(root, path, found.exclude):
        return False
    if path.is_symlink() and not inside(root, path):
        found.skipped_links.append(path)
        return False
    return True


def _classify(root: Path, path: Path, tf_dirs: dict[Path, None], docs: dict[Path, None], found: Discovered) -> None:
    if excluded(root, path, found.exclude):
        return
    name = path.name.lower()
    problem = _unreadable(path)
    if problem is not None:
        if name.endswith((*TF_SUFFIXES, ".template")):
            found.unreadable.append((path, problem))
        return
    if path.is_symlink() and not inside(root, path):
        found.skipped_links.append(path)
        return
    if name.endswith(TF_SUFFIXES):
        tf_dirs[path.parent] = None
    elif name.endswith(TFVARS_SUFFIXES):
        return
    elif name.endswith(DOC_SUFFIXES):
        docs[path] = None


def _unreadable(path: Path) -> str | None:
    """Why ``path`` cannot be read as a file (a dangling link, a loop, a pipe...), else None."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "the file is a link that loops; not read"
        if path.is_symlink():
            return "the file is a link whose target does not exist; not read"
        return f"cannot read the file: {exc.strerror or exc}"
    if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
        return None
    kind = "a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    return f"the file is {kind}, not a regular file; not read"


def record(root: Path, found: Discovered, estate: Estate) -> None:
    """Report what discovery could not read (IAC001) and the links it did not follow (IAC002)."""
    for path, problem in found.unreadable:
        rel = relative(root, path)
        estate.errors.append(ParseError(rel, 0, problem))
        estate.files.append(rel)
    for link in found.skipped_links:
        rel = relative(root, link)
        if link.is_dir() or link.name.lower().endswith((*TF_SUFFIXES, *DOC_SUFFIXES)):
            estate.unresolved.append(Unresolved(
                rel, make_uid(rel, "link"), "the target of this link",
                "the link leads outside the scanned directory and iacscan reads nothing outside it "
                "(scan its target directly to check it)", Location(rel, 0)))


def relative(root: Path, path: Path) -> str:
    """``path`` relative to ``root`` in POSIX form (the form every Location uses)."""
    text, base = str(path), str(root)
    if text.startswith(base) and text[len(base):len(base) + 1] == "/" and base != "/" and os.sep == "/":
        return text[len(base) + 1:]  # what relative_to answers for a path below the root (both normalised)
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()
