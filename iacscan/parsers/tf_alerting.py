"""AMI lookups, CloudWatch Logs metric filters, metric alarms and EventBridge rules from
Terraform (AWS407-AWS409).

- ``data "aws_ami"`` → ``AmiLookup``: ``owners`` plus the values of ``owner-id`` /
  ``owner-alias`` filters (both restrict who may own the image).
- ``aws_cloudwatch_log_metric_filter`` → ``LogMetricFilter`` (``log_group_name``,
  ``pattern``, ``metric_transformation {name, namespace}``).
- ``aws_cloudwatch_metric_alarm`` → ``MetricAlarm``: ``metric_name``/``namespace``/
  ``dimensions`` and the ``metric`` of each ``metric_query`` block. A dimension value that
  refers to a resource (``aws_instance.web.id``) becomes that resource's uid; a literal that
  is the ``name`` of an ``aws_autoscaling_group`` of the same root becomes its uid; other
  literals stay as written. ``has_actions``: ``alarm_actions`` non-empty and
  ``actions_enabled`` not false.
- ``aws_cloudwatch_event_rule`` → ``EventRule``: ``event_pattern`` decoded from its JSON text
  (``jsonencode({...})`` is evaluated to that text); ``is_enabled = false`` or
  ``state = "DISABLED"`` → not enabled.

``image_origin`` says how an instance, launch template or launch configuration names its AMI
(``literal`` ``ami-…`` text, or a ``lookup``: a reference to a data source or
``resolve:ssm:…``); plan values are all literal once planned, so plan workloads say nothing.
"""
from __future__ import annotations

import json
from typing import Any

from iacscan.model import AlarmMetric, AmiLookup, EventRule, LogMetricFilter, MetricAlarm, Unknown, make_uid
from iacscan.parsers.tf_coerce import Refs, as_blocks, as_bool, as_list, as_str, block_attr, text_or_none
from iacscan.parsers.tf_types import ResourceInstance, ResourceRef

_OWNER_FILTERS = ("owner-id", "owner-alias")
ASG_TYPES = ("aws_autoscaling_group",)


def image_origin(inst: ResourceInstance, value: Any) -> str:
    """``literal``, ``lookup`` or ``""`` for the AMI attribute ``value`` of ``inst``."""
    if inst.source != "terraform":
        return ""
    if isinstance(value, ResourceRef) or (isinstance(value, str) and value.startswith("resolve:ssm:")):
        return "lookup"
    if isinstance(value, str) and value.strip().startswith("ami-"):
        return "literal"
    return ""


def build_ami_lookup(inst: ResourceInstance, refs: Refs) -> AmiLookup:
    """``data "aws_ami"`` → AmiLookup."""
    attrs = inst.attrs
    owners: list[str | Unknown] | Unknown | None
    listed = as_list(attrs.get("owners"), "owners")
    name_filter: str | Unknown | None = text_or_none(attrs.get("name_regex"), "name_regex")
    if isinstance(listed, Unknown):
        owners = listed
    else:
        owners = [o if isinstance(o, Unknown) else str(as_str(o, "owners")) for o in listed if o not in (None, "")]
        for block in as_blocks(attrs.get("filter"), "filter"):
            if isinstance(block, Unknown):
                owners.append(block)
                continue
            name = block.get("name")
            values = as_list(block.get("values"), "filter.values")
            if name in _OWNER_FILTERS:
                owners += [values] if isinstance(values, Unknown) else [v if isinstance(v, Unknown) else str(v)
                                                                        for v in values]
            elif name == "name" and name_filter is None and not isinstance(values, Unknown) and values:
                name_filter = values[0] if isinstance(values[0], Unknown) else str(values[0])
        owners = owners or None
    most_recent = as_bool(attrs.get("most_recent"), "most_recent")
    return AmiLookup(inst.uid, inst.address, owners, name_filter, most_recent, inst.location)


def build_metric_filter(inst: ResourceInstance, refs: Refs) -> LogMetricFilter:
    """``aws_cloudwatch_log_metric_filter`` → LogMetricFilter."""
    attrs = inst.attrs
    pattern = as_str(attrs.get("pattern"), "pattern")
    return LogMetricFilter(
        inst.uid, inst.address, log_group=text_or_none(attrs.get("log_group_name"), "log_group_name"),
        pattern=pattern if pattern is not None else "",
        metric_name=text_or_none(block_attr(attrs, "metric_transformation.name"), "metric_transformation.name"),
        metric_namespace=text_or_none(block_attr(attrs, "metric_transformation.namespace"),
                                      "metric_transformation.namespace"),
        location=inst.location)


def _dimensions(value: Any, inst: ResourceInstance, refs: Refs) -> dict[str, str | Unknown]:
    if isinstance(value, Unknown):
        return {"*": value}
    if isinstance(value, ResourceRef):
        return {"*": Unknown(f"dimensions are {value.address}.{value.attribute}, known only after apply")}
    if not isinstance(value, dict):
        return {}
    out: dict[str, str | Unknown] = {}
    for key, item in value.items():
        if not isinstance(key, str) or key.startswith("__"):
            continue
        if isinstance(item, ResourceRef):
            out[key] = make_uid(inst.scope, item.address)
            continue
        text = as_str(item, f"dimensions.{key}")
        if isinstance(text, str):
            found = refs.by_live.get(text) or refs.named(inst.scope, ASG_TYPES, text)
            out[key] = found.uid if found is not None else text
        elif text is not None:
            out[key] = text
    return out


def build_alarm(inst: ResourceInstance, refs: Refs) -> MetricAlarm:
    """``aws_cloudwatch_metric_alarm`` → MetricAlarm."""
    attrs = inst.attrs
    queries: list[AlarmMetric] = []
    for block in as_blocks(attrs.get("metric_query"), "metric_query"):
        if isinstance(block, Unknown):
            queries.append(AlarmMetric(block, block, {"*": block}))
            continue
        for metric in as_blocks(block.get("metric"), "metric_query.metric"):
            if isinstance(metric, Unknown):
                queries.append(AlarmMetric(metric, metric, {"*": metric}))
                continue
            queries.append(AlarmMetric(text_or_none(metric.get("metric_name"), "metric_name"),
                                       text_or_none(metric.get("namespace"), "namespace"),
                                       _dimensions(metric.get("dimensions"), inst, refs)))
    enabled = as_bool(attrs.get("actions_enabled"), "actions_enabled")
    actions = as_list(attrs.get("alarm_actions"), "alarm_actions")
    has: bool | Unknown | None = actions if isinstance(actions, Unknown) else bool(actions)
    if enabled is False:
        has = False
    return MetricAlarm(inst.uid, inst.address, text_or_none(attrs.get("metric_name"), "metric_name"),
                       text_or_none(attrs.get("namespace"), "namespace"),
                       _dimensions(attrs.get("dimensions"), inst, refs), inst.location, has, queries)


def decode_pattern(value: Any) -> dict[str, Any] | str | Unknown | None:
    """An event pattern: the decoded object, the text when it is not a JSON object, Unknown."""
    if value is None or isinstance(value, (Unknown, dict)):
        return value
    text = as_str(value, "event_pattern")
    if not isinstance(text, str):
        return text
    try:
        decoded = json.loads(text)
    except ValueError:
        return text
    return decoded if isinstance(decoded, dict) else text


def build_event_rule(inst: ResourceInstance, refs: Refs) -> EventRule:
    """``aws_cloudwatch_event_rule`` → EventRule."""
    attrs = inst.attrs
    enabled = as_bool(attrs.get("is_enabled"), "is_enabled")
    state = attrs.get("state")
    if isinstance(state, str) and state.upper() == "DISABLED":
        enabled = False
    return EventRule(inst.uid, inst.address, decode_pattern(attrs.get("event_pattern")),
                     True if enabled is None else enabled, inst.location)
