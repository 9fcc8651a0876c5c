"""IAC004: inline suppressions that hide nothing because they are incomplete, expired or misplaced.

The suppressions themselves are read by ``iacscan.suppress`` (from the raw text of the
scanned files: comments are not part of the model); this rule reports the bad ones.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from iacscan import suppress
from iacscan.findings import Finding, Severity
from iacscan.model import Location, make_uid
from iacscan.rules.base import REGISTRY, Context, Remediation, rule


@rule(
    id="IAC004", title="Suppression without a reason, past its date or misplaced", severity=Severity.MEDIUM,
    family="parse",
    remediation=Remediation(
        summary='Give the suppression in {resource} a reason="..." (and a future until= date if it is '
                "temporary), put it inside the block it is meant for, or remove it and fix the finding.",
        console="Nothing to do in the console: the suppression is in the code.",
        cli="iacscan rules IAC004   # the syntax of suppressions",
        boto3="# Not applicable: fix the suppression in the code.",
        terraform='# iacscan:ignore SG101 reason="bastion reached only through the VPN" until=2026-12-31',
        cloudformation="Metadata:\n  iacscan:\n    ignore:\n      - id: SG101\n"
                       "        reason: bastion reached only through the VPN\n        until: \"2026-12-31\"",
    ),
)
def bad_suppression(ctx: Context) -> Iterator[Finding]:
    """What it finds
    An inline suppression that hides nothing: a Terraform comment
    ``# iacscan:ignore SG101`` or a CloudFormation ``Metadata: {iacscan: {ignore: [...]}}``
    entry with no ``reason``, with an ``until`` date that has passed or is not a date
    (``YYYY-MM-DD``), naming a rule id that does not exist (or IAC001, IAC003, IAC004,
    which cannot be suppressed), with an unknown option, or written outside any block.

    A Terraform comment inside a rule block (``ingress {}``, ``egress {}``, a ``dynamic``
    block) suppresses the named rules on that block only; anywhere else inside a
    resource it suppresses them on the whole resource. A CloudFormation entry
    suppresses them on its resource.

    Why it matters
    A suppression is a decision that a finding is acceptable. Without a reason nobody
    can review that decision; past its date it was meant to be revisited. Such a
    suppression does not hide its finding, and this finding says why, so that a
    forgotten or half-written suppression never silently hides a problem.

    Failing example
        resource "aws_security_group" "bastion" {
          ingress {
            # iacscan:ignore SG101
            from_port   = 22
            to_port     = 22
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }

    Passing example
        resource "aws_security_group" "bastion" {
          ingress {
            # iacscan:ignore SG101 reason="reached only through the VPN" until=2026-12-31
            from_port   = 22
            to_port     = 22
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }

    Fix
    Add ``reason="..."`` (quoted when it has spaces), renew or remove ``until``, move the
    comment inside the block it is meant for, or delete the suppression and fix the
    finding.
    """
    known, today = set(REGISTRY), date.today()
    for item in suppress.collect(ctx.estate):
        why = suppress.problem(item, known, today)
        if not why:
            continue
        resource = item.resource or item.file
        names = ", ".join(item.rule_ids) or "(no rule)"
        yield ctx.finding(
            resource=resource, uid=make_uid(item.scope or item.file, resource),
            location=Location(item.file, item.line),
            message=f"suppression of {names} {why}; it hides nothing",
            details={"rules": names, "problem": why},
        )
