"""``iacscan scan [PATH…]``: scan files and directories, report, and decide the exit code."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from iacscan.commands import emit, existing_file, ruleset_for, scan_targets, use_color
from iacscan.commands.snapshot import add_live_options
from iacscan.config import configure
from iacscan.errors import UserError
from iacscan.findings import Severity
from iacscan.report import REPORTERS
from iacscan import limits
from iacscan.cache import default_dir
from iacscan.hook import scan_named
from iacscan.ruleset import Ruleset
from iacscan.scan import ScanOptions, ScanResult
from iacscan.suppress import apply_baseline, load_baseline

if TYPE_CHECKING:
    from iacscan.diffmode import Diff

#: ``--fail-on none``: findings never fail the scan (rule failures still exit 3).
NEVER = "none"
EXIT_CLEAN, EXIT_FINDINGS, EXIT_BUG = 0, 1, 3


def options_from(args: argparse.Namespace) -> ScanOptions:
    """``ScanOptions`` from ``--var-file`` and ``--parameters`` (each must exist)."""
    var_files = [existing_file(v, "var file") for v in args.var_file or []]
    parameters = existing_file(args.parameters, "parameters file") if args.parameters else None
    plan = existing_file(args.plan, "plan file") if getattr(args, "plan", None) else None
    snapshot = existing_file(args.snapshot, "snapshot file") if getattr(args, "snapshot", None) else None
    return ScanOptions(var_files=var_files, parameter_file=parameters, plan=plan, live=snapshot)


def run_scan(args: argparse.Namespace) -> ScanResult:
    """Resolve paths, ruleset and options (usage errors first), then scan.

    With ``--snapshot`` or ``--live`` and no PATH, only the live estate is scanned.
    Files named as PATHs are read with their whole module, findings reported in them only
    (``iacscan.hook``; ``--whole-module`` reports the modules' findings).
    """
    root, paths, ruleset, options = prepare(args)
    with limits.using(limits_from(args)):
        return scan_named(root, paths, ruleset, options, whole_module=getattr(args, "whole_module", False))


def run_diff(args: argparse.Namespace) -> Diff:
    """``--diff-base REF``: scan the working tree and REF's tree, and compare (``iacscan.diffmode``)."""
    for flag in ("plan", "snapshot", "live"):
        if getattr(args, flag, None):
            raise UserError(f"--diff-base cannot be combined with --{flag}")
    from iacscan import diffmode  # git and the diff: only with --diff-base

    root, paths, ruleset, options = prepare(args)
    return diffmode.run_diff(args.diff_base, root, paths, options, lambda r, p, o: scan_named(
        r, p, ruleset, o, whole_module=args.whole_module))


def prepare(args: argparse.Namespace) -> tuple[Path, list[Path], Ruleset, ScanOptions]:
    """The scan root, paths, ruleset and options the arguments ask for."""
    live = getattr(args, "live", False)
    check_live_options(args)
    paths: list[Path]
    if (live or getattr(args, "snapshot", None)) and not args.paths:
        root, paths = scan_targets([])[0], []
    else:
        root, paths = scan_targets(args.paths)
    config = configure(args, root)
    ruleset = ruleset_for(args.ruleset)
    ruleset.environments.mapping[:0] = config.environments  # the project's own entries first
    options = options_from(args)
    options.exclude = list(config.exclude)
    if live:
        from iacscan.commands.snapshot import take_snapshot

        options.live = take_snapshot(args)
    options.cache_dir = None if getattr(args, "no_cache", False) else default_dir()
    options.jobs = getattr(args, "jobs", None)
    return root, paths, ruleset, options


def check_live_options(args: argparse.Namespace) -> None:
    """``--snapshot`` and ``--live`` exclude each other; region/profile options need ``--live``."""
    if getattr(args, "live", False) and getattr(args, "snapshot", None):
        raise UserError("--snapshot and --live cannot be used together")
    if not getattr(args, "live", False):
        for flag, value in (("--region", getattr(args, "region", None)), ("--profile", getattr(args, "profile", None)),
                            ("--all-regions", getattr(args, "all_regions", False))):
            if value:
                raise UserError(f"{flag} only applies with --live")


def command(args: argparse.Namespace) -> int:
    """Run ``iacscan scan``; returns 0, 1 (findings at or above --fail-on) or 3 (a rule failed)."""
    with limits.using(limits_from(args)):
        return _scan_command(args)


def limits_from(args: argparse.Namespace) -> limits.Limits:
    """The per-file limits ``--limit KEY=VALUE`` asks for (``iacscan.limits``); ``UserError`` if bad."""
    try:
        return limits.parse_limits(getattr(args, "limit", None))
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _scan_command(args: argparse.Namespace) -> int:
    configure(args, scan_targets(args.paths)[0])  # fills --ruleset, --fail-on, --baseline from the config
    hidden = baseline_fingerprints(args)  # read first: a bad baseline file stops before scanning
    diff = run_diff(args) if getattr(args, "diff_base", None) else None
    if diff is not None and hidden is not None:
        apply_baseline(diff.head, hidden)
        diff.new = [f for f in diff.new if f.fingerprint not in hidden]
    result = diff.new_result() if diff else run_scan(args)
    if diff is None and hidden is not None:
        apply_baseline(result, hidden)
    color = use_color(args.output)
    if diff is not None:
        from iacscan import diffmode

        emit(diffmode.render(diff, args.format, color), args.output)
    else:
        emit(REPORTERS[args.format](result, color), args.output)
    if args.format == "github":
        step_summary(result, diff)
    return exit_code(result, args)


def report_and_exit(result: ScanResult, args: argparse.Namespace, hidden: set[str] | None) -> int:
    """Hide baselined findings, write the report (and the GitHub step summary), and return
    the exit code: the end of ``drift`` and ``events``, which have no diff mode."""
    if hidden is not None:
        apply_baseline(result, hidden)
    emit(REPORTERS[args.format](result, use_color(args.output)), args.output)
    if args.format == "github":
        step_summary(result)
    return exit_code(result, args)


def exit_code(result: ScanResult, args: argparse.Namespace) -> int:
    """3 when a rule failed (after saying so), else 1 for findings at or above --fail-on, else 0."""
    if result.rule_errors:
        report_rule_errors(result.rule_errors, debug=args.debug)
        return EXIT_BUG
    return EXIT_FINDINGS if fails(result, args.fail_on) else EXIT_CLEAN


def baseline_fingerprints(args: argparse.Namespace) -> set[str] | None:
    """The fingerprints ``--baseline FILE`` lists (None without it); ``UserError`` when unusable."""
    path = getattr(args, "baseline", None)
    return load_baseline(Path(path)) if path else None


def step_summary(result: ScanResult, diff: Diff | None = None) -> None:
    """``--format github``: append the Markdown report to ``$GITHUB_STEP_SUMMARY`` when set."""
    from iacscan.report.github import append_step_summary

    try:
        if diff is not None:
            append_step_summary(diff.head, new=diff.new, fixed=len(diff.fixed))
        else:
            append_step_summary(result)
    except OSError as exc:
        print(f"iacscan: warning: cannot write the job summary: {exc}", file=sys.stderr)


def fails(result: ScanResult, fail_on: str) -> bool:
    """True when a finding is at or above the ``--fail-on`` severity."""
    if fail_on == NEVER:
        return False
    threshold = Severity.parse(fail_on).rank
    return any(f.severity.rank >= threshold for f in result.findings)


def report_rule_errors(errors: list[str], debug: bool) -> None:
    """Tell the user some rules crashed (a bug): which ones, and the tracebacks with --debug."""
    ids = ", ".join(e.split(":", 1)[0] for e in errors)
    print(f"iacscan: {len(errors)} rule(s) failed inside iacscan ({ids}); their findings are missing.\n"
          "This is a bug in iacscan: please report it with the output of 'iacscan scan --debug'.",
          file=sys.stderr)
    if debug:
        for error in errors:
            print(error, file=sys.stderr)
    else:
        print("Run again with --debug to see the tracebacks.", file=sys.stderr)


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``scan`` and its options."""
    p = sub.add_parser("scan", parents=[common], help="scan Terraform and CloudFormation for mistakes",
                       description="Scan files and directories (default: the current directory).")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories to scan (default: .)")
    p.add_argument("--format", choices=sorted(REPORTERS), default="text", help="output format (default: text)")
    p.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    p.add_argument("--fail-on", type=str.lower, default=None,
                   choices=[s.value for s in Severity] + [NEVER],
                   help="exit 1 when a finding is at or above this severity (default: the config's "
                        "fail-on, else high; none: never)")
    add_input_options(p)
    p.add_argument("--plan", metavar="PLAN.json",
                   help="scan the planned state of 'terraform show -json' output instead of the Terraform "
                        "code it was made from (found beside the plan or among the PATHs, for file and line)")
    p.add_argument("--snapshot", metavar="FILE", help="scan the live state in FILE (written by 'iacscan snapshot'), "
                                                      "alone or with PATHs")
    p.add_argument("--live", action="store_true", help="read live AWS state (read-only calls) and scan it")
    add_live_options(p)
    add_change_options(p)
    p.add_argument("--baseline", metavar="FILE",
                   help="hide the findings listed in FILE (written by 'iacscan baseline create')")
    p.set_defaults(func=command)


def add_change_options(p: argparse.ArgumentParser) -> None:
    """Options for judging a change: pull-request mode, the pre-commit hook, the parse cache."""
    p.add_argument("--diff-base", metavar="REF",
                   help="report only what is new against git revision REF (read with git; the checkout "
                        "is not touched), and how many findings the change fixed")
    p.add_argument("--whole-module", action="store_true",
                   help="for Terraform files named as PATHs, report the findings of their whole modules "
                        "(default: only the findings located in the named files)")
    p.add_argument("--jobs", type=_jobs, metavar="N",
                   help="processes that parse Terraform files; on a large estate (3,000 groups + workloads "
                        "or more) the rules are also checked in two processes when N >= 2 (default: the "
                        "number of cores; 1: one process)")
    p.add_argument("--no-cache", action="store_true",
                   help="do not read or write the parse cache ($IACSCAN_CACHE_DIR, else "
                        "$XDG_CACHE_HOME/iacscan or ~/.cache/iacscan)")


def add_input_options(p: argparse.ArgumentParser) -> None:
    """Options that shape what a scan reads: ruleset, Terraform variables, CFN parameters."""
    p.add_argument("--ruleset", metavar="NAME|FILE", help="ruleset name (default, strict) or YAML file")
    p.add_argument("--config", metavar="FILE",
                   help="configuration file (default: .iacscan.yaml, else [tool.iacscan] in pyproject.toml, "
                        "in the scan root or the current directory)")
    p.add_argument("--var-file", action="append", metavar="FILE",
                   help="Terraform .tfvars file to apply to every module (repeatable)")
    p.add_argument("--parameters", metavar="FILE",
                   help="CloudFormation parameter values for the templates scanned")
    p.add_argument("--limit", action="append", metavar="KEY=VALUE", help=limits.help_text())


def _jobs(text: str) -> int:
    """``--jobs``: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of jobs: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("--jobs must be at least 1")
    return value
