"""The command line: ``main(argv) -> int`` and the one place exceptions become exit codes.

Exit codes: 0 nothing at or above ``--fail-on``; 1 findings at or above it; 2 a usage
error (bad option, missing path, unknown rule id, bad ruleset); 3 iacscan itself failed
(an internal exception, or a rule that raised); 130 interrupted. A traceback is printed
only with ``--debug``.
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from iacscan import __version__
from iacscan.commands import baseline, drift, events, graph, rules, scan, snapshot
from iacscan.errors import UserError
from iacscan.ruleset import RulesetError

EXIT_USAGE, EXIT_BUG, EXIT_INTERRUPTED = 2, 3, 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="iacscan",
        description="Find AWS network-security mistakes in Terraform and CloudFormation.",
    )
    parser.add_argument("--version", action="version", version=f"iacscan {__version__}")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks of internal errors")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=False)
    for module in (scan, rules, graph, snapshot, drift, events, baseline):
        module.add_parser(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run iacscan with ``argv`` (default: the process arguments) and return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # argparse: --help/--version (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if not getattr(args, "func", None):
        parser.print_usage(sys.stderr)
        names = ", ".join(_command_names(parser))
        print(f"iacscan: error: a command is required ({names})", file=sys.stderr)
        return EXIT_USAGE
    args.debug = getattr(args, "debug", False)
    return run(args)


def entry() -> None:
    """The program's entry point (the ``iacscan`` console script and ``python -m iacscan``):
    ``main``, then leave without tearing the interpreter down.

    A large scan holds millions of objects; releasing them one by one at exit took ~0.16 s
    on the L benchmark estate, for nothing: the system reclaims a process's memory at once.
    Standard output and error are flushed first (nothing else is left open: output files are
    written and closed by then). ``main`` itself returns normally, for callers in-process."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # the reader went away, or the stream is closed
            pass
    os._exit(code)


def _command_names(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def run(args: argparse.Namespace) -> int:
    """Call the subcommand; map what it raises to an exit code and a short message."""
    try:
        return int(args.func(args))
    except (UserError, RulesetError) as exc:
        print(f"iacscan: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("iacscan: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `iacscan rules | head -3`: the reader went away
        _silence_stdout()
        return 0
    except Exception as exc:  # noqa: BLE001 - the one place internal errors are caught
        print(f"iacscan: internal error: {type(exc).__name__}: {exc}\n"
              "This is a bug in iacscan: please report it with the output of the same command "
              "and --debug.", file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        else:
            print("Run again with --debug to see the traceback.", file=sys.stderr)
        return EXIT_BUG


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
