"""``iacscan scan [PATH…]``: scan files and directories, report, and decide the exit code."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from iacscan.commands import emit, existing_file, ruleset_for, scan_targets, use_color
from iacscan.commands.snapshot import add_live_options
from iacscan.errors import UserError
from iacscan.findings import Severity
from iacscan.report import REPORTERS
from iacscan.scan import ScanOptions, ScanResult, scan

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
    """
    live = getattr(args, "live", False)
    check_live_options(args)
    paths: list[Path]
    if (live or getattr(args, "snapshot", None)) and not args.paths:
        root, paths = scan_targets([])[0], []
    else:
        root, paths = scan_targets(args.paths)
    ruleset = ruleset_for(args.ruleset)
    options = options_from(args)
    if live:
        from iacscan.commands.snapshot import take_snapshot

        options.live = take_snapshot(args)
    return scan(root, paths, ruleset, options)


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
    result = run_scan(args)
    render = REPORTERS[args.format]
    emit(render(result, use_color(args.output)), args.output)
    if args.format == "github":
        step_summary(result)
    if result.rule_errors:
        report_rule_errors(result.rule_errors, debug=args.debug)
        return EXIT_BUG
    return EXIT_FINDINGS if fails(result, args.fail_on) else EXIT_CLEAN


def step_summary(result: ScanResult) -> None:
    """``--format github``: append the Markdown report to ``$GITHUB_STEP_SUMMARY`` when set."""
    from iacscan.report.github import append_step_summary

    try:
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
    p.add_argument("--fail-on", type=str.lower, default="high",
                   choices=[s.value for s in Severity] + [NEVER],
                   help="exit 1 when a finding is at or above this severity (default: high; none: never)")
    add_input_options(p)
    p.add_argument("--plan", metavar="PLAN.json",
                   help="scan the planned state of 'terraform show -json' output instead of the Terraform "
                        "code it was made from (found beside the plan or among the PATHs, for file and line)")
    p.add_argument("--snapshot", metavar="FILE", help="scan the live state in FILE (written by 'iacscan snapshot'), "
                                                      "alone or with PATHs")
    p.add_argument("--live", action="store_true", help="read live AWS state (read-only calls) and scan it")
    add_live_options(p)
    p.set_defaults(func=command)


def add_input_options(p: argparse.ArgumentParser) -> None:
    """Options that shape what a scan reads: ruleset, Terraform variables, CFN parameters."""
    p.add_argument("--ruleset", metavar="NAME|FILE", help="ruleset name (default, strict) or YAML file")
    p.add_argument("--var-file", action="append", metavar="FILE",
                   help="Terraform .tfvars file to apply to every module (repeatable)")
    p.add_argument("--parameters", metavar="FILE",
                   help="CloudFormation parameter values for the templates scanned")
