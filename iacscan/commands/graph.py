"""``iacscan graph [PATH…]``: the picture of groups, workloads, environments and internet paths.

The rendering lives in ``iacscan.report.graph_formats.render_graph``; this command only
scans and hands the result over. A build without that module says so (exit 2).
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from iacscan.commands import emit
from iacscan.commands.scan import add_input_options, run_scan
from iacscan.errors import UserError

if TYPE_CHECKING:
    from iacscan.scan import ScanResult

FORMATS = ("dot", "mermaid", "json")
_MODULE = "iacscan.report.graph_formats"


def renderer() -> Callable[[ScanResult, str, str | None], str]:
    """``render_graph``, imported only when asked for; ``UserError`` when absent from this build."""
    try:
        from iacscan.report.graph_formats import render_graph
    except ModuleNotFoundError as exc:
        if exc.name != _MODULE:
            raise  # the module exists but something it imports is missing: a bug
        raise UserError("graph output is not available in this build") from None
    return render_graph


def command(args: argparse.Namespace) -> int:
    """Scan ``PATH…`` and print the graph in the chosen format."""
    render = renderer()
    result = run_scan(args)
    emit(render(result, args.format, args.focus), args.output)
    return 0


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``graph``."""
    p = sub.add_parser("graph", parents=[common], help="draw groups, workloads and internet paths",
                       description="Scan PATHs and print the graph of groups, workloads, "
                                   "environments and internet paths.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories to scan (default: .)")
    p.add_argument("--format", choices=FORMATS, default="dot", help="dot (default), mermaid or json")
    p.add_argument("--focus", metavar="RESOURCE", help="only what touches this resource address")
    p.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    add_input_options(p)
    p.set_defaults(func=command)
