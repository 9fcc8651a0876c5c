"""AWS40x material: EBS volumes, account EBS default encryption, flow logs, AWS Config,
CloudTrail.

Defaults follow the provider: ``aws_cloudtrail`` is single-region, without log file
validation and logging unless the attributes say otherwise; ``aws_ebs_encryption_by_default``
is enabled unless ``enabled = false``. A volume's ``encrypted`` is None when unset.
"""
from __future__ import annotations

from iacscan.model import ConfigRecorder, Estate, FlowLog, Trail, Unknown, Volume
from iacscan.parsers.tf_coerce import Refs, bool_or, text_or_none, volume_encryption
from iacscan.parsers.tf_types import ResourceInstance

_FLOW_TARGETS = ("vpc_id", "subnet_id", "eni_id", "transit_gateway_id", "transit_gateway_attachment_id")


def build_ebs_volume(inst: ResourceInstance, refs: Refs) -> Volume:
    """``aws_ebs_volume`` → Volume (kind ``ebs_volume``); unset encryption of a volume made
    from a snapshot follows that snapshot (Unknown)."""
    return Volume(inst.uid, inst.address, "ebs_volume", volume_encryption(inst.attrs), "", inst.location)


def add_volume_attachment(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """``aws_volume_attachment`` → the volume's owner is the instance."""
    volume = refs.uid(inst.attrs.get("volume_id"), inst.scope, ("aws_ebs_volume",), "volume_id")
    owner = refs.uid(inst.attrs.get("instance_id"), inst.scope, ("aws_instance",), "instance_id")
    if isinstance(volume, str) and volume in estate.volumes and isinstance(owner, str):
        estate.volumes[volume].owner = owner


def set_default_encryption(inst: ResourceInstance, refs: Refs, estate: Estate) -> None:
    """``aws_ebs_encryption_by_default`` → ``estate.ebs_default_encryption``."""
    enabled = bool_or(inst.attrs.get("enabled"), "enabled", True)
    if isinstance(enabled, bool):
        estate.ebs_default_encryption = enabled


def build_flow_log(inst: ResourceInstance, refs: Refs) -> FlowLog:
    """``aws_flow_log`` → FlowLog whose target is the VPC, subnet, ENI or transit gateway."""
    for key in _FLOW_TARGETS:
        target = refs.any_uid(inst.attrs.get(key), inst.scope, key)
        if target is not None:
            return FlowLog(inst.uid, inst.address, target, inst.location)
    return FlowLog(inst.uid, inst.address, Unknown("flow log names no VPC, subnet or network interface"),
                   inst.location)


def build_config(inst: ResourceInstance, refs: Refs) -> ConfigRecorder:
    """AWS Config recorder or delivery channel."""
    kind = "recorder" if inst.type == "aws_config_configuration_recorder" else "delivery_channel"
    return ConfigRecorder(inst.uid, inst.address, kind, inst.location)


def build_trail(inst: ResourceInstance, refs: Refs) -> Trail:
    """``aws_cloudtrail`` with the provider's defaults."""
    attrs = inst.attrs
    return Trail(
        inst.uid, inst.address,
        multi_region=bool_or(attrs.get("is_multi_region_trail"), "is_multi_region_trail", False),
        log_validation=bool_or(attrs.get("enable_log_file_validation"), "enable_log_file_validation", False),
        logging=bool_or(attrs.get("enable_logging"), "enable_logging", True),
        location=inst.location,
        cloudwatch_log_group=log_group_of_arn(text_or_none(attrs.get("cloud_watch_logs_group_arn"),
                                                           "cloud_watch_logs_group_arn")),
    )


def log_group_of_arn(arn: str | Unknown | None) -> str | Unknown | None:
    """The log group name in a CloudWatch Logs group ARN (``arn:…:log-group:NAME:*``)."""
    if not isinstance(arn, str):
        return arn
    marker = ":log-group:"
    if marker not in arn:
        return arn
    name = arn.split(marker, 1)[1]
    return name[:-2] if name.endswith(":*") else name


