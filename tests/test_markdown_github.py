"""The Markdown (PR comment / job summary) and GitHub (annotations) reports.

Hostile text is planted in every field that comes from scanned code (resource name,
message, environment from a tag, remediation, path hops, file name) and the output
is checked both as text and as rendered by a real CommonMark renderer.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from iacscan.findings import Finding, Severity
from iacscan.graph import EstateGraph
from iacscan.model import Estate
from iacscan.report import REPORTERS, github, markdown
from iacscan.scan import ScanResult

REPO = Path(__file__).resolve().parent.parent
HOSTILE = ("x](javascript:alert(1)) <img src=x onerror=alert(1)> ``` `tick` @octocat #123 "
           "http://evil.example/p www.evil.example <script>alert(2)</script> | cell |\n## Forged heading\n"
           "\r\n::set-output name=x::y </summary></details> ![i](http://evil.example/i.png) **b** $x$")
HOPS = [{"resource": f"aws_lb.{HOSTILE}", "protocol": "tcp", "ports": "443"},
        {"resource": "aws_instance.app", "protocol": "tcp", "ports": "8080"}]
DANGEROUS = ["](javascript:", "<img", "<script", "](http", "@octocat", "#123", "http://", "www.evil",
             "\n## Forged", "</summary></details>", "![i]", "**b**", "$x$"]


def _finding(rule_id: str, severity: Severity, resource: str, line: int, **kw: object) -> Finding:
    return Finding(rule_id, severity, kw.pop("title", "A title"), str(kw.pop("message", "a message")),  # type: ignore[arg-type]
                   resource, str(kw.pop("file", "main.tf")), line, **kw)  # type: ignore[arg-type]


def hostile_result() -> ScanResult:
    findings = [
        _finding("SG101", Severity.CRITICAL, f"aws_security_group.{HOSTILE}", 12,
                 message=f"tcp 22 from 0.0.0.0/0; description: {HOSTILE}", environment=HOSTILE,
                 remediation={"summary": f"Fix {HOSTILE}", "cli": f"aws ec2 revoke --group {HOSTILE}\n````\n# x"},
                 details={"peer": "0.0.0.0/0"}),
        _finding("NET302", Severity.HIGH, "aws_db_instance.main", 40, file=f"db, {HOSTILE}.tf",
                 message=f"reachable through {HOSTILE}",
                 path=["internet", f"aws_lb.{HOSTILE}", "aws_instance.app"], extra={"hops": HOPS}),
        _finding("SG106", Severity.LOW, "aws_security_group.web", 3, message="group has no description"),
    ]
    estate = Estate(root="/scan", files=["main.tf"])
    return ScanResult(Path("/scan"), estate, EstateGraph(estate), findings)


# --- Markdown ----------------------------------------------------------------------------------

def test_markdown_layout() -> None:
    out = markdown.render(hostile_result())
    lines = out.splitlines()
    assert lines[0] == "## ❌ iacscan: 3 findings"
    assert "| all findings | 1 | 1 | 0 | 1 | 0 |" in lines
    assert "### Exposure paths (1)" in lines and "### Findings (3)" in lines and "### Details" in lines
    assert "```mermaid" in lines
    table = [line for line in lines if line.startswith("| 🟥") or line.startswith("| 🟧") or line.startswith("| 🟦")]
    assert [row.split(" | ")[1] for row in table] == ["SG101", "NET302", "SG106"]  # most severe first
    assert out.count("<details><summary>") == 3 and out.count("</details>") == 3


def test_markdown_pull_request_mode() -> None:
    result = hostile_result()
    out = markdown.render(result, new=[result.findings[2]], fixed=2)
    lines = out.splitlines()
    assert lines[0] == "## ⚠️ iacscan: 1 new finding, 2 fixed"
    assert "| new | 0 | 0 | 0 | 1 | 0 |" in lines and "| all findings | 1 | 1 | 0 | 1 | 0 |" in lines
    assert "### New findings (1)" in lines and "Exposure paths" not in out
    clean = markdown.render(result, new=[], fixed=0)
    assert clean.splitlines()[0] == "## ✅ iacscan: 0 new findings, 0 fixed"
    assert "This change introduces no finding." in clean


def test_markdown_of_hostile_text_has_no_raw_dangerous_sequence() -> None:
    out = markdown.render(hostile_result())
    for needle in DANGEROUS:
        assert needle not in out, needle
    assert "**Fix:** Fix x\\]\\(javascript:alert\\(1\\)\\) &lt;img src\\=x" in out


def test_markdown_renders_inert_in_a_real_renderer() -> None:
    mdit = pytest.importorskip("markdown_it")
    md = mdit.MarkdownIt("commonmark").enable("table").enable("strikethrough")
    out = markdown.render(hostile_result())
    html = md.render(out)
    for needle in ("<img", "<script", "<a ", "href", "<strong>b</strong>", "<h2>Forged", "<em>"):
        assert needle not in html, needle
    assert html.count("<h2>") == 1 and html.count("<h3>") == 3
    assert html.count("<details>") == 3 and html.count("</details>") == 3
    tokens = md.parse(out)
    rows = sum(1 for t in tokens if t.type == "tr_open")
    cells = sum(1 for t in tokens if t.type == "td_open")
    assert rows == 2 + 4  # count table: header and one row; findings: header and three rows
    assert cells == 6 + 5 * 3  # the pipes of the hostile text split no cell
    # the hostile resource name comes back whole, as literal text inside a code span
    assert re.search(r"<code>aws_security_group\.x\]\(javascript:alert\(1\)\) &lt;img", html)


def test_markdown_of_the_demo_draws_its_paths() -> None:
    from tests.helpers import scan_path

    result = scan_path(REPO / "fixtures" / "demo")
    out = markdown.render(result)
    mermaid = out.split("```mermaid\n", 1)[1].split("\n```", 1)[0]
    assert mermaid.startswith("flowchart LR")
    assert '("aws_db_instance.prod #91;NET302, NET303#93;")' in mermaid
    assert '|"5432"|' in mermaid
    assert out == markdown.render(result)


# --- GitHub annotations --------------------------------------------------------------------------

def test_github_annotations_levels_order_and_escaping() -> None:
    result = hostile_result()
    lines = github.render(result).splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("::error file=main.tf,line=12,title=SG101 A title::aws_security_group.x](javascript")
    assert lines[1].startswith("::error file=db%2C x](javascript%3Aalert(1)) <img src=x onerror=alert(1)> ")
    assert lines[2].startswith("::notice file=main.tf,line=3,title=SG106 A title::aws_security_group.web: ")
    assert lines[3].startswith("3 findings")
    # the name's newlines cannot start a command of their own
    assert all(line.startswith("::") for line in lines[:3])
    assert "::set-output" in lines[0] and "\\x0a::set-output" in lines[0]


def test_github_workflow_command_injection_from_a_resource_name() -> None:
    evil = "aws_security_group.web\n::set-output name=x::y\r::add-mask::z%0A::error::forged"
    result = ScanResult(Path("/scan"), Estate(), EstateGraph(Estate()),
                        [_finding("SG101", Severity.HIGH, evil, 4, message=f"{evil} is open")])
    out = REPORTERS["github"](result, False)
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("::error file=main.tf,line=4,")
    assert not any(line.startswith(("::set-output", "::add-mask", "::error::forged")) for line in lines)
    assert "%250A" in lines[0]  # a literal %0A in the name stays text, not a newline


def test_github_limits_per_level_with_a_final_count() -> None:
    findings = ([_finding("SG101", Severity.CRITICAL, f"r{i:02d}", i) for i in range(1, 13)]
                + [_finding("SG102", Severity.HIGH, f"h{i:02d}", 100 + i) for i in range(1, 4)]
                + [_finding("SG105", Severity.MEDIUM, f"m{i:02d}", 200 + i) for i in range(1, 3)]
                + [_finding("SG106", Severity.LOW, f"l{i:02d}", 300 + i) for i in range(1, 13)])
    lines = github.annotation_lines(findings)
    levels = [line.split(" ", 1)[0] for line in lines]
    assert levels == ["::error"] * 10 + ["::warning"] * 2 + ["::notice"] * 9 + ["::notice"]
    assert all("SG101" in line for line in lines[:10])  # critical before high
    assert lines[-1] == ("::notice title=iacscan::8 more finding(s) were not annotated (GitHub shows 10 per "
                         "level); see the job summary or the SARIF upload")


def test_github_step_summary_is_appended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from iacscan.cli import main

    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.chdir(REPO)
    assert main(["scan", "fixtures/rules/SG101/terraform/fail", "--format", "github"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("::error file=fixtures/rules/SG101/terraform/fail/main.tf,line=")
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## ❌ iacscan: ")
    assert "### Findings (" in text


def test_github_without_step_summary_writes_nothing(tmp_path: Path) -> None:
    assert github.append_step_summary(hostile_result(), {}) is None
    target = tmp_path / "s.md"
    assert github.append_step_summary(hostile_result(), {"GITHUB_STEP_SUMMARY": str(target)}) == target
    assert target.read_text(encoding="utf-8") == markdown.render(hostile_result())


def test_markdown_of_a_scanned_hostile_resource_renders_inert() -> None:
    """End to end: a Terraform label, name, description and tag full of markup, scanned and rendered."""
    from tests.helpers import scan_path

    mdit = pytest.importorskip("markdown_it")
    result = scan_path(REPO / "fixtures" / "reports" / "hostile")
    assert [(f.rule_id, f.line) for f in result.findings] == [("SG101", 5)]
    out = markdown.render(result)
    for needle in ("](javascript:", "<img", "@octocat", "#1", "`tick`"):
        assert needle not in out, needle
    html = mdit.MarkdownIt("commonmark").enable("table").render(out)
    assert "<img" not in html and "<a " not in html and "href" not in html
    assert "javascript:alert(1)) &lt;img src=x&gt; `tick` @\u2060octocat #\u20601</code>" in html
