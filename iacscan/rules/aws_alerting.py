"""AWS408: no alerting on security-group changes (CloudTrail metric filter + alarm, or an
EventBridge rule), per the CIS AWS Foundations benchmark's security-group-change control."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from iacscan.event_patterns import (
    SG_CHANGE_EVENTS, PatternError, cloudtrail_record, event_pattern_matches, eventbridge_event,
    parse_filter_pattern,
)
from iacscan.findings import Finding, Severity
from iacscan.model import Estate, EventRule, Location, LogMetricFilter, Unknown, is_unknown
from iacscan.rules.aws_logging import _anchors
from iacscan.rules.base import Context, Remediation, rule

_CIS_PATTERN = ("{ ($.eventName = CreateSecurityGroup) || ($.eventName = AuthorizeSecurityGroupIngress) || "
                "($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || "
                "($.eventName = RevokeSecurityGroupEgress) || ($.eventName = DeleteSecurityGroup) || "
                "($.eventName = ModifySecurityGroupRules) }").replace("{", "{{").replace("}", "}}")


@dataclass
class _Coverage:
    """What the scan's filters and rules alert on."""

    covered: set[str] = field(default_factory=set)
    #: (matched names, location, address, uid) of each alerting filter/rule that matches some
    candidates: list[tuple[set[str], Location, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    undecided: bool = False  # an alerting pattern the code does not resolve


@rule(
    id="AWS408",
    title="No alerting on security-group changes",
    severity=Severity.MEDIUM,
    family="aws",
    options={"baseline": "audit", "event_names": list(SG_CHANGE_EVENTS)},
    remediation=Remediation(
        summary="Alert on every security-group change event: a CloudWatch Logs metric filter on the "
                "CloudTrail log group with an alarm on its metric, or an EventBridge rule.",
        console="CloudWatch console → Log groups → the CloudTrail log group → Metric filters → Create → "
                f"pattern {_CIS_PATTERN} → metric SecurityGroupEventCount → then Create alarm on it "
                "(>= 1 in 5 minutes) notifying an SNS topic.",
        cli="aws logs put-metric-filter --log-group-name <trail-log-group> --filter-name sg-changes "
            f"--filter-pattern '{_CIS_PATTERN}' --metric-transformations "
            "metricName=SecurityGroupEventCount,metricNamespace=CISBenchmark,metricValue=1\n"
            "aws cloudwatch put-metric-alarm --alarm-name sg-changes --metric-name SecurityGroupEventCount "
            "--namespace CISBenchmark --statistic Sum --period 300 --evaluation-periods 1 --threshold 1 "
            "--comparison-operator GreaterThanOrEqualToThreshold --alarm-actions <sns-topic-arn>",
        boto3="boto3.client('logs').put_metric_filter(logGroupName='<trail-log-group>', filterName='sg-changes', "
              f"filterPattern='{_CIS_PATTERN}', metricTransformations=[{{{{'metricName': "
              "'SecurityGroupEventCount', 'metricNamespace': 'CISBenchmark', 'metricValue': '1'}}])",
        terraform="resource \"aws_cloudwatch_event_rule\" \"sg_changes\" {{\n  event_pattern = jsonencode({{\n"
                  "    source        = [\"aws.ec2\"]\n    \"detail-type\" = [\"AWS API Call via CloudTrail\"]\n"
                  "    detail = {{ eventName = [\"CreateSecurityGroup\", \"AuthorizeSecurityGroupIngress\", "
                  "\"AuthorizeSecurityGroupEgress\", \"RevokeSecurityGroupIngress\", \"RevokeSecurityGroupEgress\", "
                  "\"ModifySecurityGroupRules\", \"DeleteSecurityGroup\"] }}\n  }})\n}}\n"
                  "resource \"aws_cloudwatch_event_target\" \"sg_changes\" {{\n"
                  "  rule = aws_cloudwatch_event_rule.sg_changes.name\n  arn  = aws_sns_topic.security.arn\n}}",
        cloudformation="SgChangeRule:\n  Type: AWS::Events::Rule\n  Properties:\n    EventPattern:\n"
                       "      source: [aws.ec2]\n      detail-type: [AWS API Call via CloudTrail]\n"
                       "      detail:\n        eventName: [CreateSecurityGroup, AuthorizeSecurityGroupIngress, "
                       "AuthorizeSecurityGroupEgress, RevokeSecurityGroupIngress, RevokeSecurityGroupEgress, "
                       "ModifySecurityGroupRules, DeleteSecurityGroup]\n"
                       "    Targets:\n      - Id: security\n        Arn: !Ref SecurityTopic",
    ),
)
def aws408_no_sg_change_alerting(ctx: Context) -> Iterator[Finding]:
    """No alerting on security-group changes.

    What it finds:
        A configuration that manages an account's audit baseline (it declares a CloudTrail
        trail or AWS Config, the condition AWS403/AWS404 use, option ``baseline``) in which
        nothing alerts on the security-group change events: ``CreateSecurityGroup``,
        ``AuthorizeSecurityGroupIngress``/``Egress``, ``RevokeSecurityGroupIngress``/``Egress``,
        ``DeleteSecurityGroup`` and ``ModifySecurityGroupRules`` (option ``event_names``).
        An event counts as alerted on when either

        - a CloudWatch Logs metric filter (``aws_cloudwatch_log_metric_filter``,
          ``AWS::Logs::MetricFilter``) whose pattern selects its CloudTrail record has an
          alarm (``aws_cloudwatch_metric_alarm``, ``AWS::CloudWatch::Alarm``) on the filter's
          metric (name and namespace) with an alarm action, or
        - an enabled EventBridge rule (``aws_cloudwatch_event_rule``, ``AWS::Events::Rule``)
          whose event pattern selects the event as EventBridge delivers it (``source:
          aws.ec2``, ``detail-type: AWS API Call via CloudTrail``).

        Patterns are evaluated, not compared as text: ``||``/``&&``, parentheses, ``=``/``!=``,
        wildcards and quoted values in filter patterns; arrays (any of), ``prefix``,
        ``anything-but``, ``exists``… in event patterns. Filters and rules of the whole scan
        count together. One finding per scan lists the events nothing alerts on
        (``details.missing``); it names the alerting filter or rule that covers the most
        events when one covers some (a pattern that misses a few names), else the first
        trail or Config resource; ``extra.notes`` says why a filter or rule did not count
        (no alarm, no CloudWatch Logs delivery, a pattern that cannot be read). A metric filter does not count when the scan's trails all deliver to no
        CloudWatch Logs group, or when its log group is none of theirs (both known). A
        pattern the code does not resolve may cover everything: nothing is reported then. A
        pattern that cannot be read is taken to match nothing and said so in the finding's
        notes.

        The CIS benchmark's filter lists six names; ``ModifySecurityGroupRules`` (which
        changes a rule in place) is required too, at the same severity: a filter copied from
        the benchmark is reported with that one name missing. Drop it from
        ``event_names`` to follow the benchmark to the letter.

    Why it matters:
        A security group opened to the world is one API call away from an incident. Without
        an alert on these calls the change is found at the next audit — or by an attacker
        first (CIS AWS Foundations 4.10 / CloudWatch.10).

    Failing example:
        resource "aws_cloudtrail" "main" {
          name                       = "main"
          s3_bucket_name             = "audit-logs"
          is_multi_region_trail      = true
          enable_log_file_validation = true
        }
        # no metric filter + alarm, no EventBridge rule on the security-group events

    Passing example:
        resource "aws_cloudwatch_event_rule" "sg_changes" {
          event_pattern = jsonencode({
            source        = ["aws.ec2"]
            "detail-type" = ["AWS API Call via CloudTrail"]
            detail = { eventName = ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress",
              "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
              "RevokeSecurityGroupEgress", "ModifySecurityGroupRules", "DeleteSecurityGroup"] }
          })
        }

    Fix:
        Add an EventBridge rule on the events (with a target that notifies people), or a
        metric filter on the trail's CloudWatch Logs group with an alarm on its metric. When
        alerting is managed in another repository, turn the rule off for this one
        (``rules: {AWS408: false}``).
    """
    anchors = _anchors(ctx.estate, str(ctx.options.get("baseline", "audit")))
    if not anchors:
        return
    names = [str(n) for n in ctx.options.get("event_names") or SG_CHANGE_EVENTS]
    coverage = _Coverage()
    _filters(ctx.estate, names, coverage)
    _event_rules(ctx.estate, names, coverage)
    missing = [n for n in names if n not in coverage.covered]
    if coverage.undecided or not missing:
        return
    location, address, uid = anchors[0]
    partial = sorted(coverage.candidates, key=lambda c: (-len(c[0]), c[1].file, c[1].line, c[2]))
    if partial:
        _matched, location, address, uid = partial[0]
        message = f"{address} alerts on some security-group changes but not on {', '.join(missing)}"
    else:
        message = f"the configuration declares account audit resources ({address}) but nothing alerts on " \
                  f"security-group changes ({', '.join(missing)})"
    yield ctx.finding(resource=address, uid=uid, location=location, message=message,
                      details={"missing": missing}, extra={"notes": coverage.notes} if coverage.notes else None)


def _filters(estate: Estate, names: list[str], coverage: _Coverage) -> None:
    trail_groups = [t.cloudwatch_log_group for t in estate.trails.values()]
    no_delivery = bool(trail_groups) and all(g is None for g in trail_groups)
    if no_delivery and estate.metric_filters:
        coverage.notes.append("no trail delivers to CloudWatch Logs: metric filters see no CloudTrail events")
    for item in estate.metric_filters.values():
        matched = _filter_matches(item, names, coverage)
        if matched is None:
            if _alarmed(estate, item) and not no_delivery:
                coverage.undecided = True
            continue
        if not matched:
            continue
        alerts = not no_delivery and _fed_by_a_trail(item, trail_groups, coverage)
        if alerts and not _alarmed(estate, item):
            coverage.notes.append(f"{item.address}: no alarm with an action watches its metric "
                                  f"{_text(item.metric_namespace)}/{_text(item.metric_name)}")
            alerts = False
        if alerts:
            coverage.candidates.append((matched, item.location, item.address, item.uid))
            coverage.covered |= matched


def _filter_matches(item: LogMetricFilter, names: list[str], coverage: _Coverage) -> set[str] | None:
    """The names whose records the filter selects (None: the pattern is unresolved)."""
    if not isinstance(item.pattern, str):
        return None
    try:
        pattern = parse_filter_pattern(item.pattern)
    except PatternError as exc:
        coverage.notes.append(f"{item.address}: filter pattern not understood ({exc}); taken to match nothing")
        return set()
    return {n for n in names if pattern.matches(cloudtrail_record(n))}


def _fed_by_a_trail(item: LogMetricFilter, trail_groups: list[Any], coverage: _Coverage) -> bool:
    """False only when the filter's log group and every trail's are known and none is the same."""
    if not isinstance(item.log_group, str) or not trail_groups:
        return True
    known = [g for g in trail_groups if g is not None]
    if any(not isinstance(g, str) for g in known) or item.log_group in known:
        return True
    coverage.notes.append(f"{item.address}: its log group {item.log_group} receives no trail's events")
    return False


def _same(a: Any, b: Any) -> bool:
    return is_unknown(a) or is_unknown(b) or a == b


def _alarmed(estate: Estate, item: LogMetricFilter) -> bool:
    """Whether an alarm with an action (or unresolved actions) watches the filter's metric."""
    for alarm in estate.metric_alarms.values():
        if alarm.has_actions is False:
            continue
        for metric in alarm.metrics():
            if _same(metric.metric_name, item.metric_name) and _same(metric.namespace, item.metric_namespace):
                return True
    return False


def _event_rules(estate: Estate, names: list[str], coverage: _Coverage) -> None:
    for item in estate.event_rules.values():
        if item.enabled is False or item.event_pattern is None:
            continue
        matched = _rule_matches(item, names, coverage)
        if matched is None:
            coverage.undecided = True
        elif matched:
            coverage.candidates.append((matched, item.location, item.address, item.uid))
            coverage.covered |= matched


def _rule_matches(item: EventRule, names: list[str], coverage: _Coverage) -> set[str] | None:
    if _has_unknown(item.event_pattern):
        return None
    try:
        return {n for n in names if event_pattern_matches(item.event_pattern, eventbridge_event(n))}
    except PatternError as exc:
        coverage.notes.append(f"{item.address}: event pattern not understood ({exc}); taken to match nothing")
        return set()


def _has_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    return False


def _text(value: Any) -> str:
    return "?" if value is None else str(value)
