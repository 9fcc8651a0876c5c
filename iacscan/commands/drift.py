"""``iacscan drift [PATH…]``: the code (or a plan) against live AWS state or a snapshot.

Live state comes from ``--snapshot FILE`` (written by ``iacscan snapshot``) or is read
now with read-only calls (``--region``, ``--all-regions``, ``--profile``; default: the
environment's region). Only the DRIFT rules run, with IAC001/IAC002 so that unreadable
files and what could not be checked are reported (``iacscan.drift``). Output formats and
exit codes are those of ``iacscan scan``. ``--attribute`` names who made each drifted
change and when, from CloudTrail's event history (``LookupEvents``, read-only, 90 days);
``--attribute-from FILE`` reads CloudTrail files instead (``iacscan.events.attribute``).
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from iacscan.commands import existing_file, ruleset_for, scan_targets
from iacscan.commands.scan import NEVER, baseline_fingerprints, report_and_exit
from iacscan.commands.snapshot import add_live_options
from iacscan.errors import UserError
from iacscan.findings import Severity
from iacscan.model import Estate
from iacscan.report import REPORTERS
from iacscan.scan import ScanOptions, ScanResult, load_estate


def live_source(args: argparse.Namespace) -> Path | dict[str, Any]:
    """The snapshot file, or a snapshot collected now as the options say."""
    if args.snapshot:
        if args.region or args.all_regions or args.profile:
            raise UserError("--region, --all-regions and --profile read live AWS: not with --snapshot")
        return existing_file(args.snapshot, "snapshot file")
    from iacscan.commands.snapshot import take_snapshot

    return take_snapshot(args)


def run_drift(args: argparse.Namespace) -> ScanResult:
    """Load the code and live state (usage errors first), then compare them."""
    root, paths = scan_targets(args.paths)
    ruleset = ruleset_for(args.ruleset)
    options = ScanOptions(
        var_files=[existing_file(v, "var file") for v in args.var_file or []],
        parameter_file=existing_file(args.parameters, "parameters file") if args.parameters else None,
        plan=existing_file(args.plan, "plan file") if args.plan else None,
    )
    source = live_source(args)
    code = load_estate(root, paths, options)
    from iacscan.parsers.live import parse_snapshot

    from iacscan.drift import compare_estates  # only drift needs it: not imported for a scan

    live: Estate = parse_snapshot(source, str(root))
    return compare_estates(code, live, ruleset)


def command(args: argparse.Namespace) -> int:
    """Run ``iacscan drift``; exit codes as ``iacscan scan``."""
    hidden = baseline_fingerprints(args)  # a bad baseline file stops before anything is read
    result = run_drift(args)
    if getattr(args, "attribute", False) or getattr(args, "attribute_from", None):
        attribute_drift(args, result)
    return report_and_exit(result, args, hidden)


def attribute_drift(args: argparse.Namespace, result: ScanResult) -> None:
    """``--attribute``/``--attribute-from``: name who made each drifted change and when
    (``iacscan.events.attribute``); one line on standard error says how many were."""
    import datetime as dt
    import sys

    from iacscan.events.attribute import attribute, lookup_for

    if args.attribute_from:
        from iacscan.events.records import read_paths

        root, paths = scan_targets(args.attribute_from)
        read = read_paths(paths, root)
        for error in read.errors:
            print(f"iacscan: warning: {error.file}: {error.message}", file=sys.stderr)
    else:
        from iacscan.events.lookup import LookupError as CloudTrailError
        from iacscan.live.collect import SessionClients

        try:
            live = lookup_for(result, SessionClients(getattr(args, "profile", None)), dt.datetime.now(dt.timezone.utc))
        except CloudTrailError as exc:
            print(f"iacscan: warning: no attribution, cannot read CloudTrail: {exc}", file=sys.stderr)
            return
        for failure in live.failures:
            print(f"iacscan: warning: LookupEvents failed: {failure}", file=sys.stderr)
        read = live.result
    drifted = sum(1 for f in result.findings if f.rule_id.startswith("DRIFT"))
    done = attribute(result, read.records)
    print(f"iacscan: {done} of {drifted} drift finding(s) attributed to CloudTrail events", file=sys.stderr)


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``drift``."""
    p = sub.add_parser("drift", parents=[common], help="compare the code (or a plan) with live AWS state",
                       description="Compare the security groups of the code (or of a plan) with live AWS "
                                   "state: a snapshot file, or read now with read-only calls.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories of code (default: .)")
    p.add_argument("--plan", metavar="PLAN.json", help="compare the planned state of 'terraform show -json' "
                                                       "output instead of the code it was made from")
    p.add_argument("--snapshot", metavar="FILE", help="live state from FILE (written by 'iacscan snapshot')")
    add_live_options(p)
    p.add_argument("--format", choices=sorted(REPORTERS), default="text", help="output format (default: text)")
    p.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    p.add_argument("--fail-on", type=str.lower, default="high",
                   choices=[s.value for s in Severity] + [NEVER],
                   help="exit 1 when a finding is at or above this severity (default: high; none: never)")
    p.add_argument("--baseline", metavar="FILE",
                   help="hide the findings whose fingerprints FILE lists (an iacscan baseline file)")
    p.add_argument("--ruleset", metavar="NAME|FILE", help="ruleset name (default, strict) or YAML file")
    p.add_argument("--var-file", action="append", metavar="FILE",
                   help="Terraform .tfvars file to apply to every module (repeatable)")
    p.add_argument("--parameters", metavar="FILE", help="CloudFormation parameter values for the templates")
    p.add_argument("--attribute", action="store_true",
                   help="name who made each drifted change and when, from CloudTrail's event history "
                        "(LookupEvents, read-only; the last 90 days)")
    p.add_argument("--attribute-from", action="append", metavar="FILE",
                   help="as --attribute, from CloudTrail files or directories instead (repeatable)")
    p.set_defaults(func=command)
