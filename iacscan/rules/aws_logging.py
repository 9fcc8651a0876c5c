"""Audit logging rules: VPC flow logs (AWS402), AWS Config (AWS403), CloudTrail (AWS404).

AWS403 and AWS404's "nothing declared at all" checks judge absence, which is only
meaningful for a configuration that manages an account's audit baseline. The condition
("baseline"), shared by both rules and documented in their docstrings:

- option ``baseline: audit`` (default): the scanned code declares a CloudTrail trail, an
  AWS Config recorder or an AWS Config delivery channel;
- option ``baseline: network``: the same, or the code declares a VPC.

Only objects read from code anchor a finding (live objects have no file); a recorder or
trail of any source satisfies the check. Absence is judged over the whole scan (a recorder in any root or template satisfies every root) and reported once,
on the first anchor object (by file, line, address).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from iacscan.findings import Finding, Severity
from iacscan.model import Estate, Location, Trail, Vpc, is_unknown
from iacscan.rules.base import Context, Remediation, rule

#: An object a baseline finding can be anchored on: (location, address, uid).
Anchor = tuple[Location, str, str]


def _anchors(estate: Estate, baseline: str) -> list[Anchor]:
    """The code objects that make the scan an account baseline, first one first."""
    found: list[Anchor] = []
    found += [(t.location, t.address, t.uid) for t in estate.trails.values()]
    found += [(r.location, r.address, r.uid) for r in estate.config_recorders.values()]
    if baseline == "network":
        found += [(v.location, v.address, v.uid) for v in estate.vpcs.values()]
    found = [a for a in found if a[0].file]
    return sorted(found, key=lambda a: (a[0].file, a[0].line, a[1]))


@rule(
    id="AWS402",
    title="VPC without a flow log",
    severity=Severity.MEDIUM,
    family="aws",
    remediation=Remediation(
        summary="Add a VPC flow log for {resource} (traffic type ALL) to CloudWatch Logs or S3.",
        console="VPC console → Your VPCs → select the VPC → Flow logs tab → Create flow log → "
                "Filter: All → destination CloudWatch Logs or S3 → Create.",
        cli="aws ec2 create-flow-logs --resource-type VPC --resource-ids {live_id} --traffic-type ALL "
            "--log-destination-type s3 --log-destination arn:aws:s3:::<bucket>/vpc-flow-logs/",
        boto3="boto3.client('ec2').create_flow_logs(ResourceType='VPC', ResourceIds=['{live_id}'], "
              "TrafficType='ALL', LogDestinationType='s3', LogDestination='arn:aws:s3:::<bucket>/vpc-flow-logs/')",
        terraform="resource \"aws_flow_log\" \"this\" {{\n  vpc_id               = {resource}.id\n"
                  "  traffic_type         = \"ALL\"\n  log_destination_type = \"s3\"\n"
                  "  log_destination      = aws_s3_bucket.flow_logs.arn\n}}",
        cloudformation="FlowLog:\n  Type: AWS::EC2::FlowLog\n  Properties:\n    ResourceId: !Ref {resource}\n"
                       "    ResourceType: VPC\n    TrafficType: ALL\n    LogDestinationType: s3\n"
                       "    LogDestination: !GetAtt FlowLogBucket.Arn",
    ),
)
def aws402_vpc_without_flow_log(ctx: Context) -> Iterator[Finding]:
    """VPC without a flow log.

    What it finds:
        A VPC (``aws_vpc``, ``AWS::EC2::VPC``, or a live VPC) that no flow log
        (``aws_flow_log`` with ``vpc_id``, ``AWS::EC2::FlowLog`` with
        ``ResourceType: VPC``) targets. Flow logs on single subnets or interfaces do
        not count: they leave the rest of the VPC unlogged. When a flow log of the
        same root module or template names a VPC the code does not resolve (for
        example ``vpc_id = var.vpc_id``), that flow log may well log this VPC and
        nothing is reported for the VPCs of that root.

    Why it matters:
        Flow logs are the only record of which addresses talked to which on which
        ports. Without them an intrusion, a data exfiltration or a mis-opened security
        group cannot be investigated after the fact (CIS AWS 3.9).

    Failing example:
        resource "aws_vpc" "main" {
          cidr_block = "10.0.0.0/16"
        }

    Passing example:
        resource "aws_vpc" "main" {
          cidr_block = "10.0.0.0/16"
        }
        resource "aws_flow_log" "main" {
          vpc_id               = aws_vpc.main.id
          traffic_type         = "ALL"
          log_destination_type = "s3"
          log_destination      = aws_s3_bucket.logs.arn
        }

    Fix:
        Declare a flow log with ``traffic_type = "ALL"`` for every VPC, delivered to
        CloudWatch Logs or S3.
    """
    targets = {log.target for log in ctx.estate.flow_logs.values() if isinstance(log.target, str)}
    unresolved_scopes = {_scope(log.uid) for log in ctx.estate.flow_logs.values() if is_unknown(log.target)}
    for vpc in ctx.estate.vpcs.values():
        if vpc.uid in targets or (vpc.live_id and vpc.live_id in targets):
            continue
        if _scope(vpc.uid) in unresolved_scopes:
            continue
        yield _no_flow_log(ctx, vpc)


def _scope(uid: str) -> str:
    return uid.split("#", 1)[0]


def _no_flow_log(ctx: Context, vpc: Vpc) -> Finding:
    return ctx.finding(
        resource=vpc.address, uid=vpc.uid, location=vpc.location,
        message=f"VPC {vpc.address} has no flow log: its network traffic is not recorded",
        details={}, environment=vpc.environment, live_id=vpc.live_id,
    )


@rule(
    id="AWS403",
    title="No AWS Config recorder or delivery channel in the configuration",
    severity=Severity.LOW,
    family="aws",
    options={"baseline": "audit"},
    remediation=Remediation(
        summary="Declare an AWS Config configuration recorder (all supported resource types, "
                "global resources included) and a delivery channel, and start the recorder.",
        console="AWS Config console → Get started (or Settings) → Record all resources supported in "
                "this region, include global resources → choose an S3 bucket → Confirm.",
        cli="aws configservice put-configuration-recorder --configuration-recorder "
            "name=default,roleARN=<role-arn> --recording-group allSupported=true,includeGlobalResourceTypes=true\n"
            "aws configservice put-delivery-channel --delivery-channel name=default,s3BucketName=<bucket>\n"
            "aws configservice start-configuration-recorder --configuration-recorder-name default",
        boto3="cfg = boto3.client('config')\n"
              "cfg.put_configuration_recorder(ConfigurationRecorder={{'name': 'default', 'roleARN': '<role-arn>', "
              "'recordingGroup': {{'allSupported': True, 'includeGlobalResourceTypes': True}}}})\n"
              "cfg.put_delivery_channel(DeliveryChannel={{'name': 'default', 's3BucketName': '<bucket>'}})\n"
              "cfg.start_configuration_recorder(ConfigurationRecorderName='default')",
        terraform="resource \"aws_config_configuration_recorder\" \"this\" {{\n  role_arn = aws_iam_role.config.arn\n"
                  "  recording_group {{\n    all_supported                 = true\n"
                  "    include_global_resource_types = true\n  }}\n}}\n"
                  "resource \"aws_config_delivery_channel\" \"this\" {{\n  s3_bucket_name = aws_s3_bucket.config.id\n"
                  "  depends_on     = [aws_config_configuration_recorder.this]\n}}\n"
                  "resource \"aws_config_configuration_recorder_status\" \"this\" {{\n"
                  "  name       = aws_config_configuration_recorder.this.name\n  is_enabled = true\n"
                  "  depends_on = [aws_config_delivery_channel.this]\n}}",
        cloudformation="ConfigRecorder:\n  Type: AWS::Config::ConfigurationRecorder\n  Properties:\n"
                       "    RoleARN: !GetAtt ConfigRole.Arn\n    RecordingGroup:\n      AllSupported: true\n"
                       "      IncludeGlobalResourceTypes: true\nDeliveryChannel:\n"
                       "  Type: AWS::Config::DeliveryChannel\n  Properties:\n    S3BucketName: !Ref ConfigBucket",
    ),
)
def aws403_no_config(ctx: Context) -> Iterator[Finding]:
    """No AWS Config recorder or delivery channel in the configuration.

    What it finds:
        A configuration that manages an account's audit baseline but does not record
        configuration changes: it lacks an AWS Config recorder
        (``aws_config_configuration_recorder``, ``AWS::Config::ConfigurationRecorder``)
        or a delivery channel (``aws_config_delivery_channel``,
        ``AWS::Config::DeliveryChannel``) — a recorder without a delivery channel
        cannot start. Absence only means something for the code that owns the
        account's audit set-up, so the rule judges a scan only when it declares a
        CloudTrail trail, a Config recorder or a delivery channel (rule option
        ``baseline: audit``, the default); with ``baseline: network`` a declared VPC
        also counts. Objects of the whole scan count together, and the finding is
        reported once, on the first such object (by file and line). Live state is not
        judged by this rule.

    Why it matters:
        AWS Config keeps the history of every resource's configuration — who opened a
        security group, when, and what it looked like before. Without it, a change
        cannot be traced or rolled back with confidence, and Config rules and
        conformance packs (CIS AWS 3.5) cannot run.

    Failing example:
        resource "aws_cloudtrail" "main" {
          name                       = "main"
          s3_bucket_name             = "audit-logs"
          is_multi_region_trail      = true
          enable_log_file_validation = true
        }
        # no aws_config_configuration_recorder / aws_config_delivery_channel

    Passing example:
        resource "aws_cloudtrail" "main" { ... }
        resource "aws_config_configuration_recorder" "main" {
          role_arn = aws_iam_role.config.arn
        }
        resource "aws_config_delivery_channel" "main" {
          s3_bucket_name = "audit-logs"
        }

    Fix:
        Declare a recorder (all supported resources, global types included), a
        delivery channel and the recorder status (``is_enabled = true``) next to the
        trail. When AWS Config is set up by another repository (or by AWS Organizations
        / Control Tower), turn the rule off for this one in your ruleset
        (``rules: {AWS403: false}``).
    """
    kinds = {r.kind for r in ctx.estate.config_recorders.values()}
    missing = [kind for kind in ("recorder", "delivery_channel") if kind not in kinds]
    if not missing:
        return
    anchors = _anchors(ctx.estate, str(ctx.options.get("baseline", "audit")))
    if not anchors:
        return
    location, address, uid = anchors[0]
    names = " or ".join(m.replace("_", " ") for m in missing)
    yield ctx.finding(
        resource=address, uid=uid, location=location,
        message=f"the configuration declares account audit resources ({address}) but no AWS Config {names}",
        details={"missing": missing},
    )


@rule(
    id="AWS404",
    title="CloudTrail missing, not multi-region, without log file validation, or not logging",
    severity=Severity.MEDIUM,
    family="aws",
    options={"baseline": "audit"},
    remediation=Remediation(
        summary="Have one multi-region CloudTrail trail that is logging and validates its log files "
                "(problem: {problem}).",
        console="CloudTrail console → Trails → select or create the trail → General details → Edit → "
                "apply to all regions, enable log file validation → Save; then 'Start logging'.",
        cli="aws cloudtrail update-trail --name <trail> --is-multi-region-trail --enable-log-file-validation\n"
            "aws cloudtrail start-logging --name <trail>",
        boto3="ct = boto3.client('cloudtrail')\n"
              "ct.update_trail(Name='<trail>', IsMultiRegionTrail=True, EnableLogFileValidation=True)\n"
              "ct.start_logging(Name='<trail>')",
        terraform="resource \"aws_cloudtrail\" \"main\" {{\n  name                       = \"main\"\n"
                  "  s3_bucket_name             = aws_s3_bucket.trail.id\n  is_multi_region_trail      = true\n"
                  "  enable_log_file_validation = true\n  enable_logging             = true\n}}",
        cloudformation="Trail:\n  Type: AWS::CloudTrail::Trail\n  Properties:\n    S3BucketName: !Ref TrailBucket\n"
                       "    IsLogging: true\n    IsMultiRegionTrail: true\n    EnableLogFileValidation: true",
    ),
)
def aws404_cloudtrail(ctx: Context) -> Iterator[Finding]:
    """CloudTrail missing, not multi-region, without log file validation, or not logging.

    What it finds:
        One finding per trail (``aws_cloudtrail``, ``AWS::CloudTrail::Trail``, live
        trails) and per problem, named in ``details.problem``:
        ``not_multi_region`` (``is_multi_region_trail`` / ``IsMultiRegionTrail`` false
        or not set — the default is single-region), ``log_validation_off``
        (``enable_log_file_validation`` / ``EnableLogFileValidation`` false or not set)
        and ``logging_disabled`` (``enable_logging = false`` / ``IsLogging: false``).
        A value the code does not resolve is not judged. And ``no_trail``, once per
        scan, when the code manages the account's audit baseline but declares no trail:
        like AWS403, the scan counts as a baseline when it declares an AWS Config
        recorder or delivery channel (option ``baseline: audit``, the default), or also
        a VPC (``baseline: network``); the finding is anchored on the first such object.

    Why it matters:
        CloudTrail is the record of every API call: who changed a security group,
        from where, and when. A single-region trail misses activity in the other
        regions — where attackers like to start instances. Without log file
        validation, tampered or deleted log files go unnoticed (CIS AWS 3.1, 3.2).

    Failing example:
        resource "aws_cloudtrail" "main" {
          name           = "main"
          s3_bucket_name = "audit-logs"
        }

    Passing example:
        resource "aws_cloudtrail" "main" {
          name                       = "main"
          s3_bucket_name             = "audit-logs"
          is_multi_region_trail      = true
          enable_log_file_validation = true
        }

    Fix:
        Set ``is_multi_region_trail = true`` and ``enable_log_file_validation = true``
        and keep ``enable_logging`` on (CloudFormation ``IsMultiRegionTrail``,
        ``EnableLogFileValidation``, ``IsLogging: true``). When the account is covered
        by an AWS Organizations trail declared elsewhere, the ``no_trail`` finding can
        be suppressed with a baseline file or by turning the rule off for this
        repository.
    """
    for trail in ctx.estate.trails.values():
        yield from _trail_problems(ctx, trail)
    if ctx.estate.trails:
        return
    anchors = _anchors(ctx.estate, str(ctx.options.get("baseline", "audit")))
    if anchors:
        location, address, uid = anchors[0]
        yield ctx.finding(
            resource=address, uid=uid, location=location,
            message=f"the configuration declares account audit resources ({address}) but no CloudTrail trail",
            details={"problem": "no_trail"},
        )


_PROBLEMS: tuple[tuple[str, str, str], ...] = (
    ("multi_region", "not_multi_region", "is not multi-region: activity in other regions is not recorded"),
    ("log_validation", "log_validation_off", "does not validate its log files: tampering goes unnoticed"),
)


def _trail_problems(ctx: Context, trail: Trail) -> Iterable[Finding]:
    for attr, problem, text in _PROBLEMS:
        value = getattr(trail, attr)
        if value is True or is_unknown(value):
            continue
        yield _trail_finding(ctx, trail, problem, text)
    if trail.logging is False:
        yield _trail_finding(ctx, trail, "logging_disabled", "has logging turned off: nothing is recorded")


def _trail_finding(ctx: Context, trail: Trail, problem: str, text: str) -> Finding:
    return ctx.finding(
        resource=trail.address, uid=trail.uid, location=trail.location,
        message=f"CloudTrail trail {trail.address} {text}", details={"problem": problem},
    )
