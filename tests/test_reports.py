"""Reporters: the JSON contract, determinism, SARIF structure, terminal escaping.

The scan result is built by hand (a small estate and findings), so these tests pin
the formats independently of the parsers and rules.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from iacscan.findings import Finding, Severity
from iacscan.graph import EstateGraph
from iacscan.model import Estate, Location, ParseError, SecurityGroup, Workload, make_uid
from iacscan.report import REPORTERS, escape, json_report, sarif, text
from iacscan.rules.base import iter_rules
from iacscan.scan import ScanResult

GOLDEN = Path(__file__).resolve().parent.parent / "fixtures" / "reports"
EVIL = "aws_security_group.evil\x1b[31m"


def _group(scope: str, address: str, file: str, line: int) -> SecurityGroup:
    return SecurityGroup(make_uid(scope, address), address, None, None, None, location=Location(file, line))


def _findings() -> list[Finding]:
    hops = [{"resource": "aws_lb.web", "protocol": "tcp", "ports": "443"},
            {"resource": "aws_instance.app", "protocol": "tcp", "ports": "8080"},
            {"resource": "aws_db_instance.main", "protocol": "tcp", "ports": "5432"}]
    return [
        Finding("SG106", Severity.LOW, "Missing description", "group has no description",
                "aws_security_group.web", "envs/prod/main.tf", 3, uid="envs/prod#aws_security_group.web",
                environment="prod", details={"direction": "group"}, scope="envs/prod"),
        Finding("NET302", Severity.CRITICAL, "Data tier reachable from the internet",
                "aws_db_instance.main is reachable from the internet through 2 workloads",
                "aws_db_instance.main", "envs/prod/main.tf", 40, uid="envs/prod#aws_db_instance.main",
                environment="prod", path=["internet", "aws_lb.web", "aws_instance.app", "aws_db_instance.main"],
                extra={"hops": hops}, scope="envs/prod"),
        Finding("SG101", Severity.CRITICAL, "Sensitive port open to the internet",
                "ingress allows tcp 22 from 0.0.0.0/0", "aws_security_group.web", "envs/prod/main.tf", 12,
                uid="envs/prod#aws_security_group.web", environment="prod",
                details={"direction": "ingress", "protocol": "tcp", "ports": "22", "peer": "0.0.0.0/0"},
                remediation={"summary": "Remove the rule that opens tcp 22 to 0.0.0.0/0", "cli": "aws ec2 ..."},
                scope="envs/prod"),
        Finding("SG101", Severity.HIGH, "Sensitive port open to the internet",
                f"{EVIL} allows tcp 3306 from 0.0.0.0/0", EVIL, "b [x](1).tf", 7, uid=f".#{EVIL}",
                details={"direction": "ingress", "protocol": "tcp", "ports": "3306", "peer": "0.0.0.0/0"},
                remediation={"summary": f"Fix {EVIL}\nnow"}, scope="."),
        Finding("IAC003", Severity.HIGH, "A rule failed inside iacscan", "rule SG999 raised an internal error",
                "SG999", "", 0, details={"rule": "SG999"}),
    ]


def make_result(findings: list[Finding] | None = None) -> ScanResult:
    estate = Estate(root="/scan")
    estate.files = ["b [x](1).tf", "broken.tf", "envs/prod/main.tf"]
    for group in (_group("envs/prod", "aws_security_group.web", "envs/prod/main.tf", 1),
                  _group(".", EVIL, "b [x](1).tf", 1)):
        estate.groups[group.uid] = group
    workload = Workload("envs/prod#aws_instance.app", "aws_instance.app", "aws_instance",
                        groups=["envs/prod#aws_security_group.web"])
    estate.workloads[workload.uid] = workload
    estate.errors.append(ParseError("broken.tf", 3, "unexpected token '}'"))
    return ScanResult(Path("/scan"), estate, EstateGraph(estate), _findings() if findings is None else findings)


# --- JSON -----------------------------------------------------------------------------------

def test_json_contract_keys_and_order() -> None:
    doc = json.loads(json_report.render(make_result()))
    assert list(doc) == ["version", "tool", "summary", "findings", "errors"]
    assert doc["version"] == 1
    assert doc["tool"]["name"] == "iacscan"
    assert doc["summary"] == {"files": 3, "security_groups": 2, "workloads": 1,
                              "by_severity": {"critical": 2, "high": 2, "medium": 0, "low": 1, "info": 0},
                              "suppressed": 0, "baselined": 0}
    assert doc["errors"] == [{"file": "broken.tf", "message": "unexpected token '}'"}]
    for finding in doc["findings"]:
        assert list(finding) == ["rule_id", "severity", "title", "message", "resource", "file", "line",
                                 "environment", "fingerprint", "details", "path", "remediation"]


def test_json_findings_sorted_by_file_line_rule_resource() -> None:
    doc = json.loads(json_report.render(make_result()))
    assert [(f["file"], f["line"], f["rule_id"]) for f in doc["findings"]] == [
        ("", 0, "IAC003"), ("b [x](1).tf", 7, "SG101"), ("envs/prod/main.tf", 3, "SG106"),
        ("envs/prod/main.tf", 12, "SG101"), ("envs/prod/main.tf", 40, "NET302")]
    ssh = doc["findings"][3]
    assert ssh["details"] == {"direction": "ingress", "protocol": "tcp", "ports": "22", "peer": "0.0.0.0/0"}
    assert ssh["environment"] == "prod" and ssh["severity"] == "critical"
    assert doc["findings"][4]["path"] == ["internet", "aws_lb.web", "aws_instance.app", "aws_db_instance.main"]


def test_json_is_deterministic_and_keeps_utf8() -> None:
    first = json_report.render(make_result())
    shuffled = json_report.render(make_result(list(reversed(_findings()))))
    assert first == shuffled == json_report.render(make_result())
    result = make_result([Finding("SG106", Severity.LOW, "t", "Gruppe für Prüfung", "r", "f.tf", 1)])
    assert "Gruppe für Prüfung" in json_report.render(result)


def test_json_fingerprint_ignores_line_numbers() -> None:
    moved = _findings()
    for finding in moved:
        finding.line += 5
    before = [f["fingerprint"] for f in json.loads(json_report.render(make_result()))["findings"]]
    after = [f["fingerprint"] for f in json.loads(json_report.render(make_result(moved)))["findings"]]
    assert before == after and len(set(before)) == 5


# --- SARIF ----------------------------------------------------------------------------------

def test_sarif_structure() -> None:
    log = json.loads(sarif.render(make_result()))
    assert log["$schema"] == sarif.SCHEMA and log["version"] == "2.1.0" and len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "iacscan" and driver["semanticVersion"]
    ids = [r["id"] for r in driver["rules"]]
    assert ids == sorted(ids)
    assert {r.meta.id for r in iter_rules()} | {"IAC003", "NET302", "SG101", "SG106"} == set(ids)
    for descriptor in driver["rules"]:
        for key in ("name", "shortDescription", "fullDescription", "help", "defaultConfiguration", "properties"):
            assert descriptor[key], (descriptor["id"], key)
        assert descriptor["help"]["text"] and descriptor["help"]["markdown"]
        assert descriptor["defaultConfiguration"]["level"] in {"error", "warning", "note"}
        assert "security" in descriptor["properties"]["tags"]
        assert 0 < float(descriptor["properties"]["security-severity"]) <= 10
        assert len(descriptor["shortDescription"]["text"]) <= 1024


def test_sarif_results() -> None:
    log = json.loads(sarif.render(make_result()))
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    findings = sorted(_findings(), key=Finding.sort_key)
    assert len(run["results"]) == len(findings)
    for result, finding in zip(run["results"], findings):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding.rule_id
        location = result["locations"][0]["physicalLocation"]
        assert location["region"]["startLine"] == max(finding.line, 1)
        assert result["partialFingerprints"] == {"primaryLocationLineHash": finding.fingerprint}
        assert result["message"]["text"]
        assert result["properties"]["resource"] == finding.resource
    by_rule = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]): r
               for r in run["results"]}
    assert set(by_rule) == {("IAC003", "SG999"), ("SG101", "b%20%5Bx%5D%281%29.tf"),
                            ("SG106", "envs/prod/main.tf"), ("SG101", "envs/prod/main.tf"),
                            ("NET302", "envs/prod/main.tf")}
    ssh = by_rule[("SG101", "envs/prod/main.tf")]
    assert ssh["level"] == "error" and ssh["properties"]["environment"] == "prod"
    assert by_rule[("SG106", "envs/prod/main.tf")]["level"] == "note"
    evil = by_rule[("SG101", "b%20%5Bx%5D%281%29.tf")]["message"]["text"]
    assert "\x1b" not in evil and evil.startswith("aws_security_group.evil\\x1b\\[31m allows")


def test_sarif_severity_scores_follow_the_rule_severity() -> None:
    log = json.loads(sarif.render(make_result([])))
    scores = {r["id"]: r["properties"]["security-severity"] for r in log["runs"][0]["tool"]["driver"]["rules"]}
    expected = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
    assert scores == {r.meta.id: expected[r.meta.severity.value] for r in iter_rules()}
    assert log["runs"][0]["results"] == []


def test_sarif_is_deterministic() -> None:
    assert sarif.render(make_result()) == sarif.render(make_result(list(reversed(_findings()))))


# --- text -----------------------------------------------------------------------------------

def test_text_escapes_control_characters_from_scanned_code() -> None:
    out = text.render(make_result(), color=False)
    assert "\x1b" not in out
    assert "aws_security_group.evil\\x1b[31m" in out
    assert "fix:  Fix aws_security_group.evil\\x1b[31m\\x0anow" in out


def test_text_layout() -> None:
    out = text.render(make_result(), color=False)
    lines = out.splitlines()
    assert lines[0] == "(no file)"
    assert "envs/prod/main.tf" in lines
    assert "    12  CRITICAL  SG101   aws_security_group.web  ingress allows tcp 22 from 0.0.0.0/0" in lines
    assert "        fix:  Remove the rule that opens tcp 22 to 0.0.0.0/0" in lines
    assert ("        path: internet -> aws_lb.web:443 -> aws_instance.app:8080 -> aws_db_instance.main:5432"
            in lines)
    assert "  broken.tf:3: unexpected token '}'" in lines
    assert lines[-1] == ("5 findings (critical: 2, high: 2, low: 1) in 3 files, 2 security groups, 1 workload")


def test_text_path_without_hops_and_other_protocols() -> None:
    plain = Finding("NET303", Severity.HIGH, "t", "m", "aws_instance.b", "a.tf", 1,
                    path=["aws_instance.a", "aws_instance.b"])
    assert text.path_text(plain) == "aws_instance.a -> aws_instance.b"
    between_envs = Finding("NET303", Severity.HIGH, "t", "m", "aws_db_instance.prod", "a.tf", 1,
                           path=["aws_instance.dev", "aws_db_instance.prod"],
                           extra={"hops": [{"resource": "aws_db_instance.prod", "protocol": "tcp", "ports": "5432"}]})
    assert text.path_text(between_envs) == "aws_instance.dev -> aws_db_instance.prod:5432"
    hops = [{"resource": "aws_instance.dns", "protocol": "udp", "ports": "53"},
            {"resource": "aws_instance.x", "protocol": "all", "ports": "all"}]
    udp = Finding("NET301", Severity.HIGH, "t", "m", "aws_instance.x", "a.tf", 1, extra={"hops": hops})
    assert text.path_text(udp) == "internet -> aws_instance.dns:udp/53 -> aws_instance.x:all"
    mismatch = Finding("NET301", Severity.HIGH, "t", "m", "aws_instance.x", "a.tf", 1,
                       path=["internet", "aws_instance.y"], extra={"hops": hops})
    assert text.path_text(mismatch) == "internet -> aws_instance.y"


def test_text_parse_error_shown_once_when_iac001_reports_it() -> None:
    iac001 = Finding("IAC001", Severity.HIGH, "File could not be parsed", "unexpected token '}'",
                     "broken.tf", "broken.tf", 3)
    out = text.render(make_result([iac001]), color=False)
    assert "could not be parsed:" not in out
    assert out.count("unexpected token") == 1


def test_text_no_findings_and_colour() -> None:
    empty = text.render(make_result([]), color=True)
    assert empty.splitlines()[-1] == "0 findings in 3 files, 2 security groups, 1 workload"
    coloured = text.render(make_result(), color=True)
    assert "\x1b[1;31mCRITICAL\x1b[0m" in coloured and "\x1b[2mINFO" not in coloured
    assert "\x1b[31mHIGH    \x1b[0m" in coloured
    assert "\x1b[31m" not in coloured.replace("\x1b[31mHIGH", "")  # only our own colour codes


def test_escape_helpers() -> None:
    assert escape.terminal("a\x1b[2Jb\tc\u202ed\x9b") == "a\\x1b[2Jb\\x09c\\u202ed\\x9b"
    assert escape.terminal("plain ünïcode / back\\slash") == "plain ünïcode / back\\slash"
    assert escape.sarif_message("[x](1) \\") == "\\[x\\](1) \\\\"


# --- golden files ----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt, name", [("json", "handmade.json"), ("text", "handmade.txt")])
def test_golden_output(fmt: str, name: str) -> None:
    """The exact output for the hand-made result (IACSCAN_UPDATE_GOLDEN=1 rewrites the files)."""
    out = REPORTERS[fmt](make_result(), False)
    golden = GOLDEN / name
    if os.environ.get("IACSCAN_UPDATE_GOLDEN"):
        golden.write_text(out, encoding="utf-8")
    assert out == golden.read_text(encoding="utf-8")


# --- a real scan ------------------------------------------------------------------------------

def test_reports_of_the_demo_are_deterministic(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Two scans of the shipped demo give byte-identical JSON and SARIF, with sorted findings."""
    from iacscan.cli import main

    monkeypatch.chdir(GOLDEN.parent.parent)
    outputs = []
    for fmt in ("json", "sarif", "json", "sarif"):
        assert main(["scan", "fixtures/demo", "--format", fmt]) == 1
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[2] and outputs[1] == outputs[3]
    findings = json.loads(outputs[0])["findings"]
    keys = [(f["file"], f["line"], f["rule_id"], f["resource"]) for f in findings]
    assert keys == sorted(keys) and all(f["file"].startswith("fixtures/demo/") for f in findings)
    results = json.loads(outputs[1])["runs"][0]["results"]
    assert [r["partialFingerprints"]["primaryLocationLineHash"] for r in results] == \
        [f["fingerprint"] for f in findings]
