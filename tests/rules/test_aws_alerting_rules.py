"""AWS407-AWS409: fixtures (both formats), the filter/event pattern evaluators, live AMIs."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from iacscan.event_patterns import (
    SG_CHANGE_EVENTS, PatternError, cloudtrail_record, event_pattern_matches, eventbridge_event,
    parse_filter_pattern,
)
from iacscan.findings import Finding
from iacscan.model import (
    AlarmMetric, Estate, EventRule, Location, LogMetricFilter, MetricAlarm, Trail, Unknown, Workload,
)
from iacscan.parsers.live import parse_snapshot
from iacscan.ruleset import load_ruleset
from iacscan.scan import ScanResult, run_rules
from tests.helpers import hits, rule_fixture, scan_path

CIS_SIX = ("{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || "
           "($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || "
           "($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }")

# ------------------------------------------------------------------ fixtures

FAIL = {
    ("AWS407", "terraform", "fail"): {
        ("AWS407", "data.aws_ami.fail_any_owner", "main.tf", 1),
        ("AWS407", "aws_instance.fail_hard_coded", "main.tf", 9),
        ("AWS407", "aws_launch_template.fail_hard_coded_default", "main.tf", 18),
    },
    ("AWS407", "cloudformation", "fail.yaml"): {
        ("AWS407", "FailInstance", "fail.yaml", 4),
        ("AWS407", "FailTemplate", "fail.yaml", 9),  # ImageId from a Mappings table
    },
    ("AWS408", "terraform", "fail"): {("AWS408", "aws_cloudtrail.fail_no_alerting", "main.tf", 1)},
    ("AWS408", "terraform", "fail_partial"): {("AWS408", "aws_cloudwatch_log_metric_filter.fail_cis_six", "main.tf", 15)},
    ("AWS408", "cloudformation", "fail.yaml"): {("AWS408", "PartialRule", "fail.yaml", 11)},
    ("AWS409", "terraform", "fail"): {
        ("AWS409", "aws_instance.fail_prod_app", "main.tf", 1),
        ("AWS409", "aws_autoscaling_group.fail_prod_web", "main.tf", 7),
    },
    ("AWS409", "cloudformation", "fail.yaml"): {
        ("AWS409", "FailProdApp", "fail.yaml", 4),
        ("AWS409", "FailProdGroup", "fail.yaml", 11),
    },
}

PASS = [
    (rule_id, fmt, part)
    for rule_id in ("AWS407", "AWS408", "AWS409")
    for fmt, part in (("terraform", "pass"), ("cloudformation", "pass.yaml"))
] + [("AWS408", "terraform", "pass_filter")]


@pytest.mark.parametrize(("rule_id", "fmt", "part"), sorted(FAIL))
def test_fail_fixture(rule_id: str, fmt: str, part: str) -> None:
    assert hits(scan_path(rule_fixture(rule_id, fmt, part)), rule_id) == FAIL[(rule_id, fmt, part)]


@pytest.mark.parametrize(("rule_id", "fmt", "part"), PASS)
def test_pass_fixture(rule_id: str, fmt: str, part: str) -> None:
    path = rule_fixture(rule_id, fmt, part)
    assert path.exists()
    assert hits(scan_path(path), rule_id) == set()


def _of(result: ScanResult, rule_id: str) -> list[Finding]:
    return [f for f in result.findings if f.rule_id == rule_id]


def test_aws407_fixture_problems_and_severities() -> None:
    result = scan_path(rule_fixture("AWS407", "terraform", "fail"))
    found = sorted((f.resource, f.details["problem"], f.severity.value) for f in _of(result, "AWS407"))
    assert found == [
        ("aws_instance.fail_hard_coded", "hard_coded_ami", "info"),
        ("aws_launch_template.fail_hard_coded_default", "hard_coded_ami", "info"),
        ("data.aws_ami.fail_any_owner", "lookup_without_owners", "medium"),
    ]


def test_aws408_fixture_details() -> None:
    result = scan_path(rule_fixture("AWS408", "terraform", "fail"))
    (finding,) = _of(result, "AWS408")
    assert finding.details == {"missing": list(SG_CHANGE_EVENTS)}
    assert finding.extra["notes"] == ["no trail delivers to CloudWatch Logs: metric filters see no CloudTrail events"]
    (partial,) = _of(scan_path(rule_fixture("AWS408", "terraform", "fail_partial")), "AWS408")
    assert partial.details == {"missing": ["ModifySecurityGroupRules"]}
    (cfn,) = _of(scan_path(rule_fixture("AWS408", "cloudformation", "fail.yaml")), "AWS408")
    assert cfn.details == {"missing": ["RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress"]}


def test_parsers_fill_the_alerting_model() -> None:
    estate = scan_path(rule_fixture("AWS408", "cloudformation", "pass.yaml")).estate
    (trail,) = estate.trails.values()
    (log_filter,) = estate.metric_filters.values()
    assert trail.cloudwatch_log_group == log_filter.log_group == "cloudtrail-logs"
    assert (log_filter.metric_name, log_filter.metric_namespace) == ("SecurityGroupEventCount", "CISBenchmark")
    estate = scan_path(rule_fixture("AWS409", "terraform", "pass")).estate
    dims = sorted((a.address, m.dimensions.get("InstanceId") or m.dimensions.get("AutoScalingGroupName"))
                  for a in estate.metric_alarms.values() for m in a.metrics())
    assert dims == [
        ("aws_cloudwatch_metric_alarm.prod_app_cpu[0]", ".#aws_instance.prod_app[0]"),
        ("aws_cloudwatch_metric_alarm.prod_app_cpu[1]", ".#aws_instance.prod_app[1]"),
        ("aws_cloudwatch_metric_alarm.prod_web_cpu", ".#aws_autoscaling_group.prod_web"),
    ]
    estate = scan_path(rule_fixture("AWS408", "terraform", "pass")).estate
    (event_rule,) = estate.event_rules.values()
    assert isinstance(event_rule.event_pattern, dict) and event_rule.event_pattern["source"] == ["aws.ec2"]


# ------------------------------------------------------------------ filter patterns

def _missing(pattern: str) -> list[str]:
    parsed = parse_filter_pattern(pattern)
    return [n for n in SG_CHANGE_EVENTS if not parsed.matches(cloudtrail_record(n))]


def test_full_cis_pattern_matches_every_event() -> None:
    full = CIS_SIX[:-1] + "|| ($.eventName = ModifySecurityGroupRules) }"
    assert _missing(full) == []
    assert _missing(CIS_SIX) == ["ModifySecurityGroupRules"]


def test_pattern_without_revokes_reports_them() -> None:
    pattern = ('{ ($.eventName = "CreateSecurityGroup") || ($.eventName = AuthorizeSecurityGroupIngress) || '
               '($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = DeleteSecurityGroup) || '
               '($.eventName = ModifySecurityGroupRules) }')
    assert _missing(pattern) == ["RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress"]


@pytest.mark.parametrize(("pattern", "missing"), [
    ("{ $.eventName = *SecurityGroup* }", []),
    ("{ $.eventSource = ec2.amazonaws.com && $.eventName = Revoke* }",
     ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
      "DeleteSecurityGroup", "ModifySecurityGroupRules"]),
    ("{ ($.eventSource = s3.amazonaws.com) && ($.eventName = *SecurityGroup*) }", list(SG_CHANGE_EVENTS)),
    ("{ $.eventName != CreateSecurityGroup }", ["CreateSecurityGroup"]),
    ("{ $.eventName = %^(Create|Delete)SecurityGroup$% }",
     ["AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
      "RevokeSecurityGroupEgress", "ModifySecurityGroupRules"]),
    ("{ ($.eventName = CreateSecurityGroup || $.eventName = DeleteSecurityGroup) && $.errorCode NOT EXISTS }",
     ["AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
      "RevokeSecurityGroupEgress", "ModifySecurityGroupRules"]),
    ("{ $.readOnly IS FALSE && $.eventName = Modify* }", [n for n in SG_CHANGE_EVENTS if not n.startswith("Modify")]),
    ("?CreateSecurityGroup ?DeleteSecurityGroup",
     [n for n in SG_CHANGE_EVENTS if n not in ("CreateSecurityGroup", "DeleteSecurityGroup")]),
    ("SecurityGroup -Revoke", ["RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress"]),
    ("", []),
])
def test_filter_pattern_forms(pattern: str, missing: list[str]) -> None:
    assert _missing(pattern) == missing


@pytest.mark.parametrize("pattern", [
    "{ $.eventName = }", "{ ($.eventName = X", "{ eventName = X }", "[ip, user, ...]", "{ $.a = 1 } extra",
    "{ $.a < abc }", "{ $.a = %(% }", '"unterminated',
])
def test_malformed_filter_patterns_raise_pattern_error(pattern: str) -> None:
    with pytest.raises(PatternError):
        parse_filter_pattern(pattern)


# ------------------------------------------------------------------ event patterns

@pytest.mark.parametrize(("pattern", "missing"), [
    ({"source": ["aws.ec2"], "detail-type": ["AWS API Call via CloudTrail"],
      "detail": {"eventName": list(SG_CHANGE_EVENTS)}}, []),
    ({"detail": {"eventSource": ["ec2.amazonaws.com"]}}, []),
    ({"source": ["aws.ec2"]}, []),
    ({"source": ["aws.s3"]}, list(SG_CHANGE_EVENTS)),
    ({"detail": {"eventName": [{"prefix": "Revoke"}, {"suffix": "Rules"}]}},
     ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "DeleteSecurityGroup"]),
    ({"detail": {"eventName": [{"anything-but": ["CreateSecurityGroup", "DeleteSecurityGroup"]}]}},
     ["CreateSecurityGroup", "DeleteSecurityGroup"]),
    ({"detail": {"eventName": [{"anything-but": {"prefix": "Authorize"}}]}},
     ["AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress"]),
    ({"detail": {"errorCode": [{"exists": False}], "eventName": [{"wildcard": "*SecurityGroup*"}]}}, []),
    ({"detail": {"errorCode": [{"exists": True}]}}, list(SG_CHANGE_EVENTS)),
    ({"$or": [{"detail": {"eventName": ["CreateSecurityGroup"]}}, {"detail": {"eventName": [{"prefix": "Delete"}]}}]},
     [n for n in SG_CHANGE_EVENTS if n not in ("CreateSecurityGroup", "DeleteSecurityGroup")]),
    ('{"detail": {"eventName": [{"equals-ignore-case": "createsecuritygroup"}]}}',
     [n for n in SG_CHANGE_EVENTS if n != "CreateSecurityGroup"]),
])
def test_event_pattern_forms(pattern: Any, missing: list[str]) -> None:
    assert [n for n in SG_CHANGE_EVENTS if not event_pattern_matches(pattern, eventbridge_event(n))] == missing


@pytest.mark.parametrize("pattern", ['{"source": ', '["aws.ec2"]', {"source": "aws.ec2"}, {"$or": "x"}])
def test_malformed_event_patterns_raise_pattern_error(pattern: Any) -> None:
    with pytest.raises(PatternError):
        event_pattern_matches(pattern, eventbridge_event("CreateSecurityGroup"))


# ------------------------------------------------------------------ AWS408 semantics on the model

def _run(estate: Estate, ruleset: str | None = None) -> ScanResult:
    return run_rules(estate, load_ruleset(ruleset))


def _trail(log_group: Any = "trail-logs") -> Trail:
    return Trail(".#aws_cloudtrail.t", "aws_cloudtrail.t", True, True, True, Location("main.tf", 1),
                 cloudwatch_log_group=log_group)


def _filter(pattern: Any, name: str = "f", log_group: Any = "trail-logs", line: int = 10) -> LogMetricFilter:
    return LogMetricFilter(f".#aws_cloudwatch_log_metric_filter.{name}", f"aws_cloudwatch_log_metric_filter.{name}",
                           log_group, pattern, f"{name}-count", "Security", Location("main.tf", line))


def _alarm(metric: Any, namespace: Any = "Security", actions: Any = True, name: str = "a") -> MetricAlarm:
    return MetricAlarm(f".#aws_cloudwatch_metric_alarm.{name}", f"aws_cloudwatch_metric_alarm.{name}", metric,
                       namespace, {}, Location("main.tf", 30), actions)


def _estate(*objects: Any) -> Estate:
    estate = Estate()
    for item in objects:
        collection = {Trail: "trails", LogMetricFilter: "metric_filters", MetricAlarm: "metric_alarms",
                      EventRule: "event_rules", Workload: "workloads"}[type(item)]
        getattr(estate, collection)[item.uid] = item
    return estate


def _aws408(estate: Estate, ruleset: str | None = None) -> list[tuple[str, int, list[str]]]:
    return [(f.resource, f.line, f.details["missing"]) for f in _of(_run(estate, ruleset), "AWS408")]


def test_aws408_filter_needs_an_alarm_with_actions_on_its_metric() -> None:
    everything = "{ $.eventName = *SecurityGroup* }"
    assert _aws408(_estate(_trail(), _filter(everything), _alarm("f-count"))) == []
    assert _aws408(_estate(_trail(), _filter(everything), _alarm("f-count", actions=False))) == [
        ("aws_cloudtrail.t", 1, list(SG_CHANGE_EVENTS))]
    assert _aws408(_estate(_trail(), _filter(everything), _alarm("other-count"))) == [
        ("aws_cloudtrail.t", 1, list(SG_CHANGE_EVENTS))]
    assert _aws408(_estate(_trail(), _filter(everything), _alarm(Unknown("var.metric")))) == []


def test_aws408_filter_must_read_a_trail_log_group() -> None:
    everything = "{ $.eventName = *SecurityGroup* }"
    assert _aws408(_estate(_trail(), _filter(everything, log_group="app-logs"), _alarm("f-count"))) == [
        ("aws_cloudtrail.t", 1, list(SG_CHANGE_EVENTS))]
    assert _aws408(_estate(_trail(Unknown("arn")), _filter(everything, log_group="app-logs"),
                           _alarm("f-count"))) == []
    assert _aws408(_estate(_trail(None), _filter(everything), _alarm("f-count"))) == [
        ("aws_cloudtrail.t", 1, list(SG_CHANGE_EVENTS))]


def test_aws408_filters_and_rules_add_up_and_the_widest_is_named() -> None:
    revokes = EventRule(".#r", "aws_cloudwatch_event_rule.r",
                        {"detail": {"eventName": [{"prefix": "Revoke"}]}}, True, Location("rules.tf", 3))
    assert _aws408(_estate(_trail(), _filter(CIS_SIX), _alarm("f-count"), revokes)) == [
        ("aws_cloudwatch_log_metric_filter.f", 10, ["ModifySecurityGroupRules"])]
    modify = EventRule(".#m", "aws_cloudwatch_event_rule.m", '{"detail": {"eventName": ["ModifySecurityGroupRules"]}}',
                       True, Location("rules.tf", 9))
    assert _aws408(_estate(_trail(), _filter(CIS_SIX), _alarm("f-count"), modify)) == []
    disabled = EventRule(".#m", "aws_cloudwatch_event_rule.m", {"source": ["aws.ec2"]}, False, Location("rules.tf", 9))
    assert _aws408(_estate(_trail(), _filter(CIS_SIX), _alarm("f-count"), disabled)) == [
        ("aws_cloudwatch_log_metric_filter.f", 10, ["ModifySecurityGroupRules"])]


def test_aws408_unknown_patterns_keep_it_quiet_malformed_ones_match_nothing() -> None:
    assert _aws408(_estate(_trail(), _filter(Unknown("var.pattern")), _alarm("f-count"))) == []
    unknown_rule = EventRule(".#r", "aws_cloudwatch_event_rule.r", {"source": [Unknown("var.source")]}, True,
                             Location("main.tf", 3))
    assert _aws408(_estate(_trail(), unknown_rule)) == []
    result = _run(_estate(_trail(), _filter("{ ($.eventName = CreateSecurityGroup "), _alarm("f-count")))
    (finding,) = _of(result, "AWS408")
    assert finding.details == {"missing": list(SG_CHANGE_EVENTS)}
    assert finding.extra["notes"] == ["aws_cloudwatch_log_metric_filter.f: filter pattern not understood "
                                      "(expected ) but found the end); taken to match nothing"]


def test_aws408_silent_without_a_baseline_and_event_names_option(tmp_path: Path) -> None:
    estate = _estate(_filter(CIS_SIX), _alarm("f-count"))
    assert _aws408(estate) == []
    ruleset = tmp_path / "cis.yaml"
    ruleset.write_text("extends: default\nrules:\n  AWS408:\n    options:\n      event_names: [CreateSecurityGroup, "
                       "AuthorizeSecurityGroupIngress, AuthorizeSecurityGroupEgress, RevokeSecurityGroupIngress, "
                       "RevokeSecurityGroupEgress, DeleteSecurityGroup]\n")
    assert _aws408(_estate(_trail(), _filter(CIS_SIX), _alarm("f-count")), str(ruleset)) == []


# ------------------------------------------------------------------ AWS409 semantics

def _prod(kind: str, address: str, **fields: Any) -> Workload:
    return Workload(f".#{address}", address, kind, tags={"Environment": "prod"}, location=Location("main.tf", 1),
                    **fields)


def _cpu_alarm(dimensions: dict[str, Any], scope: str = ".", metric: Any = "CPUUtilization") -> MetricAlarm:
    return MetricAlarm(f"{scope}#aws_cloudwatch_metric_alarm.cpu", "aws_cloudwatch_metric_alarm.cpu", metric,
                       "AWS/EC2", dimensions, Location("main.tf", 20))


def _aws409(*objects: Any) -> set[str]:
    return {f.resource for f in _of(_run(_estate(*objects)), "AWS409")}


def test_aws409_alarm_by_uid_live_id_or_group_name() -> None:
    web = _prod("aws_instance", "aws_instance.web", live_id="i-0123456789abcdef0")
    asg = _prod("aws_autoscaling_group", "aws_autoscaling_group.app", name="prod-app")
    assert _aws409(web, asg) == {"aws_instance.web", "aws_autoscaling_group.app"}
    assert _aws409(web, asg, _cpu_alarm({"InstanceId": "i-0123456789abcdef0"})) == {"aws_autoscaling_group.app"}
    assert _aws409(web, asg, _cpu_alarm({"AutoScalingGroupName": "prod-app"})) == {"aws_instance.web"}
    assert _aws409(web, asg, _cpu_alarm({"InstanceId": ".#aws_instance.other"})) == {
        "aws_instance.web", "aws_autoscaling_group.app"}
    assert _aws409(web, _cpu_alarm({"InstanceId": ".#aws_instance.web"}, metric="NetworkIn")) == {"aws_instance.web"}


def test_aws409_unresolved_dimension_keeps_its_root_quiet() -> None:
    web = _prod("aws_instance", "aws_instance.web")
    assert _aws409(web, _cpu_alarm({"InstanceId": Unknown("var.instance_id")})) == set()
    assert _aws409(web, _cpu_alarm({"InstanceId": Unknown("var.instance_id")}, scope="envs/other")) == {
        "aws_instance.web"}
    metric_math = _cpu_alarm({})
    metric_math.metric_name = None
    metric_math.queries = [AlarmMetric(Unknown("var.metric"), "AWS/EC2", {"InstanceId": Unknown("var.id")})]
    assert _aws409(web, metric_math) == set()


def test_aws409_only_production_and_not_live() -> None:
    dev = Workload(".#aws_instance.d", "aws_instance.d", "aws_instance", tags={"Environment": "dev"},
                   location=Location("main.tf", 1))
    live = _prod("aws_instance", "i-0123456789abcdef0", source="live")
    assert _aws409(dev, live, _prod("aws_db_instance", "aws_db_instance.db")) == set()


# ------------------------------------------------------------------ AWS407 live

def test_aws407_live_old_and_deprecated_amis_at_snapshot_time() -> None:
    estate = parse_snapshot(rule_fixture("AWS407", "live", "snapshot.json"))
    assert estate.snapshot_time == "2026-06-01T00:00:00Z"
    assert estate.images["ami-0cccccccccccccccc"]["owner"] == "amazon"
    found = sorted((f.resource, f.details["problem"], f.severity.value) for f in _of(_run(estate), "AWS407"))
    assert found == [
        ("i-0000000000000000b", "old_ami", "low"),  # 273 days
        ("i-0000000000000000c", "deprecated_ami", "medium"),
    ]  # a: 31 days; d: exactly 180 days; e: its AMI was not described


def test_aws407_max_age_option(tmp_path: Path) -> None:
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text("extends: default\nrules:\n  AWS407:\n    options: {max_ami_age_days: 30}\n")
    estate = parse_snapshot(rule_fixture("AWS407", "live", "snapshot.json"))
    found = sorted((f.resource, f.details["problem"]) for f in _of(_run(estate, str(ruleset)), "AWS407"))
    assert found == [("i-0000000000000000b", "old_ami"), ("i-0000000000000000c", "deprecated_ami"),
                     ("i-0000000000000000d", "old_ami")]  # a: 30 days and 14 hours, not over 30 days


def test_aws407_unknown_owners_are_not_judged() -> None:
    from iacscan.model import AmiLookup

    estate = Estate()
    estate.ami_lookups = {u.uid: u for u in (
        AmiLookup(".#data.aws_ami.a", "data.aws_ami.a", Unknown("var.owners"), location=Location("main.tf", 1)),
        AmiLookup(".#data.aws_ami.b", "data.aws_ami.b", [Unknown("var.owner")], location=Location("main.tf", 5)),
        AmiLookup(".#data.aws_ami.c", "data.aws_ami.c", None, location=Location("main.tf", 9)),
    )}
    assert hits(_run(estate), "AWS407") == {("AWS407", "data.aws_ami.c", "main.tf", 9)}


def test_rule_docs_have_their_sections() -> None:
    from iacscan.rules.base import REGISTRY, iter_rules

    list(iter_rules())
    for rule_id in ("AWS407", "AWS408", "AWS409"):
        meta = REGISTRY[rule_id].meta
        for section in ("What it finds:", "Why it matters:", "Failing example:", "Passing example:", "Fix:"):
            assert section in meta.doc, (rule_id, section)
        assert {"summary", "console", "cli", "boto3", "terraform", "cloudformation"} <= set(
            meta.remediation.render({}))



def test_numeric_comparisons() -> None:
    over_two = parse_filter_pattern("{ $.count > 2 && $.count <= 5 }")
    assert [over_two.matches({"count": n}) for n in (2, 3, 5, 6, "4", "x")] == [False, True, True, False, True, False]
    between = {"count": [{"numeric": [">", 1, "<=", 5]}]}
    assert [event_pattern_matches(between, {"count": n}) for n in (1, 2, 5, 6, True, "3")] == [
        False, True, True, False, False, False]
