"""Tests of the Terraform plan JSON parser (``iacscan scan --plan``)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from iacscan.cli import main
from iacscan.model import Direction, Location, ParseError, Peer, PeerKind, Unknown, make_uid
from iacscan.parsers.plan import is_plan, parse_plan
from iacscan.parsers.plan_address import Address, parse_address, split_steps
from iacscan.scan import ScanOptions, load_estate
from tests.helpers import FIXTURES, hits, scan_path

PLANS = FIXTURES / "plan"
#: The rules the issue asks the plan scan to agree on with the HCL scan.
COMPARED = ("SG101", "SG102", "NET301", "NET302", "NET303", "NET304", "ENV201", "ENV202", "ENV203", "SG109", "SG105")


def plan_scan(case: str):
    folder = PLANS / case
    return scan_path(folder, options=ScanOptions(plan=folder / "plan.json"))


def compared(result) -> set[tuple[str, str, str, int, str]]:
    return {(f.rule_id, f.resource, f.file, f.line, f.fingerprint) for f in result.findings if f.rule_id in COMPARED}


def uid(address: str, scope: str = ".") -> str:
    return make_uid(scope, address)


# ---------------------------------------------------------------- web estate (create, all ids unknown)

WEB_EXPECTED = {
    ("SG101", "aws_security_group.bastion", "main.tf", 105),
    ("SG102", "aws_security_group.debug", "main.tf", 128),
    ("SG105", "aws_security_group.app", "main.tf", 75),
    ("SG105", "aws_security_group.bastion", "main.tf", 113),
    ("SG109", "aws_security_group.debug", "main.tf", 122),
    ("ENV201", "aws_instance.tools", "main.tf", 200),
    ("ENV202", "aws_security_group.db", "main.tf", 153),
    ("NET301", "aws_instance.bastion", "main.tf", 188),
    ("NET302", "aws_db_instance.main", "main.tf", 211),
}


def test_web_plan_finds_what_the_hcl_scan_finds():
    plan = plan_scan("web")
    hcl = scan_path(PLANS / "web")
    assert {(f.rule_id, f.resource, f.file, f.line) for f in plan.findings if f.rule_id in COMPARED} == WEB_EXPECTED
    assert compared(plan) == compared(hcl)  # same lines and the same fingerprints (same scope)
    net302 = next(f for f in plan.findings if f.rule_id == "NET302")
    assert net302.path == ["internet", "aws_instance.bastion", "aws_instance.app", "aws_db_instance.main"]


def test_web_plan_links_groups_and_workloads_through_configuration_references():
    estate = plan_scan("web").estate
    assert estate.sources == {"plan"}
    assert estate.unresolved == [] and estate.errors == []
    assert sorted(estate.groups) == sorted(uid(f"aws_security_group.{n}")
                                           for n in ("lb", "app", "db", "bastion", "debug", "dev_tools"))
    lb = estate.groups[uid("aws_security_group.lb")]
    assert [(r.direction, r.protocol, r.from_port, r.peer, r.location.line) for r in lb.rules] == [
        (Direction.INGRESS, "tcp", 443, Peer(PeerKind.CIDR, "0.0.0.0/0"), 44),
        (Direction.EGRESS, "tcp", 8080, Peer(PeerKind.GROUP, uid("aws_security_group.app")), 52),
    ]
    assert (lb.vpc, lb.live_id, lb.source, lb.location) == (uid("aws_vpc.prod"), "", "plan", Location("main.tf", 38))
    db = estate.groups[uid("aws_security_group.db")]
    assert [(r.peer, r.origin_address, r.location.line) for r in db.rules] == [
        (Peer(PeerKind.GROUP, uid("aws_security_group.app")), "", 90),
        (Peer(PeerKind.GROUP, uid("aws_security_group.dev_tools")), "aws_security_group_rule.db_from_dev_tools", 153),
    ]
    app_vm = estate.workloads[uid("aws_instance.app")]
    assert (app_vm.groups, app_vm.subnets) == ([uid("aws_security_group.app")], [uid("aws_subnet.private")])
    assert estate.workloads[uid("aws_lb.web")].ports == [443]  # listener linked through load_balancer_arn
    assert estate.workloads[uid("aws_db_instance.main")].ports == [5432]
    assert estate.subnets[uid("aws_subnet.public")].vpc == uid("aws_vpc.prod")


def test_plan_replaces_the_hcl_of_its_directory_no_double_findings():
    result = plan_scan("web")
    keys = [(f.rule_id, f.resource, f.line, f.fingerprint) for f in result.findings]
    assert len(keys) == len(set(keys))
    assert result.estate.files == ["main.tf", "plan.json"]


def test_web_plan_without_the_code_points_at_the_plan(tmp_path: Path):
    shutil.copy(PLANS / "web" / "plan.json", tmp_path / "plan.json")
    result = scan_path(tmp_path, options=ScanOptions(plan=tmp_path / "plan.json"))
    text = (tmp_path / "plan.json").read_text().splitlines()
    got = {(f.rule_id, f.resource) for f in result.findings if f.rule_id in COMPARED}
    assert got == {(rule, resource) for rule, resource, _, _ in WEB_EXPECTED}
    for finding in result.findings:
        assert finding.file == "plan.json"
        assert text[finding.line - 1].strip().startswith('"address": "aws_')
    sg101 = next(f for f in result.findings if f.rule_id == "SG101")
    assert text[sg101.line - 1].strip() == '"address": "aws_security_group.bastion",'
    group = result.estate.groups[uid("aws_security_group.bastion", "plan.json")]
    assert group.location == Location("plan.json", sg101.line)


# ---------------------------------------------------------------- update with prior_state ids

def test_update_uses_known_ids_to_link_rules_and_workloads():
    result = plan_scan("update")
    scope = "plan.json"
    assert hits(result, "SG101") == {
        ("SG101", "aws_security_group.admin", "plan.json", 98),
        ("SG101", "aws_vpc_security_group_ingress_rule.web_rdp", "plan.json", 154),
    }
    estate = result.estate
    web = estate.groups[uid("aws_security_group.web", scope)]
    assert web.live_id == "sg-0a1b2c3d4e5f60001"
    assert [(r.from_port, r.peer.value, r.origin_address) for r in web.rules if r.direction is Direction.INGRESS] == [
        (443, "0.0.0.0/0", ""), (3389, "0.0.0.0/0", "aws_vpc_security_group_ingress_rule.web_rdp")]
    admin = estate.groups[uid("aws_security_group.admin", scope)]
    assert [(r.from_port, r.peer.value, r.description) for r in admin.rules] == [(22, "0.0.0.0/0", "SSH from the office")]
    vm = estate.workloads[uid("aws_instance.web", scope)]
    assert (vm.groups, vm.live_id, vm.public) == (
        [uid("aws_security_group.web", scope), uid("aws_security_group.admin", scope)], "i-0a1b2c3d4e5f60009", True)
    assert uid("aws_security_group.old", scope) not in estate.groups  # deleted by the plan
    assert [(u.resource, u.what, u.reason) for u in estate.unresolved] == [
        ("aws_security_group_rule.shared_db", "security_group_id",
         "security group sg-0fedcba987654321f is not declared in this configuration")]


def _plan_file(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc, indent=1))
    return path


def _sg(address: str, values: dict[str, Any]) -> dict[str, Any]:
    rtype, name = address.split(".")
    return {"address": address, "mode": "managed", "type": rtype, "name": name, "values": values}


def test_prior_state_id_when_planned_values_lack_it(tmp_path: Path):
    """A rule naming a group by a literal id attaches to the group whose prior id it is,
    unless the plan replaces that group (its id changes)."""
    rule = {"type": "ingress", "security_group_id": "sg-0kept", "protocol": "tcp", "from_port": 22, "to_port": 22,
            "cidr_blocks": ["0.0.0.0/0"]}
    doc = {
        "format_version": "1.1",
        "planned_values": {"root_module": {"resources": [
            _sg("aws_security_group.kept", {"name": "kept", "ingress": [], "egress": []}),
            _sg("aws_security_group.replaced", {"name": "replaced", "ingress": [], "egress": []}),
            _sg("aws_security_group_rule.a", rule),
            _sg("aws_security_group_rule.b", {**rule, "security_group_id": "sg-0replaced"}),
        ]}},
        "resource_changes": [
            {"address": "aws_security_group.kept", "change": {"actions": ["update"], "after_unknown": {}}},
            {"address": "aws_security_group.replaced", "change": {"actions": ["delete", "create"],
                                                                  "after_unknown": {"id": True}}},
        ],
        "prior_state": {"values": {"root_module": {"resources": [
            _sg("aws_security_group.kept", {"id": "sg-0kept"}),
            _sg("aws_security_group.replaced", {"id": "sg-0replaced"}),
        ]}}},
        "some_future_key": {"ignored": True},
    }
    path = _plan_file(tmp_path, doc)
    estate = parse_plan(tmp_path, path)
    kept = estate.groups[uid("aws_security_group.kept", "plan.json")]
    assert (kept.live_id, [r.origin_address for r in kept.rules]) == ("sg-0kept", ["aws_security_group_rule.a"])
    assert estate.groups[uid("aws_security_group.replaced", "plan.json")].live_id == ""
    assert [(u.resource, u.reason) for u in estate.unresolved] == [
        ("aws_security_group_rule.b", "security group sg-0replaced is not declared in this configuration")]


# ---------------------------------------------------------------- child module, outputs, input variables

def test_module_outputs_and_variables_are_followed():
    result = plan_scan("module")
    assert hits(result, "SG101") == {
        ("SG101", "module.bastion.aws_vpc_security_group_ingress_rule.ssh", "modules/bastion/main.tf", 15)}
    assert compared(result) == compared(scan_path(PLANS / "module"))
    estate = result.estate
    assert sorted(estate.groups) == [uid("aws_security_group.app"), uid("module.bastion.aws_security_group.this")]
    bastion = estate.groups[uid("module.bastion.aws_security_group.this")]
    assert (bastion.vpc, bastion.location) == (uid("aws_vpc.main"), Location("modules/bastion/main.tf", 9))
    app = estate.groups[uid("aws_security_group.app")]
    assert [(r.peer, r.origin_address) for r in app.rules] == [
        (Peer(PeerKind.GROUP, uid("module.bastion.aws_security_group.this")), "aws_vpc_security_group_ingress_rule.app_ssh")]
    assert estate.workloads[uid("aws_instance.bastion")].groups == [uid("module.bastion.aws_security_group.this")]
    assert estate.files == ["main.tf", "modules/bastion/main.tf", "plan.json"]


# ---------------------------------------------------------------- count / for_each

def test_count_and_for_each_instances():
    result = plan_scan("instances")
    assert hits(result, "SG101") == {("SG101", 'aws_vpc_security_group_ingress_rule.ssh["admin"]', "main.tf", 19)}
    assert hits(result, "NET301") == {("NET301", "aws_instance.bastion[0]", "main.tf", 29)}
    assert compared(result) == compared(scan_path(PLANS / "instances"))
    estate = result.estate
    for i in (0, 1):  # [count.index]: each instance carries the group of its own index
        assert estate.workloads[uid(f"aws_instance.bastion[{i}]")].groups == [uid(f"aws_security_group.bastion[{i}]")]
    first = estate.groups[uid("aws_security_group.bastion[0]")]
    assert [(r.peer.value, r.origin_address) for r in first.rules] == [
        ("0.0.0.0/0", 'aws_vpc_security_group_ingress_rule.ssh["admin"]'),
        ("198.51.100.0/24", 'aws_vpc_security_group_ingress_rule.ssh["office"]'),
    ]
    assert estate.groups[uid("aws_security_group.bastion[1]")].rules == []


# ---------------------------------------------------------------- unknown values

def test_whole_unknown_ingress_is_iac002():
    result = plan_scan("unknown_ingress")
    assert hits(result, "IAC002") == {("IAC002", "aws_security_group.edge", "plan.json", 57)}
    edge = result.estate.groups[uid("aws_security_group.edge", "plan.json")]
    assert [(r.direction, r.peer.kind, r.peer.unknown) for r in edge.rules] == [
        (Direction.INGRESS, PeerKind.UNKNOWN, Unknown("ingress is known only after apply"))]
    lb = result.estate.groups[uid("aws_security_group.lb", "plan.json")]
    assert [(r.from_port, r.peer.value) for r in lb.rules] == [(443, "0.0.0.0/0")]


def test_set_elements_pair_with_their_code_by_content(tmp_path: Path):
    """The plan lists set elements in its own order; each rule still gets its block's line,
    and an element's unknown group id comes from the code."""
    (tmp_path / "main.tf").write_text(
        'resource "aws_security_group" "lb" {\n  name = "lb"\n}\n\n'
        'resource "aws_security_group" "web" {\n'
        '  name = "web"\n'
        '  ingress {\n    protocol = "tcp"\n    from_port = 22\n    to_port = 22\n'
        '    cidr_blocks = ["0.0.0.0/0"]\n  }\n'
        '  ingress {\n    protocol = "tcp"\n    from_port = 443\n    to_port = 443\n'
        '    security_groups = [aws_security_group.lb.id]\n  }\n}\n')
    nine = {"cidr_blocks": [], "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": False,
            "description": ""}
    doc = {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": [
            _sg("aws_security_group.lb", {"name": "lb"}),
            _sg("aws_security_group.web", {"name": "web", "ingress": [
                {**nine, "protocol": "tcp", "from_port": 443, "to_port": 443, "security_groups": [None]},
                {**nine, "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}]}),
        ]}},
        "resource_changes": [{"address": "aws_security_group.web", "change": {"actions": ["create"], "after_unknown": {
            "id": True, "egress": True,
            "ingress": [{"security_groups": [True]}, {"cidr_blocks": [False]}]}}}],
        "configuration": {"root_module": {"resources": [
            {"address": "aws_security_group.lb", "type": "aws_security_group", "name": "lb",
             "expressions": {"name": {"constant_value": "lb"}}},
            {"address": "aws_security_group.web", "type": "aws_security_group", "name": "web",
             "expressions": {"name": {"constant_value": "web"}, "ingress": {"references": [
                 "aws_security_group.lb.id", "aws_security_group.lb"]}}}]}},
    }
    path = _plan_file(tmp_path, doc)
    estate = load_estate(tmp_path, [tmp_path], ScanOptions(plan=path))
    web = estate.groups[uid("aws_security_group.web")]
    assert [(r.from_port, r.peer, r.location) for r in web.rules] == [
        (443, Peer(PeerKind.GROUP, uid("aws_security_group.lb")), Location("main.tf", 13)),
        (22, Peer(PeerKind.CIDR, "0.0.0.0/0"), Location("main.tf", 7)),
    ]
    assert len(estate.groups) == 2 and estate.sources == {"plan"}


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("case, error", [
    ("broken", ParseError("plan.json", 12, "plan file is not valid JSON: Expecting ',' delimiter (line 12, column 11)")),
    ("future", ParseError("plan.json", 2, "unsupported plan format_version '2.0': iacscan reads format 1.x "
                                          "(terraform show -json of Terraform 0.12 to 1.x)")),
])
def test_bad_plan_files_are_iac001(case: str, error: ParseError):
    result = plan_scan(case)
    assert result.estate.errors == [error]
    assert hits(result, "IAC001") == {("IAC001", "plan.json", "plan.json", error.line)}
    assert result.estate.groups == {}


def test_json_that_is_not_a_plan(tmp_path: Path):
    path = _plan_file(tmp_path, {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}})
    assert parse_plan(tmp_path, path).errors == [ParseError(
        "plan.json", 1, "not a Terraform plan: expected the output of 'terraform show -json' "
                        "(format_version and planned_values or resource_changes)")]


def test_is_plan():
    assert is_plan({"format_version": "1.2", "planned_values": {}})
    assert is_plan({"format_version": "1.0", "resource_changes": []})
    assert not is_plan({"format_version": "1.0"})
    assert not is_plan({"Resources": {}})
    assert not is_plan([])


def test_plan_json_among_scanned_files_is_not_parsed_without_the_option():
    result = scan_path(PLANS / "update")
    assert result.estate.groups == {} and result.estate.errors == []


# ---------------------------------------------------------------- addresses

def test_parse_address():
    assert parse_address('module.net["a.b"].module.sg[0].aws_security_group.this["x"]') == Address(
        (("net", '"a.b"'), ("sg", "0")), "aws_security_group.this", '"x"')
    assert parse_address("data.aws_vpc.main") == Address((), "data.aws_vpc.main", None)
    assert parse_address("module.m.aws_instance.web").config_address == "module.m.aws_instance.web"
    assert str(parse_address('module.m[1].aws_instance.web["k"]')) == 'module.m[1].aws_instance.web["k"]'
    assert parse_address("aws_instance") is None
    assert parse_address("aws_instance.web.extra") is None


def test_split_steps():
    assert split_steps('aws_security_group.web["a]b"].id') == [
        ("aws_security_group", None), ("web", '"a]b"'), ("id", None)]
    assert split_steps("a..b") is None
    assert split_steps("a[0") is None


# ---------------------------------------------------------------- CLI

def test_cli_scan_with_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    folder = tmp_path / "web"
    shutil.copytree(PLANS / "web", folder)
    monkeypatch.chdir(tmp_path)
    code = main(["scan", "--plan", "web/plan.json", "web", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    found = {(f["rule_id"], f["resource"], f["file"], f["line"]) for f in out["findings"] if f["rule_id"] in COMPARED}
    assert found == {(rule, res, f"web/{file}", line) for rule, res, file, line in WEB_EXPECTED}


def test_cli_missing_plan_file_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]):
    monkeypatch.chdir(tmp_path)
    assert main(["scan", "--plan", "nope.json"]) == 2
    assert "plan file not found: nope.json" in capsys.readouterr().err


def test_configuration_found_among_scanned_directories(tmp_path: Path):
    """The plan elsewhere (out/), the code in a scanned directory (infra/): findings point at
    the code, and the code is not scanned a second time as HCL; other code still is."""
    (tmp_path / "infra").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "other").mkdir()
    shutil.copy(PLANS / "web" / "main.tf", tmp_path / "infra" / "main.tf")
    shutil.copy(PLANS / "web" / "plan.json", tmp_path / "out" / "plan.json")
    (tmp_path / "other" / "main.tf").write_text(
        'resource "aws_security_group" "ops" {\n  description = "ops"\n'
        '  ingress {\n    description = "ssh"\n    protocol = "tcp"\n    from_port = 22\n    to_port = 22\n'
        '    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n')
    result = scan_path(tmp_path, options=ScanOptions(plan=tmp_path / "out" / "plan.json"))
    assert {(f.rule_id, f.resource, f.file, f.line) for f in result.findings if f.rule_id in COMPARED} == \
        {(rule, res, f"infra/{file}", line) for rule, res, file, line in WEB_EXPECTED} | \
        {("SG101", "aws_security_group.ops", "other/main.tf", 3)}
    assert result.estate.sources == {"plan", "terraform"}
    assert uid("aws_security_group.bastion", "infra") in result.estate.groups


@pytest.mark.parametrize("doc", [
    {"format_version": "1.2", "planned_values": [], "resource_changes": True},
    {"format_version": "1.2", "planned_values": {"root_module": {"resources": {"a": 1}, "child_modules": "x"}}},
    {"format_version": "1.2", "planned_values": {"root_module": {"resources": [
        {"address": "aws_security_group.x", "values": ["not", "a", "map"]},
        {"address": "not an address"},
        {"address": "aws_instance.y", "values": {"vpc_security_group_ids": None}}]}},
     "resource_changes": [{"address": "aws_instance.y", "change": {"after_unknown": {"vpc_security_group_ids": [True]}}},
                          "junk"],
     "prior_state": {"values": []}, "configuration": {"root_module": {"module_calls": ["m"], "resources": "r"}}},
])
def test_odd_shapes_are_tolerated(tmp_path: Path, doc: dict[str, Any]):
    estate = parse_plan(tmp_path, _plan_file(tmp_path, doc))
    assert (estate.errors, estate.files) == ([], ["plan.json"])
    assert set(estate.groups) <= {uid("aws_security_group.x", "plan.json")}
    workloads = {w.address: w.groups for w in estate.workloads.values()}
    assert workloads in ({}, {"aws_instance.y": [Unknown("vpc_security_group_ids element is known only after apply")]})
