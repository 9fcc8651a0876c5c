"""Association rules (ENV2xx): groups and workloads that cross environments or VPCs.

Environments come from ``iacscan.environments`` (run before the rules). An object whose
environment is unknown (``None``) is never judged: these rules only report a mismatch
between two environments that are both known. Environments listed in the rule option
``shared_environments`` (default ``shared``, ``common``, ``global``) are meant to be used
everywhere and never count as a mismatch.
"""
from __future__ import annotations

from collections.abc import Iterator

from iacscan.findings import Finding, Severity
from iacscan.model import Direction, Estate, PeerKind, Rule, SecurityGroup, Workload, is_unknown
from iacscan.rules.base import Context, Remediation, rule

SHARED = ["shared", "common", "global"]


def _shared(ctx: Context) -> set[str]:
    """The rule's shared environments (option ``shared_environments``), lower-cased."""
    return {str(s).lower() for s in ctx.options.get("shared_environments", SHARED)}


def _crosses(shared: set[str], a: str | None, b: str | None) -> bool:
    """True when both environments are known, differ, and neither is a ``shared`` one."""
    if not a or not b or a == b:
        return False
    return a.lower() not in shared and b.lower() not in shared


@rule(
    id="ENV201",
    title="A workload uses a security group of another environment",
    severity=Severity.HIGH,
    family="env",
    options={"shared_environments": SHARED},
    remediation=Remediation(
        summary="Attach only groups of the workload's own environment ({workload_environment}) "
                "to {resource}; create a {workload_environment} copy of {group} if the rules are needed.",
        console="EC2 console → Instances → select the instance → Actions → Security → Change security "
                "groups → remove {group} and add a group of the {workload_environment} environment → Save.",
        cli="aws ec2 modify-instance-attribute --instance-id <instance-id> "
            "--groups <sg-of-{workload_environment}> [<other-sg-ids>...]",
        boto3="boto3.client('ec2').modify_instance_attribute(InstanceId='<instance-id>', "
              "Groups=['<sg-of-{workload_environment}>'])",
        terraform="# in {resource}: list only groups of the same environment\n"
                  "vpc_security_group_ids = [aws_security_group.app_{workload_environment}.id]",
        cloudformation="# in {resource}:\nSecurityGroupIds:\n  - !Ref AppSecurityGroup  "
                       "# a group tagged Environment: {workload_environment}",
    ),
)
def env201_workload_uses_foreign_group(ctx: Context) -> Iterator[Finding]:
    """A workload uses a security group of another environment.

    What it finds:
        A workload (instance, launch template, database, load balancer…) whose
        environment is known carries a security group whose environment is also known
        and different — for example a group tagged ``Environment = prod`` attached to an
        instance tagged ``Environment = dev``. The finding names the workload; its
        details name the group and both environments. Environments named in the option
        ``shared_environments`` (default ``shared``, ``common``, ``global``) never count.

    Why it matters:
        A group is an identity as much as a filter: other groups admit traffic "from
        members of group X". A dev instance carrying a prod group is admitted wherever
        prod is — so anything that can reach or run code on the dev instance reaches
        production databases and services. The reverse (a dev group on a prod
        instance) usually opens prod to dev-level access.

    Failing example:
        resource "aws_security_group" "app_prod" {
          tags = { Environment = "prod" }
        }
        resource "aws_instance" "dev_box" {
          vpc_security_group_ids = [aws_security_group.app_prod.id]
          tags                   = { Environment = "dev" }
        }

    Passing example:
        resource "aws_security_group" "app_dev" {
          tags = { Environment = "dev" }
        }
        resource "aws_instance" "dev_box" {
          vpc_security_group_ids = [aws_security_group.app_dev.id]
          tags                   = { Environment = "dev" }
        }

    Fix:
        Give each environment its own groups and attach only those. If a workload is
        really shared between environments, tag its groups with a shared environment
        (``Environment = shared``) or add that value to ``shared_environments``.
    """
    shared = _shared(ctx)
    for workload in ctx.estate.workloads.values():
        if not workload.environment:
            continue  # crosses nothing (``_crosses``)
        for group in ctx.graph.groups_of(workload):
            if not _crosses(shared, workload.environment, group.environment):
                continue
            yield ctx.finding(
                resource=workload.address, uid=workload.uid, location=workload.location,
                message=f"{workload.address} ({workload.environment}) uses security group "
                        f"{group.address} of environment {group.environment}",
                details={"group": group.address, "group_environment": group.environment,
                         "workload_environment": workload.environment},
                environment=workload.environment, live_id=workload.live_id,
            )


@rule(
    id="ENV202",
    title="A security group admits traffic from a group of another environment",
    severity=Severity.HIGH,
    family="env",
    options={"shared_environments": SHARED},
    remediation=Remediation(
        summary="Remove the ingress rule of {resource} ({group_environment}) that admits "
                "{peer} ({peer_environment}) on {protocol} {ports}.",
        console="VPC console → Security groups → select the group → Inbound rules → Edit inbound "
                "rules → delete the rule whose source is the {peer_environment} group → Save rules.",
        cli="aws ec2 revoke-security-group-ingress --group-id {live_id} --ip-permissions "
            "'IpProtocol={protocol},FromPort=<from>,ToPort=<to>,UserIdGroupPairs=[{{GroupId=<peer-sg-id>}}]'",
        boto3="boto3.client('ec2').revoke_security_group_ingress(GroupId='{live_id}', IpPermissions=["
              "{{'IpProtocol': '{protocol}', 'FromPort': <from>, 'ToPort': <to>, "
              "'UserIdGroupPairs': [{{'GroupId': '<peer-sg-id>'}}]}}])",
        terraform="# in {resource}: admit only groups of the {group_environment} environment\n"
                  "ingress {{\n  protocol        = \"tcp\"\n  from_port       = 443\n  to_port         = 443\n"
                  "  security_groups = [aws_security_group.web_{group_environment}.id]\n}}",
        cloudformation="# in {resource}:\nSecurityGroupIngress:\n  - IpProtocol: tcp\n    FromPort: 443\n"
                       "    ToPort: 443\n    SourceSecurityGroupId: !Ref WebSecurityGroup  "
                       "# same environment",
    ),
)
def env202_group_admits_foreign_group(ctx: Context) -> Iterator[Finding]:
    """A security group admits traffic from a group of another environment.

    What it finds:
        An ingress rule of a group whose environment is known names, as its source, a
        security group whose environment is known and different — for example a prod
        database group admitting the dev application group on 5432. The finding names
        the admitting group and points at the rule's line (the standalone rule
        resource's line when the rule is declared on its own). Peers the model cannot
        resolve, and environments named in ``shared_environments``, are not judged.

    Why it matters:
        Environments are separated so that a mistake, a leaked credential or a
        compromised host in dev cannot touch production. A rule that lets dev members
        into a prod group removes that separation for everything behind the group.

    Failing example:
        resource "aws_security_group" "db_prod" {
          tags = { Environment = "prod" }
          ingress {
            protocol        = "tcp"
            from_port       = 5432
            to_port         = 5432
            security_groups = [aws_security_group.app_dev.id]
          }
        }

    Passing example:
        resource "aws_security_group" "db_prod" {
          tags = { Environment = "prod" }
          ingress {
            protocol        = "tcp"
            from_port       = 5432
            to_port         = 5432
            security_groups = [aws_security_group.app_prod.id]
          }
        }

    Fix:
        Admit only groups of the same environment. Traffic that must cross
        environments (a shared CI runner, a monitoring host) should come from a group
        tagged with a shared environment, which is listed in ``shared_environments``.
    """
    shared = _shared(ctx)
    find, ingress, group_kind = ctx.graph.find_group, Direction.INGRESS, PeerKind.GROUP
    for group in ctx.estate.groups.values():
        if not group.environment:
            continue
        for entry in group.rules:
            if entry.direction is not ingress or entry.peer.kind is not group_kind:
                continue
            peer = find(entry.peer.value)
            if peer is None or peer.uid == group.uid or not _crosses(shared, group.environment, peer.environment):
                continue
            yield _foreign_peer(ctx, group, entry, peer)


def _foreign_peer(ctx: Context, group: SecurityGroup, entry: Rule, peer: SecurityGroup) -> Finding:
    protocol, ports = _describe(entry.protocol, entry.from_port, entry.to_port)
    return ctx.finding(
        resource=group.address, uid=group.uid, location=entry.location,
        message=f"{group.address} ({group.environment}) admits {protocol} {ports} from "
                f"{peer.address} of environment {peer.environment}",
        details={"direction": "ingress", "protocol": protocol, "ports": ports,
                 "peer": peer.address,
                 "group_environment": group.environment, "peer_environment": peer.environment},
        environment=group.environment, live_id=group.live_id,
    )


def _describe(protocol: object, from_port: object, to_port: object) -> tuple[str, str]:
    """Protocol and port text for details: (``tcp``, ``5432``), (``tcp``, ``0-65535``), (``all``, ``all``)."""
    proto = str(protocol)
    if proto == "all":
        return proto, "all"
    if is_unknown(protocol) or is_unknown(from_port) or is_unknown(to_port):
        return proto, "unknown"
    if from_port is None and to_port is None:
        return proto, "all"
    if from_port == to_port or to_port is None:
        return proto, str(from_port)
    return proto, f"{from_port}-{to_port}"


@rule(
    id="ENV203",
    title="A security group is attached to a workload in another VPC",
    severity=Severity.MEDIUM,
    family="env",
    remediation=Remediation(
        summary="Attach to {resource} only groups of its own VPC ({workload_vpc}); {group} "
                "belongs to {group_vpc}.",
        console="EC2 console → select the resource → Actions → Security → Change security groups → "
                "remove {group} and add a group created in {workload_vpc} → Save.",
        cli="aws ec2 create-security-group --group-name <name> --description <text> --vpc-id <vpc-of-workload>\n"
            "aws ec2 modify-instance-attribute --instance-id <instance-id> --groups <new-sg-id>",
        boto3="ec2 = boto3.client('ec2')\n"
              "sg = ec2.create_security_group(GroupName='<name>', Description='<text>', VpcId='<vpc-of-workload>')\n"
              "ec2.modify_instance_attribute(InstanceId='<instance-id>', Groups=[sg['GroupId']])",
        terraform="# the group must be created in the workload's VPC\n"
                  "resource \"aws_security_group\" \"app\" {{\n  vpc_id = aws_vpc.main.id  "
                  "# the VPC of {resource}'s subnet\n}}",
        cloudformation="AppSecurityGroup:\n  Type: AWS::EC2::SecurityGroup\n  Properties:\n"
                       "    GroupDescription: app\n    VpcId: !Ref MainVpc  # the VPC of {resource}'s subnet",
    ),
)
def env203_group_from_other_vpc(ctx: Context) -> Iterator[Finding]:
    """A security group is attached to a workload in another VPC.

    What it finds:
        A workload whose VPC is known (its own ``vpc`` or the VPC of its subnets)
        carries a security group declared in a different, also known, VPC. The finding
        names the workload; its details name the group and both VPCs. When either VPC
        is unknown (a variable without value, no ``vpc_id`` — the default VPC), or one
        side is a VPC of the code and the other a raw ``vpc-…`` id that may be the same
        VPC once deployed, nothing is reported.

    Why it matters:
        AWS refuses to attach a group of another VPC, so the apply fails halfway —
        or, with a peering and an account mix-up, the code does not describe the
        network it runs in. It usually means a copy-paste between environments: a
        group of the prod VPC wired into the dev stack.

    Failing example:
        resource "aws_security_group" "app" {
          vpc_id = aws_vpc.prod.id
        }
        resource "aws_instance" "web" {
          subnet_id              = aws_subnet.dev_a.id   # a subnet of aws_vpc.dev
          vpc_security_group_ids = [aws_security_group.app.id]
        }

    Passing example:
        resource "aws_security_group" "app" {
          vpc_id = aws_vpc.dev.id
        }
        resource "aws_instance" "web" {
          subnet_id              = aws_subnet.dev_a.id
          vpc_security_group_ids = [aws_security_group.app.id]
        }

    Fix:
        Create the group in the workload's VPC (``vpc_id`` / ``VpcId``) and attach that
        one instead.
    """
    keys: dict[object, VpcKey | None] = {}  # _vpc_key by reference: workloads and groups repeat them
    for workload in ctx.estate.workloads.values():
        workload_vpc = _workload_vpc(ctx.estate, workload, keys)
        if workload_vpc is None:
            continue
        for group in ctx.graph.groups_of(workload):
            group_vpc = _known_vpc_key(ctx.estate, group.vpc, keys)
            if group_vpc is None or not _different(workload_vpc, group_vpc):
                continue
            yield ctx.finding(
                resource=workload.address, uid=workload.uid, location=workload.location,
                message=f"{workload.address} is in VPC {workload_vpc[2]} but carries security group "
                        f"{group.address} of VPC {group_vpc[2]}",
                details={"group": group.address, "group_vpc": group_vpc[2], "workload_vpc": workload_vpc[2]},
                environment=workload.environment, live_id=workload.live_id,
            )


#: A VPC as (in_model, identity, display): a model VPC's uid and address, or a raw id twice.
VpcKey = tuple[bool, str, str]


def _vpc_key(estate: Estate, ref: object) -> VpcKey | None:
    """The VPC a reference names: a model VPC (by uid or live id) or a raw id; None if unknown."""
    if not isinstance(ref, str) or not ref:
        return None
    vpc = estate.vpcs.get(ref)
    if vpc is None:
        vpc = next((v for v in estate.vpcs.values() if v.live_id and v.live_id == ref), None)
    return (True, vpc.uid, vpc.address or vpc.uid) if vpc is not None else (False, ref, ref)


def _known_vpc_key(estate: Estate, ref: object, known: dict[object, VpcKey | None]) -> VpcKey | None:
    """``_vpc_key``, remembered in ``known`` (for one scan)."""
    if not isinstance(ref, str):
        return None
    if ref in known:
        return known[ref]
    found = known[ref] = _vpc_key(estate, ref)
    return found


def _workload_vpc(estate: Estate, workload: Workload,
                  known: dict[object, VpcKey | None] | None = None) -> VpcKey | None:
    """The workload's own VPC, else the single VPC all its known subnets are in."""
    own = _vpc_key(estate, workload.vpc) if known is None else _known_vpc_key(estate, workload.vpc, known)
    if own is not None:
        return own
    keys = set()
    for ref in workload.subnets:
        subnet = estate.subnets.get(ref) if isinstance(ref, str) else None
        if subnet is None:
            subnet = next((s for s in estate.subnets.values() if s.live_id and s.live_id == ref), None)
        key = (_vpc_key(estate, subnet.vpc) if known is None else _known_vpc_key(estate, subnet.vpc, known)) \
            if subnet is not None else None
        if key is None:
            return None
        keys.add(key)
    return keys.pop() if len(keys) == 1 else None


def _different(a: VpcKey, b: VpcKey) -> bool:
    """Two known VPCs that are surely different: both in the model, or both raw ids."""
    return a[0] == b[0] and a[1] != b[1]
