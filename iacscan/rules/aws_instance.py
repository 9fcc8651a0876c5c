"""AWS405: instances and launch templates that allow the instance metadata service v1."""
from __future__ import annotations

from collections.abc import Iterator

from iacscan.findings import Finding, Severity
from iacscan.model import is_unknown
from iacscan.rules.base import Context, Remediation, rule

#: Resource types whose own attributes say whether IMDSv2 is required.
METADATA_KINDS = frozenset({
    "aws_instance", "aws_launch_template", "aws_launch_configuration", "aws_spot_instance_request",
    "AWS::EC2::LaunchTemplate", "AWS::AutoScaling::LaunchConfiguration",
})


@rule(
    id="AWS405",
    title="Instance metadata service v1 allowed (IMDSv2 not required)",
    severity=Severity.MEDIUM,
    family="aws",
    remediation=Remediation(
        summary="Require IMDSv2 on {resource}: http_tokens = \"required\" "
                "(CloudFormation MetadataOptions.HttpTokens: required).",
        console="EC2 console → Instances → select the instance → Actions → Instance settings → "
                "Modify instance metadata options → IMDSv2: Required → Save. For new instances: "
                "EC2 → Settings (Data protection and security) → IMDS defaults → IMDSv2 required.",
        cli="aws ec2 modify-instance-metadata-options --instance-id <instance-id> "
            "--http-tokens required --http-endpoint enabled",
        boto3="boto3.client('ec2').modify_instance_metadata_options(InstanceId='<instance-id>', "
              "HttpTokens='required', HttpEndpoint='enabled')",
        terraform="# in {resource}:\nmetadata_options {{\n  http_endpoint               = \"enabled\"\n"
                  "  http_tokens                 = \"required\"\n  http_put_response_hop_limit = 1\n}}",
        cloudformation="# in {resource} (LaunchTemplateData of a launch template):\nMetadataOptions:\n"
                       "  HttpEndpoint: enabled\n  HttpTokens: required",
    ),
)
def aws405_imds_v1(ctx: Context) -> Iterator[Finding]:
    """Instance metadata service v1 allowed (IMDSv2 not required).

    What it finds:
        An instance, launch template or launch configuration (``aws_instance``,
        ``aws_spot_instance_request``, ``aws_launch_template``,
        ``aws_launch_configuration``, ``AWS::EC2::LaunchTemplate``,
        ``AWS::AutoScaling::LaunchConfiguration``) whose metadata options do not set
        ``http_tokens = "required"`` (CloudFormation ``HttpTokens: required``): set to
        ``optional`` or not set at all, which lets IMDSv1 answer. A value the code
        does not resolve is not judged. A CloudFormation ``AWS::EC2::Instance`` has no
        metadata option of its own (it takes one from a launch template or the
        account default), so plain CloudFormation instances are not judged; the
        launch template they use is. Autoscaling groups are judged through their
        launch template or configuration. A Terraform ``aws_instance`` built from a
        launch template takes the template's ``metadata_options`` when it sets none of
        its own. A metadata service switched off (``http_endpoint = "disabled"``,
        ``HttpEndpoint: disabled``) allows no IMDSv1 and is not reported.

    Why it matters:
        IMDSv1 answers any plain HTTP GET from the instance. A server-side request
        forgery bug in an application (or an open proxy) is then enough to read the
        instance role's temporary credentials from 169.254.169.254 — the path of
        several large cloud breaches. IMDSv2 needs a PUT with a session token first,
        which such bugs cannot send.

    Failing example:
        resource "aws_instance" "web" {
          ami           = "ami-0123456789abcdef0"
          instance_type = "t3.micro"
        }

    Passing example:
        resource "aws_instance" "web" {
          ami           = "ami-0123456789abcdef0"
          instance_type = "t3.micro"
          metadata_options {
            http_tokens = "required"
          }
        }

    Fix:
        Add ``metadata_options { http_tokens = "required" }`` (CloudFormation
        ``MetadataOptions: {HttpTokens: required}``) and check that the software on the
        instance uses an SDK recent enough for IMDSv2.
    """
    for workload in ctx.estate.workloads.values():
        if workload.kind not in METADATA_KINDS:
            continue
        tokens = workload.metadata_tokens
        if is_unknown(tokens) or (isinstance(tokens, str) and tokens.lower() in ("required", "disabled")):
            continue
        shown = "not set" if tokens is None else str(tokens)
        yield ctx.finding(
            resource=workload.address, uid=workload.uid, location=workload.location,
            message=f"{workload.address} allows IMDSv1 (http_tokens {shown}; IMDSv2 is not required)",
            details={"metadata_tokens": shown},
            environment=workload.environment, live_id=workload.live_id,
        )
