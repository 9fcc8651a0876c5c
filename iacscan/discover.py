"""Find the files a scan reads: Terraform module directories, CloudFormation templates, plans.

Walks each given path, skips ``.terraform/`` and ``.git/`` (and other hidden tool
directories), and never follows a link that leaves the scanned root. Which YAML/JSON
files are CloudFormation is decided later by the CloudFormation parser, by content.
"""
from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

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


def inside(root: Path, path: Path) -> bool:
    """True when ``path`` (links resolved) lies inside ``root``."""
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def discover(root: Path, paths: list[Path], exclude: Sequence[str] = ()) -> Discovered:
    """Classify the files under ``paths`` (files or directories) within ``root``.

    ``exclude``: glob patterns (``vendor``, ``modules/old/**``, ``*.generated.tf``) matched
    against paths relative to ``root``; a matching directory is not walked, a matching
    file not read (a Terraform module is still read whole when one of its files is).
    """
    found = Discovered(root=root)
    found.exclude = list(exclude)
    tf_dirs: set[Path] = set()
    docs: set[Path] = set()
    for path in paths:
        if path.is_dir():
            _walk(root, path, tf_dirs, docs, found)
        elif path.is_file() or path.is_symlink():
            _classify(root, path, tf_dirs, docs, found)
    found.terraform_dirs = sorted(tf_dirs)
    found.documents = sorted(docs)
    return found


def _walk(root: Path, top: Path, tf_dirs: set[Path], docs: set[Path], found: Discovered) -> None:
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        current = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and _dir_ok(root, current / d, found))
        for name in sorted(filenames):
            _classify(root, current / name, tf_dirs, docs, found)


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


def _classify(root: Path, path: Path, tf_dirs: set[Path], docs: set[Path], found: Discovered) -> None:
    if excluded(root, path, found.exclude):
        return
    if path.is_symlink() and not inside(root, path):
        found.skipped_links.append(path)
        return
    name = path.name.lower()
    if name.endswith(TF_SUFFIXES):
        tf_dirs.add(path.parent)
    elif name.endswith(TFVARS_SUFFIXES):
        return
    elif name.endswith(DOC_SUFFIXES):
        docs.add(path)


def relative(root: Path, path: Path) -> str:
    """``path`` relative to ``root`` in POSIX form (the form every Location uses)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()
