"""``iacscan baseline create [PATH…]``: record today's findings so that later scans hide them.

The baseline file (default ``.iacscan-baseline.json``) lists each finding's fingerprint,
rule id, resource and file, sorted; ``iacscan scan --baseline FILE`` then reports only
findings whose fingerprint it does not list. Fingerprints never contain line numbers,
so moving code does not bring baselined findings back. Findings already suppressed
inline are not recorded.
"""
from __future__ import annotations

import argparse
import json
import sys

from iacscan.commands import emit
from iacscan.commands.scan import add_input_options, run_scan
from iacscan.suppress import baseline_document

DEFAULT_FILE = ".iacscan-baseline.json"


def command(args: argparse.Namespace) -> int:
    """Scan ``PATH…`` and write the baseline of every finding."""
    result = run_scan(args)
    document = baseline_document(result.findings)
    emit(json.dumps(document, indent=2, ensure_ascii=False) + "\n", args.output)
    count = len(document["findings"])
    print(f"iacscan: wrote {count} finding(s) to {args.output}", file=sys.stderr)
    return 0


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``baseline`` and its ``create`` action."""
    p = sub.add_parser("baseline", parents=[common], help="record the current findings so later scans hide them",
                       description="Baselines: 'iacscan baseline create' writes the findings of a scan to a "
                                   "file that 'iacscan scan --baseline FILE' hides.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", parents=[common], help="scan PATHs and write the baseline file",
                                description="Scan PATHs and write every finding's fingerprint to the "
                                            "baseline file.")
    create.add_argument("paths", nargs="*", metavar="PATH", help="files or directories to scan (default: .)")
    create.add_argument("-o", "--output", metavar="FILE", default=DEFAULT_FILE,
                        help=f"the baseline file to write (default: {DEFAULT_FILE})")
    add_input_options(create)
    create.set_defaults(func=command)
