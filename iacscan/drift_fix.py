"""Remediation text for drift findings, with the real ids: AWS CLI, boto3, Terraform, CloudFormation.

Every shell argument that carries text from AWS or the code (descriptions, names) is
quoted with ``shlex.quote``; Terraform and CloudFormation strings are JSON-quoted.
"""
from __future__ import annotations

import json
import re
import shlex
from typing import Any

from iacscan.drift_keys import AtomicKey
from iacscan.model import SecurityGroup


def ip_permission(key: AtomicKey, own_id: str, description: str | None = None) -> dict[str, Any]:
    """The EC2 ``IpPermission`` of one atomic rule."""
    perm: dict[str, Any] = {"IpProtocol": "-1" if key.protocol == "all" else key.protocol}
    if key.from_port is not None:
        perm["FromPort"], perm["ToPort"] = key.from_port, key.to_port
    extra = {"Description": description} if description else {}
    if key.kind == "cidr":
        outer, inner = ("Ipv6Ranges", "CidrIpv6") if ":" in key.peer else ("IpRanges", "CidrIp")
        perm[outer] = [{inner: key.peer, **extra}]
    elif key.kind == "prefix_list":
        perm["PrefixListIds"] = [{"PrefixListId": key.peer, **extra}]
    else:
        owner, _, ident = key.peer.rpartition("/")
        pair: dict[str, Any] = {"GroupId": ident or own_id}
        if owner:
            pair["UserId"] = owner
        perm["UserIdGroupPairs"] = [{**pair, **extra}]
    return perm


def shorthand(key: AtomicKey, own_id: str) -> str:
    """The AWS CLI shorthand of a rule without description: ``IpProtocol=tcp,FromPort=22,…``."""
    perm = ip_permission(key, own_id)
    parts = []
    for name, value in perm.items():
        if isinstance(value, list):
            inner = ",".join(f"{k}={v}" for k, v in value[0].items())
            parts.append(f"{name}=[{{{inner}}}]")
        else:
            parts.append(f"{name}={value}")
    return ",".join(parts)


def revoke(key: AtomicKey, group_id: str, rule_id: str = "") -> dict[str, str]:
    """CLI and boto3 that remove a live rule (by ``sgr-…`` id when known)."""
    verb = "ingress" if key.direction == "ingress" else "egress"
    if rule_id.startswith("sgr-"):
        return {"cli": f"aws ec2 revoke-security-group-{verb} --group-id {group_id} "
                       f"--security-group-rule-ids {rule_id}",
                "boto3": boto3_call(f"revoke_security_group_{verb}",
                                f'GroupId="{group_id}", SecurityGroupRuleIds=["{rule_id}"]')}
    perm = ip_permission(key, group_id)
    return {"cli": f"aws ec2 revoke-security-group-{verb} --group-id {group_id} "
                   f"--ip-permissions {shlex.quote(shorthand(key, group_id))}",
            "boto3": boto3_call(f"revoke_security_group_{verb}", _args(group_id, perm))}


def authorize(key: AtomicKey, group_id: str, description: str | None) -> dict[str, str]:
    """CLI and boto3 that add a rule back to a live group."""
    verb = "ingress" if key.direction == "ingress" else "egress"
    perm = ip_permission(key, group_id, description)
    return {"cli": f"aws ec2 authorize-security-group-{verb} --group-id {group_id} "
                   f"--ip-permissions {shlex.quote(json.dumps([perm]))}",
            "boto3": boto3_call(f"authorize_security_group_{verb}", _args(group_id, perm))}


def update_description(key: AtomicKey, group_id: str, description: str | None) -> dict[str, str]:
    """CLI and boto3 that set a rule's description back to the code's."""
    verb = "ingress" if key.direction == "ingress" else "egress"
    perm = ip_permission(key, group_id, description or "")
    return {"cli": f"aws ec2 update-security-group-rule-descriptions-{verb} --group-id {group_id} "
                   f"--ip-permissions {shlex.quote(json.dumps([perm]))}",
            "boto3": boto3_call(f"update_security_group_rule_descriptions_{verb}", _args(group_id, perm))}


def boto3_call(method: str, args: str) -> str:
    return f'import boto3\nec2 = boto3.client("ec2")\nec2.{method}({args})'


def _args(group_id: str, perm: dict[str, Any]) -> str:
    return f'GroupId="{group_id}", IpPermissions=[{json.dumps(perm)}]'


def tf_name(text: str) -> str:
    """A Terraform resource name made from ``text`` (letters, digits, ``_``, ``-``)."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_") or "imported"
    return name if name[0].isalpha() or name[0] == "_" else f"sg_{name}"


def tf_inline(key: AtomicKey, own_id: str, description: str | None) -> str:
    """An inline ``ingress``/``egress`` block for an ``aws_security_group``."""
    lo, hi = (0, 0) if key.from_port is None else (key.from_port, key.to_port)
    lines = [f"{key.direction} {{", f'  protocol    = "{"-1" if key.protocol == "all" else key.protocol}"',
             f"  from_port   = {lo}", f"  to_port     = {hi}"]
    if key.kind == "cidr":
        lines.append(f"  {'ipv6_cidr_blocks' if ':' in key.peer else 'cidr_blocks'} = [{json.dumps(key.peer)}]")
    elif key.kind == "prefix_list":
        lines.append(f"  prefix_list_ids = [{json.dumps(key.peer)}]")
    elif key.peer == own_id:
        lines.append("  self        = true")
    else:
        lines.append(f"  security_groups = [{json.dumps(key.peer)}]")
    if description:
        lines.append(f"  description = {json.dumps(description)}")
    return "\n".join(lines + ["}"])


def tf_standalone(key: AtomicKey, group_ref: str, own_id: str, description: str | None, rule_id: str) -> str:
    """An ``aws_vpc_security_group_<direction>_rule`` resource, with an ``import`` block when
    the live rule id is known."""
    kind = f"aws_vpc_security_group_{key.direction}_rule"
    name = tf_name(f"{key.protocol}_{key.ports}_{key.peer}")
    lines = [f'resource "{kind}" "{name}" {{', f"  security_group_id = {group_ref}",
             f'  ip_protocol       = "{"-1" if key.protocol == "all" else key.protocol}"']
    if key.from_port is not None:
        lines += [f"  from_port         = {key.from_port}", f"  to_port           = {key.to_port}"]
    if key.kind == "cidr":
        lines.append(f"  {'cidr_ipv6' if ':' in key.peer else 'cidr_ipv4'}         = {json.dumps(key.peer)}")
    elif key.kind == "prefix_list":
        lines.append(f"  prefix_list_id    = {json.dumps(key.peer)}")
    else:
        lines.append(f"  referenced_security_group_id = {json.dumps(key.peer or own_id)}")
    if description:
        lines.append(f"  description       = {json.dumps(description)}")
    lines.append("}")
    if rule_id.startswith("sgr-"):
        lines += ["", "import {", f"  to = {kind}.{name}", f'  id = "{rule_id}"', "}"]
    return "\n".join(lines)


def cfn_standalone(key: AtomicKey, group_ref: str, description: str | None) -> str:
    """An ``AWS::EC2::SecurityGroupIngress``/``Egress`` resource for the rule."""
    ingress = key.direction == "ingress"
    logical = tf_name(key.protocol + key.ports).replace("_", "").replace("-", "to")
    lines = [f"{'Ingress' if ingress else 'Egress'}{logical}:",
             f"  Type: AWS::EC2::SecurityGroup{'Ingress' if ingress else 'Egress'}", "  Properties:",
             f"    GroupId: {group_ref}", f'    IpProtocol: "{"-1" if key.protocol == "all" else key.protocol}"']
    if key.from_port is not None:
        lines += [f"    FromPort: {key.from_port}", f"    ToPort: {key.to_port}"]
    if key.kind == "cidr":
        lines.append(f"    {'CidrIpv6' if ':' in key.peer else 'CidrIp'}: {key.peer}")
    elif key.kind == "prefix_list":
        lines.append(f"    {'SourcePrefixListId' if ingress else 'DestinationPrefixListId'}: {key.peer}")
    else:
        owner, _, ident = key.peer.rpartition("/")
        lines.append(f"    {'SourceSecurityGroupId' if ingress else 'DestinationSecurityGroupId'}: {ident}")
        if owner and ingress:
            lines.append(f"    SourceSecurityGroupOwnerId: \"{owner}\"")
    if description:
        lines.append(f"    Description: {json.dumps(description)}")
    return "\n".join(lines)


def tf_group_import(group: SecurityGroup, vpc_id: str) -> str:
    """An ``import`` block and resource skeleton that adopt a live group into Terraform."""
    name = tf_name(str(group.name or group.live_id))
    lines = ["import {", f"  to = aws_security_group.{name}", f'  id = "{group.live_id}"', "}", "",
             f'resource "aws_security_group" "{name}" {{', f"  name        = {json.dumps(str(group.name or ''))}",
             f"  description = {json.dumps(str(group.description or ''))}"]
    if vpc_id:
        lines.append(f'  vpc_id      = "{vpc_id}"')
    lines += ["  # run 'terraform plan -generate-config-out=generated.tf' to write its rules", "}"]
    return "\n".join(lines)


def cfn_group_import(group: SecurityGroup, vpc_id: str) -> str:
    """A template snippet and the change set that import a live group into a stack."""
    logical = tf_name(str(group.name or group.live_id)).replace("_", "").replace("-", "") or "ImportedGroup"
    resources = json.dumps([{"ResourceType": "AWS::EC2::SecurityGroup", "LogicalResourceId": logical,
                             "ResourceIdentifier": {"Id": group.live_id}}])
    return "\n".join([
        f"{logical}:", "  Type: AWS::EC2::SecurityGroup", "  DeletionPolicy: Retain", "  Properties:",
        f"    GroupName: {json.dumps(str(group.name or ''))}",
        f"    GroupDescription: {json.dumps(str(group.description or ''))}",
        *([f"    VpcId: {vpc_id}"] if vpc_id else []),
        f"# aws cloudformation create-change-set --stack-name <stack> --change-set-name import-{group.live_id} "
        "--change-set-type IMPORT --template-body file://template.yaml "
        f"--resources-to-import {shlex.quote(resources)}",
    ])
