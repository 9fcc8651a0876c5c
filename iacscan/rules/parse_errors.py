"""IAC001 and IAC002: files that could not be parsed, values that could not be resolved."""
from __future__ import annotations

from collections.abc import Iterator

from iacscan.findings import Finding, Severity
from iacscan.model import Location, PeerKind, Rule, SecurityGroup, Unknown, is_unknown
from iacscan.rules._sg_common import ports_text, target
from iacscan.rules.base import Context, Remediation, rule

_UNKNOWN_PEER = PeerKind.UNKNOWN  # (a module constant: enum member lookups cost in loops)


@rule(
    id="IAC001", title="File could not be parsed", severity=Severity.HIGH, family="parse",
    remediation=Remediation(
        summary="Fix the syntax of {resource} so that it can be read; until then nothing in it is checked.",
        console="Nothing to do in the console: the file is broken, not the deployed resources.",
        cli="terraform fmt -check {resource}   # Terraform: shows the syntax error\n"
            "cfn-lint {resource}               # CloudFormation: shows the template error",
        boto3="# Not applicable: fix the file.",
        terraform="# Run 'terraform validate' in the module directory and fix what it reports.",
        cloudformation="# Run 'cfn-lint {resource}' and fix the YAML/JSON error it reports.",
    ),
)
def parse_error(ctx: Context) -> Iterator[Finding]:
    """What it finds
    A Terraform or CloudFormation file (or a variable, parameter or plan file) that
    iacscan could not read or parse: a syntax error, a wrong encoding, a template that is
    not valid YAML/JSON. One finding per error, on the file and line the parser gives.
    The rest of the scan goes on without that file.

    Why it matters
    A file that cannot be parsed cannot be checked: whatever it opens to the internet
    would go unnoticed. That is why this finding is high and fails the default
    ``--fail-on`` threshold instead of being a warning.

    Failing example
        resource "aws_security_group" "web" {
          ingress {
            from_port = 22
        }

    Passing example
        resource "aws_security_group" "web" {
          description = "Web servers"
        }

    Fix
    Correct the syntax (``terraform validate``, ``cfn-lint``) and scan again.
    """
    for error in ctx.estate.errors:
        name = error.file or "<input>"
        yield ctx.finding(resource=name, uid=name, location=Location(error.file, error.line),
                          message=f"{error.message.rstrip('. ')}: fix the syntax; the rest of the scan went on")


def _rule_unknowns(item: Rule) -> Iterator[tuple[str, Unknown]]:
    direction = item.direction.value
    known = not (is_unknown(item.protocol) or is_unknown(item.from_port) or is_unknown(item.to_port))
    if item.peer.unknown is not None or item.peer.kind.value == "unknown":
        traffic = f" ({item.protocol} {ports_text(item)})" if known else ""
        yield f"peer of {direction} rule{traffic}", item.peer.unknown or Unknown("not resolved")
    if is_unknown(item.protocol):
        yield f"protocol of {direction} rule", item.protocol
    for value in (item.from_port, item.to_port):
        if is_unknown(value):
            yield f"ports of {direction} rule", value
            break


def _has_unknowns(item: Rule) -> bool:
    """Whether ``_rule_unknowns`` has something to say about the rule."""
    peer = item.peer
    return peer.unknown is not None or peer.kind is _UNKNOWN_PEER or isinstance(item.protocol, Unknown) \
        or isinstance(item.from_port, Unknown) or isinstance(item.to_port, Unknown)


def _group_notes(group: SecurityGroup) -> Iterator[tuple[str, str, Location, str, Unknown]]:
    for item in group.rules:
        if not _has_unknowns(item):
            continue
        resource, uid = target(group, item)
        for what, unknown in _rule_unknowns(item):
            yield resource, uid, item.location, what, unknown


@rule(
    id="IAC002", title="Value could not be resolved", severity=Severity.INFO, family="parse",
    remediation=Remediation(
        summary="Give iacscan the value of {what} in {resource} (a tfvars file with --var-file, a "
                "parameter file, or a plan with --plan) so that the rules can judge it.",
        console="Nothing to change in the console.",
        cli="iacscan scan . --var-file prod.tfvars          # Terraform variables\n"
            "iacscan scan . --plan plan.json                # terraform show -json plan.out > plan.json",
        boto3="# Not applicable: the value is missing from the scanned code.",
        terraform='# give the variable a value, e.g. in terraform.tfvars:\nadmin_cidr = "203.0.113.0/24"',
        cloudformation="# give the parameter a Default, or pass a parameter file to iacscan",
    ),
)
def unresolved_value(ctx: Context) -> Iterator[Finding]:
    """What it finds
    A value that decides whether a rule fires but that iacscan could not work out from
    the code: a CIDR, protocol or port from a variable with no value, a data source, an
    attribute known only after apply (``aws_vpc.main.cidr_block``), a group a standalone
    rule names that is not in the scanned code. The message names the value and why it is
    unknown (usually the variable). One finding per resource and value.

    Why it matters
    iacscan never guesses: a rule whose source is ``var.admin_cidr`` with no value is not
    reported as open to the internet, and not passed either. This informational finding
    says what was not checked, so that a clean report is not mistaken for a safe one.

    Failing example
        variable "admin_cidr" {}

        resource "aws_security_group" "admin" {
          ingress {
            from_port   = 22
            to_port     = 22
            protocol    = "tcp"
            cidr_blocks = [var.admin_cidr]
          }
        }

    Passing example
        variable "admin_cidr" {
          default = "203.0.113.0/24"
        }

    Fix
    Give the value: a default, a ``.tfvars`` file passed with ``--var-file``, a
    CloudFormation parameter file, or scan a plan (``--plan``) where Terraform has
    resolved it.
    """
    seen: set[tuple[str, str]] = set()
    for group in ctx.estate.groups.values():
        for item in group.rules:  # ``_has_unknowns`` of each rule, inline: most groups have none
            peer = item.peer
            if peer.unknown is not None or peer.kind is _UNKNOWN_PEER or isinstance(item.protocol, Unknown) \
                    or isinstance(item.from_port, Unknown) or isinstance(item.to_port, Unknown):
                break
        else:
            continue
        for resource, uid, location, what, unknown in _group_notes(group):
            if (resource, what) in seen:
                continue
            seen.add((resource, what))
            msg = (f"could not resolve the {what}: {unknown.reason}; "
                   "the rules that depend on it did not judge it")
            yield ctx.finding(resource=resource, uid=uid, location=location, message=msg,
                              details={"what": what}, environment=group.environment)
    for note in ctx.estate.unresolved:
        if (note.resource, note.what) in seen:
            continue
        seen.add((note.resource, note.what))
        yield ctx.finding(resource=note.resource, uid=note.uid, location=note.location,
                          message=f"could not resolve {note.what}: {note.reason}; the rules that depend "
                                  "on it did not judge it", details={"what": note.what})
