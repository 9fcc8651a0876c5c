"""Benchmark: the pre-commit hook's run on a one-file change in a 300-module repository.

Generates a git repository of N Terraform modules (default 300; each a directory with
``network.tf``, three security groups with inline and standalone rules, and
``compute.tf``, an instance, a load balancer and a database), then times what the hook
runs, ``iacscan scan <one .tf file>``, as a separate process (interpreter start-up
included), in three states of the parse cache:

- cold: an empty cache directory (``IACSCAN_CACHE_DIR``);
- warm: the same command again (both files of the module come from the cache);
- warm, file changed: a line of the named file changed since the last run (that file
  is parsed again, its neighbour comes from the cache) — the usual commit.

Each is the median of ``--runs`` runs (wall clock, and the child's CPU time).
``--full`` also times a scan of the whole repository, cold and warm, once each.

    python scripts/bench_hook.py
    python scripts/bench_hook.py --modules 50 --runs 1 --full

Not a test: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NETWORK = """\
resource "aws_security_group" "web" {{
  name        = "web-{i}"
  description = "HTTPS from the internet to the web tier of service {i}"
  vpc_id      = var.vpc_id

  ingress {{
    description = "https"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }}

  egress {{
    description     = "to the app tier"
    from_port       = 8080
    to_port         = 8080
    protocol        = "tcp"
    security_groups = [aws_security_group.app.id]
  }}
}}

resource "aws_security_group" "app" {{
  name        = "app-{i}"
  description = "The app tier of service {i}"
  vpc_id      = var.vpc_id
}}

resource "aws_security_group_rule" "app_from_web" {{
  type                     = "ingress"
  description              = "from the web tier"
  from_port                = 8080
  to_port                  = 8080
  protocol                 = "tcp"
  security_group_id        = aws_security_group.app.id
  source_security_group_id = aws_security_group.web.id
}}

resource "aws_security_group" "db" {{
  name        = "db-{i}"
  description = "Postgres from the app tier of service {i}"
  vpc_id      = var.vpc_id

  ingress {{
    description     = "postgres"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws_security_group.app.id]
  }}

  ingress {{
    description = "admin network"
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = [for net in local.admin_networks : net.cidr]
  }}
}}

locals {{
  admin_networks = [
    {{ name = "office", cidr = "10.{a}.0.0/16" }},
    {{ name = "vpn", cidr = "10.{b}.0.0/16" }},
  ]
}}

variable "vpc_id" {{
  type    = string
  default = "vpc-0123456789abcdef0"
}}
"""

COMPUTE = """\
resource "aws_lb" "web" {{
  name            = "web-{i}"
  internal        = false
  security_groups = [aws_security_group.web.id]
}}

resource "aws_instance" "app" {{
  count                  = 2
  ami                    = "ami-12345678"
  instance_type          = "t3.small"
  vpc_security_group_ids = [aws_security_group.app.id]

  metadata_options {{
    http_tokens = "required"
  }}

  tags = {{
    Name    = "app-{i}-${{count.index}}"
    Service = "service-{i}"
  }}
}}

resource "aws_db_instance" "main" {{
  identifier             = "db-{i}"
  engine                 = "postgres"
  instance_class         = "db.t3.micro"
  storage_encrypted      = true
  vpc_security_group_ids = [aws_security_group.db.id]
}}
"""


def generate(root: Path, modules: int) -> None:
    """Write ``modules`` module directories under ``root/services`` and commit them."""
    for i in range(modules):
        directory = root / "services" / f"svc{i:03d}"
        directory.mkdir(parents=True)
        (directory / "network.tf").write_text(NETWORK.format(i=i, a=i % 250, b=(i + 1) % 250))
        (directory / "compute.tf").write_text(COMPUTE.format(i=i))
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "--no-verify", "-m", "services"]):
        subprocess.run(["git", "-C", str(root), *args], check=True, env=env)


def timed(root: Path, cache: Path, *paths: str) -> tuple[float, float, int]:
    """(wall seconds, child CPU seconds, exit code) of one ``iacscan scan`` process."""
    env = {**os.environ, "IACSCAN_CACHE_DIR": str(cache), "NO_COLOR": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "iacscan", "scan", *paths], cwd=root, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"iacscan failed ({done.returncode}): {done.stderr.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def median(runs: list[tuple[float, float, int]]) -> str:
    walls = [r[0] for r in runs]
    cpus = [r[1] for r in runs]
    listed = ", ".join(f"{w:.2f}" for w in walls)
    return f"{statistics.median(walls):.2f} s wall (runs: {listed} s), {statistics.median(cpus):.2f} s CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="also time a scan of the whole repository")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="iacscan-bench-hook-") as temp:
        root, caches = Path(temp) / "repo", Path(temp) / "caches"
        root.mkdir()
        generate(root, args.modules)
        target = f"services/svc{args.modules // 2:03d}/compute.tf"
        print(f"{args.modules} modules, {2 * args.modules} files; the hook scans {target} (and its module)")

        cold, warm, changed = [], [], []
        for run in range(args.runs):
            cache = caches / f"run{run}"
            cold.append(timed(root, cache, target))
            warm.append(timed(root, cache, target))
            with (root / target).open("a") as handle:
                handle.write(f"\n# edit {run}\n")
            changed.append(timed(root, cache, target))
        print(f"cold (empty cache):        {median(cold)}")
        print(f"warm (unchanged):          {median(warm)}")
        print(f"warm (named file changed): {median(changed)}")

        if args.full:
            cache = caches / "full"
            print(f"whole repository, cold:    {median([timed(root, cache, '.')])}")
            print(f"whole repository, warm:    {median([timed(root, cache, '.')])}")


if __name__ == "__main__":
    main()
