"""The command line: exit codes, options, messages (run in-process through ``main``).

Rules registered here (``temp_rule``) are real rules in the real registry, removed again
after each test; they make the findings of a scan exact without depending on which
other rules exist.
"""
from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from iacscan import __version__
from iacscan.cli import main
from iacscan.commands import use_color
from iacscan.findings import Finding, Severity
from iacscan.model import Location
from iacscan.rules.base import REGISTRY, Context, Remediation, rule

REPO = Path(__file__).resolve().parent.parent
BROKEN_TF = 'resource "aws_security_group" "broken" {\n  ingress {\n'

AddRule = Callable[..., None]


@pytest.fixture
def temp_rule() -> Iterator[AddRule]:
    """Register rules for one test: ``add(id, severity, behaviour)``; removed afterwards.

    behaviour: ``"find"`` yields one finding (main.tf line 3), ``"raise"`` raises
    RuntimeError, ``"interrupt"`` raises KeyboardInterrupt, ``"garbage"`` yields a
    value that is not a Finding (a bug that escapes the per-rule guard).
    """
    added: list[str] = []

    def add(rule_id: str, severity: Severity = Severity.MEDIUM, behaviour: str = "find") -> None:
        @rule(rule_id, "Temporary test rule", severity, "sg", Remediation("Do the temporary fix"))
        def check(ctx: Context) -> Iterator[Finding]:
            """What it finds: nothing real; registered by tests/test_cli.py."""
            if behaviour == "raise":
                raise RuntimeError("boom from a test rule")
            if behaviour == "interrupt":
                raise KeyboardInterrupt
            if behaviour == "garbage":
                yield "not a finding"  # type: ignore[misc]
                return
            yield ctx.finding(resource="aws_security_group.temp", uid=".#aws_security_group.temp",
                              location=Location("main.tf", 3), message="temporary finding")

        added.append(rule_id)

    yield add
    for rule_id in added:
        REGISTRY.pop(rule_id, None)


@pytest.fixture
def empty_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory with nothing to scan, as the current directory."""
    (tmp_path / "notes.txt").write_text("nothing to see\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- exit codes -------------------------------------------------------------------------------

def test_clean_scan_exits_0(empty_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "scan")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "0 findings in 0 files, 0 security groups, 0 workloads"


@pytest.mark.parametrize("fail_on, expected", [
    (None, 0), ("high", 0), ("CRITICAL", 0), ("medium", 1), ("low", 1), ("info", 1), ("none", 0)])
def test_fail_on_threshold(empty_dir: Path, temp_rule: AddRule, capsys: pytest.CaptureFixture[str],
                           fail_on: str | None, expected: int) -> None:
    temp_rule("TST901", Severity.MEDIUM)
    code, out, _ = run(capsys, "scan", *(["--fail-on", fail_on] if fail_on else []))
    assert code == expected
    assert "     3  MEDIUM    TST901  aws_security_group.temp  temporary finding" in out.splitlines()
    assert "        fix:  Do the temporary fix" in out.splitlines()


def test_broken_file_is_a_high_finding_and_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "broken.tf").write_text(BROKEN_TF)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "scan", "--format", "json")
    assert (code, err) == (1, "")
    doc = json.loads(out)
    assert [(f["rule_id"], f["severity"], f["file"]) for f in doc["findings"]] == [("IAC001", "high", "broken.tf")]
    assert [e["file"] for e in doc["errors"]] == ["broken.tf"]


def test_rule_that_raises_exits_3_after_the_findings(empty_dir: Path, temp_rule: AddRule,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    temp_rule("TST901", Severity.LOW)
    temp_rule("TST902", behaviour="raise")
    code, out, err = run(capsys, "scan")
    assert code == 3
    assert "TST901  aws_security_group.temp  temporary finding" in out
    assert "IAC003  TST902  rule TST902 raised an internal error" in out
    assert "1 rule(s) failed inside iacscan (TST902)" in err and "please report it" in err
    assert "Traceback" not in err and "boom" not in err
    code, _, err = run(capsys, "scan", "--debug")
    assert code == 3
    assert "Traceback" in err and "RuntimeError: boom from a test rule" in err


def test_internal_error_exits_3_with_traceback_only_on_debug(empty_dir: Path, temp_rule: AddRule,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    temp_rule("TST903", behaviour="garbage")
    code, out, err = run(capsys, "scan")
    assert (code, out) == (3, "")
    assert err.startswith("iacscan: internal error: AttributeError")
    assert "please report it" in err and "Traceback" not in err
    code, _, err = run(capsys, "scan", "--debug")
    assert code == 3 and "Traceback (most recent call last)" in err


def test_ctrl_c_exits_130(empty_dir: Path, temp_rule: AddRule, capsys: pytest.CaptureFixture[str]) -> None:
    temp_rule("TST904", behaviour="interrupt")
    code, _, err = run(capsys, "scan")
    assert (code, err) == (130, "iacscan: interrupted\n")


def test_nonexistent_path_exits_2(empty_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "scan", ".", "no/such/dir")
    assert (code, out, err) == (2, "", "iacscan: error: path not found: no/such/dir\n")


@pytest.mark.parametrize("argv", [[], ["scan", "--format", "xml"], ["scan", "--fail-on", "severe"], ["frobnicate"]])
def test_usage_errors_exit_2(empty_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and "usage: iacscan" in err


def test_missing_var_file_and_parameters_exit_2(empty_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "scan", "--var-file", "prod.tfvars") == (2, "", "iacscan: error: var file not found: prod.tfvars\n")
    assert run(capsys, "scan", "--parameters", "p.json") == (2, "", "iacscan: error: parameters file not found: p.json\n")


# --- rulesets -------------------------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    ("colour: red\n", "unknown key 'colour'"),
    ("rules:\n  SG999: {enabled: false}\n", "'rules.SG999' is not a rule id"),
    ("rules:\n  TST901: {severity: severe}\n", "'rules.TST901.severity': unknown severity 'severe'"),
])
def test_bad_ruleset_exits_2_naming_the_key(empty_dir: Path, temp_rule: AddRule,
                                            capsys: pytest.CaptureFixture[str], content: str, message: str) -> None:
    temp_rule("TST901")
    (empty_dir / "mine.yaml").write_text(content)
    code, out, err = run(capsys, "scan", "--ruleset", "mine.yaml")
    assert (code, out) == (2, "")
    assert err.startswith("iacscan: error: ") and message in err and "Traceback" not in err


def test_unknown_ruleset_name_exits_2(empty_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "scan", "--ruleset", "paranoid")
    assert code == 2 and "unknown ruleset 'paranoid'" in err and "default, strict" in err


def test_ruleset_can_change_severity_and_fail(empty_dir: Path, temp_rule: AddRule,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    temp_rule("TST901", Severity.LOW)
    (empty_dir / "mine.yaml").write_text("extends: default\nrules:\n  TST901: {severity: critical}\n")
    code, out, _ = run(capsys, "scan", "--ruleset", "mine.yaml")
    assert code == 1 and "CRITICAL  TST901" in out


# --- output and paths -------------------------------------------------------------------------

def test_output_file(empty_dir: Path, temp_rule: AddRule, capsys: pytest.CaptureFixture[str]) -> None:
    temp_rule("TST901", Severity.HIGH)
    code, out, err = run(capsys, "scan", "--format", "sarif", "--output", "report.sarif")
    assert (code, out, err) == (1, "", "")
    log = json.loads((empty_dir / "report.sarif").read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["TST901"]


def test_unwritable_output_exits_2(empty_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (empty_dir / "adir").mkdir()
    code, _, err = run(capsys, "scan", "--output", "adir")
    assert code == 2 and err.startswith("iacscan: error: cannot write adir")


def test_file_names_are_relative_to_cwd_or_to_the_common_parent(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "proj" / "net"
    project.mkdir(parents=True)
    (project / "broken.tf").write_text(BROKEN_TF)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "scan", "--format", "json", "proj")
    assert code == 1 and [f["file"] for f in json.loads(out)["findings"]] == ["proj/net/broken.tf"]
    monkeypatch.chdir(elsewhere)
    code, out, _ = run(capsys, "scan", "--format", "json", str(project))
    assert code == 1 and [f["file"] for f in json.loads(out)["findings"]] == ["broken.tf"]
    code, out, _ = run(capsys, "scan", "--format", "json", str(project / "broken.tf"))
    assert code == 1 and [f["file"] for f in json.loads(out)["findings"]] == ["broken.tf"]


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys, "stdout", Terminal())
    assert use_color(None) is True
    assert use_color("report.txt") is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(None) is False
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    monkeypatch.delenv("NO_COLOR")
    assert use_color(None) is False


# --- rules --------------------------------------------------------------------------------------

def test_rules_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["ID", "SEVERITY", "TITLE"]
    assert any(line.split()[:2] == ["SG101", "critical"] for line in lines)
    ids = [line.split()[0] for line in lines[1:]]
    assert ids == sorted(ids) and set(ids) == set(REGISTRY)


def test_rules_one_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "sg101")
    assert code == 0
    assert out.startswith("SG101  critical  Sensitive port open to the internet\n")
    for part in ("What it finds", "Why it matters", "Failing example", "Passing example", "Remediation",
                 "  Summary: "):
        assert part in out


def test_rules_unknown_id_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "rules", "SG999") == (
        2, "", "iacscan: error: unknown rule id 'SG999': run 'iacscan rules' for the list\n")


def test_docs_rules_md_is_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/rules.md is generated: `iacscan rules --format markdown --output docs/rules.md`."""
    code, out, _ = run(capsys, "rules", "--format", "markdown")
    assert code == 0
    assert out == (REPO / "docs" / "rules.md").read_text(encoding="utf-8"), \
        "docs/rules.md is stale: run `iacscan rules --format markdown --output docs/rules.md`"


# --- graph and version ------------------------------------------------------------------------

def test_graph_command(empty_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "graph", "--format", "json")
    if importlib.util.find_spec("iacscan.report.graph_formats") is None:
        assert (code, out, err) == (2, "", "iacscan: error: graph output is not available in this build\n")
    else:
        assert code == 0 and err == "" and json.loads(out) is not None


def test_version_in_a_subprocess() -> None:
    proc = subprocess.run([sys.executable, "-m", "iacscan", "--version"], cwd=REPO,
                          capture_output=True, text=True, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"iacscan {__version__}\n", "")


def test_the_program_flushes_everything_and_keeps_the_exit_code() -> None:
    """``python -m iacscan`` leaves through ``cli.entry`` (``os._exit``, no interpreter
    teardown): a report piped out is complete and the exit code is the scan's."""
    proc = subprocess.run([sys.executable, "-m", "iacscan", "scan", "fixtures/demo", "--format", "json"],
                          cwd=REPO, capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and proc.stderr == ""
    assert main_json_matches(proc.stdout)
    usage = subprocess.run([sys.executable, "-m", "iacscan", "scan", "no/such/path"], cwd=REPO,
                           capture_output=True, text=True, check=False)
    assert (usage.returncode, usage.stdout, usage.stderr) == (2, "", "iacscan: error: path not found: no/such/path\n")


def main_json_matches(text: str) -> bool:
    """Whether ``text`` is the whole JSON report of the demo (as ``main`` writes it in-process)."""
    out = io.StringIO()
    real, sys.stdout = sys.stdout, out
    try:
        main(["scan", str(REPO / "fixtures" / "demo"), "--format", "json"])
    finally:
        sys.stdout = real
    return json.loads(text) == json.loads(out.getvalue()) and text.endswith("}\n")


def test_readme_json_excerpt_is_true(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's JSON excerpt is what `iacscan scan fixtures/demo --format json` prints
    (its summary, and its one finding with the remediation shortened)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The JSON report", 1)[1]
    excerpt = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])
    monkeypatch.chdir(REPO)
    assert main(["scan", "fixtures/demo", "--format", "json"]) == 1
    actual = json.loads(capsys.readouterr().out)
    hint = "README.md's JSON excerpt is stale: update it from `iacscan scan fixtures/demo --format json`"
    assert excerpt["summary"] == actual["summary"], hint
    (shown,) = excerpt["findings"]
    real = [f for f in actual["findings"] if f["fingerprint"] == shown["fingerprint"]]
    assert real, hint
    assert {k: v for k, v in shown.items() if k != "remediation"} == \
        {k: v for k, v in real[0].items() if k != "remediation"}, hint
    assert set(shown["remediation"]) <= set(real[0]["remediation"]), hint
