"""DRIFT501-DRIFT504: differences between the code's security groups and live state.

These rules report only under ``iacscan drift``, which prepares the comparison
(``iacscan.drift``); on a plain ``iacscan scan`` they find nothing. Each finding names the
code resource when there is one (its file and line), else the live ``sg-…`` id, and always
carries the live id in ``details["live_id"]`` and remediation with the real ids.
"""
from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from typing import Any

from iacscan import drift_fix as fix
from iacscan.drift import Comparison, GroupChange, RuleDiff, WorkloadDiff, comparison_for
from iacscan.drift_keys import AtomicKey, region_of, text
from iacscan.findings import Finding, Severity
from iacscan.model import Location, Rule, SecurityGroup
from iacscan.rules.base import Context, Remediation, rule

_GENERIC_FIX = dict(
    console="EC2 console → Security Groups → search for {live_id} → compare its rules with the code.",
    cloudformation="# aws cloudformation detect-stack-drift --stack-name <stack>",
)


def _prepared(ctx: Context) -> Comparison | None:
    return comparison_for(ctx.estate)


def _where(group: SecurityGroup, rule: Rule | None = None) -> tuple[str, str, Location]:
    """(resource, uid, location) a finding about ``group`` (and one of its code rules) names."""
    if rule is not None and rule.origin:
        return rule.origin_address or group.address, rule.origin, rule.location
    if group.source == "live":
        return group.live_id, group.uid, Location("", 0, resource_id=group.live_id)
    return group.address, group.uid, rule.location if rule is not None else group.location


def _group_ref(group: SecurityGroup | None, live_id: str, style: str) -> str:
    """How a snippet names the group: a Terraform/CloudFormation reference, else the live id."""
    if group is not None and style == "terraform" and group.source == "terraform" \
            and not group.address.startswith("module."):
        return f"{group.address}.id"
    if group is not None and style == "cloudformation" and group.source == "cloudformation":
        return f"!Ref {group.address}"
    return f'"{live_id}"' if style == "terraform" else live_id


def _finding(ctx: Context, group: SecurityGroup, live_id: str, message: str, details: dict[str, Any],
             remediation: dict[str, str], *, rule_: Rule | None = None,
             severity: Severity | None = None) -> Finding:
    resource, uid, where = _where(group, rule_)
    finding = ctx.finding(resource=resource, uid=uid, location=where, message=message,
                          details={"live_id": live_id, **details}, severity=severity,
                          environment=group.environment, live_id=live_id)
    finding.remediation = {k: v for k, v in remediation.items() if v}
    return finding


@rule(
    id="DRIFT501", title="Live security group or rule not declared in the code", severity=Severity.MEDIUM,
    family="drift",
    remediation=Remediation(
        summary="Remove what was added outside the code, or declare it in the code if it is wanted.",
        cli="aws ec2 revoke-security-group-ingress --group-id {live_id} --ip-permissions "
            "'IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{{CidrIp=0.0.0.0/0}}]'",
        boto3='ec2.revoke_security_group_ingress(GroupId="{live_id}", IpPermissions=[...])',
        terraform='import {{\n  to = aws_security_group.NAME\n  id = "{live_id}"\n}}',
        **_GENERIC_FIX,
    ),
)
def live_only(ctx: Context) -> Iterator[Finding]:
    """What it finds
    Under ``iacscan drift``: a rule a live security group has that the code does not
    declare for that group (added in the console, the CLI or a script), and a live group in
    a VPC the code manages that no code declares at all. Rules are compared atomically
    (one peer each) with protocols, ports, CIDRs and group ids normalised, so
    ``cidr_blocks = ["a", "b"]`` equals two live rules, ``6`` equals ``tcp`` and
    ``123456789012/sg-1`` of the same account equals ``sg-1``; ``tcp 0-65535`` is not ``all``.
    A default group (``default``) is never unmanaged: only the rules it gained beyond AWS's
    own (all inbound from itself, all outbound) count. Live groups in VPCs the code does not
    touch are left alone.

    Severity: high when the rule is inbound from the whole internet (``0.0.0.0/0`` or
    ``::/0``), or, for a whole group, when one of its inbound rules is; medium otherwise
    (outbound rules to the internet included). A live rule that may be a code rule whose
    peer is unknown, or a live group that may be a code group whose name is unknown or
    which several live groups match, is not reported: IAC002 says it was not checked.

    Why it matters
    A rule added by hand is invisible in code review and is lost or fought over at the next
    ``terraform apply``; an SSH port opened "for a minute" is the classic leftover.

    Failing example
        # code
        resource "aws_security_group" "web" {
          name   = "web"
          vpc_id = "vpc-0abc"
        }
        # live: sg-0123 "web" also allows tcp 22 from 0.0.0.0/0

    Passing example
        # live sg-0123 "web" has exactly the rules of aws_security_group.web

    Fix
    Revoke the rule (``aws ec2 revoke-security-group-ingress --group-id sg-… ...``, the
    finding gives the exact command with the live ids), or declare it in the code; adopt
    an unmanaged group with a Terraform ``import`` block or delete it.
    """
    cmp = _prepared(ctx)
    if cmp is None:
        return
    for diff in cmp.rules:
        for key, live_rule in diff.live_only:
            yield _live_rule(ctx, diff, key, live_rule)
    for group in cmp.unmanaged:
        yield _unmanaged(ctx, group)


def _live_rule(ctx: Context, diff: RuleDiff, key: AtomicKey, live_rule: Rule) -> Finding:
    live, code = diff.live, diff.code
    gid, rule_id = live.live_id, live_rule.location.resource_id
    internet = key.is_internet and key.direction == "ingress"
    who = f"{code.address} ({gid})" if code is not None else f"default group {gid}"
    message = (f"live group {who} has {key.describe()}, which the code does not declare"
               + ("; it opens the group to the internet" if internet else ""))
    description = text(live_rule.description)
    inline = code is not None and any(not r.origin for r in code.rules)
    if inline and code is not None:
        terraform = (f"# to keep it, add to {code.address} (terraform apply removes it otherwise):\n"
                     + fix.tf_inline(key, gid, description))
    else:
        terraform = "# to keep it:\n" + fix.tf_standalone(key, _group_ref(code, gid, "terraform"), gid,
                                                           description, rule_id)
    remediation = {
        "summary": f"Revoke {key.describe()} from {gid}, or declare it in the code if it is wanted.",
        "console": f"EC2 console → Security Groups → {gid} → "
                   f"{'Inbound' if key.direction == 'ingress' else 'Outbound'} rules → delete {key.describe()}.",
        **fix.revoke(key, gid, rule_id),
        "terraform": terraform,
        "cloudformation": "# to keep it:\n" + fix.cfn_standalone(key, _group_ref(code, gid, "cloudformation"),
                                                                 description),
    }
    return _finding(ctx, code or live, gid, message, key.details(), remediation,
                    severity=Severity.HIGH if internet else Severity.MEDIUM)


def _unmanaged(ctx: Context, group: SecurityGroup) -> Finding:
    gid = group.live_id
    vpc = ctx.estate.vpcs[group.vpc].live_id if isinstance(group.vpc, str) and group.vpc in ctx.estate.vpcs \
        else str(group.vpc or "")
    open_keys = [r for r in group.rules if r.direction.value == "ingress" and r.peer.kind.value == "cidr"
                 and r.peer.value in ("0.0.0.0/0", "::/0")]
    region = region_of(group.uid)[1]
    message = (f"security group {gid} ({group.name!s}) in {vpc or 'no VPC'} ({region}) is not declared "
               f"in the code" + ("; it admits the internet" if open_keys else ""))
    remediation = {
        "summary": f"Adopt {gid} into the code (import it) or delete it once nothing uses it.",
        "console": f"EC2 console → Security Groups → {gid} → check what uses it → delete it, or import it.",
        "cli": f"aws ec2 describe-network-interfaces --filters Name=group-id,Values={gid}   # who uses it\n"
               f"aws ec2 delete-security-group --group-id {gid}",
        "boto3": fix.boto3_call("delete_security_group", f'GroupId="{gid}"'),
        "terraform": fix.tf_group_import(group, vpc),
        "cloudformation": fix.cfn_group_import(group, vpc),
    }
    return _finding(ctx, group, gid, message, {"name": str(group.name or ""), "vpc": vpc}, remediation,
                    severity=Severity.HIGH if open_keys else Severity.MEDIUM)


@rule(
    id="DRIFT502", title="Security group or rule in the code missing from live state", severity=Severity.MEDIUM,
    family="drift",
    remediation=Remediation(
        summary="Apply the code again (terraform apply / a stack update), or remove it from the code.",
        cli="aws ec2 authorize-security-group-ingress --group-id {live_id} --ip-permissions '[...]'",
        boto3='ec2.authorize_security_group_ingress(GroupId="{live_id}", IpPermissions=[...])',
        terraform="terraform plan   # shows what will be re-created\nterraform apply",
        **_GENERIC_FIX,
    ),
)
def code_only(ctx: Context) -> Iterator[Finding]:
    """What it finds
    Under ``iacscan drift``: a rule the code declares for a group that the matching live
    group does not have (revoked by hand), and a code group with no live group at all
    (deleted, or never applied). When the snapshot could not read the region's security
    groups (``DescribeSecurityGroups`` failed), nothing is claimed missing: an IAC002 note
    says it could not be checked. Only the regions in the snapshot are looked at: a group
    whose VPC is in none of them is noted, not claimed missing; a group whose VPC the code
    does not say is looked for by name in every region of the snapshot. A CloudFormation
    group without egress rules expects AWS's allow-all egress; its removal is reported
    here too.

    Why it matters
    A missing rule usually breaks something (a health check, a database connection) or
    someone tightened it by hand; either way code and reality disagree, and the next apply
    will silently undo the manual change.

    Failing example
        # code: aws_security_group.web allows tcp 443 from 10.0.0.0/8
        # live: sg-0123 "web" has no such rule

    Passing example
        # live sg-0123 holds the 443 rule

    Fix
    Run ``terraform apply`` (or update the stack) to restore it, or remove it from the code
    if the manual change was right. The finding gives the ``authorize-security-group-*``
    command with the live ids.
    """
    cmp = _prepared(ctx)
    if cmp is None:
        return
    for diff in cmp.rules:
        if diff.code is None:
            continue
        for key, code_rule in diff.code_only:
            yield _missing_rule(ctx, diff.code, diff.live, key, code_rule)
    for group in cmp.missing:
        yield _missing_group(ctx, group)


def _missing_rule(ctx: Context, code: SecurityGroup, live: SecurityGroup, key: AtomicKey,
                  code_rule: Rule | None) -> Finding:
    gid = live.live_id
    description = text(code_rule.description) if code_rule is not None else None
    what = key.describe() if code_rule is not None else f"AWS's default {key.describe()}"
    message = f"{what} is declared by {code.address} but live group {gid} does not have it"
    remediation = {
        "summary": f"Restore {key.describe()} on {gid} (apply the code), or remove it from the code.",
        **fix.authorize(key, gid, description),
        "terraform": f"terraform apply   # re-creates {key.describe()} of {code.address}",
        "cloudformation": "# update the stack, or run: aws cloudformation detect-stack-drift --stack-name <stack>",
    }
    return _finding(ctx, code, gid, message, key.details(), remediation, rule_=code_rule)


def _missing_group(ctx: Context, group: SecurityGroup) -> Finding:
    name = text(group.name) if not group.is_default else "default"
    where = f" (expected {group.live_id})" if group.live_id else ""
    message = f"{group.address} (name {name!r}) is declared in the code but no live group matches it{where}"
    remediation = {
        "summary": f"Apply the code to create {group.address} again, or remove it from the code.",
        "cli": "aws ec2 describe-security-groups --filters " + shlex.quote(f"Name=group-name,Values={name or '*'}"),
        "terraform": f"terraform plan    # shows {group.address} will be created\nterraform apply",
        "cloudformation": "# update the stack that declares it",
    }
    return _finding(ctx, group, group.live_id, message, {"name": name or ""}, remediation)


@rule(
    id="DRIFT503", title="Security group or rule differs between code and live state", severity=Severity.MEDIUM,
    family="drift",
    remediation=Remediation(
        summary="Make the code and the live group agree: apply the code, or change the code to the live value.",
        cli="aws ec2 update-security-group-rule-descriptions-ingress --group-id {live_id} --ip-permissions '[...]'",
        boto3='ec2.update_security_group_rule_descriptions_ingress(GroupId="{live_id}", IpPermissions=[...])',
        terraform="terraform apply",
        **_GENERIC_FIX,
    ),
)
def changed(ctx: Context) -> Iterator[Finding]:
    """What it finds
    Under ``iacscan drift``: a group matched to its live group whose description differs
    (Terraform's "Managed by Terraform" counts when the code gives none), whose name or VPC
    differs (when the plan or state says which live group it is), or a rule present on
    both sides whose description differs.

    Why it matters
    Descriptions are how people tell why a rule exists; a name or VPC that differs means
    the group was re-created or the state points at something else. The next apply will
    replace or rewrite it.

    Failing example
        # code: ingress 443 from 10.0.0.0/8, description "office"
        # live: the same rule, description "temp - remove"

    Passing example
        # live description "office"

    Fix
    Apply the code (``terraform apply``), or change the code to what live state says if
    that is right.
    """
    cmp = _prepared(ctx)
    if cmp is None:
        return
    for diff in cmp.rules:
        if diff.code is None:
            continue
        for key, code_rule, live_rule in diff.changed:
            yield _changed_rule(ctx, diff.code, diff.live, key, code_rule, live_rule)
    for change in cmp.changes:
        yield _changed_group(ctx, change)


def _changed_rule(ctx: Context, code: SecurityGroup, live: SecurityGroup, key: AtomicKey,
                  code_rule: Rule, live_rule: Rule) -> Finding:
    gid = live.live_id
    want, have = text(code_rule.description) or "", text(live_rule.description) or ""
    message = f"description of {key.describe()} on {gid} is {have!r} in live state, {want!r} in the code"
    remediation = {
        "summary": f"Set the description back to the code's ({want!r}) or change the code.",
        **fix.update_description(key, gid, want),
        "terraform": f"terraform apply   # sets the description declared in {code.address}",
    }
    return _finding(ctx, code, gid, message, {**key.details(), "field": "description"}, remediation, rule_=code_rule)


def _changed_group(ctx: Context, change: GroupChange) -> Finding:
    code, gid = change.pair.code, change.pair.live.live_id
    message = (f"{change.what} of {code.address} is {change.live_value!r} in live group {gid}, "
               f"{change.code_value!r} in the code")
    remediation = {
        "summary": f"AWS cannot change a group's {change.what} in place: apply the code (it replaces {gid}) "
                   f"or change the code to {change.live_value!r}.",
        "cli": f"aws ec2 describe-security-groups --group-ids {gid}",
        "terraform": f"terraform plan   # shows {code.address} will be replaced\nterraform apply",
        "cloudformation": "# update the stack that declares the group",
    }
    return _finding(ctx, code, gid, message, {"field": change.what}, remediation)


@rule(
    id="DRIFT504", title="Workload's security groups differ between code and live state",
    severity=Severity.MEDIUM, family="drift",
    remediation=Remediation(
        summary="Attach the groups the code declares (apply the code), or change the code.",
        cli="aws ec2 modify-instance-attribute --instance-id {live_id} --groups sg-... sg-...",
        boto3='ec2.modify_instance_attribute(InstanceId="{live_id}", Groups=["sg-..."])',
        terraform="terraform apply",
        **_GENERIC_FIX,
    ),
)
def workload_groups(ctx: Context) -> Iterator[Finding]:
    """What it finds
    Under ``iacscan drift``: a workload of the code matched to a live one (by the id a plan
    or state gives, else an instance by a unique ``Name`` tag) whose attached security
    groups differ. Code groups are compared by their live ids; a workload whose code
    groups cannot all be told (unknown values, groups missing from live state), or whose
    code lists no group at all (AWS then attaches the VPC's default group), is not judged;
    a workload missing from live state is not this rule's business.

    Why it matters
    A group attached by hand grants access nobody reviewed; a group detached by hand
    breaks something or hides a change.

    Failing example
        # code: aws_instance.web uses aws_security_group.web (sg-0123)
        # live: i-0abc has sg-0123 and sg-0999

    Passing example
        # live i-0abc has only sg-0123

    Fix
    Apply the code, or change ``vpc_security_group_ids`` to what is wanted.
    """
    cmp = _prepared(ctx)
    if cmp is None:
        return
    for diff in cmp.workloads:
        yield _workload(ctx, diff)


def _workload(ctx: Context, diff: WorkloadDiff) -> Finding:
    code, live = diff.code, diff.live
    added = sorted(set(diff.live_groups) - set(diff.code_groups))
    removed = sorted(set(diff.code_groups) - set(diff.live_groups))
    message = (f"{code.address} ({live.live_id}) has groups {', '.join(diff.live_groups) or 'none'} in live state; "
               f"the code attaches {', '.join(diff.code_groups)}")
    groups = " ".join(diff.code_groups)
    if live.live_id.startswith("i-"):
        cli = f"aws ec2 modify-instance-attribute --instance-id {live.live_id} --groups {groups}"
        boto3 = fix.boto3_call("modify_instance_attribute",
                               f'InstanceId="{live.live_id}", Groups={json.dumps(diff.code_groups)}')
    else:
        cli = f"# set the security groups of {live.live_id} to: {groups}"
        boto3 = ""
    remediation = {"summary": f"Attach exactly {groups} to {live.live_id} (apply the code), or change the code.",
                   "cli": cli, "boto3": boto3,
                   "terraform": f"terraform apply   # restores the groups of {code.address}"}
    finding = ctx.finding(resource=code.address, uid=code.uid, location=code.location, message=message,
                          details={"live_id": live.live_id, "added": added, "removed": removed},
                          environment=code.environment, live_id=live.live_id)
    finding.remediation = {k: v for k, v in remediation.items() if v}
    return finding
