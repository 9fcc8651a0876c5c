"""The same input gives byte-identical JSON and SARIF across runs, ``PYTHONHASHSEED`` values
and ``--jobs`` settings (separate processes: the demo, part of the corpus, and a generated
module large enough for ``--jobs 2`` to parse in worker processes)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from iacscan.parsers.tf_parallel import MIN_BYTES

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"

#: Run the CLI twice in one process (JSON, then SARIF) into files.
SCRIPT = """\
import sys
from iacscan.cli import main
jobs, out = sys.argv[1], sys.argv[2]
for fmt in ("json", "sarif"):
    code = main(["scan", "--no-cache", "--jobs", jobs, "--format", fmt, "--output", f"{out}.{fmt}", "."])
    assert code in (0, 1), code
"""


def _estate(root: Path) -> None:
    shutil.copytree(REPO / "fixtures" / "demo", root / "demo")
    for part in ("terragoat", "cloudposse-security-group", "aws-cloudformation-templates/EC2",
                 "aws-cloudformation-templates/VPC"):
        if (CORPUS / part).is_dir():
            shutil.copytree(CORPUS / part, root / "corpus" / part, symlinks=True)
    gen = root / "generated"
    gen.mkdir()
    for f in range(40):  # > MIN_BYTES of distinct text in several files: the worker pool is used
        body = "".join(
            f'resource "aws_security_group" "g{f}_{i}" {{\n  description = "generated {f} {i}"\n'
            f'  ingress {{\n    description = "rule"\n    from_port   = {1000 + i}\n    to_port     = {1000 + i}\n'
            f'    protocol    = "tcp"\n    cidr_blocks = ["{"0.0.0.0/0" if i % 7 == 0 else f"10.{f}.{i}.0/24"}"]\n'
            f'  }}\n}}\n\n' for i in range(60))
        (gen / f"f{f:02d}.tf").write_text(body)
    assert sum(p.stat().st_size for p in gen.iterdir()) > MIN_BYTES


def _run(root: Path, out: Path, seed: str, jobs: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    env.pop("IACSCAN_CACHE_DIR", None)
    subprocess.run([sys.executable, "-c", SCRIPT, jobs, str(out)], cwd=root, env=env, check=True, timeout=300)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not available")
def test_json_and_sarif_are_byte_identical(tmp_path: Path) -> None:
    root = tmp_path / "estate"
    root.mkdir()
    _estate(root)
    runs = [("0", "1"), ("1", "2"), ("4242", "2")]
    for seed, jobs in runs:
        _run(root, tmp_path / f"run-{seed}-{jobs}", seed, jobs)
    for fmt in ("json", "sarif"):
        first = (tmp_path / f"run-0-1.{fmt}").read_bytes()
        assert b'"SG101"' in first and b"demo/" in first and b"corpus/terragoat/" in first
        if fmt == "json":
            assert json.loads(first)["summary"]["security_groups"] > 40 * 60  # the generated module was read
        for seed, jobs in runs[1:]:
            assert (tmp_path / f"run-{seed}-{jobs}.{fmt}").read_bytes() == first, (fmt, seed, jobs)
