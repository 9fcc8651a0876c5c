"""The CloudFormation parser: exact model records from the fixtures in
``fixtures/parsers/cloudformation`` (uids, lines, rules, peers, workloads, network)."""
from __future__ import annotations

from pathlib import Path

import pytest

from iacscan.model import (
    Direction, Estate, NaclEntry, Peer, PeerKind, Route, Rule, SecurityGroup, Tier, Unknown,
)
from iacscan.parsers.cloudformation import build_template, is_template, parse_documents
from tests.helpers import CORPUS, FIXTURES

HERE = FIXTURES / "parsers" / "cloudformation"
IN, OUT = Direction.INGRESS, Direction.EGRESS


def parse(*names: str, parameters: str | None = None) -> Estate:
    return parse_documents(HERE, [HERE / n for n in names], HERE / parameters if parameters else None)


def rows(group: SecurityGroup) -> list[tuple[object, ...]]:
    """A group's rules as (direction, protocol, from, to, peer kind, peer value, line, origin)."""
    return [(r.direction, r.protocol, r.from_port, r.to_port, r.peer.kind, r.peer.value or r.peer.unknown,
             r.location.line, r.origin_address) for r in group.rules]


# -- security groups and rules ---------------------------------------------------------

def test_inline_rules_protocols_ports_and_lines() -> None:
    estate = parse("groups.yaml")
    web = estate.groups["groups.yaml#WebSG"]
    assert (web.address, web.name, web.description, web.vpc, web.tags) == ("WebSG", "web", "Web tier", "vpc-0abc",
                                                                          {"Team": "web"})
    assert (web.location.file, web.location.line, web.source) == ("groups.yaml", 10, "cloudformation")
    assert rows(web) == [
        (IN, "tcp", 443, 443, PeerKind.CIDR, "0.0.0.0/0", 20, ""),
        (IN, "tcp", 22, 22, PeerKind.CIDR, "203.0.113.7/32", 25, ""),  # "6", "22" and a Ref
        (IN, "all", None, None, PeerKind.CIDR, "::/0", 29, ""),
        (IN, "udp", 53, 53, PeerKind.CIDR, "10.0.0.0/8", 31, ""),  # "17"; host bits normalised
        (IN, "tcp", 80, 80, PeerKind.PREFIX_LIST, "pl-12345", 94, "ByName"),  # GroupName: web
    ]
    assert web.rules[0].description == "HTTPS"
    assert web.rules[4].origin == "groups.yaml#ByName"
    assert estate.sources == {"cloudformation"} and estate.files == ["groups.yaml"]


def test_group_references_in_every_form() -> None:
    app = parse("groups.yaml").groups["groups.yaml#AppSG"]
    assert rows(app) == [
        (IN, "tcp", 8080, 8080, PeerKind.GROUP, "groups.yaml#WebSG", 40, ""),  # !Ref
        (IN, "tcp", 8443, 8443, PeerKind.GROUP, "groups.yaml#WebSG", 44, ""),  # !GetAtt X.GroupId
        (IN, "tcp", 9000, 9000, PeerKind.GROUP, "groups.yaml#WebSG", 48, ""),  # Fn::GetAtt: "X.GroupId"
        (IN, "tcp", 9001, 9001, PeerKind.UNKNOWN, Unknown("parameter ExternalGroup has no value"), 53, ""),
        (IN, "tcp", 9002, 9002, PeerKind.UNKNOWN,
         Unknown("Fn::ImportValue shared-bastion-sg comes from another stack"), 57, ""),
        (OUT, "tcp", 443, 443, PeerKind.CIDR, "10.0.0.0/8", 62, ""),  # one entry, two peers
        (OUT, "tcp", 443, 443, PeerKind.PREFIX_LIST, "groups.yaml#S3List", 62, ""),
        (IN, "all", None, None, PeerKind.SELF, None, 88, "AppSelf"),  # standalone, names its own group
    ]


def test_standalone_rules_merge_and_implicit_egress() -> None:
    estate = parse("groups.yaml")
    db = estate.groups["groups.yaml#DbSG"]
    assert db.rules == [
        Rule(IN, "tcp", 5432, 5432, Peer(PeerKind.GROUP, "groups.yaml#AppSG"), "postgres from app",
             db.rules[0].location, "groups.yaml#DbIngressFromApp", "DbIngressFromApp"),
        Rule(OUT, "tcp", 443, 443, Peer(PeerKind.GROUP, "groups.yaml#WebSG"), None,
             db.rules[1].location, "groups.yaml#DbEgress", "DbEgress"),
    ]
    assert [r.location.line for r in db.rules] == [71, 80]
    # WebSG declares no egress anywhere; AppSG inline, DbSG via a standalone egress.
    assert {uid: g.implicit_egress for uid, g in estate.groups.items()} == {
        "groups.yaml#WebSG": True, "groups.yaml#AppSG": False, "groups.yaml#DbSG": False}


def test_standalone_rule_for_an_undeclared_group_is_unresolved() -> None:
    estate = parse("groups.yaml")
    assert [(u.resource, u.uid, u.what, u.reason, u.location.line) for u in estate.unresolved] == [
        ("Orphan", "groups.yaml#Orphan", "group of SecurityGroupIngress",
         "group sg-0123456789 is not declared in this template", 102)]
    assert not any(r.origin_address == "Orphan" for g in estate.groups.values() for r in g.rules)
    assert estate.prefix_lists["groups.yaml#S3List"].entries == ["52.216.0.0/15"]


def test_json_template_lines_and_long_form_getatt() -> None:
    estate = parse("template.json")
    lb, app = estate.groups["template.json#LbSG"], estate.groups["template.json#AppSG"]
    assert (lb.location.line, app.location.line) == (7, 29)
    assert rows(lb) == [(IN, "tcp", 80, 80, PeerKind.CIDR, "0.0.0.0/0", 12, ""),
                        (OUT, "tcp", 8080, 8080, PeerKind.GROUP, "template.json#AppSG", 20, "")]
    assert rows(app) == [(IN, "tcp", 8080, 8080, PeerKind.GROUP, "template.json#LbSG", 34, "")]
    assert (lb.implicit_egress, app.implicit_egress) == (False, True)
    assert lb.env_hint == app.env_hint == "prod"  # parameter EnvType


def test_tab_indented_json_goes_through_the_json_decoder_with_lines() -> None:
    group = parse("tabs.json").groups["tabs.json#G"]
    assert (group.location.line, rows(group)) == (4, [(IN, "tcp", 22, 22, PeerKind.CIDR, "0.0.0.0/0", 9, "")])


# -- intrinsic functions, conditions, parameters ---------------------------------------

def test_sub_join_select_split_cidr_findinmap_with_defaults() -> None:
    estate = parse("intrinsics.yaml")
    assert set(estate.groups) == {"intrinsics.yaml#MixSG"}  # ProdOnlySG: condition IsProd is false
    mix = estate.groups["intrinsics.yaml#MixSG"]
    assert mix.name == "dev-mix-${Literal}"
    assert mix.description == Unknown("AWS::Region is only known at deployment")
    assert mix.env_hint == "dev"
    assert rows(mix) == [
        (IN, "tcp", 1, 1, PeerKind.CIDR, "10.20.0.0/16", 39, ""),  # Sub
        (IN, "tcp", 2, 2, PeerKind.CIDR, "10.20.1.0/24", 43, ""),  # Join
        (IN, "tcp", 3, 3, PeerKind.CIDR, "10.31.0.0/16", 47, ""),  # Select of a CommaDelimitedList
        (IN, "tcp", 4, 4, PeerKind.CIDR, "172.16.0.0/12", 51, ""),  # FindInMap
        (IN, "tcp", 5, 5, PeerKind.CIDR, "10.99.0.0/16", 55, ""),  # FindInMap DefaultValue
        (IN, "tcp", 6, 6, PeerKind.CIDR, "10.40.2.0/24", 59, ""),  # Cidr
        (IN, "tcp", 7, 7, PeerKind.CIDR, "10.50.0.0/16", 63, ""),  # Split
        # the !If [SshOpen, ..., NoValue] entry is gone; FromPort/ToPort from !If [IsProd, ...]
        (IN, "tcp", 8443, 8443, PeerKind.UNKNOWN,
         Unknown("condition Undecided is undecided (parameter Unset has no value)"), 74, ""),
        (IN, "tcp", 25, 25, PeerKind.UNKNOWN, Unknown("parameter Unset has no value"), 79, ""),
    ]
    assert mix.rules[7].description is None  # Description: !Ref AWS::NoValue removes it
    assert mix.implicit_egress is True  # SecurityGroupEgress: !If [ProdOrSsh, [...], NoValue]


def test_parameter_file_list_form_flips_conditions() -> None:
    estate = parse("intrinsics.yaml", parameters="params-prod.json")
    assert set(estate.groups) == {"intrinsics.yaml#MixSG", "intrinsics.yaml#ProdOnlySG"}
    mix = estate.groups["intrinsics.yaml#MixSG"]
    assert mix.env_hint == "prod"
    assert rows(mix)[3] == (IN, "tcp", 4, 4, PeerKind.CIDR, "192.168.0.0/16", 51, "")
    assert rows(mix)[7:] == [
        (IN, "tcp", 443, 443, PeerKind.CIDR, "10.0.0.0/8", 74, ""),
        (IN, "tcp", 25, 25, PeerKind.CIDR, "x", 79, ""),  # not a CIDR: kept as written
        (OUT, "all", None, None, PeerKind.CIDR, "0.0.0.0/0", 85, ""),
    ]
    assert mix.implicit_egress is False


def test_parameter_file_object_form_and_nested_conditions() -> None:
    mix = parse("intrinsics.yaml", parameters="params-ssh.json").groups["intrinsics.yaml#MixSG"]
    ssh = [row for row in rows(mix) if row[2] == 22]
    assert ssh == [(IN, "tcp", 22, 22, PeerKind.CIDR, "0.0.0.0/0", 69, "")]  # item line inside !If
    assert mix.rules[-1].direction is OUT  # ProdOrSsh: Or(IsProd, And(Not IsProd, OpenSsh))


def test_broken_parameter_file_is_a_parse_error() -> None:
    estate = parse("groups.yaml", parameters="groups.yaml")
    assert [(e.file, e.line) for e in estate.errors] == [("groups.yaml", 1)]
    assert "groups.yaml#WebSG" in estate.groups


def test_foreach_loops_expand_into_resources() -> None:
    estate = parse("foreach.yaml")
    assert [(g.uid, g.description, g.location.line, rows(g), g.rules[0].description)
            for g in estate.groups.values()] == [
        ("foreach.yaml#webSG", "web tier", 11, [(IN, "tcp", 443, 443, PeerKind.CIDR, "10.0.0.0/8", 16, "")], "web"),
        ("foreach.yaml#appSG", "app tier", 11, [(IN, "tcp", 443, 443, PeerKind.CIDR, "10.0.0.0/8", 16, "")], "app"),
    ]


INTRINSICS = """
Parameters:
  Ssm: {Type: "AWS::SSM::Parameter::Value<String>", Default: /cidr}
  Open: {Type: String}
  Ports: {Type: List<Number>, Default: "22,80"}
Mappings:
  Same: {us-east-1: {Port: 22}, eu-west-1: {Port: 22}}
  Diff: {us-east-1: {Port: 22}, eu-west-1: {Port: 23}}
Conditions:
  Maybe: !Equals [!Ref Open, "yes"]
  Loop: !Not [!Condition Loop]
Resources:
  Sg: {Type: AWS::EC2::SecurityGroup, Properties: {GroupDescription: x, VpcId: vpc-9}}
Values:
  - !Base64 "hi"
  - !Length [a, b, c]
  - !ToJsonString {a: [1, true]}
  - !Select [0, !GetAZs ""]
  - !Sub "arn:${AWS::Partition}:s3:::b.${AWS::URLSuffix}"
  - !Ref Ssm
  - !If [Maybe, same, same]
  - !If [Loop, a, b]
  - !GetAtt Sg.VpcId
  - !Sub "${Sg}"
  - !Sub "${Sg.GroupId}-x"
  - !Join ["", [!Ref Sg]]
  - !Select [1, !Ref Ports]
  - !Foo bar
  - !FindInMap [Missing, a, b]
  - !Cidr [10.0.0.0/24, 2, 9]
  - !Equals [!Ref Sg, x]
  - !FindInMap [Same, !Ref AWS::Region, Port]
  - !FindInMap [Diff, !Ref AWS::Region, Port, {DefaultValue: 1}]
  - !FindInMap [Diff, eu-west-1, Nope, {DefaultValue: 1}]
"""


def test_intrinsic_functions_one_by_one() -> None:
    from cfnlint.decode import decode_str

    from iacscan.parsers.cfn_intrinsics import CfnRef, TemplateContext

    data, matches = decode_str(INTRINSICS)
    assert matches == []
    ctx = TemplateContext(data)
    assert ctx.resolve(data["Values"]) == [
        "aGk=", 3, '{"a":[1,true]}',
        Unknown("Fn::GetAZs lists the availability zones only at deployment"),
        "arn:aws:s3:::b.amazonaws.com",
        Unknown("parameter Ssm is read from SSM parameter /cidr"),
        "same",
        Unknown("condition Loop is undecided (condition Loop refers to itself)"),
        "vpc-9",
        CfnRef("Sg"),
        Unknown("the physical id of Sg.GroupId is only known after deployment"),
        CfnRef("Sg"),
        "80",
        Unknown("Fn::Foo is not supported"),
        Unknown("Fn::FindInMap Missing/a/b is not in the mappings"),
        Unknown("Fn::Cidr subnets larger than the block"),
        Unknown("Fn::Equals of values only known at deployment"),
        22,  # every region maps to the same value
        Unknown("AWS::Region is only known at deployment"),
        1,
    ]


# -- workloads --------------------------------------------------------------------------

def wl_rows(estate: Estate) -> dict[str, tuple[object, ...]]:
    return {w.address: (w.kind, w.tier, w.groups, w.subnets, w.vpc, w.public, w.ports, w.location.line)
            for w in estate.workloads.values()}


def test_every_workload_family() -> None:
    estate = parse("workloads.yaml")
    sg, sub, vpc = "workloads.yaml#AppSG", "workloads.yaml#SubnetA", "workloads.yaml#Vpc"
    app, data, web = Tier.APP, Tier.DATA, Tier.WEB
    assert wl_rows(estate) == {
        "Template": ("AWS::EC2::LaunchTemplate", app, [sg], [], vpc, None, [], 52),
        "Config": ("AWS::AutoScaling::LaunchConfiguration", app, [sg], [], vpc, False, [], 76),
        "Eni": ("AWS::EC2::NetworkInterface", app, [sg], [sub], vpc, None, [], 90),
        "Aurora": ("AWS::RDS::DBCluster", data, [sg], [], vpc, None, [3306], 101),
        "Cache": ("AWS::ElastiCache::CacheCluster", data, [sg], [], vpc, None, [11211], 111),
        "Redis": ("AWS::ElastiCache::ReplicationGroup", data, [sg], [], vpc, None, [6380], 116),
        "Alb": ("AWS::ElasticLoadBalancingV2::LoadBalancer", web, [sg], [sub], vpc, True, [443], 122),
        "Classic": ("AWS::ElasticLoadBalancing::LoadBalancer", web, [sg], [], vpc, False, [80], 134),
        "Fn": ("AWS::Lambda::Function", app, [sg], [sub], vpc, None, [], 143),
        "Service": ("AWS::ECS::Service", app, [sg], [sub], vpc, True, [], 160),
        "Eks": ("AWS::EKS::Cluster", app, [sg], [sub], vpc, None, [], 168),
        "Search": ("AWS::OpenSearchService::Domain", data, [sg], [sub], vpc, None, [443], 175),
        "Mount": ("AWS::EFS::MountTarget", app, [sg], [sub], vpc, None, [2049], 181),
        "Endpoint": ("AWS::EC2::VPCEndpoint", app, [sg], [], vpc, None, [], 187),
        "Docs": ("AWS::DocDB::DBCluster", data, [sg], [], vpc, None, [27017], 194),  # a string, not a list
        "Warehouse": ("AWS::Redshift::Cluster", data, [sg], [], vpc, False, [5439], 198),
        "Web": ("AWS::EC2::Instance", app, [sg, "sg-0external"], [sub], vpc, True, [], 22),  # EIP → public
        "Bastion": ("AWS::EC2::Instance", app, [sg], [sub], vpc, True, [], 39),
        "FromTemplate": ("AWS::EC2::Instance", app, [sg], [], vpc, None, [], 61),
        "Asg": ("AWS::AutoScaling::AutoScalingGroup", app, [sg], [sub], vpc, None, [], 67),
        "AsgLc": ("AWS::AutoScaling::AutoScalingGroup", app, [sg], [], vpc, False, [], 84),
        "Db": ("AWS::RDS::DBInstance", data, [sg], [], vpc, True, [5432], 95),
        "AuroraMember": ("AWS::RDS::DBInstance", data, [sg], [], vpc, None, [3306], 106),
        "Attached": ("AWS::EC2::Instance", app, [sg], [sub], vpc, None, [], 208),  # via the Eni resource
        "Odd": ("AWS::EC2::NetworkInterface", app, [
            Unknown("Nested.Outputs.GroupId is an output of a nested stack, which is not read"),
            Unknown("Vpc.DefaultSecurityGroup (an attribute of a AWS::EC2::VPC) is only known after deployment"),
            Unknown("SubnetA is a AWS::EC2::Subnet, not a AWS::EC2::SecurityGroup")], [sub], vpc, None, [], 219),
        "PrivateDb": ("AWS::RDS::DBInstance", data, [], [sub, "subnet-0other"], vpc, None, [3306], 229),  # subnet group
    }  # NoVpcFn (no VpcConfig) is no workload
    assert all(w.env_hint == "staging" and w.source == "cloudformation" for w in estate.workloads.values())


def test_images_metadata_tokens_and_volumes() -> None:
    estate = parse("workloads.yaml")
    info = {w.address: (w.image, w.metadata_tokens) for w in estate.workloads.values() if w.image}
    assert info == {"Template": ("ami-0789", "required"), "Config": ("ami-0aaa", "optional"),
                    "Web": ("ami-0123", None), "Bastion": ("ami-0456", None),
                    "FromTemplate": ("ami-0789", "required"), "Asg": ("ami-0789", "required"),
                    "AsgLc": ("ami-0aaa", "optional"), "Attached": ("ami-0bbb", None)}
    assert [(v.uid, v.kind, v.encrypted, v.owner, v.location.line) for v in estate.volumes.values()] == [
        ("workloads.yaml#Web.BlockDeviceMappings[0]", "ebs_block_device", True, "workloads.yaml#Web", 30),
        ("workloads.yaml#Web.BlockDeviceMappings[1]", "ebs_block_device", None, "workloads.yaml#Web", 34),
    ]


def test_serverless_function_vpc_config_own_and_from_globals() -> None:
    estate = parse("serverless.yaml")
    assert {w.address: (w.kind, w.groups, w.subnets, w.vpc, w.location.line) for w in estate.workloads.values()} == {
        "Own": ("AWS::Serverless::Function", ["sg-0own"], ["subnet-0bbb"], None, 14),
        "Inherits": ("AWS::Serverless::Function", ["serverless.yaml#FnSG"], ["subnet-0aaa"], "vpc-0abc", 22),
    }
    assert estate.sources == {"cloudformation"}


# -- network and account resources -------------------------------------------------------

def test_network_resources() -> None:
    estate = parse("network.yaml")
    vpc, subnet = "network.yaml#Vpc", "network.yaml#Public"
    assert estate.vpcs[vpc].cidrs == ["10.1.0.0/16", "10.2.0.0/16"] and estate.vpcs[vpc].tags == {"Name": "main"}
    sub = estate.subnets[subnet]
    assert (sub.vpc, sub.cidr, sub.map_public_ip, sub.location.line) == (vpc, "10.1.0.0/24", True, 14)
    table = estate.route_tables["network.yaml#Routes"]
    assert (table.vpc, table.subnets) == (vpc, [subnet])
    assert table.routes == [Route("0.0.0.0/0", "igw", "network.yaml#Igw"), Route("::/0", "nat", "network.yaml#Nat")]
    assert estate.internet_gateways["network.yaml#Igw"].vpc == vpc
    acl = estate.nacls["network.yaml#Acl"]
    assert (acl.vpc, acl.subnets) == (vpc, [subnet])
    assert acl.entries == [
        NaclEntry(90, False, "tcp", "deny", "0.0.0.0/0", 22, 22, acl.entries[0].location),
        NaclEntry(100, True, "all", "allow", "::/0", None, None, acl.entries[1].location),
    ]
    assert [e.location.line for e in acl.entries] == [53, 62]


def test_account_resources() -> None:
    estate = parse("network.yaml")
    assert [(v.uid, v.kind, v.encrypted) for v in estate.volumes.values()] == [
        ("network.yaml#Disk", "ebs_volume", None)]
    assert [(f.address, f.target) for f in estate.flow_logs.values()] == [("Logs", "network.yaml#Vpc")]
    assert [(c.address, c.kind) for c in estate.config_recorders.values()] == [
        ("Recorder", "recorder"), ("Channel", "delivery_channel")]
    trail = estate.trails["network.yaml#Trail"]
    assert (trail.multi_region, trail.log_validation, trail.logging, trail.location.line) == (False, True, True, 95)


# -- what is a template, and what is broken ---------------------------------------------

def test_other_yaml_and_json_are_skipped_silently() -> None:
    other = sorted((HERE / "other").iterdir())
    estate = parse_documents(HERE, other, None)
    assert (estate.errors, estate.files, estate.sources, estate.groups) == ([], [], set(), {})


def test_huge_file_that_does_not_announce_a_template_is_not_read(tmp_path: Path) -> None:
    lock = tmp_path / "package-lock.json"
    lock.write_text('{"Resources": {"A": {"Type": "AWS::EC2::VPC"}}, "pad": "' + "x" * 6_000_000 + '"')
    assert parse_documents(tmp_path, [lock], None).files == []
    (tmp_path / "small.json").write_text('{"Resources": {"A": {"Type": "AWS::EC2::VPC"}}}')
    assert parse_documents(tmp_path, [tmp_path / "small.json"], None).files == ["small.json"]


def test_broken_templates_are_parse_errors_with_lines() -> None:
    broken = sorted((HERE / "broken").iterdir())
    estate = parse_documents(HERE, broken, None)
    assert [(e.file, e.line) for e in estate.errors] == [
        ("broken/bad.template", 5), ("broken/duplicate.yaml", 3), ("broken/latin1.yaml", 5),
        ("broken/syntax.yaml", 10), ("broken/tabs.json", 4), ("broken/unclosed.json", 6)]
    assert estate.errors.pop(2).message == "the file is not valid UTF-8"
    assert all(e.message.startswith("cannot decode template: ") for e in estate.errors)
    assert "Duplicate found 'Same'" in estate.errors[1].message
    assert estate.errors[3].message == "cannot decode template: did not find expected ',' or '}'"
    # a .template without AWSTemplateFormatVersion is still read by its Resources
    assert list(estate.vpcs) == ["broken/app.template#A"]


def test_is_template() -> None:
    assert is_template({"AWSTemplateFormatVersion": "2010-09-09"})
    assert is_template({"Transform": ["AWS::Serverless-2016-10-31"], "Resources": {}})
    assert is_template({"Resources": {"A": {"Type": "AWS::S3::Bucket"}}})
    assert not is_template({"Resources": ["a.yaml"]})
    assert not is_template({"format_version": "1.2", "planned_values": {}})
    assert not is_template(["AWSTemplateFormatVersion"])


def test_wrong_shapes_never_crash() -> None:
    data = {
        "Resources": {
            "G": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
                "GroupDescription": ["not", "text"], "SecurityGroupIngress": "oops", "SecurityGroupEgress": [
                    None, {"IpProtocol": "tcp", "FromPort": "http", "ToPort": None, "CidrIp": 10},
                    {"Fn::Unknown": 1}]}},
            "I": {"Type": "AWS::EC2::Instance", "Properties": {"SecurityGroupIds": "sg-1", "NetworkInterfaces": "x",
                                                              "BlockDeviceMappings": [{"Ebs": {"Encrypted": "maybe"}}]}},
            "R": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": None},
            "L": {"Type": "AWS::Lambda::Function", "Properties": {"VpcConfig": "nope"}},
            "Bad": "not a resource",
            "Fn::ForEach::Things": ["X", ["a"], {"T${X}": {"Type": "AWS::EC2::VPC"}}],
            "Loop": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
                "VpcId": {"Fn::GetAtt": ["Loop", "VpcId"]}, "GroupName": {"Fn::Select": ["x", {"Ref": "Nope"}]},
                "SecurityGroupIngress": [{"IpProtocol": {"Fn::Join": [1, 2]}, "CidrIp": {"Fn::Sub": 5}}]}},
        }
    }
    estate = build_template(data, "t.yaml", {})
    group = estate.groups["t.yaml#G"]
    assert group.description == Unknown("list where text is expected")
    assert [(r.protocol, r.from_port, r.to_port, r.peer) for r in group.rules] == [
        ("tcp", Unknown("FromPort 'http' is not a number"), None, Peer(PeerKind.CIDR, "10"))]  # not a CIDR: kept for SG107
    assert estate.workloads["t.yaml#I"].groups == ["sg-1"]
    assert estate.volumes["t.yaml#I.BlockDeviceMappings[0]"].encrypted == Unknown("Encrypted 'maybe' is not a boolean")
    loop = estate.groups["t.yaml#Loop"]
    assert isinstance(loop.vpc, Unknown) and isinstance(loop.name, Unknown)
    assert [(r.protocol, r.peer.kind) for r in loop.rules] == [(loop.rules[0].protocol, PeerKind.UNKNOWN)]
    assert isinstance(loop.rules[0].protocol, Unknown)
    assert {u.resource for u in estate.unresolved} == {"G", "R"}


@pytest.mark.skipif(not (CORPUS / "aws-cloudformation-templates").is_dir(), reason="corpus not present")
def test_corpus_templates_parse_without_errors() -> None:
    root = CORPUS / "aws-cloudformation-templates"
    files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml", ".json", ".template"))
    estate = parse_documents(root, files, None)
    assert estate.errors == []
    assert len(estate.files) >= 290 and len(estate.groups) > 100 and len(estate.workloads) > 200
    lb = estate.groups["AutoScaling/AutoScalingMultiAZWithNotifications.yaml#LoadBalancerSecurityGroup"]
    assert (lb.location.line, rows(lb)) == (270, [(IN, "tcp", 443, 443, PeerKind.CIDR, "0.0.0.0/0", 275, "")])
    assert lb.vpc == Unknown("parameter VPC has no value")


#: corpus twins whose YAML and JSON really declare different resources (launch template vs configuration)
_TWINS_THAT_DIFFER = {"ECS/EC2LaunchType/clusters/private-vpc", "ECS/EC2LaunchType/clusters/public-vpc",
                      "AutoScaling/AutoScalingScheduledAction", "AutoScaling/AutoScalingRollingUpdates"}


def _shape(estate: Estate) -> list[tuple[object, ...]]:
    """The model without files and lines, uids reduced to logical ids (to compare YAML and JSON twins)."""
    def local(value: object) -> str:
        return str(value).split("#")[-1]

    out: list[tuple[object, ...]] = []
    for g in estate.groups.values():
        out.append(("group", g.address, g.name, g.description, local(g.vpc), g.implicit_egress, sorted(
            (r.direction.value, str(r.protocol), str(r.from_port), str(r.to_port), r.peer.kind.value,
             local(r.peer.value), str(r.peer.unknown), str(r.description), r.origin_address) for r in g.rules)))
    for w in estate.workloads.values():
        out.append(("workload", w.address, w.kind, w.tier.value, sorted(local(x) for x in w.groups), w.public,
                    w.ports, str(w.image), str(w.metadata_tokens)))
    return sorted(out, key=str)


@pytest.mark.skipif(not (CORPUS / "aws-cloudformation-templates").is_dir(), reason="corpus not present")
def test_corpus_yaml_and_json_twins_give_the_same_model() -> None:
    root = CORPUS / "aws-cloudformation-templates"
    twins = sorted(p for p in root.rglob("*.yaml") if p.with_suffix(".json").exists())
    assert len(twins) > 100
    differ = set()
    for yaml_path in twins:
        yaml_model = _shape(parse_documents(root, [yaml_path], None))
        json_model = _shape(parse_documents(root, [yaml_path.with_suffix(".json")], None))
        if yaml_model != json_model:
            differ.add(yaml_path.relative_to(root).with_suffix("").as_posix())
    assert differ == _TWINS_THAT_DIFFER


_NAMES = ["Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::If", "Fn::FindInMap",
          "Fn::Cidr", "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition", "Fn::Base64", "Fn::Length",
          "Fn::ToJsonString", "Fn::ImportValue", "Fn::GetAZs", "Fn::Transform"]
_PROPS = ["GroupId", "IpProtocol", "FromPort", "ToPort", "CidrIp", "SourceSecurityGroupId", "SecurityGroupIngress",
          "SecurityGroupEgress", "VpcId", "SecurityGroupIds", "NetworkInterfaces", "LaunchTemplate", "Port",
          "Engine", "Tags", "Key", "Value", "VpcConfig", "SubnetIds", "BlockDeviceMappings", "Ebs", "Encrypted"]


def _values():  # type: ignore[no-untyped-def]
    from hypothesis import strategies as st

    leaf = st.one_of(st.none(), st.booleans(), st.integers(-70000, 70000), st.sampled_from(
        ["", "tcp", "-1", "22", "0.0.0.0/0", "::/0", "G", "P", "C", "M", "AWS::NoValue", "AWS::Region",
         "G.GroupId", "${P}", "${G.GroupId}", "sg-1", "true"]))
    return st.recursive(leaf, lambda kids: st.one_of(
        st.lists(kids, max_size=4),
        st.dictionaries(st.sampled_from(_PROPS), kids, max_size=4),
        st.builds(lambda name, arg: {name: arg}, st.sampled_from(_NAMES), kids),
    ), max_leaves=25)


def test_random_property_values_never_crash() -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    kinds = ["AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress",
             "AWS::EC2::Instance", "AWS::EC2::LaunchTemplate", "AWS::AutoScaling::AutoScalingGroup",
             "AWS::RDS::DBInstance", "AWS::Lambda::Function", "AWS::EC2::Route", "AWS::EC2::NetworkAclEntry",
             "AWS::ElasticLoadBalancingV2::Listener", "AWS::EC2::EIP", "AWS::CloudTrail::Trail"]

    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(st.sampled_from(kinds), _values()), min_size=1, max_size=4), _values())
    def check(resources, condition):  # type: ignore[no-untyped-def]
        data = {
            "Parameters": {"P": {"Type": "String", "Default": "10.0.0.0/8"}},
            "Mappings": {"M": {"a": {"b": "c"}}},
            "Conditions": {"C": condition},
            "Resources": {("G" if i == 0 else f"R{i}"): {"Type": kind, "Properties": props}
                          for i, (kind, props) in enumerate(resources)},
        }
        estate = build_template(data, "t.yaml", {})
        for group in estate.groups.values():
            assert all(isinstance(r.peer, Peer) for r in group.rules)

    check()
