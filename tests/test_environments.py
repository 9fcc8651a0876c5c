"""Environment inference: clues, their precedence, VPC fallback, and the ruleset's lists."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from iacscan.environments import EnvironmentResolver, assign_environments, tokens
from iacscan.model import Estate, Location, SecurityGroup, Subnet, Unknown, Vpc, Workload
from iacscan.ruleset import EnvironmentConfig, load_ruleset
from tests.helpers import scan_path


def _config(**changes: object) -> EnvironmentConfig:
    return dataclasses.replace(load_ruleset().environments, **changes)  # type: ignore[arg-type]


def _group(address: str = "aws_security_group.app", *, name: object = None, tags: dict[str, str] | None = None,
           file: str = "main.tf", vpc: object = None, hint: str | None = None) -> SecurityGroup:
    return SecurityGroup(uid=f".#{address}", address=address, name=name, description="x",  # type: ignore[arg-type]
                         vpc=vpc, tags=tags or {}, location=Location(file, 1), env_hint=hint)  # type: ignore[arg-type]


def _env_of(group: SecurityGroup, config: EnvironmentConfig | None = None, estate: Estate | None = None) -> str | None:
    estate = estate or Estate()
    estate.groups[group.uid] = group
    assign_environments(estate, config or _config())
    return group.environment


# ------------------------------------------------------------------ single clues

@pytest.mark.parametrize(("tags", "expected"), [
    ({"Environment": "prod"}, "prod"),
    ({"Environment": "Production"}, "prod"),
    ({"Env": "PRD"}, "prod"),
    ({"Stage": "stg"}, "staging"),
    ({"environment": "development"}, "dev"),
    ({"env": "qa"}, "test"),
    ({"Environment": "prod-eu"}, "prod"),
    ({"Environment": "Blue"}, "blue"),  # a value naming no known environment is kept as given
    ({"Environment": "${var.environment}"}, None),  # an unresolved interpolation is no clue
    ({"Environment": ""}, None),
    ({"Owner": "prod-team"}, None),  # not an environment tag key
])
def test_tags(tags: dict[str, str], expected: str | None) -> None:
    assert _env_of(_group(tags=tags)) == expected


def test_tag_keys_are_read_in_order() -> None:
    assert _env_of(_group(tags={"Stage": "dev", "Environment": "prod"})) == "prod"
    assert _env_of(_group(tags={"Stage": "dev", "Environment": "prod"}),
                   _config(tag_keys=["Stage", "Environment"])) == "dev"


@pytest.mark.parametrize(("address", "name", "expected"), [
    ("aws_security_group.app", "web-prod-sg", "prod"),
    ("aws_security_group.prd_db", None, "prod"),
    ("aws_security_group.app", "staging.api", "staging"),
    ("aws_security_group.app", "app qa", "test"),
    ("aws_security_group.app", "sandbox_1", "dev"),
    ("ProdWebSecurityGroup", None, "prod"),  # CloudFormation logical ids are CamelCase
    ("WebSGDev2", None, "dev"),
    ('aws_security_group.app["stg"]', None, "staging"),
    ("module.production.aws_security_group.app", None, "prod"),
    ("aws_security_group.product", None, None),  # tokens are whole words: "product" is not "prod"
    ("aws_security_group.devices", "reproduce", None),
    ("aws_security_group.app", Unknown("var.name"), None),
])
def test_name_and_address_tokens(address: str, name: object, expected: str | None) -> None:
    assert _env_of(_group(address, name=name)) == expected


def test_tokens_split_words_camel_case_and_digits() -> None:
    assert tokens("web-prod_sg.x y") == ["web", "prod", "sg", "x", "y"]
    assert tokens("ProdWebSG") == ["prod", "web", "sg"]
    assert tokens("DBProd01") == ["db", "prod", "01"]


@pytest.mark.parametrize(("file", "expected"), [
    ("envs/prod/main.tf", "prod"),
    ("envs/stg/eu-west-1/main.tf", "staging"),  # the deepest segment naming an environment wins
    ("live/dev/network/main.tf", "dev"),
    ("stacks/production/app.yaml", "prod"),
    ("prod.tf", None),  # the file name is not a path segment
    ("envs/prod-eu/main.tf", None),  # segments must be a token exactly
    ("main.tf", None),
])
def test_path_segments(file: str, expected: str | None) -> None:
    assert _env_of(_group(file=file)) == expected


def test_path_segments_can_be_turned_off() -> None:
    assert _env_of(_group(file="envs/prod/main.tf"), _config(path_segments=False)) is None


def test_parser_hint_is_the_last_clue() -> None:
    assert _env_of(_group(hint="Production")) == "prod"
    assert _env_of(_group(hint="blue")) == "blue"


def test_unknown_stays_none() -> None:
    assert _env_of(_group("aws_security_group.web", name="web", tags={"Team": "a"}, file="net/main.tf")) is None


# ------------------------------------------------------------------ explicit mapping

def test_mapping_by_path_glob() -> None:
    config = _config(mapping=[{"path": "accounts/shared/*", "environment": "shared"},
                              {"path": "regions/eu-*", "environment": "prod"}])
    assert _env_of(_group(file="accounts/shared/main.tf", tags={"Environment": "dev"}), config) == "shared"
    assert _env_of(_group(file="regions/eu-west-1/app/main.tf"), config) == "prod"
    assert _env_of(_group(file="regions/us-east-1/main.tf"), config) is None


def test_mapping_first_entry_wins() -> None:
    config = _config(mapping=[{"path": "envs/*", "environment": "dev"}, {"path": "envs/prod/*", "environment": "prod"}])
    assert _env_of(_group(file="envs/prod/main.tf"), config) == "dev"


@pytest.mark.parametrize("key", ["vpc-0abc1234567890def", "aws_vpc.main", ".#aws_vpc.main"])
def test_mapping_by_vpc_raw_id_address_uid_or_live_id(key: str) -> None:
    config = _config(mapping=[{"vpc": key, "environment": "prod"}])
    vpc = Vpc(uid=".#aws_vpc.main", address="aws_vpc.main", live_id="vpc-0abc1234567890def",
              tags={"Environment": "dev"}, location=Location("main.tf", 1))
    estate = Estate(vpcs={vpc.uid: vpc})
    by_uid = _group("aws_security_group.a", vpc=vpc.uid, tags={"Environment": "dev"})
    assert _env_of(by_uid, config, estate) == "prod"  # the mapping beats the group's own tag
    assert vpc.environment == "prod"  # and the VPC's
    if key.startswith("vpc-"):
        raw = _group("aws_security_group.b", vpc=key)
        assert _env_of(raw, config, Estate()) == "prod"


def test_mapping_by_vpc_does_not_match_other_vpcs() -> None:
    config = _config(mapping=[{"vpc": "vpc-0abc1234567890def", "environment": "prod"}])
    assert _env_of(_group(vpc="vpc-0fff1234567890def"), config) is None


# ------------------------------------------------------------------ precedence

def test_precedence_mapping_tag_name_address_path_hint() -> None:
    mapped = _config(mapping=[{"path": "envs/*", "environment": "shared"}])
    clues = {"tags": {"Environment": "prod"}, "name": "app-staging", "file": "envs/dev/main.tf", "hint": "test"}
    address = "aws_security_group.qa_app"
    assert _env_of(_group(address, **clues), mapped) == "shared"  # type: ignore[arg-type]
    assert _env_of(_group(address, **clues)) == "prod"  # type: ignore[arg-type]
    clues.pop("tags")
    assert _env_of(_group(address, **clues)) == "staging"  # type: ignore[arg-type]
    clues.pop("name")
    assert _env_of(_group(address, **clues)) == "test"  # type: ignore[arg-type]  # "qa" in the address
    assert _env_of(_group("aws_security_group.app", **clues)) == "dev"  # type: ignore[arg-type]
    clues.pop("file")
    assert _env_of(_group("aws_security_group.app", **clues)) == "test"  # type: ignore[arg-type]


def test_own_clue_beats_the_vpc() -> None:
    vpc = Vpc(uid=".#aws_vpc.main", address="aws_vpc.main", tags={"Environment": "prod"})
    estate = Estate(vpcs={vpc.uid: vpc})
    assert _env_of(_group(vpc=vpc.uid, tags={"Environment": "dev"}), estate=estate) == "dev"


# ------------------------------------------------------------------ VPC fallback

def _workload(**kwargs: object) -> Workload:
    return Workload(uid=".#aws_instance.box", address="aws_instance.box", kind="aws_instance",
                    location=Location("main.tf", 1), **kwargs)  # type: ignore[arg-type]


def test_group_and_workload_take_their_vpcs_environment() -> None:
    vpc = Vpc(uid=".#aws_vpc.main", address="aws_vpc.main", tags={"Environment": "staging"})
    group = _group(vpc=vpc.uid)
    workload = _workload(vpc=vpc.uid)
    estate = Estate(vpcs={vpc.uid: vpc}, groups={group.uid: group}, workloads={workload.uid: workload})
    assign_environments(estate, _config())
    assert (vpc.environment, group.environment, workload.environment) == ("staging", "staging", "staging")


def test_vpc_environment_from_its_name_and_by_live_id() -> None:
    vpc = Vpc(uid=".#aws_vpc.prod", address="aws_vpc.prod", live_id="vpc-0abc1234567890def")
    group = _group(vpc="vpc-0abc1234567890def")
    estate = Estate(vpcs={vpc.uid: vpc}, groups={group.uid: group})
    assign_environments(estate, _config())
    assert (vpc.environment, group.environment) == ("prod", "prod")


def test_workload_without_vpc_takes_the_vpc_of_its_subnets() -> None:
    vpc = Vpc(uid=".#aws_vpc.main", address="aws_vpc.main", tags={"Environment": "dev"})
    a = Subnet(uid=".#aws_subnet.a", address="aws_subnet.a", vpc=vpc.uid)
    b = Subnet(uid=".#aws_subnet.b", address="aws_subnet.b", vpc=vpc.uid)
    other = Subnet(uid=".#aws_subnet.c", address="aws_subnet.c", vpc="vpc-0fff1234567890def")
    same = _workload(subnets=[a.uid, b.uid])
    mixed = Workload(uid=".#aws_instance.mixed", address="aws_instance.mixed", kind="aws_instance",
                     subnets=[a.uid, other.uid])
    unknown = Workload(uid=".#aws_instance.u", address="aws_instance.u", kind="aws_instance",
                       subnets=[a.uid, Unknown("var.subnet")])
    estate = Estate(vpcs={vpc.uid: vpc}, subnets={s.uid: s for s in (a, b, other)},
                    workloads={w.uid: w for w in (same, mixed, unknown)})
    assign_environments(estate, _config())
    assert (same.environment, mixed.environment, unknown.environment) == ("dev", None, None)


def test_unknown_vpc_gives_no_environment() -> None:
    assert _env_of(_group(vpc=Unknown("var.vpc_id"))) is None
    assert _env_of(_group(vpc=".#aws_vpc.undeclared")) is None


def test_resolver_from_value_and_text() -> None:
    resolver = EnvironmentResolver(_config())
    assert resolver.from_value(" Production ") == "prod"
    assert resolver.from_value("   ") is None
    assert resolver.from_text("api-uat-1") == "test"
    assert resolver.from_text(None) is None


# ------------------------------------------------------------------ through the parsers

def test_environments_of_a_scanned_terraform_tree(tmp_path: Path) -> None:
    for env in ("prod", "dev"):
        folder = tmp_path / "envs" / env
        folder.mkdir(parents=True)
        (folder / "main.tf").write_text(
            'resource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n}\n\n'
            'resource "aws_security_group" "app" {\n  name   = "app"\n  vpc_id = aws_vpc.main.id\n}\n\n'
            'resource "aws_security_group" "tagged" {\n  name   = "tagged"\n  vpc_id = aws_vpc.main.id\n'
            '  tags   = { Environment = "staging" }\n}\n')
    estate = scan_path(tmp_path).estate
    found = {(g.location.file, g.address, g.environment) for g in estate.groups.values()}
    assert found == {
        ("envs/prod/main.tf", "aws_security_group.app", "prod"),
        ("envs/prod/main.tf", "aws_security_group.tagged", "staging"),
        ("envs/dev/main.tf", "aws_security_group.app", "dev"),
        ("envs/dev/main.tf", "aws_security_group.tagged", "staging"),
    }


def test_mapping_by_account_for_live_objects() -> None:
    config = _config(mapping=[{"account": "123456789012", "environment": "prod"}])
    live = SecurityGroup(uid="live:123456789012:eu-west-1#sg-0abc", address="sg-0abc", name="web-dev",
                         description="x", vpc=None, location=Location("", 0, resource_id="sg-0abc"))
    by_arn = _workload(vpc=None)
    by_arn.location = Location("", 0, resource_id="arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc")
    other = SecurityGroup(uid="live:999999999999:eu-west-1#sg-0def", address="sg-0def", name="x",
                          description="x", vpc=None)
    estate = Estate(groups={live.uid: live, other.uid: other}, workloads={by_arn.uid: by_arn})
    assign_environments(estate, config)
    assert (live.environment, by_arn.environment, other.environment) == ("prod", "prod", None)


def test_environments_of_a_scanned_cloudformation_template(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        "Parameters:\n  Environment:\n    Type: String\n    Default: Staging\n"
        "Resources:\n"
        "  AppGroup:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: app\n"
        "  ProdDbGroup:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: db\n"
        "  TaggedGroup:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: t\n"
        "      Tags:\n        - Key: Environment\n          Value: dev\n")
    estate = scan_path(tmp_path).estate
    assert {g.address: g.environment for g in estate.groups.values()} == {
        "AppGroup": "staging",  # the parameter default, the last clue
        "ProdDbGroup": "prod",  # a CamelCase token of the logical id beats it
        "TaggedGroup": "dev",
    }
