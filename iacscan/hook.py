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
- a Terraform plan JSON (``terraform show -json``): read as with ``--plan``, in a pass of
  its own, and every finding of that pass is reported;
- a directory: every finding under it.

Findings without a file (an internal error of a rule) are always reported.
``--whole-module`` reports every finding of the modules read instead.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from iacscan.discover import TF_SUFFIXES, TFVARS_SUFFIXES, relative
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
        result.suppressed = [f for f in result.suppressed if focus.keeps(f)]
    return result


def is_plan_file(path: Path) -> bool:
    """True for a ``terraform show -json`` plan (a cheap look at the start, then the content)."""
    name = path.name.lower()
    if not name.endswith(".json") or name.endswith(TF_SUFFIXES + TFVARS_SUFFIXES) or not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
        if b'"format_version"' not in head or path.stat().st_size > _MAX_PLAN_BYTES:
            return False
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return False
    from iacscan.parsers.plan import is_plan

    return is_plan(data)


_MAX_PLAN_BYTES = 200_000_000


def scan_named(root: Path, paths: list[Path], ruleset: Ruleset, options: ScanOptions,
               *, whole_module: bool = False) -> ScanResult:
    """Scan ``paths`` (widened to whole modules) and report on the named files only,
    or on everything read with ``whole_module``.

    A named plan JSON (``terraform show -json``), when ``--plan`` is not given, is scanned
    like ``--plan`` in a pass of its own, and all of its findings are reported: the plan
    stands for the change.
    """
    from iacscan.scan import scan

    plans = [p for p in paths if options.plan is None and is_plan_file(p)]
    others = [p for p in paths if p not in plans]
    results = []
    if others or not plans:
        focus = None if whole_module else focus_for(root, others)
        results.append(narrow(scan(root, widen(others), ruleset, options), focus))
    for plan in plans:
        results.append(scan(root, [], ruleset, replace(options, plan=plan)))
    return merged(results)


def merged(results: list[ScanResult]) -> ScanResult:
    """One result from several scan passes (findings found twice are kept once)."""
    first = results[0]
    for other in results[1:]:
        first.estate.merge(other.estate)
        first.findings.extend(other.findings)
        first.suppressed.extend(other.suppressed)
        first.rule_errors.extend(other.rule_errors)
    if len(results) > 1:
        unique = {(f.fingerprint, f.file, f.line): f for f in first.findings}
        first.findings = sorted(unique.values(), key=Finding.sort_key)
        first.estate.files = sorted(set(first.estate.files))
    return first
