"""AWS401-AWS406: fixtures (both formats) and model-built semantics."""
from __future__ import annotations

from pathlib import Path

import pytest

from iacscan.findings import Finding
from iacscan.model import (
    ConfigRecorder, Estate, FlowLog, Location, NaclEntry, NetworkAcl, Trail, Unknown, Volume, Vpc, Workload,
)
from iacscan.ruleset import load_ruleset
from iacscan.scan import ScanResult, run_rules
from tests.helpers import hits, rule_fixture, scan_path

# ------------------------------------------------------------------ fixtures

FAIL = {
    ("AWS401", "terraform", "fail"): {
        ("AWS401", "aws_ebs_volume.fail_not_set", "main.tf", 1),
        ("AWS401", "aws_ebs_volume.fail_false", "main.tf", 6),
        ("AWS401", "aws_instance.fail_devices", "main.tf", 16),  # root_block_device {
        ("AWS401", "aws_instance.fail_devices", "main.tf", 20),  # ebs_block_device {
    },
    ("AWS401", "cloudformation", "fail.yaml"): {
        ("AWS401", "FailNotSet", "fail.yaml", 4),
        ("AWS401", "FailFalse", "fail.yaml", 9),
        ("AWS401", "FailInstance", "fail.yaml", 21),  # the BlockDeviceMappings item
    },
    ("AWS402", "terraform", "fail"): {
        ("AWS402", "aws_vpc.fail_main", "main.tf", 1),
        ("AWS402", "aws_vpc.fail_subnet_only", "main.tf", 5),
    },
    ("AWS402", "cloudformation", "fail.yaml"): {("AWS402", "FailVpc", "fail.yaml", 4)},
    ("AWS403", "terraform", "fail"): {("AWS403", "aws_cloudtrail.fail_trail_without_config", "main.tf", 1)},
    ("AWS403", "terraform", "fail_no_channel"): {
        ("AWS403", "aws_config_configuration_recorder.fail_recorder_only", "main.tf", 1),
    },
    ("AWS403", "cloudformation", "fail.yaml"): {("AWS403", "FailTrail", "fail.yaml", 4)},
    ("AWS404", "terraform", "fail"): {
        ("AWS404", "aws_cloudtrail.fail_defaults", "main.tf", 1),
        ("AWS404", "aws_cloudtrail.fail_single_region", "main.tf", 6),
        ("AWS404", "aws_cloudtrail.fail_stopped", "main.tf", 13),
    },
    ("AWS404", "terraform", "fail_no_trail"): {
        ("AWS404", "aws_config_configuration_recorder.fail_no_trail", "main.tf", 1),
    },
    ("AWS404", "cloudformation", "fail.yaml"): {
        ("AWS404", "FailDefaults", "fail.yaml", 4),
        ("AWS404", "FailStopped", "fail.yaml", 9),
    },
    ("AWS405", "terraform", "fail"): {
        ("AWS405", "aws_instance.fail_not_set", "main.tf", 1),
        ("AWS405", "aws_instance.fail_optional", "main.tf", 6),
        ("AWS405", "aws_launch_template.fail_template", "main.tf", 15),
        ("AWS405", "aws_launch_configuration.fail_configuration", "main.tf", 25),
    },
    ("AWS405", "cloudformation", "fail.yaml"): {
        ("AWS405", "FailNotSet", "fail.yaml", 4),
        ("AWS405", "FailOptional", "fail.yaml", 10),
        ("AWS405", "FailConfiguration", "fail.yaml", 18),
    },
    ("AWS406", "terraform", "fail"): {
        ("AWS406", "aws_network_acl.fail_all", "main.tf", 4),  # allow all at 100 (the deny at 200 is later)
        ("AWS406", "aws_network_acl.fail_ssh_after_partial_deny", "main.tf", 35),
        ("AWS406", "aws_network_acl.fail_rules", "main.tf", 49),  # aws_network_acl_rule.rdp_v6
        ("AWS406", "aws_network_acl.fail_rules", "main.tf", 60),  # aws_network_acl_rule.all_tcp
    },
    ("AWS406", "cloudformation", "fail.yaml"): {
        ("AWS406", "FailAcl", "fail.yaml", 8),
        ("AWS406", "FailAcl", "fail.yaml", 17),
    },
}

PASS = [
    (rule_id, fmt, part)
    for rule_id in ("AWS401", "AWS402", "AWS403", "AWS404", "AWS405", "AWS406")
    for fmt, part in (("terraform", "pass"), ("cloudformation", "pass.yaml"))
] + [("AWS401", "terraform", "pass_default_encryption"), ("AWS403", "terraform", "pass_no_baseline"),
       ("AWS405", "terraform", "pass_template")]


@pytest.mark.parametrize(("rule_id", "fmt", "part"), sorted(FAIL))
def test_fail_fixture(rule_id: str, fmt: str, part: str) -> None:
    assert hits(scan_path(rule_fixture(rule_id, fmt, part)), rule_id) == FAIL[(rule_id, fmt, part)]


@pytest.mark.parametrize(("rule_id", "fmt", "part"), PASS)
def test_pass_fixture(rule_id: str, fmt: str, part: str) -> None:
    path = rule_fixture(rule_id, fmt, part)
    assert path.exists()
    assert hits(scan_path(path), rule_id) == set()


def test_aws404_fixture_problems() -> None:
    result = scan_path(rule_fixture("AWS404", "terraform", "fail"))
    problems = sorted((f.resource, f.details["problem"]) for f in result.findings if f.rule_id == "AWS404")
    assert problems == [
        ("aws_cloudtrail.fail_defaults", "log_validation_off"),
        ("aws_cloudtrail.fail_defaults", "not_multi_region"),
        ("aws_cloudtrail.fail_single_region", "not_multi_region"),
        ("aws_cloudtrail.fail_stopped", "logging_disabled"),
    ]
    result = scan_path(rule_fixture("AWS404", "terraform", "fail_no_trail"))
    assert [f.details for f in result.findings if f.rule_id == "AWS404"] == [{"problem": "no_trail"}]


def test_aws406_fixture_details() -> None:
    result = scan_path(rule_fixture("AWS406", "terraform", "fail"))
    found = sorted((f.line, f.details["problem"], f.details["ports"], f.details["cidr"])
                   for f in result.findings if f.rule_id == "AWS406")
    assert found == [
        (4, "all_ports", "all", "0.0.0.0/0"),
        (35, "sensitive_port", "tcp/22", "0.0.0.0/0"),
        (49, "sensitive_port", "tcp/3389", "::/0"),
        (60, "all_ports", "tcp/all", "0.0.0.0/0"),
    ]


# ------------------------------------------------------------------ model-built semantics

def _run(estate: Estate, ruleset: str | None = None) -> ScanResult:
    return run_rules(estate, load_ruleset(ruleset))


def _of(result: ScanResult, rule_id: str) -> list[Finding]:
    return [f for f in result.findings if f.rule_id == rule_id]


def _loc(line: int) -> Location:
    return Location("main.tf", line)


# AWS401

def test_aws401_unknown_and_encrypted_are_not_reported() -> None:
    estate = Estate()
    estate.volumes = {v.uid: v for v in (
        Volume(".#aws_ebs_volume.a", "aws_ebs_volume.a", "ebs_volume", True, location=_loc(1)),
        Volume(".#aws_ebs_volume.b", "aws_ebs_volume.b", "ebs_volume", Unknown("var.enc"), location=_loc(5)),
        Volume(".#aws_ebs_volume.c", "aws_ebs_volume.c", "ebs_volume", None, location=_loc(9)),
    )}
    assert hits(_run(estate), "AWS401") == {("AWS401", "aws_ebs_volume.c", "main.tf", 9)}


def test_aws401_account_default_encryption_silences_it() -> None:
    estate = Estate(ebs_default_encryption=True)
    estate.volumes = {".#v": Volume(".#v", "aws_ebs_volume.v", "ebs_volume", False, location=_loc(1))}
    assert hits(_run(estate), "AWS401") == set()
    estate = Estate(ebs_default_encryption=False)
    estate.volumes = {".#v": Volume(".#v", "aws_ebs_volume.v", "ebs_volume", None, location=_loc(1))}
    assert hits(_run(estate), "AWS401") == {("AWS401", "aws_ebs_volume.v", "main.tf", 1)}


def test_aws401_block_devices_name_their_workload_and_differ_in_details() -> None:
    estate = Estate()
    estate.workloads = {".#aws_instance.w": Workload(".#aws_instance.w", "aws_instance.w", "aws_instance",
                                                     metadata_tokens="required", location=_loc(1))}
    estate.volumes = {v.uid: v for v in (
        Volume(".#aws_instance.w.ebs_block_device[0]", "aws_instance.w", "ebs_block_device", None,
               ".#aws_instance.w", _loc(5)),
        Volume(".#aws_instance.w.ebs_block_device[1]", "aws_instance.w", "ebs_block_device", False,
               ".#aws_instance.w", _loc(5)),
    )}
    findings = _of(_run(estate), "AWS401")
    assert {(f.resource, f.line) for f in findings} == {("aws_instance.w", 5)}
    assert len({f.fingerprint for f in findings}) == 2


# AWS402

def _vpc(name: str, scope: str = ".", live_id: str = "") -> Vpc:
    return Vpc(f"{scope}#aws_vpc.{name}", f"aws_vpc.{name}", location=_loc(1), live_id=live_id)


def test_aws402_flow_log_by_uid_or_live_id() -> None:
    estate = Estate()
    a, b, c = _vpc("a"), _vpc("b", live_id="vpc-0bbbbbbbbbbbbbbbb"), _vpc("c")
    estate.vpcs = {v.uid: v for v in (a, b, c)}
    estate.flow_logs = {
        ".#aws_flow_log.a": FlowLog(".#aws_flow_log.a", "aws_flow_log.a", a.uid),
        ".#aws_flow_log.b": FlowLog(".#aws_flow_log.b", "aws_flow_log.b", "vpc-0bbbbbbbbbbbbbbbb"),
        ".#aws_flow_log.s": FlowLog(".#aws_flow_log.s", "aws_flow_log.s", ".#aws_subnet.in_c"),
    }
    assert hits(_run(estate), "AWS402") == {("AWS402", "aws_vpc.c", "main.tf", 1)}


def test_aws402_unresolved_flow_log_target_covers_only_its_own_root() -> None:
    estate = Estate()
    here, there = _vpc("main", "envs/prod"), _vpc("main", "envs/dev")
    estate.vpcs = {here.uid: here, there.uid: there}
    estate.flow_logs = {"envs/prod#aws_flow_log.x": FlowLog("envs/prod#aws_flow_log.x", "aws_flow_log.x",
                                                            Unknown("var.vpc_id has no value"))}
    assert [f.uid for f in _of(_run(estate), "AWS402")] == ["envs/dev#aws_vpc.main"]


# AWS403 / AWS404 baseline

def _trail(name: str, line: int, multi: object = True, validation: object = True, logging: object = True,
           file: str = "main.tf") -> Trail:
    return Trail(f".#aws_cloudtrail.{name}", f"aws_cloudtrail.{name}", multi, validation, logging,  # type: ignore[arg-type]
                 Location(file, line))


def _recorder(kind: str, line: int, file: str = "config.tf") -> ConfigRecorder:
    address = f"aws_config_{'configuration_recorder' if kind == 'recorder' else 'delivery_channel'}.x"
    return ConfigRecorder(f".#{address}", address, kind, Location(file, line))


def test_aws403_aws404_silent_without_a_baseline() -> None:
    estate = Estate()
    estate.vpcs = {v.uid: v for v in (_vpc("a"),)}
    result = _run(estate)
    assert hits(result, "AWS403") == set()
    assert hits(result, "AWS404") == set()


def test_aws403_aws404_network_baseline_option(tmp_path: Path) -> None:
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text("extends: default\nrules:\n  AWS403:\n    options: {baseline: network}\n"
                       "  AWS404:\n    options: {baseline: network}\n")
    estate = Estate()
    estate.vpcs = {v.uid: v for v in (_vpc("b"), Vpc(".#aws_vpc.a", "aws_vpc.a", location=Location("a.tf", 3)))}
    result = _run(estate, str(ruleset))
    assert hits(result, "AWS403") == {("AWS403", "aws_vpc.a", "a.tf", 3)}
    assert hits(result, "AWS404") == {("AWS404", "aws_vpc.a", "a.tf", 3)}
    assert _of(result, "AWS403")[0].details == {"missing": ["recorder", "delivery_channel"]}


def test_aws403_reported_once_on_the_first_anchor() -> None:
    estate = Estate()
    estate.trails = {t.uid: t for t in (_trail("b", 9), _trail("a", 9, file="z.tf"), _trail("c", 2))}
    estate.config_recorders = {r.uid: r for r in (_recorder("recorder", 1, "zz.tf"),)}
    findings = _of(_run(estate), "AWS403")
    assert [(f.resource, f.file, f.line, f.details) for f in findings] == [
        ("aws_cloudtrail.c", "main.tf", 2, {"missing": ["delivery_channel"]})]
    assert findings[0].severity.value == "low"


def test_aws403_satisfied_by_recorder_and_channel_anywhere() -> None:
    estate = Estate()
    estate.trails = {t.uid: t for t in (_trail("a", 1),)}
    estate.config_recorders = {r.uid: r for r in (_recorder("recorder", 1, "other/config.tf"),
                                                  _recorder("delivery_channel", 5, "other/config.tf"))}
    assert hits(_run(estate), "AWS403") == set()


def test_aws403_live_objects_do_not_anchor() -> None:
    estate = Estate()
    estate.trails = {"live#t": Trail("live#t", "arn:aws:cloudtrail:eu-west-1:123456789012:trail/t", True, True,
                                     True, Location("", 0, resource_id="arn"))}
    assert hits(_run(estate), "AWS403") == set()


def test_aws404_per_trail_problems_and_unknowns() -> None:
    estate = Estate()
    estate.trails = {t.uid: t for t in (
        _trail("good", 1),
        _trail("unset", 5, None, None, None),
        _trail("unknown", 9, Unknown("var.multi"), Unknown("var.validate"), Unknown("var.on")),
        _trail("off", 13, True, True, False),
    )}
    problems = sorted((f.resource, f.line, f.details["problem"]) for f in _of(_run(estate), "AWS404"))
    assert problems == [
        ("aws_cloudtrail.off", 13, "logging_disabled"),
        ("aws_cloudtrail.unset", 5, "log_validation_off"),
        ("aws_cloudtrail.unset", 5, "not_multi_region"),
    ]


def test_aws404_no_trail_needs_config_in_the_scan() -> None:
    estate = Estate()
    estate.config_recorders = {r.uid: r for r in (_recorder("delivery_channel", 4),)}
    assert hits(_run(estate), "AWS404") == {("AWS404", "aws_config_delivery_channel.x", "config.tf", 4)}


# AWS405

def _workload(kind: str, tokens: object, line: int, address: str = "") -> Workload:
    address = address or f"{kind}.w{line}"
    return Workload(f".#{address}", address, kind, metadata_tokens=tokens, location=_loc(line))  # type: ignore[arg-type]


def test_aws405_kinds_and_values() -> None:
    estate = Estate()
    estate.workloads = {w.uid: w for w in (
        _workload("aws_instance", None, 1),
        _workload("aws_instance", "optional", 2),
        _workload("aws_instance", "required", 3),
        _workload("aws_instance", Unknown("var.tokens"), 4),
        _workload("aws_launch_template", "Required", 5),
        _workload("aws_autoscaling_group", None, 6),
        _workload("AWS::EC2::Instance", None, 7, "PlainInstance"),
        _workload("AWS::EC2::LaunchTemplate", None, 8, "Template"),
        _workload("aws_db_instance", None, 9),
    )}
    result = _run(estate)
    assert hits(result, "AWS405") == {
        ("AWS405", "aws_instance.w1", "main.tf", 1),
        ("AWS405", "aws_instance.w2", "main.tf", 2),
        ("AWS405", "Template", "main.tf", 8),
    }
    assert sorted(f.details["metadata_tokens"] for f in _of(result, "AWS405")) == ["not set", "not set", "optional"]


# AWS406

def _entry(number: object, action: str, protocol: object, cidr: object, ports: tuple[object, object] = (None, None),
           egress: bool = False, line: int = 0) -> NaclEntry:
    return NaclEntry(number, egress, protocol, action, cidr, ports[0], ports[1],  # type: ignore[arg-type]
                     _loc(line or (number if isinstance(number, int) else 1)))


def _nacl_hits(*entries: NaclEntry, ruleset: str | None = None) -> list[tuple[int, str, str]]:
    estate = Estate()
    estate.nacls = {".#aws_network_acl.n": NetworkAcl(".#aws_network_acl.n", "aws_network_acl.n", None,
                                                       entries=list(entries), location=_loc(1))}
    return sorted((f.line, f.details["problem"], f.details["ports"]) for f in _of(_run(estate, ruleset), "AWS406"))


def test_aws406_lower_numbered_deny_covers_first() -> None:
    assert _nacl_hits(
        _entry(100, "deny", "all", "0.0.0.0/0"),
        _entry(200, "allow", "all", "0.0.0.0/0"),
    ) == []


def test_aws406_higher_numbered_deny_does_not_help_whatever_the_declaration_order() -> None:
    assert _nacl_hits(
        _entry(200, "deny", "tcp", "0.0.0.0/0", (22, 22)),
        _entry(100, "allow", "tcp", "0.0.0.0/0", (22, 22)),
    ) == [(100, "sensitive_port", "tcp/22")]


def test_aws406_deny_must_cover_the_same_internet_range() -> None:
    assert _nacl_hits(
        _entry(10, "deny", "all", "::/0"),  # IPv6 deny does not cover the IPv4 internet
        _entry(20, "deny", "all", "0.0.0.0/1"),  # half the internet
        _entry(100, "allow", "tcp", "0.0.0.0/0", (3389, 3389)),
        _entry(110, "allow", "tcp", "::/0", (3389, 3389)),
    ) == [(100, "sensitive_port", "tcp/3389")]


def test_aws406_partial_deny_leaves_the_rest_reported() -> None:
    assert _nacl_hits(
        _entry(50, "deny", "tcp", "0.0.0.0/0", (22, 22)),
        _entry(100, "allow", "tcp", "0.0.0.0/0", (20, 25)),
    ) == [(100, "sensitive_port", "tcp/20-21, 23, 25")]


def test_aws406_all_protocols_minus_some_ports_is_still_all_ports() -> None:
    assert _nacl_hits(
        _entry(50, "deny", "tcp", "0.0.0.0/0", (0, 65535)),
        _entry(100, "allow", "all", "0.0.0.0/0"),
    ) == [(100, "all_ports", "udp/all")]


def test_aws406_ignores_egress_private_ranges_safe_ports_and_unknowns() -> None:
    assert _nacl_hits(
        _entry(100, "allow", "all", "0.0.0.0/0", egress=True),
        _entry(110, "allow", "all", "10.0.0.0/8"),
        _entry(120, "allow", "tcp", "0.0.0.0/0", (443, 443)),
        _entry(130, "allow", "icmp", "0.0.0.0/0", (-1, -1)),
        _entry(140, "allow", Unknown("var.proto"), "0.0.0.0/0"),
        _entry(150, "allow", "tcp", Unknown("var.cidr"), (22, 22)),
        _entry(Unknown("var.n"), "allow", "all", "0.0.0.0/0", line=160),
        _entry(170, "allow", "tcp", "0.0.0.0/0", (Unknown("var.port"), 22)),
    ) == []


def test_aws406_unknown_deny_does_not_hide_an_allow() -> None:
    assert _nacl_hits(
        _entry(50, "deny", "tcp", Unknown("var.cidr"), (22, 22)),
        _entry(100, "allow", "tcp", "0.0.0.0/0", (22, 22)),
    ) == [(100, "sensitive_port", "tcp/22")]


def test_aws406_ephemeral_return_range(tmp_path: Path) -> None:
    entries = (
        _entry(100, "allow", "tcp", "0.0.0.0/0", (1024, 65535)),
        _entry(110, "allow", "udp", "0.0.0.0/0", (32768, 65535)),
        _entry(120, "allow", "tcp", "0.0.0.0/0", (1000, 65535)),
        _entry(130, "allow", "tcp", "0.0.0.0/0", (1024, 60000)),
    )
    assert _nacl_hits(*entries) == [
        (120, "sensitive_port", "tcp/1433-1434, 1521-1522, 2049, 2375-2376, 2379-2380, 3306, 3389, 4333, "
                                "4505-4506, 5432, 5500, 5601, 5900, 5985-5986, 6379, 6443, 7000-7001, 7199, "
                                "8020, 8140, 8888, 9000, 9042, 9092, 9160, 9200, 9300, 10250, 11211, "
                                "27017-27018, 50070"),
        (130, "sensitive_port", "tcp/1433-1434, 1521-1522, 2049, 2375-2376, 2379-2380, 3306, 3389, 4333, "
                                "4505-4506, 5432, 5500, 5601, 5900, 5985-5986, 6379, 6443, 7000-7001, 7199, "
                                "8020, 8140, 8888, 9000, 9042, 9092, 9160, 9200, 9300, 10250, 11211, "
                                "27017-27018, 50070"),
    ]
    strict = tmp_path / "r.yaml"
    strict.write_text("extends: default\nrules:\n  AWS406:\n    options: {ephemeral_from: 65536}\n")
    assert [line for line, _, _ in _nacl_hits(*entries, ruleset=str(strict))] == [100, 110, 120, 130]


def test_aws_rules_have_documentation_sections() -> None:
    from iacscan.rules.base import REGISTRY, iter_rules

    list(iter_rules())
    for rule_id in ("AWS401", "AWS402", "AWS403", "AWS404", "AWS405", "AWS406"):
        meta = REGISTRY[rule_id].meta
        for section in ("What it finds:", "Why it matters:", "Failing example:", "Passing example:", "Fix:"):
            assert section in meta.doc, (rule_id, section)
        assert meta.family == "aws"
        assert {"summary", "console", "cli", "boto3", "terraform", "cloudformation"} <= set(
            meta.remediation.render({}))


def test_aws405_instance_takes_its_templates_options_and_disabled_imds_passes() -> None:
    estate = scan_path(rule_fixture("AWS405", "terraform", "pass_template")).estate
    tokens = {w.address: w.metadata_tokens for w in estate.workloads.values()}
    assert tokens == {"aws_launch_template.pass_hardened": "required",
                      "aws_instance.pass_from_template": "required",
                      "aws_instance.pass_no_imds": "disabled"}
