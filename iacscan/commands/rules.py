"""``iacscan rules [ID]``: the rule catalogue, one rule's documentation, or the Markdown docs."""
from __future__ import annotations

import argparse

from iacscan.commands import emit
from iacscan.errors import UserError
from iacscan.rules.base import RuleMeta, iter_rules


def command(args: argparse.Namespace) -> int:
    """Print the table of rules, one rule (``ID``), or Markdown (``--format markdown``)."""
    from iacscan.report.ruledoc import catalogue_markdown, rule_markdown, rule_text  # not for a scan

    metas = [r.meta for r in iter_rules()]
    if args.rule_id:
        meta = find(metas, args.rule_id)
        text = rule_markdown(meta) + "\n" if args.format == "markdown" else rule_text(meta)
    elif args.format == "markdown":
        text = catalogue_markdown(metas)
    else:
        text = table(metas)
    emit(text, args.output)
    return 0


def find(metas: list[RuleMeta], rule_id: str) -> RuleMeta:
    """The rule with this id (case-insensitive); ``UserError`` when there is none."""
    for meta in metas:
        if meta.id.upper() == rule_id.upper():
            return meta
    from iacscan.report.escape import terminal

    raise UserError(f"unknown rule id {terminal(rule_id)!r}: run 'iacscan rules' for the list")


def table(metas: list[RuleMeta]) -> str:
    """Rule id, default severity and title, one rule per line, aligned."""
    if not metas:
        return "No rules are registered.\n"
    width = max(len(m.id) for m in metas)
    rows = [f"{'ID':<{width}}  {'SEVERITY':<8}  TITLE"]
    rows.extend(f"{m.id:<{width}}  {m.severity.value:<8}  {m.title}" for m in metas)
    return "\n".join(rows) + "\n"


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register ``rules``."""
    p = sub.add_parser("rules", parents=[common], help="list the rules or show one rule's documentation",
                       description="Without ID: every rule. With ID: its documentation and remediation.")
    p.add_argument("rule_id", nargs="?", metavar="ID", help="a rule id such as SG101")
    p.add_argument("--format", choices=["text", "markdown"], default="text",
                   help="text (default) or markdown (the catalogue in docs/rules.md)")
    p.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(func=command)
