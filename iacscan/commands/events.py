"""``iacscan events FILE…`` / ``iacscan events --live``: judge CloudTrail security-group events.

Records come from CloudTrail files (log files, gzipped or not, ``aws cloudtrail
lookup-events`` output, or directories of them; ``iacscan.events.records``) or, with
``--live``, from CloudTrail's event history (``iacscan.events.lookup``, read-only). The
security-group events become the model (``iacscan.events.to_model``) and the rules of
``iacscan.events.EVENT_RULES`` judge them: a finding is located at the event that did it
(its time, actor, source IP, region and id are in the report). Records that are malformed,
of another service, failed calls or older than ``--since`` are counted and skipped; one
line on standard error says how many and why, and the JSON ``summary.events`` holds the
counts. Exit codes are those of ``iacscan scan``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from iacscan.commands import ruleset_for, scan_targets
from iacscan.commands.scan import NEVER, baseline_fingerprints, report_and_exit
from iacscan.commands.snapshot import add_live_options
from iacscan.errors import UserError
from iacscan.findings import Severity
from iacscan.report import REPORTERS
from iacscan.scan import ScanResult, run_rules

if TYPE_CHECKING:
    from iacscan.events.records import ReadResult

DEFAULT_LIVE_SINCE = "7d"


def since_of(args: argparse.Namespace, now: dt.datetime) -> dt.datetime | None:
    """The ``--since`` time (``--live`` without it: the last 7 days)."""
    from iacscan.events.lookup import parse_since

    text = args.since or (DEFAULT_LIVE_SINCE if args.live else None)
    if text is None:
        return None
    try:
        return parse_since(text, now)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def check_options(args: argparse.Namespace) -> None:
    """FILEs or ``--live`` (not both, not neither); region/profile options need ``--live``."""
    if args.live and args.paths:
        raise UserError("name CloudTrail files or use --live, not both")
    if not args.live and not args.paths:
        raise UserError("name CloudTrail files or directories (or use --live to read CloudTrail's event history)")
    if not args.live:
        for flag, value in (("--region", args.region), ("--profile", args.profile),
                            ("--all-regions", args.all_regions)):
            if value:
                raise UserError(f"{flag} only applies with --live")
    if args.region and args.all_regions:
        raise UserError("--region and --all-regions cannot be used together")


def read_events(args: argparse.Namespace, now: dt.datetime) -> tuple[Path, ReadResult]:
    """The scan root and the records the options ask for."""
    since = since_of(args, now)
    if not args.live:
        from iacscan.events.records import read_paths

        root, paths = scan_targets(args.paths)
        return root, read_paths(paths, root, since)
    from iacscan.events.lookup import LookupError as CloudTrailError, read_live
    from iacscan.live.collect import CollectError, SessionClients

    clients = SessionClients(args.profile)
    try:
        regions = live_regions(clients, args.region, args.all_regions)
        read = read_live(clients, regions, since or now, now)
    except (CollectError, CloudTrailError) as exc:
        raise UserError(f"cannot read CloudTrail: {exc}") from None
    for failure in read.failures:
        print(f"iacscan: warning: LookupEvents failed: {failure}", file=sys.stderr)
    return scan_targets([])[0], read.result


def live_regions(clients: object, regions: list[str] | None, all_regions: bool) -> list[str]:
    """The regions asked for, every enabled one (``--all-regions``), else the environment's."""
    from iacscan.live.collect import CollectError, SessionClients, enabled_regions

    if regions:
        return sorted(set(regions))
    default = clients.default_region() if isinstance(clients, SessionClients) else None
    if all_regions:
        return enabled_regions(clients, default or "us-east-1")  # type: ignore[arg-type]
    if not default:
        raise CollectError("no AWS region: pass --region REGION (or --all-regions), or set AWS_REGION")
    return [default]


def run_events(args: argparse.Namespace, now: dt.datetime | None = None) -> ScanResult:
    """Read the records, build the model and run the event rules."""
    from iacscan.events import events_ruleset  # the events modules: only for this command
    from iacscan.events.attribute import mark_revoked
    from iacscan.events.to_model import build_estate

    check_options(args)
    ruleset = events_ruleset(ruleset_for(args.ruleset))
    root, read = read_events(args, now or dt.datetime.now(dt.timezone.utc))
    estate = build_estate(read.sorted_records(), str(root))
    estate.files = sorted(set(read.files))
    estate.errors.extend(read.errors)
    result = run_rules(estate, ruleset)
    mark_revoked(result, read.records)
    setattr(result, "events", read.summary())  # the JSON report's summary.events
    message = read.message()
    if message:
        print(f"iacscan: {message}", file=sys.stderr)
    return result


def command(args: argparse.Namespace) -> int:
    """Run ``iacscan events``; exit codes as ``iacscan scan``."""
    hidden = baseline_fingerprints(args)
    result = run_events(args)
    return report_and_exit(result, args, hidden)


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``events``."""
    p = sub.add_parser("events", parents=[common], help="judge CloudTrail security-group events",
                       description="Judge the security-group changes that CloudTrail recorded (CloudTrail log "
                                   "files, gzipped or not, 'aws cloudtrail lookup-events' output, or the event "
                                   "history read now with --live) with the security-group rules.")
    p.add_argument("paths", nargs="*", metavar="FILE", help="CloudTrail files or directories of them")
    p.add_argument("--live", action="store_true",
                   help="read CloudTrail's event history with LookupEvents (read-only; 90 days at most)")
    add_live_options(p)
    p.add_argument("--since", metavar="WHEN",
                   help="only events from WHEN on: 7d, 24h, 30m or a date (2026-11-01); default with --live: 7d")
    p.add_argument("--format", choices=sorted(REPORTERS), default="text", help="output format (default: text)")
    p.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    p.add_argument("--fail-on", type=str.lower, default="high",
                   choices=[s.value for s in Severity] + [NEVER],
                   help="exit 1 when a finding is at or above this severity (default: high; none: never)")
    p.add_argument("--baseline", metavar="FILE",
                   help="hide the findings whose fingerprints FILE lists (an iacscan baseline file)")
    p.add_argument("--ruleset", metavar="NAME|FILE", help="ruleset name (default, strict) or YAML file")
    p.set_defaults(func=command)
