"""A rule that raises does not take the others down: IAC003 with a bug-report hint, the
other findings printed, exit code 3 (in every output format)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from iacscan.cli import main
from iacscan.findings import Finding, Severity
from iacscan.rules.base import REGISTRY, Context, Remediation, rule
from tests.reliability.conftest import GOOD_SG101, write_good

BROKEN = "TST990"
HINT = "This is a bug in iacscan: please report it with the output of 'iacscan scan --debug'"


@pytest.fixture
def raising_rule() -> Iterator[str]:
    """Register a rule whose check raises (with a planted value in its error), then remove it."""

    @rule(id=BROKEN, title="Test rule that raises", severity=Severity.LOW, family="sg",
          remediation=Remediation(summary="none"))
    def broken(ctx: Context) -> Iterator[Finding]:
        """What it finds\nNothing.\n\nWhy it matters\nTest.\n\nFailing example\n    x\n\nPassing example\n    x\n
        Fix\nNone."""
        yield from ()
        raise KeyError("planted-rule-error")

    try:
        yield BROKEN
    finally:
        REGISTRY.pop(BROKEN, None)


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_good(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_iac003_is_documented() -> None:
    from iacscan.commands.rules import find
    from iacscan.rules.base import iter_rules

    meta = find([r.meta for r in iter_rules()], "iac003")
    assert (meta.id, meta.title, meta.severity, meta.family) == ("IAC003", "A rule failed inside iacscan",
                                                                 Severity.HIGH, "parse")
    assert "exits with code 3" in meta.doc


def test_the_other_findings_survive_and_the_exit_code_is_3(raising_rule: str, estate: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--no-cache", "--format", "json", "--fail-on", "none"]) == 3
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    found = {(f["rule_id"], f["resource"], f["file"], f["line"]) for f in doc["findings"]}
    assert found == GOOD_SG101 | {("IAC003", BROKEN, "", 0)}
    iac003 = next(f for f in doc["findings"] if f["rule_id"] == "IAC003")
    assert iac003["message"].startswith(f"rule {BROKEN} raised an internal error; its findings are missing. {HINT}")
    assert iac003["details"] == {"rule": BROKEN}
    assert iac003["remediation"]["summary"].startswith(f"Report the failure of rule {BROKEN}")
    assert f"1 rule(s) failed inside iacscan ({BROKEN})" in captured.err
    assert "planted-rule-error" not in captured.out + captured.err  # the traceback only with --debug


def test_debug_shows_the_traceback(raising_rule: str, estate: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--no-cache", "--debug"]) == 3
    captured = capsys.readouterr()
    assert "SG101" in captured.out and f"IAC003  {BROKEN}" in captured.out
    assert "Traceback" in captured.err and "KeyError: 'planted-rule-error'" in captured.err


@pytest.mark.parametrize("fmt", ["text", "sarif", "markdown", "github"])
def test_every_format_shows_iac003_and_the_rest(raising_rule: str, estate: Path, fmt: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--no-cache", "--format", fmt]) == 3
    raw = capsys.readouterr().out
    out = raw.replace("\\", "")  # Markdown escapes punctuation
    assert "IAC003" in out and "SG101" in out and "Rdp" in out and "aws_security_group.ssh" in out
    if fmt == "sarif":
        results = json.loads(raw)["runs"][0]["results"]
        assert sorted(r["ruleId"] for r in results) == ["IAC003", "SG101", "SG101"]
        rules = json.loads(raw)["runs"][0]["tool"]["driver"]["rules"]
        assert next(r for r in rules if r["id"] == "IAC003")["shortDescription"]["text"] == \
            "A rule failed inside iacscan"


def test_iac003_is_reported_even_when_the_ruleset_disables_it(raising_rule: str, estate: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    (estate / "rs.yaml").write_text("extends: default\nrules:\n  IAC003: {enabled: false}\n")
    assert main(["scan", "--no-cache", "--format", "json", "--ruleset", "rs.yaml"]) == 3
    assert "IAC003" in {f["rule_id"] for f in json.loads(capsys.readouterr().out)["findings"]}
