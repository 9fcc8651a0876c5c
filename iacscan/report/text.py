"""The terminal report: findings grouped by file, then a one-line summary.

Every string that comes from scanned code (file names, resources, messages, paths,
remediation) goes through ``escape.terminal`` so it cannot drive the terminal.
Colour (severity only) is applied when the caller says the output is a terminal.
"""
from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING, Any

from iacscan.findings import Finding, Severity
from iacscan.model import ParseError
from iacscan.report import SEVERITY_ORDER, sorted_findings, summary
from iacscan.report.escape import terminal

if TYPE_CHECKING:
    from iacscan.scan import ScanResult

NO_FILE = "(no file)"
_COLOURS = {
    Severity.CRITICAL: "\x1b[1;31m", Severity.HIGH: "\x1b[31m", Severity.MEDIUM: "\x1b[33m",
    Severity.LOW: "\x1b[36m", Severity.INFO: "\x1b[2m",
}
_BOLD, _RESET = "\x1b[1m", "\x1b[0m"


def render(result: ScanResult, color: bool = False) -> str:
    """The whole text report."""
    findings = sorted_findings(result)
    lines: list[str] = []
    for file, group in groupby(findings, key=lambda f: f.file):
        lines.append(_paint(terminal(file or NO_FILE), _BOLD, color))
        for finding in group:
            lines.extend(finding_lines(finding, color))
        lines.append("")
    lines.extend(_error_lines(result.estate.errors, findings))
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"


def finding_lines(finding: Finding, color: bool = False) -> list[str]:
    """A finding's line, then its path and fix (indented under it)."""
    severity = _paint(f"{finding.severity.value.upper():<8}", _COLOURS[finding.severity], color)
    line = str(finding.line) if finding.line > 0 else "-"
    head = "  ".join([
        f"  {line:>4}", severity, f"{terminal(finding.rule_id):<6}",
        terminal(finding.resource), terminal(finding.message),
    ])
    lines = [head]
    event = event_text(finding)
    if event:
        lines.append(f"        event: {terminal(event)}")
    path = path_text(finding)
    if path:
        lines.append(f"        path: {terminal(path)}")
    fix = finding.remediation.get("summary")
    if fix:
        lines.append(f"        fix:  {terminal(fix)}")
    return lines


def event_text(finding: Finding) -> str:
    """The CloudTrail event a finding is located at (``iacscan events``) or attributed to
    (``iacscan drift --attribute``): ``AuthorizeSecurityGroupIngress at 2026-11-20T10:02:03Z
    by arn:aws:iam::111122223333:user/alice from 203.0.113.9 (eu-west-1, event e0…)``; "" for others."""
    extra = finding.extra
    if not extra.get("event_id"):
        return ""
    text = f"{extra.get('event_name') or 'event'} at {extra.get('event_time') or '?'} by {extra.get('actor') or '?'}"
    if extra.get("source_ip"):
        text += f" from {extra['source_ip']}"
    where = ", ".join(str(v) for v in (extra.get("region"), f"event {extra['event_id']}") if v)
    revoked = extra.get("revoked")
    later = (f"; revoked at {revoked.get('event_time')} by {revoked.get('actor')}"
             if isinstance(revoked, dict) else "")
    return f"{text} ({where}){later}"


def path_text(finding: Finding) -> str:
    """The finding's path with each hop's ports: ``internet -> aws_lb.web:443 -> aws_instance.app:8080``.

    ``extra["hops"]`` describe the last steps of ``path`` (a path from the internet has
    one hop per workload; a path between environments starts at a workload without
    one). Without a path, the hops are drawn from the internet; hops that do not match
    the path are ignored.
    """
    path = [str(step) for step in finding.path]
    hops = finding.extra.get("hops")
    if not isinstance(hops, list) or not hops or not all(isinstance(h, dict) for h in hops):
        return " -> ".join(path)
    if not path:
        return " -> ".join(["internet", *(_hop(h) for h in hops)])
    offset = len(path) - len(hops)
    if offset < 0 or any(path[offset + i] != str(h.get("resource")) for i, h in enumerate(hops)):
        return " -> ".join(path)
    return " -> ".join([*path[:offset], *(_hop(h) for h in hops)])


def _hop(hop: dict[str, Any]) -> str:
    resource, protocol, ports = hop.get("resource", "?"), hop.get("protocol"), hop.get("ports")
    if protocol == "all":
        return f"{resource}:all"
    if ports in (None, ""):
        return str(resource)
    return f"{resource}:{ports}" if protocol in (None, "", "tcp") else f"{resource}:{protocol}/{ports}"


def _error_lines(errors: list[ParseError], findings: list[Finding]) -> list[str]:
    """Parse errors not already shown as an IAC001 finding at the same place."""
    shown = {(f.file, f.line) for f in findings if f.rule_id == "IAC001"}
    missing = [e for e in errors if (e.file, e.line) not in shown]
    if not missing:
        return []
    lines = [f"{len(missing)} file(s) could not be parsed:"]
    lines.extend(f"  {terminal(e.file)}:{e.line}: {terminal(e.message)}" for e in missing)
    return [*lines, ""]


def summary_line(result: ScanResult) -> str:
    """``N findings (critical: a, high: b) in F files, G security groups, W workloads``."""
    counts = summary(result)
    by_sev = counts["by_severity"]
    total = sum(by_sev.values())
    parts = ", ".join(f"{s.value}: {by_sev[s.value]}" for s in SEVERITY_ORDER if by_sev[s.value])
    noun = "finding" if total == 1 else "findings"
    head = f"{total} {noun} ({parts})" if parts else f"{total} {noun}"
    return (f"{head} in {_count(counts['files'], 'file')}, "
            f"{_count(counts['security_groups'], 'security group')}, "
            f"{_count(counts['workloads'], 'workload')}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text
