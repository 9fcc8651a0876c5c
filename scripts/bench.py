"""Side-by-side benchmark: iacscan and Checkov on the same estates, in one run, on one machine.

Setup (once; Checkov goes into its own virtualenv so it cannot disturb iacscan's)::

    python -m venv /tmp/checkov-venv && /tmp/checkov-venv/bin/pip install checkov
    pip install -e .            # iacscan itself, in the current interpreter

Run (from the repository root)::

    python scripts/bench.py --sizes S M L --runs 3 --runs-large 1 \\
        --checkov /tmp/checkov-venv/bin/checkov --corpus ../shared/corpus --markdown /tmp/bench.md

For every target (a synthetic estate from ``scripts/gen_estate.py``, regenerated into
``--workdir``, and a copy in ``--workdir`` of every project directory under ``--corpus``) it runs, ``--runs`` times
each (``--runs-large`` for L), and reports the median of:

- ``iacscan cold``: ``python -m iacscan scan . --format json --fail-on none`` with an
  empty parse cache (``IACSCAN_CACHE_DIR`` pointing at a fresh directory);
- ``iacscan warm``: the same again, the cache filled by the cold run;
- ``iacscan warm, 1 file changed``: one ``main.tf`` edited (a rule's port), then a full scan;
- ``pre-commit 1 file (warm)``: ``python -m iacscan scan <that main.tf>`` (what the hook runs);
- ``checkov SG checks``: ``checkov -d . --framework terraform cloudformation --skip-download
  --quiet -o json --check <ids>``, the ids being every Terraform/CloudFormation check that
  ``checkov --list`` shows for a security-group resource type;
- ``checkov default``: the same without ``--check``.

Measured per run: wall time, CPU time (user + system of the command and every process it
waited for, from ``getrusage(RUSAGE_CHILDREN)``) and peak memory (``ru_maxrss`` of the main
process from ``wait4``; worker processes are not added). Ratios are Checkov over iacscan
cold. Output goes to stdout and, with ``--markdown``, to a Markdown file.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SG_ENTITY = re.compile(r"^(aws_security_group|aws_security_group_rule|aws_default_security_group|"
                       r"aws_vpc_security_group_(ingress|egress)_rule|AWS::EC2::SecurityGroup(Ingress|Egress)?)$")


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    code: int


@dataclass
class Row:
    target: str
    mode: str
    command: str
    samples: list[Sample] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in self.samples)


def measure(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float) -> Sample:
    """Run ``cmd`` once; wall, CPU (this child and its waited descendants) and peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode not in (0, 1):
            err.seek(0)
            tail = err.read().decode("utf-8", "replace").strip().splitlines()[-3:]
            print(f"  ! exit {proc.returncode}: {' '.join(cmd)}\n    " + "\n    ".join(tail), file=sys.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Sample(wall, cpu, usage.ru_maxrss / 1024, proc.returncode)


def sg_check_ids(checkov: str) -> list[str]:
    """The ids of Checkov's Terraform/CloudFormation checks on security-group resource types."""
    out = subprocess.run([checkov, "--list"], capture_output=True, text=True, check=False).stdout
    ids: set[str] = set()
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and cells[1].startswith("CKV") and SG_ENTITY.match(cells[3]) \
                and cells[5] in ("Terraform", "Cloudformation") and "security group" in cells[4].lower():
            ids.add(cells[1])
    return sorted(ids, key=lambda i: (i.split("_")[0], int(re.sub(r"\D", "", i.split("_")[-1]) or 0)))


def load_generator():  # noqa: ANN201 - a module loaded from a path
    spec = importlib.util.spec_from_file_location("gen_estate", REPO / "scripts" / "gen_estate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_estate"] = module
    spec.loader.exec_module(module)
    return module


def describe(path: Path) -> str:
    files = [p for p in path.rglob("*") if p.is_file() and p.suffix in (".tf", ".yaml", ".yml", ".json", ".template")]
    size = sum(p.stat().st_size for p in files)
    return f"{len(files)} files, {size / 1e6:.1f} MB"


def pick_file(target: Path) -> Path | None:
    """The Terraform file the warm re-scan changes and the pre-commit run names."""
    candidates = sorted(target.glob("envs/prod/svc-0000/main.tf")) or sorted(target.rglob("main.tf"))
    return candidates[0] if candidates else None


def change(path: Path, counter: int) -> None:
    """A real edit that changes what the file admits (a port), different on every call."""
    text = path.read_text(encoding="utf-8")
    new, n = re.subn(r"from_port(\s*)= 443", f"from_port\\1= {1000 + counter}", text, count=1)
    path.write_text(new if n else text + f"\n# edited {counter}\n", encoding="utf-8")


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rows: list[Row] = []
        self.env = dict(os.environ)
        self.env["PYTHONPATH"] = str(REPO) + os.pathsep + self.env.get("PYTHONPATH", "")
        self.sg_ids = sg_check_ids(args.checkov) if args.checkov else []
        self.counter = 0

    def row(self, target: str, mode: str, cmd: list[str]) -> Row:
        shown = " ".join(c if len(c) < 60 else c[:57] + "..." for c in cmd)
        row = Row(target, mode, shown)
        self.rows.append(row)
        return row

    def iacscan(self, name: str, target: Path, runs: int, checkov: bool, checkov_runs: int) -> None:
        py = [sys.executable, "-m", "iacscan", "scan"]
        out = ["--format", "json", "--output", os.devnull, "--fail-on", "none"]
        cold = self.row(name, "iacscan cold", py + ["."] + out)
        warm = self.row(name, "iacscan warm", py + ["."] + out)
        edited_file = pick_file(target)
        changed = self.row(name, "iacscan warm, 1 file changed", py + ["."] + out) if edited_file else None
        hook = self.row(name, "pre-commit 1 file (warm)", py + [str(edited_file.relative_to(target))] + out) \
            if edited_file else None
        original = edited_file.read_text(encoding="utf-8") if edited_file else ""
        timeout = self.args.timeout
        for run in range(runs):
            cache = Path(tempfile.mkdtemp(prefix="iacscan-bench-cache-"))
            env = {**self.env, "IACSCAN_CACHE_DIR": str(cache)}
            try:
                cold.samples.append(measure(py + ["."] + out, target, env, timeout))
                warm.samples.append(measure(py + ["."] + out, target, env, timeout))
                if edited_file and changed and hook:
                    self.counter += 1
                    change(edited_file, self.counter)
                    changed.samples.append(measure(py + ["."] + out, target, env, timeout))
                    hook.samples.append(measure(py + [str(edited_file.relative_to(target))] + out, target, env,
                                                timeout))
            finally:
                if edited_file:
                    edited_file.write_text(original, encoding="utf-8")
                shutil.rmtree(cache, ignore_errors=True)
            self.progress(name, run)
        if checkov and self.args.checkov:
            base = [self.args.checkov, "-d", ".", "--framework", "terraform", "cloudformation",
                    "--skip-download", "--quiet", "-o", "json"]
            sg = self.row(name, "checkov SG checks", base + ["--check", ",".join(self.sg_ids)])
            default = self.row(name, "checkov default", base)
            for run in range(checkov_runs):
                sg.samples.append(measure(base + ["--check", ",".join(self.sg_ids)], target, self.env, timeout))
                default.samples.append(measure(base, target, self.env, timeout))
                self.progress(name, run)

    def progress(self, name: str, run: int) -> None:
        done = [r for r in self.rows if r.target == name and r.samples]
        print(f"# {name} run {run + 1}: " + "; ".join(
            f"{r.mode} {r.samples[-1].wall:.2f}s/{r.samples[-1].cpu:.2f}s" for r in done), file=sys.stderr)

    def table(self, described: dict[str, str]) -> str:
        lines = ["| target | what | runs | wall s | CPU s | peak MB | Checkov/iacscan-cold (wall, CPU) |",
                 "|---|---|---|---|---|---|---|"]
        for row in self.rows:
            if not row.samples:
                continue
            ratio = ""
            if row.mode.startswith("checkov"):
                cold = next((r for r in self.rows if r.target == row.target and r.mode == "iacscan cold"), None)
                if cold and cold.samples:
                    ratio = f"{row.median('wall') / cold.median('wall'):.1f}x, {row.median('cpu') / cold.median('cpu'):.1f}x"
            bad = "" if all(s.code in (0, 1) for s in row.samples) else " (failed)"
            lines.append(f"| {row.target} ({described.get(row.target, '')}) | {row.mode}{bad} | {len(row.samples)} | "
                         f"{row.median('wall'):.2f} | {row.median('cpu'):.2f} | {row.median('rss_mb'):.0f} | {ratio} |")
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="iacscan vs Checkov benchmark (see the module docstring)")
    parser.add_argument("--sizes", nargs="*", default=["S", "M"], type=str.upper, help="synthetic sizes (S M L)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median reported)")
    parser.add_argument("--runs-large", type=int, default=1, help="runs for size L and its Checkov runs")
    parser.add_argument("--checkov", default=os.environ.get("CHECKOV", ""), help="path of the checkov executable")
    parser.add_argument("--checkov-sizes", nargs="*", default=["S", "M"], type=str.upper,
                        help="sizes Checkov also runs on (it takes minutes per MB)")
    parser.add_argument("--checkov-runs", type=int, default=None, help="Checkov runs (default: --runs)")
    parser.add_argument("--corpus", type=Path, default=None, help="directory of real projects (one per subdirectory)")
    parser.add_argument("--corpus-checkov", action="store_true", help="run Checkov on the corpus projects too")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "iacscan-bench")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds before a run is killed")
    parser.add_argument("--markdown", type=Path, help="also write the table (and commands) to this file")
    args = parser.parse_args(argv)
    bench = Bench(args)
    gen = load_generator()
    described: dict[str, str] = {}
    for size in args.sizes:
        target = args.workdir / f"estate-{size}"
        counts = gen.generate(size, target)
        name = f"synthetic {size}"
        described[name] = (f"{counts['module_dirs']} modules, {counts['tf_groups'] + counts['cfn_groups']} groups, "
                           f"{counts['bytes'] / 1e6:.1f} MB")
        runs = args.runs_large if size == "L" else args.runs
        checkov_runs = args.runs_large if size == "L" else (args.checkov_runs or args.runs)
        bench.iacscan(name, target, runs, size in args.checkov_sizes, checkov_runs)
    if args.corpus:
        for project in sorted(p for p in args.corpus.iterdir() if p.is_dir()):
            name = f"corpus {project.name}"
            copy = args.workdir / f"corpus-{project.name}"  # the corpus itself is never edited
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(project, copy, symlinks=True)
            described[name] = describe(copy)
            bench.iacscan(name, copy, args.runs, args.corpus_checkov, args.checkov_runs or 1)
    table = bench.table(described)
    header = (f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
              f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}.\n"
              f"Checkov security-group checks ({len(bench.sg_ids)}): {', '.join(bench.sg_ids)}\n")
    print(header)
    print(table)
    if args.markdown:
        commands = "\n".join(f"- {r.target} / {r.mode}: `{r.command}`" for r in bench.rows if r.samples)
        args.markdown.write_text(header + "\n" + table + "\n\nCommands (run in the target directory):\n\n"
                                 + commands + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
