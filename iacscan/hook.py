"""Scans of named files (the pre-commit hook): read whole modules, report on the named files.

pre-commit passes the staged file names. A Terraform module spans all the files of its
directory (a rule in ``rules.tf`` names a group in ``groups.tf``), so each named Terraform
file brings in its whole module directory (``discover`` does that, and the loader follows
the local modules it calls). What is *reported* is narrowed back to what was named:

- a ``.tf`` / ``.tf.json`` file: the findings located in that file;
- a ``.tfvars`` / ``.tfvars.json`` file: the findings in every Terraform file of its
  directory, because changed values can change what any resource of the module admits
  (a tfvars file in a directory without Terraform files is ignored);
- a YAML / JSON / ``.template`` file: the findings in that file (a file that is not a
  CloudFormation template is skipped silently by the parser);
- a directory: every finding under it.

Findings without a file (an internal error of a rule) are always reported.
``--whole-module`` reports every finding of the modules read instead.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from iacscan.discover import TFVARS_SUFFIXES, relative
from iacscan.findings import Finding
from iacscan.parsers.tf_module import tf_files

if TYPE_CHECKING:
    from iacscan.ruleset import Ruleset
    from iacscan.scan import ScanOptions, ScanResult


@dataclass
class Focus:
    """Which findings a scan of named paths reports (relative POSIX names, as in findings)."""

    files: set[str] = field(default_factory=set)
    #: directories whose own files are reported (the module of a named tfvars file)
    modules: set[str] = field(default_factory=set)
    #: directories whose whole subtree is reported (directories named on the command line)
    trees: set[str] = field(default_factory=set)

    def keeps(self, finding: Finding) -> bool:
        """True when ``finding`` lies in a named file, a tfvars file's module or a named directory."""
        name = finding.file
        if not name or name in self.files:
            return True
        parent = name.rpartition("/")[0] or "."
        if parent in self.modules:
            return True
        return any(tree == "." or name.startswith(tree + "/") for tree in self.trees)


def is_tfvars(path: Path) -> bool:
    """True for ``*.tfvars`` and ``*.tfvars.json``."""
    return path.name.lower().endswith(TFVARS_SUFFIXES)


def widen(paths: list[Path]) -> list[Path]:
    """The paths a scan reads: a tfvars file stands for the Terraform files of its directory.

    Other paths are kept (``discover`` widens a Terraform file to its directory itself).
    """
    widened: list[Path] = []
    for path in paths:
        if is_tfvars(path) and not path.is_dir():
            widened.extend(tf_files(path.parent))
        else:
            widened.append(path)
    return widened


def focus_for(root: Path, paths: list[Path]) -> Focus | None:
    """The focus of a scan of ``paths``; None when no file is named (only directories)."""
    if all(path.is_dir() for path in paths):
        return None
    focus = Focus()
    for path in paths:
        if path.is_dir():
            focus.trees.add(_rel(root, path))
        elif is_tfvars(path):
            focus.modules.add(_rel(root, path.parent))
        else:
            focus.files.add(_rel(root, path))
    return focus


def _rel(root: Path, path: Path) -> str:
    rel = relative(root, path)
    if os.path.isabs(rel):  # outside the root: the loader names such files with ../
        rel = Path(os.path.relpath(path, root)).as_posix()
    return rel or "."


def narrow(result: ScanResult, focus: Focus | None) -> ScanResult:
    """``result`` with only the findings ``focus`` keeps (the same result when focus is None)."""
    if focus is not None:
        result.findings = [f for f in result.findings if focus.keeps(f)]
    return result


def scan_named(root: Path, paths: list[Path], ruleset: Ruleset, options: ScanOptions,
               *, whole_module: bool = False) -> ScanResult:
    """Scan ``paths`` (widened to whole modules) and report on the named files only,
    or on everything read with ``whole_module``."""
    from iacscan.scan import scan

    focus = None if whole_module else focus_for(root, paths)
    return narrow(scan(root, widen(paths), ruleset, options), focus)
