"""The Terraform loader: files, lines, variables, locals, count/for_each, dynamic blocks, modules."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from iacscan.discover import discover
from iacscan.model import Location, Unknown, Unresolved
from iacscan.parsers import tf_parallel
from iacscan.parsers.terraform import load_instances
from iacscan.parsers.tf_types import LINE, ResourceRef

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "parsers" / "terraform"
CORPUS = Path("/work/shared/corpus")


def load(case: str, *subdirs: str, var_files: tuple[str, ...] = ()):
    root = FIXTURES / case
    dirs = [root / d for d in subdirs] if subdirs else [root]
    return load_instances(root, dirs, [root / v for v in var_files])


def by_address(instances):
    return {inst.address: inst for inst in instances}


def test_resource_and_nested_block_lines_and_values():
    instances, errors, unresolved, files = load("basic", var_files=("prod.tfvars",))
    assert errors == []
    found = by_address(instances)
    assert sorted(found) == ["aws_instance.app", "aws_security_group.web", "aws_vpc.main", "data.aws_vpc.shared"]
    web = found["aws_security_group.web"]
    assert (web.uid, web.type, web.name, web.mode, web.scope, web.module_path) == (
        ".#aws_security_group.web", "aws_security_group", "web", "managed", ".", "")
    assert web.location == Location("main.tf", 29)
    assert web.attr_lines == {"name": 30, "description": 31, "vpc_id": 32, "tags": 33, "egress": 51, "ingress": 37}
    assert web.attrs["ingress"] == [
        {LINE: 37, "from_port": 443, "to_port": 443, "protocol": "tcp", "cidr_blocks": ["192.0.2.0/24"]},
        {LINE: 44, "from_port": 22, "to_port": 22, "protocol": "tcp",
         "cidr_blocks": [Unknown("var.no_value has no value")]},
    ]
    assert web.attrs["egress"] == [
        {LINE: 52, "from_port": 0, "to_port": 0, "protocol": "-1", "cidr_blocks": ["0.0.0.0/0"]},
        {LINE: 58, "from_port": 53, "to_port": 53, "protocol": "udp", "cidr_blocks": ["10.0.0.2/32"]},
    ]
    assert "lifecycle" not in web.attrs
    assert web.attrs["vpc_id"] == ResourceRef("aws_vpc.main", "id")
    assert web.attrs["tags"] == {"Cidr": "10.0.0.0/16"}  # a stated attribute of another resource
    app = found["aws_instance.app"]
    assert app.attrs == {
        "ami": "ami-123",
        "vpc_security_group_ids": [ResourceRef("aws_security_group.web", "id"), ResourceRef("data.aws_vpc.shared", "id")],
        "subnet_id": "shared",
        "user_data": ".",
        "root_block_device": [{LINE: 82, "encrypted": True}],
    }
    data = found["data.aws_vpc.shared"]
    assert (data.mode, data.type, data.name, data.location) == ("data", "aws_vpc", "shared", Location("main.tf", 70))
    assert unresolved == []
    assert files == ["a.auto.tfvars.json", "b.auto.tfvars", "main.tf", "prod.tfvars", "terraform.tfvars"]


def test_variable_precedence_locals_and_interpolation():
    found = by_address(load("basic", var_files=("prod.tfvars",))[0])
    web = found["aws_security_group.web"].attrs
    # default < terraform.tfvars < a.auto.tfvars.json < b.auto.tfvars < --var-file
    assert web["description"] == "web a-auto var-file"
    assert web["name"] == "app-dev-web"  # local.name -> local.prefix -> var.env default
    without = by_address(load("basic")[0])["aws_security_group.web"].attrs
    assert without["description"] == "web a-auto b-auto"


def test_count_zero_two_and_unknown():
    instances, errors, unresolved, _ = load("count")
    found = by_address(instances)
    assert errors == []
    assert sorted(found) == ["aws_instance.maybe", "aws_instance.pair[0]", "aws_instance.pair[1]",
                             "aws_lb.splat", "aws_security_group.refs"]
    assert found["aws_instance.pair[1]"].attrs == {"ami": "ami-1"}
    assert found["aws_instance.pair[1]"].uid == ".#aws_instance.pair[1]"
    refs = found["aws_security_group.refs"].attrs
    assert refs["description"] == "ami-1"
    assert refs["tags"] == {"First": ResourceRef("aws_instance.pair[0]", "id"),
                            "Maybe": ResourceRef("aws_instance.maybe", "id")}
    assert refs["egress"] == []
    assert found["aws_lb.splat"].attrs["security_groups"] == [
        ResourceRef("aws_instance.pair[0]", "id"), ResourceRef("aws_instance.pair[1]", "id")]
    assert unresolved == [Unresolved("aws_instance.maybe", ".#aws_instance.maybe", "count",
                                     "var.unset has no value", Location("main.tf", 22))]


def test_for_each_over_map_set_var_and_unknown():
    instances, errors, unresolved, _ = load("foreach")
    found = by_address(instances)
    assert errors == []
    assert sorted(found) == [
        'aws_instance.uses',
        'aws_security_group_rule.by_map["alt"]', 'aws_security_group_rule.by_map["web"]',
        'aws_security_group_rule.by_set["10.0.0.0/8"]', 'aws_security_group_rule.by_set["192.168.0.0/16"]',
        'aws_security_group_rule.by_unknown',
        'aws_security_group_rule.by_var["https"]', 'aws_security_group_rule.by_var["ssh"]',
    ]
    web = found['aws_security_group_rule.by_map["web"]'].attrs
    assert (web["from_port"], web["description"]) == (80, "rule web")
    assert found['aws_security_group_rule.by_set["192.168.0.0/16"]'].attrs["cidr_blocks"] == ["192.168.0.0/16"]
    assert found['aws_security_group_rule.by_var["ssh"]'].attrs["to_port"] == 22
    unknown = found["aws_security_group_rule.by_unknown"].attrs["from_port"]
    assert isinstance(unknown, Unknown) and "var.unknown_map has no value" in unknown.reason
    assert found["aws_instance.uses"].attrs == {
        "ami": ResourceRef('aws_security_group_rule.by_var["ssh"]', "description"),
        "vpc_security_group_ids": [ResourceRef('aws_security_group_rule.by_map["web"]', "id")],
    }
    assert unresolved == [Unresolved("aws_security_group_rule.by_unknown", ".#aws_security_group_rule.by_unknown",
                                     "for_each", "var.unknown_map has no value", Location("main.tf", 39))]


def test_dynamic_blocks_with_iterator_nested_and_unknown():
    instances, errors, unresolved, _ = load("dynamic")
    found = by_address(instances)
    assert errors == []
    assert found["aws_security_group.dyn"].attrs["ingress"] == [
        {LINE: 13, "from_port": 80, "to_port": 80, "protocol": "tcp", "cidr_blocks": ["10.1.0.0/16"]},
        {LINE: 20, "description": "ssh", "from_port": 22, "to_port": 22, "protocol": "tcp",
         "cidr_blocks": ["10.0.0.0/8"]},
        {LINE: 20, "description": "web", "from_port": 443, "to_port": 443, "protocol": "tcp",
         "cidr_blocks": ["0.0.0.0/0", "::/0"]},
    ]
    egress = found["aws_security_group.dyn"].attrs["egress"]
    assert [(rule[LINE], rule["protocol"], rule["from_port"]) for rule in egress] == [
        (32, "tcp", Unknown("var.unset has no value"))]
    assert found["aws_launch_template.nested"].attrs["network_interfaces"] == [
        {LINE: 45, "device_index": 0,
         "private_ip_list": [{LINE: 49, "value": "a-sg-1"}, {LINE: 49, "value": "a-sg-2"}]}]
    assert unresolved == [Unresolved("aws_security_group.dyn", ".#aws_security_group.dyn",
                                     "for_each of dynamic egress block", "var.unset has no value",
                                     Location("main.tf", 32))]


def test_local_modules_inputs_outputs_nested_and_count():
    instances, errors, unresolved, files = load("modules", ".", "modules/sg", "modules/rule")
    found = by_address(instances)
    assert errors == [] and unresolved == []
    assert sorted(found) == [
        "aws_instance.app", "aws_vpc.main",
        "module.counted[0].aws_security_group.this",
        "module.counted[0].module.rule.aws_security_group_rule.egress",
        "module.counted[1].aws_security_group.this",
        "module.counted[1].module.rule.aws_security_group_rule.egress",
        "module.sg.aws_security_group.this",
        "module.sg.module.rule.aws_security_group_rule.egress",
    ]
    assert found["aws_instance.app"].attrs == {
        "ami": "web-prod",
        "vpc_security_group_ids": [ResourceRef("module.sg.aws_security_group.this", "id"),
                                   ResourceRef("module.counted[1].aws_security_group.this", "id")],
    }
    group = found["module.sg.aws_security_group.this"]
    assert (group.uid, group.module_path, group.scope, group.location) == (
        ".#module.sg.aws_security_group.this", "module.sg", ".", Location("modules/sg/main.tf", 7))
    assert group.attrs == {
        "name": "web-prod", "vpc_id": ResourceRef("aws_vpc.main", "id"),
        "ingress": [{LINE: 11, "from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["203.0.113.0/24"]}],
    }
    assert found["module.counted[1].aws_security_group.this"].attrs["ingress"][0]["cidr_blocks"] == ["10.0.0.0/8"]
    assert found["module.counted[1].aws_security_group.this"].attrs["name"] == "counted-1"
    rule = found["module.sg.module.rule.aws_security_group_rule.egress"]
    assert rule.attrs["security_group_id"] == ResourceRef("module.sg.aws_security_group.this", "id")
    assert rule.attrs["description"] == "modules/sg modules/rule"
    assert rule.module_path == "module.sg.module.rule"
    assert files == ["main.tf", "modules/rule/main.tf", "modules/sg/main.tf"]


def test_module_dir_nobody_calls_is_its_own_root():
    instances, errors, unresolved, _ = load("modules", "modules/sg")
    found = by_address(instances)
    assert sorted(found) == ["aws_security_group.this", "module.rule.aws_security_group_rule.egress"]
    assert found["aws_security_group.this"].uid == "modules/sg#aws_security_group.this"
    assert found["aws_security_group.this"].attrs["name"] == Unknown("var.name has no value")
    assert found["module.rule.aws_security_group_rule.egress"].attrs["security_group_id"] == ResourceRef(
        "aws_security_group.this", "id")


def test_local_module_outside_the_scan_root_is_read_with_a_relative_path():
    root = FIXTURES / "modules" / "modules" / "sg"
    instances, errors, _, files = load_instances(root, [root], [])
    found = by_address(instances)
    assert errors == [] and files == ["../rule/main.tf", "main.tf"]
    assert found["module.rule.aws_security_group_rule.egress"].location == Location("../rule/main.tf", 4)
    assert found["module.rule.aws_security_group_rule.egress"].attrs["description"] == ". ../rule"


def test_remote_module_read_from_modules_json():
    instances, errors, unresolved, files = load("remote")
    found = by_address(instances)
    assert errors == [] and unresolved == []
    assert found["aws_instance.app"].attrs == {
        "vpc_security_group_ids": [ResourceRef("module.net.aws_security_group.this", "id")]}
    assert found["module.net.aws_security_group.this"].location == Location(".terraform/modules/net/main.tf", 3)
    assert found["module.net.aws_security_group.this"].attrs == {"name": "remote"}
    nested = found["module.net.module.sub.aws_vpc_security_group_ingress_rule.https"]
    assert nested.attrs["security_group_id"] == ResourceRef("module.net.aws_security_group.this", "id")
    assert files == [".terraform/modules/net/main.tf", ".terraform/modules/net/sub/main.tf", "main.tf"]


def test_remote_module_not_downloaded():
    instances, errors, unresolved, _ = load("remote_missing")
    reason = ("module net (source terraform-aws-modules/security-group/aws) is not downloaded; "
              "run terraform init to let iacscan read it")
    assert [inst.address for inst in instances] == ["aws_instance.app"]
    assert instances[0].attrs == {"vpc_security_group_ids": [Unknown(reason)]}
    assert unresolved == [Unresolved("module.net", ".#module.net", "module", reason, Location("main.tf", 1))]


def test_try_fallbacks_locals_on_resources_unknown_count_splat_and_module_for_each():
    instances, errors, unresolved, files = load("expressions")
    found = by_address(instances)
    assert errors == [] and files == ["main.tf", "modules/tagged/main.tf"]
    unknown_count = Unknown("template part ${count.index} is unknown: count of aws_subnet.per_zone: "
                            "var.zones has no value")
    assert found["aws_security_group_rule.app"].attrs == {
        "type": "ingress", "from_port": 8443, "to_port": 8443, "protocol": "tcp",
        "security_group_id": ResourceRef("aws_security_group.main", "id"),  # via a local
        "description": "none",  # try() over a resource with count = 0
        "cidr_blocks": [unknown_count],  # splat over the one instance of an unknown count
    }
    assert found["aws_security_group.main"].attrs == {"name": "svc"}
    assert found["aws_instance.app"].attrs == {
        "ami": "tagged-b",
        "vpc_security_group_ids": [ResourceRef('module.tagged["a"].aws_security_group.this', "id"),
                                   ResourceRef('module.tagged["b"].aws_security_group.this', "id")],
    }
    assert found['module.tagged["a"].aws_security_group.this'].module_path == 'module.tagged["a"]'
    assert "aws_security_group.optional" not in " ".join(found)
    assert [(u.resource, u.what, u.reason) for u in unresolved] == [
        ("aws_subnet.per_zone", "count", "var.zones has no value")]


def test_broken_file_is_a_parse_error_and_the_good_file_still_loads():
    instances, errors, _, files = load("broken")
    assert [inst.address for inst in instances] == ["aws_security_group.good"]
    assert [(e.file, e.line) for e in errors] == [("bad.tf", 3)]
    assert errors[0].message.startswith("Unexpected token")
    assert files == ["bad.tf", "good.tf"]


def test_utf8_bom_file():
    instances, errors, _, _ = load("bom")
    assert errors == []
    assert [(i.address, i.attrs, i.location) for i in instances] == [
        ("aws_security_group.bom", {"name": "bom"}, Location("main.tf", 1))]


def test_terraform_json_file():
    instances, errors, _, files = load("json")
    assert errors == [] and files == ["main.tf.json"]
    [group] = instances
    assert (group.address, group.location) == ("aws_security_group.json", Location("main.tf.json", 8))
    assert group.attrs == {
        "name": "json-8443",
        "ingress": [{LINE: 11, "from_port": 8443, "to_port": 8443, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}],
        "egress": [{LINE: 19, "from_port": "53", "to_port": 53, "protocol": "udp"}],
    }


def test_broken_tfvars_is_a_parse_error(tmp_path):
    (tmp_path / "main.tf").write_text('variable "x" {\n  default = "d"\n}\nresource "aws_vpc" "v" {\n  cidr_block = var.x\n}\n')
    (tmp_path / "terraform.tfvars").write_text('x = \n')
    instances, errors, _, _ = load_instances(tmp_path, [tmp_path], [])
    assert [(e.file, e.line) for e in errors] == [("terraform.tfvars", 1)]
    assert instances[0].attrs == {"cidr_block": "d"}


def test_module_cycle_and_local_cycle_do_not_hang(tmp_path):
    (tmp_path / "main.tf").write_text(
        'module "self" {\n  source = "./"\n}\nlocals {\n  a = local.b\n  b = local.a\n}\n'
        'resource "aws_vpc" "v" {\n  cidr_block = local.a\n}\n')
    instances, errors, unresolved, _ = load_instances(tmp_path, [tmp_path], [])
    assert errors == []
    assert [i.address for i in instances] == ["aws_vpc.v"]
    assert isinstance(instances[0].attrs["cidr_block"], Unknown)
    assert [(u.resource, u.what) for u in unresolved] == [("module.self", "module")]
    assert "module cycle" in unresolved[0].reason


def test_module_nesting_is_bounded(tmp_path):
    directory = tmp_path
    for depth in range(25):
        (directory / "main.tf").write_text(
            f'resource "aws_vpc" "v" {{\n  cidr_block = "10.{depth}.0.0/16"\n}}\n'
            'module "next" {\n  source = "./next"\n}\n')
        directory = directory / "next"
        directory.mkdir()
    instances, errors, unresolved, _ = load_instances(tmp_path, [tmp_path], [])
    assert errors == []
    assert len(instances) == 21  # the root and 20 levels of modules
    assert instances[-1].address == ".".join(["module.next"] * 20) + ".aws_vpc.v"
    assert [(u.resource, u.what) for u in unresolved] == [(".".join(["module.next"] * 21), "module")]
    assert unresolved[0].reason == "module next nests deeper than 20 modules"


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two CPUs")
def test_parallel_parsing_gives_the_same_result(monkeypatch):
    dirs = [FIXTURES / "modules" / d for d in (".", "modules/sg", "modules/rule")]
    serial = load_instances(FIXTURES / "modules", dirs, [])
    monkeypatch.setattr(tf_parallel, "MIN_BYTES", 0)
    cache: dict = {}
    tf_parallel.preparse([Path(os.path.normpath(d)) for d in dirs], cache)
    assert len(cache) == 3
    assert load_instances(FIXTURES / "modules", dirs, []) == serial


@pytest.mark.skipif(not CORPUS.exists(), reason="corpus not available")
def test_corpus_loads_without_parse_errors(capsys):
    for top in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        found = discover(top, [top])
        instances, errors, _, files = load_instances(top, found.terraform_dirs, [])
        assert errors == [], top.name
        if found.terraform_dirs:
            assert instances and files, top.name
    assert capsys.readouterr() == ("", "")

