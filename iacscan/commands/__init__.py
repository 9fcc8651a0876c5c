"""The CLI's subcommands, one module each, plus the helpers they share.

A command function takes the parsed ``argparse.Namespace`` and returns the exit code.
It raises ``UserError`` (or ``RulesetError``) for mistakes the user can fix; the CLI
maps those to exit 2 and anything else to exit 3 (``iacscan.cli.main``).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from iacscan.errors import UserError
from iacscan.rules.base import REGISTRY
from iacscan.rules import load_all
from iacscan.ruleset import Ruleset, check_rule_ids, load_ruleset


def scan_targets(specs: list[str]) -> tuple[Path, list[Path]]:
    """The scan root and the absolute paths to scan.

    Every path must exist. The root (what reported file names are relative to) is the
    current directory when every path lies inside it, else the paths' common parent.
    """
    paths = []
    for spec in specs or ["."]:
        path = Path(os.path.abspath(spec))
        if not path.exists() and not path.is_symlink():
            raise UserError(f"path not found: {spec}")
        paths.append(path)
    cwd = Path(os.path.abspath(os.getcwd()))
    if all(_within(cwd, p) for p in paths):
        return cwd, paths
    common = Path(os.path.commonpath([str(p) for p in paths]))
    return (common if common.is_dir() else common.parent), paths


def _within(parent: Path, path: Path) -> bool:
    return path == parent or parent in path.parents


def existing_file(spec: str, what: str) -> Path:
    """``spec`` as a path, which must be an existing file."""
    path = Path(spec)
    if not path.is_file():
        raise UserError(f"{what} not found: {spec}")
    return path


def ruleset_for(spec: str | None) -> Ruleset:
    """Load a ruleset and check that every rule id it configures exists."""
    ruleset = load_ruleset(spec)
    load_all()
    check_rule_ids(ruleset, set(REGISTRY))
    return ruleset


def use_color(output: str | None) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    if output or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def emit(text: str, output: str | None) -> None:
    """Write ``text`` to the ``--output`` file, or to standard output."""
    if not output:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None
