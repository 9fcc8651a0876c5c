"""Property-based fuzzing of the HCL and CloudFormation front ends and the model builders:
any input gives findings or IAC001 (a ParseError), never an exception, never an internal
error reported as a finding (IAC003, or a ParseError that asks for a bug report)."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iacscan.model import Estate
from iacscan.parsers.cloudformation import build_template, parse_documents
from iacscan.parsers.terraform import parse_terraform
from iacscan.ruleset import load_ruleset
from iacscan.scan import run_rules
from tests.reliability.conftest import GOOD_CFN, GOOD_TF

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RULESET = load_ruleset()

TF_SEED = GOOD_TF + '''
variable "cidr" { default = "10.0.0.0/8" }
locals { ports = [22, 443] }
resource "aws_security_group_rule" "r" {
  type = "ingress"
  security_group_id = aws_security_group.ssh.id
  from_port = local.ports[0]
  to_port = "${local.ports[1]}"
  protocol = "tcp"
  cidr_blocks = [var.cidr, "0.0.0.0/0"]
}
resource "aws_instance" "web" {
  vpc_security_group_ids = [for k, v in {a = aws_security_group.ssh.id} : v]
  associate_public_ip_address = true
  dynamic "ebs_block_device" {
    for_each = toset(["a"])
    content { device_name = each.value }
  }
}
'''
HCL_CHARS = st.sampled_from(list('{}[]()"=,.:?$%#/*\\\n\t -_<>!&|+') + ["${", "%{", "<<EOT\n", "\nEOT\n", "for",
                                                                          "in", "null", "true", "1e999", "\u00e9"])


def _check_estate(estate: Estate) -> None:
    for error in estate.errors:
        assert "please report" not in error.message and "internal error" not in error.message, error
    result = run_rules(estate, RULESET)
    assert not result.rule_errors, result.rule_errors[:1]


def _mutate(seed: str, edits: list[tuple[int, int, str]]) -> str:
    text = seed
    for position, delete, insert in edits:
        at = position % (len(text) + 1)
        text = text[:at] + insert + text[at + delete % 4:]
    return text


EDITS = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3), st.lists(HCL_CHARS, max_size=3).map("".join)),
                 min_size=1, max_size=6)


def _scan_terraform(text: str, name: str = "main.tf") -> Estate:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / name).write_text(text, encoding="utf-8", errors="surrogatepass")
        return parse_terraform(root, [root], [])


@SETTINGS
@given(EDITS)
def test_mutated_terraform_never_raises(edits: list[tuple[int, int, str]]) -> None:
    _check_estate(_scan_terraform(_mutate(TF_SEED, edits)))


@SETTINGS
@given(st.lists(HCL_CHARS | st.sampled_from(["resource", '"aws_security_group"', '"x"', "ingress", "from_port",
                                            "cidr_blocks", "=", "\n", "0.0.0.0/0", "22", "var.x", "module"]),
                max_size=60).map(" ".join))
def test_token_soup_terraform_never_raises(text: str) -> None:
    _check_estate(_scan_terraform(text))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True) |
    st.sampled_from(["0.0.0.0/0", "::/0", "999.1.1.1/99", "tcp", "-1", "banana", "sg-123", "${var.x}", "22", ""]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["from_port", "to_port", "protocol", "cidr_blocks", "ipv6_cidr_blocks", "security_groups",
                         "self", "description", "ingress", "egress", "tags", "name", "vpc_id", "type", "content",
                         "for_each", "count", "dynamic"]), inner, max_size=5),
    max_leaves=20)


@SETTINGS
@given(st.dictionaries(st.sampled_from(["ingress", "egress", "description", "tags", "name", "count", "for_each"]),
                       JSON_VALUES, max_size=5),
       st.sampled_from(["aws_security_group", "aws_security_group_rule", "aws_instance", "aws_db_instance",
                        "aws_lb", "aws_vpc_security_group_ingress_rule", "aws_network_acl"]))
def test_terraform_json_model_builder_never_raises(body: dict[str, Any], kind: str) -> None:
    import json

    text = json.dumps({"resource": {kind: {"fuzz": body}}}, allow_nan=True)
    _check_estate(_scan_terraform(text, "main.tf.json"))


CFN_KEYS = ["IpProtocol", "FromPort", "ToPort", "CidrIp", "CidrIpv6", "SourceSecurityGroupId", "GroupId",
            "SecurityGroupIngress", "SecurityGroupEgress", "GroupDescription", "VpcId", "Tags", "Key", "Value",
            "Ref", "Fn::GetAtt", "Fn::Sub", "Fn::If", "Fn::Join", "Fn::Select", "Condition", "SecurityGroupIds",
            "PubliclyAccessible", "Port", "Engine", "Scheme", "Subnets"]
CFN_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) |
    st.sampled_from(["0.0.0.0/0", "tcp", "-1", "banana", "999.1.1.1/99", "Sg", "AWS::NoValue", "AWS::Region",
                     "Sg.GroupId", "", "22"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(CFN_KEYS), inner, max_size=4),
    max_leaves=25)
CFN_TYPES = ["AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress",
             "AWS::EC2::Instance", "AWS::RDS::DBInstance", "AWS::ElasticLoadBalancingV2::LoadBalancer",
             "AWS::ElasticLoadBalancingV2::Listener", "AWS::EC2::NetworkAclEntry", "AWS::AutoScaling::AutoScalingGroup",
             "AWS::EC2::LaunchTemplate", "AWS::EC2::Subnet", "AWS::EC2::Route"]


@SETTINGS
@given(st.dictionaries(st.sampled_from(["Sg", "Other", "Web", "Db"]),
                       st.fixed_dictionaries({"Type": st.sampled_from(CFN_TYPES), "Properties": CFN_VALUES}),
                       min_size=1, max_size=4),
       st.dictionaries(st.sampled_from(["Parameters", "Conditions", "Mappings"]), CFN_VALUES, max_size=2))
def test_cloudformation_model_builder_never_raises(resources: dict[str, Any], extra: dict[str, Any]) -> None:
    template = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources, **extra}
    estate = Estate(root=".")
    estate.merge(build_template(template, "t.yaml", {}))
    _check_estate(estate)


@SETTINGS
@given(EDITS)
def test_mutated_cloudformation_text_never_raises(edits: list[tuple[int, int, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.yaml"
        path.write_text(_mutate(GOOD_CFN + "  Ref:\n    Type: AWS::EC2::SecurityGroupIngress\n    Properties:\n"
                                           "      GroupId: !Ref Rdp\n      IpProtocol: -1\n      CidrIp: !Sub '${X}'\n",
                                edits), encoding="utf-8", errors="surrogatepass")
        _check_estate(parse_documents(Path(tmp), [path], None))
