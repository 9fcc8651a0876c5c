"""AWS401: EBS volumes and instance block devices without encryption."""
from __future__ import annotations

from collections.abc import Iterator

from iacscan.findings import Finding, Severity
from iacscan.model import Volume, is_unknown
from iacscan.rules.base import Context, Remediation, rule


@rule(
    id="AWS401",
    title="EBS volume or block device not encrypted",
    severity=Severity.MEDIUM,
    family="aws",
    remediation=Remediation(
        summary="Encrypt {resource} ({device}): set encrypted = true (CloudFormation Encrypted: true), "
                "or turn on EBS encryption by default for the account and region.",
        console="EC2 console → Settings (EBS encryption) → Manage → Enable 'Always encrypt new EBS "
                "volumes'. An existing volume cannot be encrypted in place: snapshot it, copy the "
                "snapshot with encryption, create a volume from the copy and swap it in.",
        cli="aws ec2 enable-ebs-encryption-by-default --region <region>\n"
            "aws ec2 create-snapshot --volume-id <vol-id>\n"
            "aws ec2 copy-snapshot --source-region <region> --source-snapshot-id <snap-id> --encrypted",
        boto3="ec2 = boto3.client('ec2')\n"
              "ec2.enable_ebs_encryption_by_default()\n"
              "snap = ec2.create_snapshot(VolumeId='<vol-id>')\n"
              "ec2.copy_snapshot(SourceRegion='<region>', SourceSnapshotId=snap['SnapshotId'], Encrypted=True)",
        terraform="resource \"aws_ebs_encryption_by_default\" \"this\" {{\n  enabled = true\n}}\n"
                  "# or on the volume / block device of {resource}:\n"
                  "root_block_device {{\n  encrypted = true\n}}",
        cloudformation="# on {resource}:\nBlockDeviceMappings:\n  - DeviceName: /dev/xvda\n    Ebs:\n"
                       "      Encrypted: true\n# AWS::EC2::Volume:\n#   Properties:\n#     Encrypted: true",
    ),
)
def aws401_unencrypted_volume(ctx: Context) -> Iterator[Finding]:
    """EBS volume or block device not encrypted.

    What it finds:
        An EBS volume (``aws_ebs_volume``, ``AWS::EC2::Volume``) or a block device of
        an instance, launch template or launch configuration (``root_block_device``,
        ``ebs_block_device``, ``block_device_mappings``, CloudFormation
        ``BlockDeviceMappings``) that is not encrypted: ``encrypted = false`` or not
        set at all — AWS's default is unencrypted unless the account turned on EBS
        encryption by default. A value the code does not resolve (a variable without
        value) is not judged here. When the configuration itself turns on encryption
        by default (``aws_ebs_encryption_by_default`` with ``enabled = true``), no
        volume is reported. An instance with no block device block at all takes its
        AMI's setting, which the code does not say; it is not reported.

    Why it matters:
        Unencrypted volumes and their snapshots can be read by anyone who obtains a
        snapshot copy or the physical media; many standards (CIS AWS 2.2.1, PCI DSS,
        HIPAA) require encryption at rest. Encryption is free of charge and
        transparent to the instance, but cannot be added to an existing volume in
        place — it is cheapest when the code asks for it from the start.

    Failing example:
        resource "aws_ebs_volume" "data" {
          availability_zone = "eu-west-1a"
          size              = 100
        }

    Passing example:
        resource "aws_ebs_volume" "data" {
          availability_zone = "eu-west-1a"
          size              = 100
          encrypted         = true
        }

    Fix:
        Set ``encrypted = true`` on the volume or block device (CloudFormation
        ``Encrypted: true``), optionally with a KMS key (``kms_key_id``), or enable
        EBS encryption by default per region (``aws_ebs_encryption_by_default``).
    """
    if getattr(ctx.estate, "ebs_default_encryption", None) is True:
        return
    for volume in ctx.estate.volumes.values():
        if volume.encrypted is True or is_unknown(volume.encrypted):
            continue
        yield _finding(ctx, volume)


def _finding(ctx: Context, volume: Volume) -> Finding:
    owner = ctx.estate.workloads.get(volume.owner) if volume.owner else None
    resource = owner.address if owner else (volume.address or volume.uid)
    state = "encrypted = false" if volume.encrypted is False else "encryption not set"
    what = "EBS volume" if volume.kind == "ebs_volume" else f"block device ({volume.kind})"
    return ctx.finding(
        resource=resource, uid=volume.uid, location=volume.location,
        message=f"{what} {resource} is not encrypted ({state}; AWS default is unencrypted)",
        details={"device": volume.kind, "volume": volume.uid.split("#", 1)[-1],
                 "encrypted": "false" if volume.encrypted is False else "not set"},
        environment=owner.environment if owner else None,
    )
