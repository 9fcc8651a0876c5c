"""The Terraform model built root by root and merged (``tf_fragments``) is the joint build
(``tf_model.build_estate`` over every root's instances), exactly: same objects, same order of
every collection and of the notes; and a scan gives the same findings with the root cache
cold, warm and off."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from iacscan import model_codec
from iacscan.cache import DiskParseCache
from iacscan.discover import discover
from iacscan.model import Estate, Location, make_uid
from iacscan.parsers import tf_fragments, tf_model
from iacscan.parsers.terraform import Loader, _load_all, _norm, parse_terraform
from iacscan.parsers.tf_types import ResourceInstance, ResourceRef
from iacscan.scan import ScanOptions
from tests.helpers import hits, scan_path

NET = """\
variable "cidr" {}

resource "aws_vpc" "this" {
  cidr_block = var.cidr
}

resource "aws_subnet" "app" {
  vpc_id     = aws_vpc.this.id
  cidr_block = cidrsubnet(var.cidr, 8, 1)
}

output "vpc_id" {
  value = aws_vpc.this.id
}

output "subnet_id" {
  value = aws_subnet.app.id
}
"""

APP = """\
module "net" {
  source = "../../modules/net"
  cidr   = "10.1.0.0/16"
}

resource "aws_security_group" "web" {
  name   = "web"
  vpc_id = module.net.vpc_id
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group_rule" "https" {
  type              = "ingress"
  from_port         = 443
  to_port           = 443
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
  security_group_id = aws_security_group.web.id
}

resource "aws_security_group_rule" "orphan" {
  type              = "ingress"
  from_port         = 80
  to_port           = 80
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
  security_group_id = aws_security_group.missing.id
}

data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"]
}

resource "aws_launch_template" "lt" {
  image_id               = data.aws_ami.ubuntu.id
  vpc_security_group_ids = [aws_security_group.web.id]
}

resource "aws_autoscaling_group" "asg" {
  vpc_zone_identifier = [module.net.subnet_id]
  launch_template {
    id = aws_launch_template.lt.id
  }
}

resource "aws_network_interface" "eni" {
  subnet_id       = module.net.subnet_id
  security_groups = [aws_security_group.web.id]
}

resource "aws_instance" "vm" {
  ami = "ami-0123456789abcdef0"
  network_interface {
    network_interface_id = aws_network_interface.eni.id
    device_index         = 0
  }
}
"""

DATA = """\
resource "aws_vpc" "main" {
  cidr_block = "10.2.0.0/16"
}

resource "aws_subnet" "db" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.2.1.0/24"
}

resource "aws_security_group" "db" {
  name   = "db"
  vpc_id = aws_vpc.main.id
}

resource "aws_vpc_security_group_ingress_rule" "pg" {
  security_group_id = aws_security_group.db.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
}

resource "aws_route" "lost" {
  route_table_id         = aws_route_table.missing.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = "igw-123"
}

resource "aws_instance" "db" {
  ami                    = "ami-0123456789abcdef0"
  subnet_id              = aws_subnet.db.id
  vpc_security_group_ids = [aws_security_group.db.id, "sg-0feedfacefeedface"]
}
"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def estate_tree(top: Path) -> Path:
    """Three roots (two call one local module), a broken file, notes in two roots."""
    write(top / "modules" / "net" / "main.tf", NET)
    write(top / "envs" / "app" / "main.tf", APP)
    write(top / "envs" / "data" / "main.tf", DATA)
    write(top / "envs" / "data" / "broken.tf", 'resource "aws_instance" "x" {\n  ami = \n')
    write(top / "envs" / "other" / "main.tf", APP.replace("10.1.0.0/16", "10.3.0.0/16"))
    return top


def text(estate: Estate) -> str:
    """The exact encoding of a model (collection order included)."""
    return json.dumps(model_codec.encode(estate, Estate))


def per_root(top: Path) -> tuple[list[list[ResourceInstance]], Loader]:
    loader = Loader(top)
    dirs = [_norm(d) for d in discover(top, [top], []).terraform_dirs]
    return _load_all(loader, dirs, [], None), loader


def parse(top: Path, cache: Path | None) -> Estate:
    dirs = discover(top, [top], []).terraform_dirs
    return parse_terraform(top, dirs, [], DiskParseCache(cache) if cache else None)


def test_root_by_root_is_the_joint_build(tmp_path: Path) -> None:
    top = estate_tree(tmp_path / "src")
    roots, loader = per_root(top)
    assert [{i.scope for i in r} for r in roots] == [{"envs/app"}, {"envs/data"}, {"envs/other"}]
    merged = tf_fragments.build_roots(roots, top)
    assert text(merged) == text(tf_model.build_estate(loader.instances, top, []))
    app = "envs/app#"
    web = merged.groups[app + "aws_security_group.web"]
    assert [(r.from_port, r.origin_address) for r in web.rules] == [(22, ""), (443, "aws_security_group_rule.https")]
    assert merged.workloads[app + "aws_autoscaling_group.asg"].groups == [web.uid]  # from its template
    assert merged.workloads[app + "aws_autoscaling_group.asg"].vpc == app + "module.net.aws_vpc.this"  # subnet -> VPC
    assert merged.workloads[app + "aws_instance.vm"].groups == [web.uid]  # from its ENI
    assert merged.workloads[app + "aws_launch_template.lt"].image_origin == "lookup"
    assert list(merged.ami_lookups) == [app + "data.aws_ami.ubuntu", "envs/other#data.aws_ami.ubuntu"]
    assert list(merged.groups)[:3] == [web.uid, "envs/data#aws_security_group.db", "envs/other#aws_security_group.web"]
    assert [(u.uid, u.what) for u in merged.unresolved] == [
        (app + "aws_security_group_rule.orphan", "security_group_id"),
        ("envs/data#aws_route.lost", "route_table_id"),
        ("envs/other#aws_security_group_rule.orphan", "security_group_id")]


def test_the_cached_model_is_the_uncached_one(tmp_path: Path) -> None:
    top, cache = estate_tree(tmp_path / "src"), tmp_path / "cache"
    plain = parse(top, None)
    assert [e.file for e in plain.errors] == ["envs/data/broken.tf"]
    cold, warm = parse(top, cache), parse(top, cache)
    assert text(cold) == text(plain) and text(warm) == text(plain)
    write(top / "envs" / "data" / "main.tf", DATA.replace("5432", "5433"))
    edited = parse(top, cache)
    assert text(edited) == text(parse(top, None)) != text(plain)
    rule = edited.groups["envs/data#aws_security_group.db"].rules[0]
    assert (rule.from_port, rule.origin_address) == (5433, "aws_vpc_security_group_ingress_rule.pg")


def _findings(result: Any) -> list[tuple[str, str, str, int, str]]:
    return [(f.rule_id, f.resource, f.file, f.line, json.dumps(f.details, sort_keys=True, default=str))
            for f in result.findings]


def test_a_scan_finds_the_same_cold_warm_and_without_the_cache(tmp_path: Path) -> None:
    top = estate_tree(tmp_path / "src")
    options = ScanOptions(cache_dir=tmp_path / "cache")
    plain = scan_path(top)
    cold, warm = scan_path(top, options=options), scan_path(top, options=options)
    assert _findings(cold) == _findings(plain) and _findings(warm) == _findings(plain)
    assert hits(plain, "IAC001") == {("IAC001", "envs/data/broken.tf", "envs/data/broken.tf", 2)}
    assert hits(plain, "IAC002") >= {
        ("IAC002", "aws_security_group_rule.orphan", "envs/app/main.tf", 26),
        ("IAC002", "aws_route.lost", "envs/data/main.tf", 23)}
    assert {(r, res, f, n) for r, res, f, n, _ in _findings(plain) if r == "SG101"} == {
        ("SG101", "aws_security_group.web", "envs/app/main.tf", 9),
        ("SG101", "aws_security_group.web", "envs/other/main.tf", 9),
        ("SG101", "aws_vpc_security_group_ingress_rule.pg", "envs/data/main.tf", 15)}


def _inst(scope: str, address: str, attrs: Any, mode: str = "managed") -> ResourceInstance:
    kind, name = address.removeprefix("data.").split(".")
    return ResourceInstance(make_uid(scope, address), address, kind, name, mode, scope, "", attrs,
                            Location(f"{scope}/main.tf", 1))


def test_notes_come_phase_by_phase_as_in_the_joint_build() -> None:
    """Root a has a note from pieces and one from data sources, root b one from pieces: the
    joint build gives a's and b's piece notes before a's data note."""
    def orphan(scope: str) -> ResourceInstance:
        return _inst(scope, "aws_security_group_rule.r", {
            "type": "ingress", "security_group_id": ResourceRef("aws_security_group.none", "id")})
    a = [orphan("a"), _inst("a", "data.aws_ami.broken", ["not", "a", "map"], mode="data")]
    b = [orphan("b")]
    merged = tf_fragments.build_roots([a, b], Path("/scan"))
    assert text(merged) == text(tf_model.build_estate(a + b, Path("/scan"), []))
    assert [(u.uid, u.what) for u in merged.unresolved] == [
        ("a#aws_security_group_rule.r", "security_group_id"), ("b#aws_security_group_rule.r", "security_group_id"),
        ("a#data.aws_ami.broken", "attributes")]
    fragments = [tf_fragments.build_fragment(a), tf_fragments.build_fragment(b)]
    assert [f.marks for f in fragments] == [[0, 1, 1, 1, 1, 1, 2], [0, 1, 1, 1, 1, 1, 1]]


LIVE = """\
resource "aws_security_group" "known" {
  id   = "sg-0123456789abcdef0"
  name = "known"
}
"""

RULE = """\
resource "aws_security_group_rule" "r" {
  type              = "ingress"
  from_port         = 22
  to_port           = 22
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
  security_group_id = "%s"
}
"""


def test_a_literal_id_that_reaches_another_root_gives_the_joint_build(tmp_path: Path) -> None:
    """A rule naming another root's group by a live id (an ``id`` attribute) or by its uid is
    merged into that group, as the joint build does, cached or not."""
    for target, expected in (("sg-0123456789abcdef0", True), ("a#aws_security_group.known", True),
                             ("b#aws_security_group.known", False), ("nowhere#x", False)):
        top = tmp_path / target.replace("#", "_")
        write(top / "a" / "main.tf", LIVE if target.startswith("sg-") else LIVE.replace('  id   = "sg-0123456789abcdef0"\n', ""))
        write(top / "b" / "main.tf", RULE % target)
        roots, loader = per_root(top)
        joint = tf_model.build_estate(loader.instances, top, [])
        assert tf_fragments.joinable([tf_fragments.build_fragment(r) for r in roots]) is not expected
        rules = joint.groups["a#aws_security_group.known"].rules
        assert [r.origin for r in rules] == (["b#aws_security_group_rule.r"] if expected else []), target
        plain = parse(top, None)
        assert text(plain) == text(parse(top, tmp_path / "cache")) == text(parse(top, tmp_path / "cache"))
        assert [(u.uid, u.what) for u in plain.unresolved] == [(u.uid, u.what) for u in joint.unresolved]
        assert text(plain) == text(_with_files(joint, plain))


def _with_files(joint: Estate, plain: Estate) -> Estate:
    """``joint`` as ``parse_terraform`` completes it (errors, loader notes, files, sources)."""
    joint.errors, joint.files, joint.sources = list(plain.errors), list(plain.files), set(plain.sources)
    return joint
