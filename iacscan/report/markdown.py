"""The Markdown report: a pull-request comment or a GitHub job summary.

Layout: a headline, the counts by severity, the exposure paths (a Mermaid diagram and
one line per path), a table of findings (most severe first) and the details of each
finding in a collapsible ``<details>`` section.

Every piece of text that comes from scanned code (resource names, messages, file
names, remediation) goes through ``iacscan.report.escape``: inline text is escaped
for Markdown and HTML, code spans and fences are longer than any backtick run they
hold, ``@mentions``, ``#123`` references and autolinks are defused, and Mermaid
labels are entity-encoded by the graph renderer. Nothing from scanned code can
become a link, an image, an HTML element, a mention or a new section.

Pull-request mode passes ``new`` (the findings the change introduces) and ``fixed``
(how many findings of the base the change removed); without ``new`` every finding is
shown as the current state.
"""
from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from iacscan.findings import Finding, Severity
from iacscan.report import SEVERITY_ORDER, summary
from iacscan.report.escape import defuse, html_text, markdown_code, markdown_fence, markdown_text
from iacscan.report.graph_formats import INTERNET, Picture, PEdge, PNode, to_mermaid
from iacscan.report.text import path_text

if TYPE_CHECKING:
    from iacscan.scan import ScanResult

#: A GitHub comment holds at most 65,536 characters; stay well below.
MAX_CHARS = 60_000
MAX_ROWS = 100
MAX_DETAILS = 25
MAX_PATHS = 20
_ICONS = {Severity.CRITICAL: "🟥", Severity.HIGH: "🟧", Severity.MEDIUM: "🟨", Severity.LOW: "🟦",
          Severity.INFO: "⬜"}


def render(result: ScanResult, *, new: list[Finding] | None = None, fixed: int = 0) -> str:
    """The Markdown report of ``result``.

    ``new`` (pull-request mode): the findings the change introduces; the headline,
    paths, table and details then show only those, and ``fixed`` says how many
    findings the change removed. Without ``new`` all findings are shown.
    """
    diff = new is not None
    shown = most_severe_first(new if new is not None else result.findings)
    head = _headline(result, shown, diff, fixed) + _counts(result, shown, diff)
    paths = _paths_section(shown, diff)
    table = _table(shown, diff)
    for details in range(min(MAX_DETAILS, len(shown)), -1, -1):
        text = "\n".join([*head, *paths, *table, *_details(shown, details)]).rstrip("\n") + "\n"
        if len(text) <= MAX_CHARS or details == 0:
            return text
    raise AssertionError("unreachable")


def most_severe_first(findings: list[Finding]) -> list[Finding]:
    """Findings by severity (critical first), then in the report order (file, line, rule)."""
    return sorted(findings, key=lambda f: (-f.severity.rank, f.sort_key()))


def _headline(result: ScanResult, shown: list[Finding], diff: bool, fixed: int) -> list[str]:
    noun = "new finding" if diff else "finding"
    count = f"{len(shown)} {noun}{'' if len(shown) == 1 else 's'}"
    if diff:
        count += f", {fixed} fixed"
    icon = "✅" if not shown else "❌" if any(f.severity.rank >= Severity.HIGH.rank for f in shown) else "⚠️"
    return [f"## {icon} iacscan: {count}", ""]


def _counts(result: ScanResult, shown: list[Finding], diff: bool) -> list[str]:
    info = summary(result)
    rows = ["| | " + " | ".join(f"{_ICONS[s]} {s.value}" for s in SEVERITY_ORDER) + " |",
            "|---|" + "---:|" * len(SEVERITY_ORDER)]
    if diff:
        rows.append(_count_row("new", Counter(f.severity for f in shown)))
    rows.append(_count_row("all findings", Counter(f.severity for f in result.findings)))
    scanned = (f"Scanned {_plural(info['files'], 'file')}: {_plural(info['security_groups'], 'security group')}, "
               f"{_plural(info['workloads'], 'workload')}.")
    hidden = []
    if info.get("suppressed"):
        hidden.append(f"{info['suppressed']} suppressed inline")
    if info.get("baselined"):
        hidden.append(f"{info['baselined']} hidden by the baseline")
    if hidden:
        scanned += " Not shown: " + ", ".join(hidden) + "."
    return [*rows, "", scanned, ""]


def _count_row(label: str, counts: Counter[Severity]) -> str:
    return f"| {label} | " + " | ".join(str(counts.get(s, 0)) for s in SEVERITY_ORDER) + " |"


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# ---------------------------------------------------------------- exposure paths


def _paths_section(shown: list[Finding], diff: bool) -> list[str]:
    with_paths = [f for f in shown if f.path][:MAX_PATHS]
    if not with_paths:
        return []
    title = "New exposure paths" if diff else "Exposure paths"
    lines = [f"### {title} ({len([f for f in shown if f.path])})", "",
             markdown_fence(to_mermaid(paths_picture(with_paths)).rstrip("\n"), "mermaid"), ""]
    for finding in with_paths:
        lines.append(f"- {_ICONS[finding.severity]} **{markdown_text(finding.rule_id)}** "
                     f"{code(finding.resource)}: {markdown_text(path_text(finding))}")
    if len(with_paths) < len([f for f in shown if f.path]):
        lines.append(f"- … and {len([f for f in shown if f.path]) - len(with_paths)} more (see the table)")
    return [*lines, ""]


def paths_picture(findings: list[Finding]) -> Picture:
    """A graph picture holding only the paths of ``findings`` (nodes by address, edges by hop).

    Labels are defused (no autolink survives in them); ``to_mermaid`` entity-encodes them.
    """
    pic = Picture()
    pic.nodes[INTERNET] = PNode(INTERNET, "internet", INTERNET)
    for finding in findings:
        hops = {str(h.get("resource")): h for h in finding.extra.get("hops", []) if isinstance(h, dict)}
        steps = [str(step) for step in finding.path]
        for step in steps:
            pic.nodes.setdefault(step, PNode(step, "workload", defuse(step)))
        target = pic.nodes[steps[-1]]
        if finding.rule_id not in target.rules:
            target.rules.append(finding.rule_id)
        if not target.severity or finding.severity.rank > Severity(target.severity).rank:
            target.severity = finding.severity.value
        for a, b in zip(steps, steps[1:]):
            label = defuse(_hop_label(hops.get(b, {})))
            if not any(e.source == a and e.target == b and e.label == label for e in pic.edges):
                pic.edges.append(PEdge(a, b, "path", label, rules=[finding.rule_id]))
    return pic


def _hop_label(hop: dict[str, object]) -> str:
    protocol, ports = hop.get("protocol"), hop.get("ports")
    if protocol == "all":
        return "all"
    if ports in (None, ""):
        return "" if protocol in (None, "", "tcp") else str(protocol)
    return str(ports) if protocol in (None, "", "tcp") else f"{protocol}/{ports}"


# ---------------------------------------------------------------- findings


def _table(shown: list[Finding], diff: bool) -> list[str]:
    title = "New findings" if diff else "Findings"
    if not shown:
        return [f"### {title}", "", "No findings." if not diff else "This change introduces no finding.", ""]
    lines = [f"### {title} ({len(shown)})", "", "| Severity | Rule | Resource | Location | Message |",
             "|---|---|---|---|---|"]
    for finding in shown[:MAX_ROWS]:
        lines.append(" | ".join([
            f"| {_ICONS[finding.severity]} {finding.severity.value}",
            markdown_text(finding.rule_id),
            code(finding.resource),
            code(_where(finding)),
            markdown_text(finding.message) + " |",
        ]))
    if len(shown) > MAX_ROWS:
        lines += ["", f"… and {len(shown) - MAX_ROWS} more findings: run iacscan locally or see the SARIF "
                      "upload for the full list."]
    return [*lines, ""]


def _where(finding: Finding) -> str:
    if not finding.file:
        return "(no file)"
    return f"{finding.file}:{finding.line}" if finding.line > 0 else finding.file


def _details(shown: list[Finding], limit: int) -> list[str]:
    if limit <= 0:
        return [] if not shown else [f"_Details omitted to keep this comment short ({len(shown)} findings)._", ""]
    lines = ["### Details", ""]
    for finding in shown[:limit]:
        lines.extend(_detail(finding))
    if len(shown) > limit:
        lines += [f"_Details of {len(shown) - limit} more findings omitted._", ""]
    return lines


def _detail(finding: Finding) -> list[str]:
    summary_line = html_text(f"{finding.severity.value.upper()} {finding.rule_id} {finding.resource} "
                             f"({_where(finding)})")
    lines = [f"<details><summary>{summary_line}</summary>", "",
             f"**{markdown_text(finding.title)}**: {markdown_text(finding.message)}", ""]
    facts = [("Resource", code(finding.resource)), ("Location", code(_where(finding)))]
    if finding.environment:
        facts.append(("Environment", markdown_text(finding.environment)))
    if finding.path:
        facts.append(("Path", markdown_text(path_text(finding))))
    facts.append(("Fingerprint", markdown_code(finding.fingerprint)))
    lines.extend(f"- {name}: {value}" for name, value in facts)
    lines.append("")
    fix = finding.remediation.get("summary")
    if fix:
        lines += [f"**Fix:** {markdown_text(fix)}", ""]
    lines += [f"How to fix it in the console, the AWS CLI, boto3, Terraform and CloudFormation: "
              f"{markdown_code('iacscan rules ' + finding.rule_id)}", ""]
    return [*lines, "</details>", ""]


def code(text: str) -> str:
    """Scanned text shown in a monospace font: ``<code>`` around escaped Markdown text.

    Not a backtick code span, whose content would stay raw in the Markdown source:
    this way the source holds no raw ``<``, ``[`` or ``|`` from scanned code at all.
    """
    return f"<code>{markdown_text(text)}</code>"
