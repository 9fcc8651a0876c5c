"""AWS407: AMI lookups without owners, hard-coded AMI ids, and (live) old or deprecated AMIs."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from iacscan.findings import Finding, Severity
from iacscan.model import AmiLookup, Unknown, Workload
from iacscan.rules.base import Context, Remediation, rule

#: Kinds whose own attributes name an AMI (groups and instances built from a template
#: take the template's, which is judged on the template).
IMAGE_KINDS = frozenset({
    "aws_instance", "aws_spot_instance_request", "aws_launch_template", "aws_launch_configuration",
    "AWS::EC2::Instance", "AWS::EC2::LaunchTemplate", "AWS::AutoScaling::LaunchConfiguration",
})


@rule(
    id="AWS407",
    title="AMI lookup without owners, hard-coded AMI id, or an old or deprecated AMI in use",
    severity=Severity.MEDIUM,
    family="aws",
    options={"max_ami_age_days": 180},
    remediation=Remediation(
        summary="Problem {problem} on {resource}: restrict AMI lookups to trusted owners, look AMIs up "
                "(data source or SSM public parameter) instead of hard-coding ids, and rebuild on current AMIs.",
        console="EC2 console → AMIs → check the owner, creation date and deprecation time of the AMI; "
                "launch a replacement from a current AMI (or update the launch template version).",
        cli="aws ec2 describe-images --image-ids <ami-id> --include-deprecated "
            "--query 'Images[].[ImageId,OwnerId,CreationDate,DeprecationTime]'\n"
            "aws ssm get-parameter --name /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
        boto3="boto3.client('ec2').describe_images(ImageIds=['<ami-id>'], IncludeDeprecated=True)['Images']",
        terraform="data \"aws_ami\" \"base\" {{\n  most_recent = true\n  owners      = [\"amazon\"]  # or an account id\n"
                  "  filter {{\n    name   = \"name\"\n    values = [\"al2023-ami-*-x86_64\"]\n  }}\n}}\n"
                  "# then: ami = data.aws_ami.base.id",
        cloudformation="Parameters:\n  LatestAmiId:\n    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>\n"
                       "    Default: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64\n"
                       "# then: ImageId: !Ref LatestAmiId",
    ),
)
def aws407_amis(ctx: Context) -> Iterator[Finding]:
    """AMI lookup without owners, hard-coded AMI id, or an old or deprecated AMI in use.

    What it finds:
        ``details.problem`` says which:

        - ``lookup_without_owners`` (medium): a Terraform ``data "aws_ami"`` lookup that
          neither sets ``owners`` nor filters on ``owner-id``/``owner-alias``. Any account
          can publish a public AMI whose name matches the filter; with ``most_recent`` the
          newest such image wins (AMI name squatting). A value the code does not resolve
          is not judged.
        - ``hard_coded_ami`` (info): an instance, launch template or launch configuration
          whose AMI is an ``ami-…`` id written in the code (a variable or parameter
          default included) rather than looked up (``data "aws_ami"``, ``data
          "aws_ssm_parameter"``, ``resolve:ssm:``, a CloudFormation parameter of type
          ``AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>`` or ``{{resolve:ssm:…}}``).
          Instances and groups that take their AMI from a launch template are judged on
          the template. Terraform plans are not judged (a planned value is always literal).
        - live snapshots (``--live``), from ``DescribeImages``: ``deprecated_ami`` (medium),
          an instance on an AMI whose deprecation time has passed, and ``old_ami`` (low), on
          an AMI created more than ``max_ami_age_days`` (option, default 180) before the
          snapshot was taken. An AMI the snapshot could not describe is not judged.

    Why it matters:
        An AMI from an unexpected owner runs someone else's code with your instance role.
        Hard-coded ids pin servers to an image that ages with every unpatched CVE and
        differs per region; old and deprecated AMIs are exactly those images.

    Failing example:
        data "aws_ami" "ubuntu" {
          most_recent = true
          filter {
            name   = "name"
            values = ["ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"]
          }
        }

    Passing example:
        data "aws_ami" "ubuntu" {
          most_recent = true
          owners      = ["099720109477"] # Canonical
          filter {
            name   = "name"
            values = ["ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"]
          }
        }

    Fix:
        Set ``owners`` on every AMI lookup (an account id, or ``amazon``/``aws-marketplace``);
        look AMIs up instead of hard-coding ids; rebuild instances on current images and
        set the maximum age your patch policy allows with ``max_ami_age_days``.
    """
    for lookup in ctx.estate.ami_lookups.values():
        if _unrestricted(lookup):
            yield _lookup_finding(ctx, lookup)
    for workload in ctx.estate.workloads.values():
        if workload.kind in IMAGE_KINDS and workload.image_origin == "literal" and isinstance(workload.image, str):
            yield ctx.finding(
                resource=workload.address, uid=workload.uid, location=workload.location,
                message=f"{workload.address} uses the hard-coded AMI {workload.image}; look the AMI up instead",
                details={"problem": "hard_coded_ami", "image": workload.image}, severity=Severity.INFO,
                environment=workload.environment,
            )
    yield from _live(ctx)


def _unrestricted(lookup: AmiLookup) -> bool:
    owners = lookup.owners
    if isinstance(owners, Unknown) or (isinstance(owners, list) and any(isinstance(o, Unknown) for o in owners)):
        return False
    return not owners


def _lookup_finding(ctx: Context, lookup: AmiLookup) -> Finding:
    name = f" for {lookup.name_filter}" if isinstance(lookup.name_filter, str) else ""
    newest = " and takes the newest match" if lookup.most_recent is True else ""
    return ctx.finding(
        resource=lookup.address, uid=lookup.uid, location=lookup.location,
        message=f"{lookup.address} looks up an AMI{name} from any owner{newest}: anyone can publish a "
                "matching image",
        details={"problem": "lookup_without_owners"},
    )


def _when(value: Any) -> dt.datetime | None:
    """An AWS timestamp (``2024-01-02T03:04:05.000Z`` or with an offset) as aware UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _live(ctx: Context) -> Iterator[Finding]:
    now = _when(ctx.estate.snapshot_time) or dt.datetime.now(dt.timezone.utc)
    limit = int(ctx.options.get("max_ami_age_days", 180))
    if not ctx.estate.images:
        return  # no live AMI facts: nothing to judge
    for workload in ctx.estate.workloads.values():
        image = ctx.estate.images.get(workload.image) if isinstance(workload.image, str) else None
        if workload.source != "live" or image is None:
            continue
        deprecated = _when(image.get("deprecation_time"))
        created = _when(image.get("creation_date"))
        if deprecated is not None and deprecated <= now:
            yield _live_finding(ctx, workload, "deprecated_ami", Severity.MEDIUM,
                                f"was deprecated on {deprecated.date().isoformat()}", image)
        elif created is not None and (now - created).days > limit:
            yield _live_finding(ctx, workload, "old_ami", Severity.LOW,
                                f"was created {(now - created).days} days ago (limit {limit})", image)


def _live_finding(ctx: Context, workload: Workload, problem: str, severity: Severity, text: str,
                  image: dict[str, Any]) -> Finding:
    return ctx.finding(
        resource=workload.address, uid=workload.uid, location=workload.location,
        message=f"{workload.address} runs on AMI {workload.image}, which {text}",
        details={"problem": problem, "image": workload.image}, severity=severity,
        environment=workload.environment, live_id=workload.live_id,
        extra={"image_created": image.get("creation_date"), "image_deprecated": image.get("deprecation_time"),
               "image_owner": image.get("owner")},
    )
