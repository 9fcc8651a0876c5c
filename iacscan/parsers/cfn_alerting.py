"""CloudFormation metric filters, alarms and EventBridge rules (AWS408, AWS409), the log group
a trail delivers to, and how a workload names its AMI (AWS407).

- ``AWS::Logs::MetricFilter`` → ``LogMetricFilter`` (``LogGroupName``, ``FilterPattern``, the
  first of ``MetricTransformations``).
- ``AWS::CloudWatch::Alarm`` → ``MetricAlarm`` (``MetricName``/``Namespace``/``Dimensions``
  and the ``MetricStat.Metric`` of each ``Metrics`` entry). A dimension ``Value`` that is
  ``!Ref``/``!GetAtt`` of a resource of the template becomes its uid; a literal that is the
  ``AutoScalingGroupName`` of a group declared here becomes that group's uid.
- ``AWS::Events::Rule`` → ``EventRule`` (``EventPattern`` object or JSON text; ``State:
  DISABLED`` → not enabled).

A log group (a filter's ``LogGroupName``, a trail's ``CloudWatchLogsLogGroupArn``) that refers
to an ``AWS::Logs::LogGroup`` of the template is that group's literal ``LogGroupName``, else
its uid, so both sides compare equal; a literal ARN gives its name.
"""
from __future__ import annotations

from typing import Any

from iacscan.model import AlarmMetric, EventRule, LogMetricFilter, MetricAlarm, Unknown
from iacscan.parsers.cfn_common import Builder, as_bool, as_dict, as_list, as_str
from iacscan.parsers.cfn_intrinsics import CfnRef
from iacscan.parsers.tf_alerting import decode_pattern
from iacscan.parsers.tf_audit import log_group_of_arn

LOG_GROUP = "AWS::Logs::LogGroup"
ASG = "AWS::AutoScaling::AutoScalingGroup"


def image_origin(value: Any) -> str:
    """``literal`` for an ``ami-…`` id, ``lookup`` for an SSM reference, else ``""``."""
    if isinstance(value, str) and value.strip().startswith("ami-"):
        return "literal"
    if isinstance(value, str) and "resolve:ssm" in value:
        return "lookup"
    if isinstance(value, Unknown) and "SSM parameter" in value.reason:
        return "lookup"
    return ""


def log_group(b: Builder, value: Any) -> str | Unknown | None:
    """A log group's name (or the uid of one declared here without a literal name)."""
    if isinstance(value, CfnRef):
        if b.type_of(value.logical_id) != LOG_GROUP:
            return Unknown(f"{value} is not a log group of this template")
        name = as_dict(as_dict(b.ctx.resources.get(value.logical_id)).get("Properties")).get("LogGroupName")
        return str(name) if isinstance(name, str) and name else b.uid(value.logical_id)
    text = as_str(value)
    return log_group_of_arn(text) if isinstance(text, str) else text


def build_metric_filter(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    transform = as_dict((as_list(props.get("MetricTransformations")) or [None])[0])
    pattern = as_str(props.get("FilterPattern"))
    uid = b.uid(logical_id)
    b.estate.metric_filters[uid] = LogMetricFilter(
        uid=uid, address=logical_id, log_group=log_group(b, props.get("LogGroupName")),
        pattern=pattern if pattern is not None else "", metric_name=as_str(transform.get("MetricName")),
        metric_namespace=as_str(transform.get("MetricNamespace")), location=b.loc(line))


def _dimension_value(b: Builder, value: Any) -> str | Unknown | None:
    if isinstance(value, CfnRef):
        return b.uid(value.logical_id)
    text = as_str(value)
    if isinstance(text, str):
        for logical_id, (rtype, props, _line) in b.resources.items():
            if rtype == ASG and props.get("AutoScalingGroupName") == text:
                return b.uid(logical_id)
    return text


def _dimensions(b: Builder, value: Any) -> dict[str, str | Unknown]:
    if isinstance(value, Unknown):
        return {"*": value}
    out: dict[str, str | Unknown] = {}
    for item in as_list(value):
        if isinstance(item, Unknown):
            out["*"] = item
            continue
        name = as_str(as_dict(item).get("Name"))
        found = _dimension_value(b, as_dict(item).get("Value"))
        if isinstance(name, str) and found is not None:
            out[name] = found
    return out


def build_alarm(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    queries: list[AlarmMetric] = []
    for entry in as_list(props.get("Metrics")):
        metric = as_dict(as_dict(as_dict(entry).get("MetricStat")).get("Metric"))
        if metric:
            queries.append(AlarmMetric(as_str(metric.get("MetricName")), as_str(metric.get("Namespace")),
                                       _dimensions(b, metric.get("Dimensions"))))
    actions = props.get("AlarmActions")
    has: bool | Unknown | None = actions if isinstance(actions, Unknown) else bool(as_list(actions))
    if as_bool(props.get("ActionsEnabled")) is False:
        has = False
    uid = b.uid(logical_id)
    b.estate.metric_alarms[uid] = MetricAlarm(
        uid=uid, address=logical_id, metric_name=as_str(props.get("MetricName")),
        namespace=as_str(props.get("Namespace")), dimensions=_dimensions(b, props.get("Dimensions")),
        location=b.loc(line), has_actions=has, queries=queries)


def build_event_rule(b: Builder, logical_id: str, props: dict[str, Any], line: int) -> None:
    state = as_str(props.get("State"))
    uid = b.uid(logical_id)
    pattern = props.get("EventPattern")
    b.estate.event_rules[uid] = EventRule(
        uid=uid, address=logical_id, event_pattern=decode_pattern(_plain(pattern)),
        enabled=not (isinstance(state, str) and state.upper() == "DISABLED"), location=b.loc(line))


def _plain(value: Any) -> Any:
    """Resolved template values (line-carrying dict/list/str subclasses) as plain JSON values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, CfnRef):
        return Unknown(f"{value} is only known after deployment")
    return value
