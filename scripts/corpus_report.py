"""Print the findings per rule for each project of the shared corpus, and the scan time.

Usage: python scripts/corpus_report.py [CORPUS_DIR]   (default: ../shared/corpus)
"""
from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

from iacscan.ruleset import load_ruleset
from iacscan.scan import scan


def main(argv: list[str]) -> int:
    corpus = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "shared" / "corpus"
    ruleset = load_ruleset()
    for project in sorted(p for p in corpus.iterdir() if p.is_dir()):
        start = time.perf_counter()
        result = scan(project, [project], ruleset)
        elapsed = time.perf_counter() - start
        counts = Counter(f.rule_id for f in result.findings)
        estate = result.estate
        print(f"## {project.name}: {len(estate.files)} files, {len(estate.groups)} groups, "
              f"{len(estate.workloads)} workloads, {len(result.findings)} findings, {elapsed:.1f} s")
        print("   " + ", ".join(f"{rule} {n}" for rule, n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
