"""The scan pipeline: discover → parse → environments → graph → rules → findings."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from iacscan import rulepool, suppress
from iacscan.discover import discover, record, relative
from iacscan.environments import assign_environments
from iacscan.findings import Finding
from iacscan.gcpause import gc_paused
from iacscan.graph import EstateGraph
from iacscan.model import Estate, Location
from iacscan.rules.base import Context, iter_rules
from iacscan.ruleset import Ruleset


@dataclass
class ScanOptions:
    var_files: list[Path] = field(default_factory=list)
    parameter_file: Path | None = None
    plan: Path | None = None
    #: live state to scan as well: a snapshot file (``iacscan snapshot``) or a collected snapshot
    live: Path | dict[str, Any] | None = None
    #: keep parsed Terraform files in this directory (``iacscan.cache``); None: no disk cache
    cache_dir: Path | None = None
    #: processes that parse Terraform files (``--jobs``); None: one per core, 1: no pool.
    #: With 2 or more, a large estate's rules are checked in two processes (``iacscan.rulepool``)
    jobs: int | None = None
    #: glob patterns of paths (relative to the scan root) not to scan (config ``exclude``)
    exclude: list[str] = field(default_factory=list)


@dataclass
class ScanResult:
    root: Path
    estate: Estate
    graph: EstateGraph
    findings: list[Finding]
    rule_errors: list[str] = field(default_factory=list)  # internal errors of rules (bugs)
    suppressed: list[Finding] = field(default_factory=list)  # hidden by inline suppressions
    baselined: list[Finding] = field(default_factory=list)  # hidden by --baseline

    @property
    def errors(self) -> list[dict[str, str]]:
        return [{"file": e.file, "message": e.message} for e in self.estate.errors]


def load_estate(root: Path, paths: list[Path], options: ScanOptions) -> Estate:
    """Parse everything under ``paths`` into one estate (no rules run)."""
    from iacscan.parsers import terraform

    found = discover(root, paths, options.exclude)
    estate = Estate(root=str(root))
    tf_dirs = found.terraform_dirs
    if options.plan is not None:
        # The plan stands for the code it was made from: those directories are not read as HCL too.
        from iacscan.parsers import plan

        planned, covered = plan.parse_plan_covering(root, options.plan, tf_dirs, options.var_files)
        estate.merge(planned)
        tf_dirs = [d for d in tf_dirs if d.resolve() not in covered]
    if tf_dirs or options.plan is None:
        estate.merge(terraform.parse_terraform(root, tf_dirs, options.var_files, _parse_cache(options),
                                                 options.jobs))
    if found.documents or options.parameter_file is not None:
        from iacscan.parsers import cloudformation  # cfn-lint takes ~1.5 s to import: only when needed

        estate.merge(cloudformation.parse_documents(root, found.documents, options.parameter_file, options.cache_dir))
    if options.live is not None:
        from iacscan.parsers.live import parse_snapshot

        estate.merge(parse_snapshot(options.live, str(root)))
    record(root, found, estate)  # unreadable files (IAC001), links leaving the root (IAC002)
    for link in found.skipped_links:
        estate.files.append(relative(root, link))
    estate.files = sorted(set(estate.files))
    return estate


def _parse_cache(options: ScanOptions) -> Any:
    if options.cache_dir is None:
        return None
    from iacscan.cache import DiskParseCache

    return DiskParseCache(options.cache_dir)


def run_rules(estate: Estate, ruleset: Ruleset, jobs: int | None = 1,
              fork_min_size: int = rulepool.FORK_MIN_SIZE) -> ScanResult:
    """Assign environments, build the graph, and run every enabled rule.

    ``jobs`` as ``ScanOptions.jobs`` (None: one per core; the default 1 runs the rules
    here); with two or more, an estate of at least ``fork_min_size`` groups + workloads
    has its rules checked in two processes (``iacscan.rulepool``), with the same result."""
    assign_environments(estate, ruleset.environments)
    graph = EstateGraph(estate)
    tasks = []
    for registered in iter_rules():
        meta = registered.meta
        if not ruleset.enabled(meta.id):
            continue
        settings = ruleset.settings(meta.id)
        tasks.append((registered, Context(estate, graph, ruleset, meta, {**meta.options, **settings.options},
                                          settings.severity or meta.severity)))
    findings: list[Finding] = []
    rule_errors: list[str] = []
    size = len(estate.groups) + len(estate.workloads)
    for outcome in rulepool.check_all(tasks, _internal_error, jobs=jobs, size=size, min_size=fork_min_size):
        findings.extend(outcome.findings)
        if outcome.error is not None:
            rule_errors.append(outcome.error)
    findings.sort(key=Finding.sort_key)
    result = ScanResult(Path(estate.root), estate, graph, findings, rule_errors)
    suppress.apply(result)  # inline suppressions (iacscan:ignore comments, CFN Metadata)
    return result


def _internal_error(ctx: Context, rule_id: str) -> Finding:
    """The IAC003 finding for a rule that raised (documented in ``iacscan.rules.internal_errors``)."""
    from iacscan.rules.base import REGISTRY
    from iacscan.rules.internal_errors import ID, BUG_REPORT_HINT

    meta = REGISTRY[ID].meta
    return replace(ctx, meta=meta, severity=meta.severity).finding(
        resource=rule_id, uid=rule_id, location=Location("", 0), details={"rule": rule_id},
        message=f"rule {rule_id} raised an internal error; its findings are missing. {BUG_REPORT_HINT}",
    )


def scan(root: Path, paths: list[Path], ruleset: Ruleset, options: ScanOptions | None = None) -> ScanResult:
    """Scan ``paths`` (relative locations are reported against ``root``)."""
    with gc_paused():  # see iacscan.gcpause: the collector would spend a third of a large scan
        options = options or ScanOptions()
        return run_rules(load_estate(root, paths, options), ruleset, options.jobs)
