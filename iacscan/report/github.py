"""The GitHub Actions report: workflow-command annotations plus the job summary.

Each finding becomes one ``::error``/``::warning``/``::notice`` line (critical and high →
error, medium → warning, low and info → notice) with its file, line and a title, most
severe first. GitHub shows at most 10 annotations of each level per step, so at most
10 are printed per level and a last notice says how many were left out. A summary line
ends the log. The Markdown report is appended to the file named by
``$GITHUB_STEP_SUMMARY`` when that variable is set (``append_step_summary``).

Text from scanned code is escaped for workflow commands (``escape.workflow_message`` /
``workflow_property``): it can never end the line and start a command of its own.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from iacscan.findings import Finding, Severity
from iacscan.report.escape import workflow_message, workflow_property
from iacscan.report.markdown import most_severe_first
from iacscan.report.text import summary_line

if TYPE_CHECKING:
    from iacscan.scan import ScanResult

LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
          Severity.LOW: "notice", Severity.INFO: "notice"}
#: GitHub displays at most this many annotations of each level per step.
PER_LEVEL = 10
STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


def render(result: ScanResult, findings: list[Finding] | None = None) -> str:
    """The annotation lines of ``findings`` (default: all of the result) and a summary line."""
    lines = annotation_lines(result.findings if findings is None else findings)
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"


def annotation_lines(findings: list[Finding]) -> list[str]:
    """One workflow command per finding, most severe first, within GitHub's per-level limit."""
    by_level: dict[str, list[Finding]] = {"error": [], "warning": [], "notice": []}
    for finding in most_severe_first(findings):
        by_level[LEVELS[finding.severity]].append(finding)
    left_out = 0
    lines: list[str] = []
    for level, items in by_level.items():
        room = PER_LEVEL
        if level == "notice":
            overflow = sum(max(0, len(v) - PER_LEVEL) for k, v in by_level.items() if k != "notice")
            if overflow or len(items) > PER_LEVEL:
                room = PER_LEVEL - 1  # keep one notice for the count of what was left out
        lines.extend(annotation(f, level) for f in items[:room])
        left_out += max(0, len(items) - room)
    if left_out:
        lines.append(f"::notice title=iacscan::{left_out} more finding(s) were not annotated "
                     "(GitHub shows 10 per level); see the job summary or the SARIF upload")
    return lines


def annotation(finding: Finding, level: str) -> str:
    """``::level file=…,line=…,title=…::message`` for one finding."""
    props = []
    if finding.file:
        props.append(f"file={workflow_property(finding.file)}")
        if finding.line > 0:
            props.append(f"line={finding.line}")
    props.append(f"title={workflow_property(f'{finding.rule_id} {finding.title}')}")
    message = f"{finding.resource}: {finding.message}"
    fix = finding.remediation.get("summary")
    if fix:
        message += f" Fix: {fix}"
    return f"::{level} {','.join(props)}::{workflow_message(message)}"


def append_step_summary(result: ScanResult, environ: Mapping[str, str] | None = None,
                        *, new: list[Finding] | None = None, fixed: int = 0) -> Path | None:
    """Append the Markdown report to ``$GITHUB_STEP_SUMMARY`` when it is set; the file written.

    Raises ``OSError`` when the file cannot be written.
    """
    target = (os.environ if environ is None else environ).get(STEP_SUMMARY)
    if not target:
        return None
    from iacscan.report.markdown import render as markdown

    path = Path(target)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(markdown(result, new=new, fixed=fixed))
    return path
