"""``iacscan events FILE…``: findings located at CloudTrail events, in text and JSON, and the exit codes."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from iacscan.cli import main
from tests.events.helpers import ALICE, BOB, FIXTURES

Capture = pytest.CaptureFixture[str]


def _run(tmp_path: Path, capsys: Capture, *args: str) -> tuple[int, str, str]:
    for name in ("create_then_open_rdp.json", "create_then_open_rdp.json.gz", "security_group_changes.json",
                 "lookup_events_output.json"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        code = main(["events", *args])
    finally:
        os.chdir(cwd)
    out = capsys.readouterr()
    return code, out.out, out.err


def _json(tmp_path: Path, capsys: Capture, *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = _run(tmp_path, capsys, *args, "--format", "json")
    return code, json.loads(out), err


@pytest.mark.parametrize("name", ["create_then_open_rdp.json", "create_then_open_rdp.json.gz"])
def test_rdp_opened_to_the_world_is_one_sg101_naming_actor_and_time(tmp_path: Path, capsys: Capture,
                                                                     name: str) -> None:
    code, report, err = _json(tmp_path, capsys, name)
    assert code == 1 and err == ""
    assert [(f["rule_id"], f["severity"], f["resource"], f["file"], f["line"]) for f in report["findings"]] == [
        ("SG101", "critical", "sg-0a1b2c3d4e5f60001", name, 0)]
    finding = report["findings"][0]
    assert finding["details"] == {"direction": "ingress", "protocol": "tcp", "ports": "3389", "peer": "0.0.0.0/0"}
    assert finding["event"] == {"event_id": "e0000000-0000-4000-8000-000000000002",
                                "event_name": "AuthorizeSecurityGroupIngress", "event_time": "2026-11-20T10:02:03Z",
                                "actor": ALICE, "source_ip": "203.0.113.9", "region": "eu-west-1"}
    assert "--group-id sg-0a1b2c3d4e5f60001 " in finding["remediation"]["cli"]
    assert report["summary"]["events"] == {"records": 2, "security_group_events": 2, "skipped": {}}


def test_text_report_shows_when_who_and_where(tmp_path: Path, capsys: Capture) -> None:
    code, out, _ = _run(tmp_path, capsys, "create_then_open_rdp.json")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "create_then_open_rdp.json"
    assert "SG101" in lines[1] and "sg-0a1b2c3d4e5f60001" in lines[1] and "3389 (RDP)" in lines[1]
    assert lines[2] == (f"        event: AuthorizeSecurityGroupIngress at 2026-11-20T10:02:03Z by {ALICE} "
                        "from 203.0.113.9 (eu-west-1, event e0000000-0000-4000-8000-000000000002)")


def test_text_report_says_when_a_later_event_revoked_the_rule(tmp_path: Path, capsys: Capture) -> None:
    _, out, _ = _run(tmp_path, capsys, "security_group_changes.json")
    events = [line.strip() for line in out.splitlines() if "event e1000000-0000-4000-8000-000000000002" in line]
    assert events[0].endswith("; revoked at 2026-11-21T09:00:00Z by arn:aws:iam::111122223333:user/carol")


def test_every_change_is_judged_at_its_event_and_skips_are_reported(tmp_path: Path, capsys: Capture) -> None:
    code, report, err = _json(tmp_path, capsys, "security_group_changes.json", "--fail-on", "critical")
    assert code == 1
    web, db = "sg-0a1b2c3d4e5f60002", "sg-0a1b2c3d4e5f60003"
    assert {(f["rule_id"], f["severity"], f["resource"], f["details"].get("ports"), f["event"]["event_id"][-2:],
             f["event"]["actor"]) for f in report["findings"]} == {
        ("SG101", "critical", web, "22", "02", BOB),  # revoked an hour later: still judged
        ("SG101", "high", web, "5432", "04", BOB),  # ModifySecurityGroupRules opened it
        ("SG106", "low", web, "22", "02", BOB),
        ("SG105", "low", db, "all", "06", ALICE),
        ("IAC002", "info", db, None, "05", BOB),  # a modified rule of unknown direction
    }
    revoked = {(f["rule_id"], f["details"].get("ports")): f["event"].get("revoked") for f in report["findings"]}
    carol = {"event_id": "e1000000-0000-4000-8000-000000000003", "event_time": "2026-11-21T09:00:00Z",
             "actor": "arn:aws:iam::111122223333:user/carol"}
    assert revoked == {("SG101", "22"): carol, ("SG106", "22"): carol, ("SG101", "5432"): None,
                       ("SG105", "all"): None, ("IAC002", None): None}
    assert report["summary"]["events"] == {"records": 14, "security_group_events": 8,
                                           "skipped": {"foreign": 3, "failed": 1, "malformed": 2}}
    assert report["summary"]["security_groups"] == 2 and report["summary"]["workloads"] == 1
    assert err.startswith("iacscan: skipped 6 records: 3 foreign (")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_lookup_events_output_is_judged_too(tmp_path: Path, capsys: Capture) -> None:
    code, report, err = _json(tmp_path, capsys, "lookup_events_output.json")
    assert code == 1
    assert [(f["rule_id"], f["event"]["event_id"]) for f in report["findings"]] == [
        ("SG101", "e0000000-0000-4000-8000-000000000002")]
    assert err.startswith("iacscan: skipped 1 record: 1 malformed (record 3 of lookup_events_output.json: ")


def test_a_file_that_is_not_cloudtrail_is_iac001_not_a_crash(tmp_path: Path, capsys: Capture) -> None:
    (tmp_path / "broken.json").write_text('{"Records": ')
    code, report, err = _json(tmp_path, capsys, "broken.json", "create_then_open_rdp.json")
    assert code == 1 and "Traceback" not in err
    assert sorted((f["rule_id"], f["file"]) for f in report["findings"]) == [
        ("IAC001", "broken.json"), ("SG101", "create_then_open_rdp.json")]


def test_since_filters_files(tmp_path: Path, capsys: Capture) -> None:
    code, report, err = _json(tmp_path, capsys, "create_then_open_rdp.json", "--since", "2026-11-21")
    assert (code, report["findings"]) == (0, [])
    assert report["summary"]["events"]["skipped"] == {"older": 2}


@pytest.mark.parametrize(("args", "message"), [
    ((), "name CloudTrail files or directories"),
    (("create_then_open_rdp.json", "--live"), "name CloudTrail files or use --live, not both"),
    (("create_then_open_rdp.json", "--region", "eu-west-1"), "--region only applies with --live"),
    (("create_then_open_rdp.json", "--since", "last tuesday"), "--since 'last tuesday': expected a duration"),
    (("missing.json",), "path not found: missing.json"),
])
def test_usage_errors_exit_2(tmp_path: Path, capsys: Capture, args: tuple[str, ...], message: str) -> None:
    code, out, err = _run(tmp_path, capsys, *args)
    assert (code, out) == (2, "")
    assert err.startswith(f"iacscan: error: {message}")
