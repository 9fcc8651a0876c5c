"""``iacscan snapshot``: read live AWS state (read-only calls) into a versioned JSON file.

The format is documented in ``iacscan.live.collect``. The standard boto3 environment
applies (``AWS_PROFILE``, ``AWS_REGION``, ``AWS_ENDPOINT_URL``, config files). A call
that is denied or fails is recorded in the snapshot's ``failures`` and the rest goes
on; a summary on standard error says how many. Exit 0 when the snapshot was written
(partial or not), 2 when nothing could be read (no credentials, no region, unknown
profile, AWS unreachable).

Permissions: only Describe*/List*/Get* calls and ``sts:GetCallerIdentity`` are made
(the list is ``iacscan.live.services``); the AWS-managed ``ReadOnlyAccess`` policy
covers all of them. What a narrower policy denies is recorded
as a failure, and ``iacscan scan`` reports it as IAC002 (not checked).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from iacscan.commands import emit
from iacscan.errors import UserError


def add_live_options(p: argparse.ArgumentParser) -> None:
    """``--region`` (repeatable), ``--all-regions`` and ``--profile``."""
    p.add_argument("--region", action="append", metavar="REGION",
                   help="AWS region to read (repeatable; default: AWS_REGION / the profile's region)")
    p.add_argument("--all-regions", action="store_true", help="read every region enabled for the account")
    p.add_argument("--profile", metavar="PROFILE", help="AWS profile to use (default: AWS_PROFILE / default)")


def take_snapshot(args: argparse.Namespace) -> dict[str, Any]:
    """Collect a snapshot as the options say; ``UserError`` when nothing can be read."""
    from iacscan.live.collect import CollectError, collect
    from iacscan.live.progress import Progress

    if args.region and args.all_regions:
        raise UserError("--region and --all-regions cannot be used together")
    try:
        snapshot = collect(args.region, all_regions=args.all_regions, profile=args.profile,
                           progress=Progress.for_stderr())
    except CollectError as exc:
        raise UserError(f"cannot read AWS: {exc}") from None
    summarise(snapshot)
    return snapshot


def summarise(snapshot: dict[str, Any]) -> None:
    """One line on standard error: regions, groups, instances, failed calls."""
    regions = snapshot.get("regions", {})
    groups = sum(len(r.get("security_groups", [])) for r in regions.values())
    instances = sum(len(r.get("instances", [])) for r in regions.values())
    failures = snapshot.get("failures", [])
    line = (f"iacscan: snapshot of account {snapshot.get('account') or 'unknown'}: {len(regions)} region(s), "
            f"{groups} security group(s), {instances} instance(s)")
    if failures:
        calls = sorted({f"{f.get('service')}:{f.get('operation')}" for f in failures})
        shown = ", ".join(calls[:5]) + (", …" if len(calls) > 5 else "")
        line += f"; {len(failures)} call(s) failed ({shown}): the snapshot is partial, see its \"failures\""
    print(line, file=sys.stderr)


def command(args: argparse.Namespace) -> int:
    """Run ``iacscan snapshot``."""
    from iacscan.live.collect import dumps

    emit(dumps(take_snapshot(args)), args.output)
    return 0


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``snapshot``."""
    p = sub.add_parser("snapshot", parents=[common], help="read live AWS state into a JSON snapshot",
                       description="Read security groups, workloads and the network of an AWS account with "
                                   "read-only calls and write them as a versioned JSON snapshot.")
    add_live_options(p)
    p.add_argument("-o", "--output", metavar="FILE", help="write the snapshot to FILE instead of standard output")
    p.set_defaults(func=command)
