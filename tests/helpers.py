"""Shared test helpers: scan a fixture folder and read findings as exact tuples."""
from __future__ import annotations

from pathlib import Path

from iacscan.ruleset import load_ruleset
from iacscan.scan import ScanOptions, ScanResult, scan

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
CORPUS = REPO.parent / "shared" / "corpus"


def scan_path(path: Path, ruleset: str | None = None, options: ScanOptions | None = None) -> ScanResult:
    """Scan ``path`` (file or directory) with locations relative to it (its parent for a file)."""
    root = path if path.is_dir() else path.parent
    return scan(root, [path], load_ruleset(ruleset), options)


def hits(result: ScanResult, rule_id: str) -> set[tuple[str, str, str, int]]:
    """The findings of one rule as ``(rule_id, resource, file, line)`` tuples."""
    return {(f.rule_id, f.resource, f.file, f.line) for f in result.findings if f.rule_id == rule_id}


def rule_fixture(rule_id: str, *parts: str) -> Path:
    """``fixtures/rules/<ID>/<parts…>``."""
    return FIXTURES.joinpath("rules", rule_id, *parts)
