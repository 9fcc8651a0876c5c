"""AWS409: production instances and autoscaling groups without a CPU-utilisation alarm."""
from __future__ import annotations

from collections.abc import Iterator

from iacscan.findings import Finding, Severity
from iacscan.model import AlarmMetric, Estate, Workload, is_unknown
from iacscan.rules.base import Context, Remediation, rule

#: Workload kind → the CloudWatch dimension that names it.
DIMENSION = {
    "aws_instance": "InstanceId", "AWS::EC2::Instance": "InstanceId",
    "aws_autoscaling_group": "AutoScalingGroupName", "AWS::AutoScaling::AutoScalingGroup": "AutoScalingGroupName",
}
METRIC, NAMESPACE = "CPUUtilization", "AWS/EC2"


@rule(
    id="AWS409",
    title="Production instance or autoscaling group without a CPU-utilisation alarm",
    severity=Severity.LOW,
    family="aws",
    options={"environments": ["prod"]},
    remediation=Remediation(
        summary="Add a CloudWatch alarm on AWS/EC2 CPUUtilization for {resource} "
                "(dimension {dimension}) that notifies someone.",
        console="CloudWatch console → Alarms → Create alarm → Select metric → EC2 → Per-Instance Metrics "
                "(or By Auto Scaling Group) → CPUUtilization of the instance/group → threshold (e.g. "
                "> 80% for 3 × 5 minutes) → notify an SNS topic → Create alarm.",
        cli="aws cloudwatch put-metric-alarm --alarm-name cpu-high --namespace AWS/EC2 --metric-name "
            "CPUUtilization --dimensions Name={dimension},Value=<instance-id-or-group-name> --statistic Average "
            "--period 300 --evaluation-periods 3 --threshold 80 --comparison-operator GreaterThanThreshold "
            "--alarm-actions <sns-topic-arn>",
        boto3="boto3.client('cloudwatch').put_metric_alarm(AlarmName='cpu-high', Namespace='AWS/EC2', "
              "MetricName='CPUUtilization', Dimensions=[{{'Name': '{dimension}', 'Value': '<id-or-name>'}}], "
              "Statistic='Average', Period=300, EvaluationPeriods=3, Threshold=80, "
              "ComparisonOperator='GreaterThanThreshold', AlarmActions=['<sns-topic-arn>'])",
        terraform="resource \"aws_cloudwatch_metric_alarm\" \"cpu_high\" {{\n  alarm_name          = \"cpu-high\"\n"
                  "  namespace           = \"AWS/EC2\"\n  metric_name         = \"CPUUtilization\"\n"
                  "  dimensions          = {{ {dimension} = {resource}.{attribute} }}\n"
                  "  statistic           = \"Average\"\n  period              = 300\n"
                  "  evaluation_periods  = 3\n  threshold           = 80\n"
                  "  comparison_operator = \"GreaterThanThreshold\"\n"
                  "  alarm_actions       = [aws_sns_topic.alerts.arn]\n}}",
        cloudformation="CpuHighAlarm:\n  Type: AWS::CloudWatch::Alarm\n  Properties:\n    Namespace: AWS/EC2\n"
                       "    MetricName: CPUUtilization\n    Dimensions:\n      - Name: {dimension}\n"
                       "        Value: !Ref {resource}\n    Statistic: Average\n    Period: 300\n"
                       "    EvaluationPeriods: 3\n    Threshold: 80\n    ComparisonOperator: GreaterThanThreshold\n"
                       "    AlarmActions: [!Ref AlertTopic]",
    ),
)
def aws409_no_cpu_alarm(ctx: Context) -> Iterator[Finding]:
    """Production instance or autoscaling group without a CPU-utilisation alarm.

    What it finds:
        An instance (``aws_instance``, ``AWS::EC2::Instance``) or autoscaling group
        (``aws_autoscaling_group``, ``AWS::AutoScaling::AutoScalingGroup``) of a production
        environment (option ``environments``, default ``[prod]``, names of the ruleset's
        environments) that no CloudWatch alarm (``aws_cloudwatch_metric_alarm``,
        ``AWS::CloudWatch::Alarm``, metric-math queries included) watches on
        ``AWS/EC2`` ``CPUUtilization`` with a dimension naming it: ``InstanceId`` for an
        instance, ``AutoScalingGroupName`` for a group — a reference to it
        (``aws_instance.web.id``, ``!Ref Web``), its literal id or its literal name. An
        alarm without dimensions (the whole region's average) names nothing.

        Conservatively, an alarm that may be such an alarm but whose dimension (or metric)
        the code does not resolve (``InstanceId = var.instance_id``) keeps the rule quiet
        for every workload of that kind in the same root module or template. Live
        instances are not judged: a snapshot does not read alarms.

    Why it matters:
        A production server pegged at 100% CPU (runaway process, crypto-mining after a
        compromise, a traffic spike) degrades or stops the service; without an alarm,
        users notice first.

    Failing example:
        resource "aws_instance" "prod_app" {
          ami           = "ami-0123456789abcdef0"
          instance_type = "t3.micro"
          tags          = { Environment = "prod" }
        }

    Passing example:
        resource "aws_cloudwatch_metric_alarm" "prod_app_cpu" {
          alarm_name          = "prod-app-cpu"
          namespace           = "AWS/EC2"
          metric_name         = "CPUUtilization"
          dimensions          = { InstanceId = aws_instance.prod_app.id }
          statistic           = "Average"
          period              = 300
          evaluation_periods  = 3
          threshold           = 80
          comparison_operator = "GreaterThanThreshold"
        }

    Fix:
        Add an alarm on the instance's (or group's) ``CPUUtilization`` that notifies an SNS
        topic, or turn the rule off for code whose monitoring lives elsewhere.
    """
    environments = {str(e) for e in ctx.options.get("environments") or ["prod"]}
    alarms = [m for a in ctx.estate.metric_alarms.values() for m in a.metrics() if _maybe_cpu(m)]
    for workload in ctx.estate.workloads.values():
        dimension = DIMENSION.get(workload.kind)
        if dimension is None or workload.source == "live" or workload.environment not in environments:
            continue
        if any(_covers(m, workload, dimension) for m in alarms):
            continue
        if _undecided(ctx.estate, alarms, workload, dimension):
            continue
        yield ctx.finding(
            resource=workload.address, uid=workload.uid, location=workload.location,
            message=f"production {workload.kind} {workload.address} has no CloudWatch alarm on its "
                    f"CPUUtilization ({dimension})",
            details={"dimension": dimension, "attribute": "name" if dimension == "AutoScalingGroupName" else "id"},
            environment=workload.environment, live_id=workload.live_id,
        )


def _maybe_cpu(metric: AlarmMetric) -> bool:
    name, namespace = metric.metric_name, metric.namespace
    return (is_unknown(name) or name == METRIC) and (is_unknown(namespace) or namespace == NAMESPACE)


def _names(workload: Workload) -> set[str]:
    out = {workload.uid}
    if workload.live_id:
        out.add(workload.live_id)
    if isinstance(workload.name, str) and workload.kind in ("aws_autoscaling_group",
                                                            "AWS::AutoScaling::AutoScalingGroup"):
        out.add(workload.name)
    return out


def _covers(metric: AlarmMetric, workload: Workload, dimension: str) -> bool:
    value = metric.dimensions.get(dimension)
    return metric.metric_name == METRIC and metric.namespace == NAMESPACE \
        and isinstance(value, str) and value in _names(workload)


def _undecided(estate: Estate, alarms: list[AlarmMetric], workload: Workload, dimension: str) -> bool:
    """An alarm of the workload's root/template that may watch it but does not say whom."""
    scope = workload.uid.split("#", 1)[0]
    for alarm in estate.metric_alarms.values():
        if alarm.uid.split("#", 1)[0] != scope:
            continue
        for metric in alarm.metrics():
            if metric not in alarms:
                continue
            value = metric.dimensions.get(dimension, metric.dimensions.get("*"))
            if is_unknown(value) or (value is not None and (is_unknown(metric.metric_name)
                                                            or is_unknown(metric.namespace))):
                return True
    return False
