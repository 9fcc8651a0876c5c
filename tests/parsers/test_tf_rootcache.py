"""The cache of evaluated Terraform root modules (``tf_rootcache``): a warm load gives exactly
the model, errors, notes and files an uncached load gives (the model compared as its exact
encoding, dict order included), and each kind of edit re-evaluates what it should."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from iacscan import model_codec
from iacscan.cache import DiskParseCache
from iacscan.discover import discover
from iacscan.model import (
    Estate, EventRule, Location, ParseError, SecurityGroup, Unknown, Unresolved, Workload,
)
from iacscan.parsers import tf_fragments, tf_model, tf_rootcache, tf_rootcodec
from iacscan.parsers.terraform import Loader, _load_all, _norm, parse_terraform
from iacscan.scan import ScanOptions
from tests.helpers import hits, scan_path

MODULE = """\
variable "port" {}
variable "vpc_id" { default = null }

resource "aws_security_group" "this" {
  name   = "svc"
  vpc_id = var.vpc_id
  ingress {
    from_port   = var.port
    to_port     = var.port
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""

ROOT = """\
variable "port" { default = 1 }

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

module "sg" {
  source = "../../modules/sg"
  port   = var.port
  vpc_id = aws_vpc.main.id
}
"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def tree(top: Path) -> Path:
    """Two roots (prod: terraform.tfvars, dev: an .auto.tfvars) calling one local module."""
    write(top / "modules" / "sg" / "main.tf", MODULE)
    write(top / "envs" / "prod" / "main.tf", ROOT)
    write(top / "envs" / "prod" / "terraform.tfvars", "port = 443\n")
    write(top / "envs" / "dev" / "main.tf", ROOT)
    write(top / "envs" / "dev" / "dev.auto.tfvars", "port = 8080\n")
    return top


def model_text(estate: Estate) -> str:
    """The exact encoding of a model (collections in their order)."""
    return json.dumps(model_codec.encode(estate, Estate))


@dataclass
class Loaded:
    """What a load gives: the model (as text), the loader's errors and notes, the files."""

    model: str
    errors: list[ParseError]
    unresolved: list[Unresolved]
    files: list[str]
    estate: Estate = field(compare=False)


def cached(top: Path, cache_dir: Path, var_files: tuple[str, ...] = ()) -> tuple[Loaded, set[str]]:
    """What the cached path loads, and the directories it had to parse (relative)."""
    dirs = discover(top, [top], []).terraform_dirs
    loader = Loader(top, DiskParseCache(cache_dir))
    fragments = tf_rootcache.load_cached(loader, [_norm(d) for d in dirs], [top / v for v in var_files], None)
    assert tf_fragments.joinable(fragments)
    estate = tf_fragments.assemble(fragments, top)
    result = Loaded(model_text(estate), loader.errors, loader.unresolved, sorted(set(loader.files)), estate)
    return result, {loader.rel(d) for d in loader.modules}


def uncached(top: Path, var_files: tuple[str, ...] = ()) -> Loaded:
    """The uncached load, whose merged model must be the joint build of all instances."""
    dirs = discover(top, [top], []).terraform_dirs
    loader = Loader(top)
    per_root = _load_all(loader, [_norm(d) for d in dirs], [top / v for v in var_files], None)
    estate = tf_fragments.build_roots(per_root, top)
    joint = tf_model.build_estate(loader.instances, top, [])
    assert model_text(estate) == model_text(joint)
    return Loaded(model_text(estate), loader.errors, loader.unresolved, sorted(set(loader.files)), estate)


def ports(result: Loaded) -> dict[str, int | None | Unknown]:
    return {uid: group.rules[0].from_port for uid, group in result.estate.groups.items()}


def test_warm_equals_cold_and_parses_nothing(tmp_path: Path) -> None:
    top, cache = tree(tmp_path / "src"), tmp_path / "cache"
    reference = uncached(top)
    cold, parsed_cold = cached(top, cache)
    warm, parsed_warm = cached(top, cache)
    assert cold == reference and warm == reference
    assert parsed_cold == {"envs/prod", "envs/dev", "modules/sg"}
    assert parsed_warm == set()
    assert ports(warm) == {"envs/dev#module.sg.aws_security_group.this": 8080,
                           "envs/prod#module.sg.aws_security_group.this": 443}
    assert warm.estate.groups["envs/prod#module.sg.aws_security_group.this"].vpc == "envs/prod#aws_vpc.main"
    assert "envs/prod/terraform.tfvars" in warm.files and "modules/sg/main.tf" in warm.files
    # the real entry point takes the cached path with a disk cache (and gives the same)
    dirs = discover(top, [top], []).terraform_dirs
    plain = parse_terraform(top, dirs, [])
    for _ in range(2):
        via_cache = parse_terraform(top, dirs, [], DiskParseCache(cache))
        assert model_text(via_cache) == model_text(plain)


def test_editing_a_called_module_re_evaluates_every_root_calling_it(tmp_path: Path) -> None:
    top, cache = tree(tmp_path / "src"), tmp_path / "cache"
    cached(top, cache)
    write(top / "modules" / "sg" / "main.tf", MODULE.replace("var.port\n    to_port", "22\n    to_port"))
    warm, parsed = cached(top, cache)
    assert warm == uncached(top)
    assert parsed == {"envs/prod", "envs/dev", "modules/sg"}
    assert set(ports(warm).values()) == {22}


def test_editing_a_tfvars_file_re_evaluates_only_its_root(tmp_path: Path) -> None:
    top, cache = tree(tmp_path / "src"), tmp_path / "cache"
    cached(top, cache)
    write(top / "envs" / "prod" / "terraform.tfvars", "port = 8443\n")
    warm, parsed = cached(top, cache)
    assert warm == uncached(top)
    assert parsed == {"envs/prod", "modules/sg"}  # dev replayed: not parsed
    assert ports(warm)["envs/prod#module.sg.aws_security_group.this"] == 8443


def test_editing_a_var_file_re_evaluates_the_roots(tmp_path: Path) -> None:
    top, cache = tree(tmp_path / "src"), tmp_path / "cache"
    write(top / "ci.tfvars", "port = 25\n")
    first, _ = cached(top, cache, ("ci.tfvars",))
    assert set(ports(first).values()) == {25}
    write(top / "ci.tfvars", "port = 26\n")
    warm, _ = cached(top, cache, ("ci.tfvars",))
    assert warm == uncached(top, ("ci.tfvars",))
    assert set(ports(warm).values()) == {26}


def test_a_new_file_in_a_module_dir_invalidates(tmp_path: Path) -> None:
    top, cache = tree(tmp_path / "src"), tmp_path / "cache"
    cached(top, cache)
    write(top / "modules" / "sg" / "extra.tf", 'resource "aws_security_group" "extra" {\n  name = "x"\n}\n')
    warm, parsed = cached(top, cache)
    assert warm == uncached(top)
    assert "modules/sg" in parsed
    assert {uid for uid in warm.estate.groups if uid.endswith(".extra")} == {
        "envs/prod#module.sg.aws_security_group.extra", "envs/dev#module.sg.aws_security_group.extra"}


def test_a_new_root_is_evaluated_and_the_others_replayed(tmp_path: Path) -> None:
    top, cache = tree(tmp_path / "src"), tmp_path / "cache"
    cached(top, cache)
    write(top / "envs" / "stage" / "main.tf", ROOT)
    warm, parsed = cached(top, cache)
    assert warm == uncached(top)
    assert parsed == {"envs/stage", "modules/sg"}
    assert ports(warm)["envs/stage#module.sg.aws_security_group.this"] == 1


def test_a_module_that_becomes_a_root_or_stops_being_one(tmp_path: Path) -> None:
    top, cache = tree(tmp_path / "src"), tmp_path / "cache"
    cached(top, cache)
    (top / "envs" / "dev" / "main.tf").write_text(ROOT.replace("../../modules/sg", "../../nowhere"))
    (top / "envs" / "prod" / "main.tf").write_text(ROOT.replace("../../modules/sg", "../../nowhere"))
    warm, _ = cached(top, cache)
    assert warm == uncached(top)
    assert "modules/sg#aws_security_group.this" in warm.estate.groups  # now a root of its own
    assert any(u.what == "module" and "is not a directory" in u.reason for u in warm.unresolved)
    write(top / "nowhere" / "main.tf", 'resource "aws_vpc" "n" {\n  cidr_block = "10.1.0.0/16"\n}\n')
    again, _ = cached(top, cache)
    assert again == uncached(top)
    assert "envs/prod#module.sg.aws_vpc.n" in again.estate.vpcs


def test_corrupt_and_foreign_entries_are_misses(tmp_path: Path) -> None:
    top, cache = tree(tmp_path / "src"), tmp_path / "cache"
    reference = uncached(top)
    cached(top, cache)
    entries = sorted((cache / "tfroots").glob("*/*"))
    assert len(entries) == 2
    first, second = (path.read_bytes() for path in entries)
    entries[0].write_bytes(second)  # another root's entry: names the wrong key
    entries[1].write_bytes(first[: len(first) // 2])  # truncated
    warm, parsed = cached(top, cache)
    assert warm == reference and {"envs/prod", "envs/dev"} <= parsed
    for path in (cache / "tfdirs").glob("*/*"):
        path.write_bytes(b"not an entry")
    for path in (cache / "tfroots").glob("*/*"):
        path.write_bytes(path.read_bytes().replace(b"8080", b"8081"))  # checksum no longer matches
    again, parsed = cached(top, cache)
    assert again == reference and parsed == {"envs/prod", "envs/dev", "modules/sg"}


def test_well_formed_entries_with_wrong_types_are_misses(tmp_path: Path) -> None:
    top, cache = tree(tmp_path / "src"), tmp_path / "cache"
    reference = uncached(top)
    cached(top, cache)
    loader = Loader(top, DiskParseCache(cache))
    store = tf_rootcache.RootCache(cache, loader.root)
    prints = tf_rootcache.Fingerprints(loader.root)
    for env in ("prod", "dev"):
        key = tf_rootcache._root_key(prints, _norm(top / "envs" / env), "[]")
        body = store.roots.read_body(key)
        assert body is not None and tf_rootcodec.decode(body) is not None
        # a model the model codec refuses (a CIDR that is a number), then marks of the wrong shape
        bad = body.replace(b'"10.0.0.0/16"', b'16')
        assert bad != body and tf_rootcodec.decode(bad) is None
        store.roots.write_body(key, bad)
    warm, parsed = cached(top, cache)
    assert warm == reference and {"envs/prod", "envs/dev"} <= parsed
    for env in ("prod", "dev"):
        key = tf_rootcache._root_key(prints, _norm(top / "envs" / env), "[]")
        body = store.roots.read_body(key)
        assert body is not None and b'"marks":[0,' in body
        for bad in (body.replace(b'"marks":[0,', b'"marks":["0",'), body.replace(b'"marks":[0,', b'"marks":[1,'),
                    body.replace(b'"marks":[0,', b'"marks":[')):
            assert bad != body and tf_rootcodec.decode(bad) is None
        store.roots.write_body(key, body.replace(b'"marks":[0,', b'"marks":[1,'))
    again, parsed = cached(top, cache)
    assert again == reference and {"envs/prod", "envs/dev"} <= parsed


def test_an_entry_in_the_old_layout_is_ignored(tmp_path: Path) -> None:
    """An entry body with instances (the layout before models were kept) under the current key
    is a miss: the root is evaluated again. (Old entries also carry another tag.)"""
    top, cache = tree(tmp_path / "src"), tmp_path / "cache"
    reference = uncached(top)
    cached(top, cache)
    store = tf_rootcache.RootCache(cache, _norm(top))
    prints = tf_rootcache.Fingerprints(_norm(top))
    key = tf_rootcache._root_key(prints, _norm(top / "envs" / "prod"), "[]")
    current = store.roots.read_body(key)
    assert current is not None
    data = json.loads(current)
    old = {"deps": data["deps"], "files": data["files"], "trace": data["trace"], "unres": data["unres"],
           "inst": [[".#aws_vpc.x", "aws_vpc.x", "aws_vpc", "x", "managed", ".", "", {}, "main.tf", 1, {}, "terraform"]]}
    store.roots.write_body(key, json.dumps(old).encode())
    assert tf_rootcodec.decode(json.dumps(old).encode()) is None
    warm, parsed = cached(top, cache)
    assert warm == reference and "envs/prod" in parsed and "envs/dev" not in parsed
    assert f"/roots-{tf_rootcodec.FORMAT}-{model_codec.FORMAT}-" in tf_rootcache._code_tag()


def _fragment() -> tf_fragments.Fragment:
    group = SecurityGroup(uid=".#aws_security_group.a", address="aws_security_group.a", name="a",
                          description=Unknown("var.d has no value"), vpc=None, location=Location("main.tf", 3))
    note = Unresolved("aws_security_group_rule.r", ".#aws_security_group_rule.r", "security_group_id", "why",
                      Location("main.tf", 9))
    estate = Estate(groups={group.uid: group}, unresolved=[note],
                    event_rules={".#e": EventRule(".#e", "e", {"detail": {"n": [1, 1.5, True, None]}})})
    return tf_fragments.Fragment(estate, [0, 1, 1, 1, 1, 1, 1], ["."], [".#x"])


def test_codec_round_trips_results_and_refuses_what_it_cannot_keep() -> None:
    result = tf_rootcodec.RootResult(fragment=_fragment(), deps=[["d.", "abc"]], files=["main.tf"],
                                     trace=[ParseError("a.tf", 1, "bad"), tf_rootcodec.ModuleMark("m", [])],
                                     unresolved=[Unresolved("module.m", ".#module.m", "module", "r", Location("a.tf", 2))])
    body = tf_rootcodec.encode(result)
    assert body is not None and tf_rootcodec.decode(body) == result
    odd_values = (float("nan"), {1: "int key"}, {1, 2}, object())
    for odd in odd_values:
        result.fragment.estate.event_rules[".#e"].event_pattern = {"odd": odd}  # type: ignore[assignment]
        assert tf_rootcodec.encode(result) is None, odd
    result = tf_rootcodec.RootResult(fragment=_fragment())
    result.fragment.estate.workloads[".#w"] = Workload(".#w", "w", "aws_instance", ports=[True])  # not an int
    assert tf_rootcodec.encode(result) is None
    live = tf_rootcodec.RootResult(fragment=_fragment())
    live.fragment.live = True  # must be built jointly: never cached
    assert tf_rootcodec.encode(live) is None
    assert tf_rootcodec.decode(b'{"deps":[],"files":[],"inst":[[1]],"trace":[],"unres":[]}') is None
    assert tf_rootcodec.decode(b"[]") is None


def test_a_parse_error_gives_the_same_finding_cold_and_warm(tmp_path: Path) -> None:
    top = tree(tmp_path / "src")
    write(top / "modules" / "sg" / "broken.tf", 'resource "aws_instance" "x" {\n  ami = \n')
    options = ScanOptions(cache_dir=tmp_path / "cache")
    expected = {("IAC001", "", "modules/sg/broken.tf", 2)}
    plain = scan_path(top)
    cold = scan_path(top, options=options)
    warm = scan_path(top, options=options)
    assert {(r, "", f, n) for r, _, f, n in hits(plain, "IAC001")} == expected
    for result in (cold, warm):
        assert hits(result, "IAC001") == hits(plain, "IAC001")
        assert result.estate.errors == plain.estate.errors
        assert [f.rule_id for f in result.findings] == [f.rule_id for f in plain.findings]


def test_downloaded_modules_report_their_errors_once_and_follow_modules_json(tmp_path: Path) -> None:
    top, cache = tmp_path / "src", tmp_path / "cache"
    for env in ("a", "b"):
        write(top / env / "main.tf", 'module "net" {\n  source = "example/net/aws"\n  port = 5\n}\n')
        write(top / env / ".terraform" / "modules" / "modules.json",
              '{"Modules": [{"Key": "net", "Dir": ".terraform/modules/net"}]}')
        write(top / env / ".terraform" / "modules" / "net" / "main.tf", MODULE)
        write(top / env / ".terraform" / "modules" / "net" / "bad.tf", "resource {\n")
    reference = uncached(top)
    assert [e.file for e in reference.errors] == ["a/.terraform/modules/net/bad.tf", "b/.terraform/modules/net/bad.tf"]
    cold, _ = cached(top, cache)
    warm, parsed = cached(top, cache)
    assert cold == reference and warm == reference and parsed == set()
    write(top / "b" / ".terraform" / "modules" / "modules.json", '{"Modules": []}')
    edited, parsed = cached(top, cache)
    assert edited == uncached(top) and parsed == {"b"}
    assert [e.file for e in edited.errors] == ["a/.terraform/modules/net/bad.tf"]
    assert any("not downloaded" in u.reason for u in edited.unresolved)


def test_a_root_that_hit_a_limit_is_not_cached(tmp_path: Path) -> None:
    from iacscan.limits import Limits, using

    top, cache = tree(tmp_path / "src"), tmp_path / "cache"
    write(top / "modules" / "sg" / "big.tf", "# padding\n" * 200)
    with using(Limits(file_size=1000)):
        reference = uncached(top)
        assert [(e.file, "limit file-size=1000B" in e.message) for e in reference.errors] == [("modules/sg/big.tf", True)]
        cold, _ = cached(top, cache)
        warm, parsed = cached(top, cache)
    assert cold == reference and warm == reference
    assert parsed == {"envs/prod", "envs/dev", "modules/sg"}  # evaluated again, nothing replayed
    assert not list((cache / "tfroots").glob("*/*"))
    again, parsed = cached(top, cache)  # the default limits: a different tag, the file is read
    assert again == uncached(top) and again.errors == []


def test_a_linked_file_is_never_trusted(tmp_path: Path) -> None:
    top, cache = tree(tmp_path / "src"), tmp_path / "cache"
    write(top / "shared" / "extra.tf", 'resource "aws_vpc" "linked" {\n  cidr_block = "10.9.0.0/16"\n}\n')
    (top / "envs" / "prod" / "linked.tf").symlink_to(top / "shared" / "extra.tf")
    cached(top, cache)
    (top / "shared" / "extra.tf").write_text('resource "aws_vpc" "relinked" {\n  cidr_block = "10.9.0.0/16"\n}\n')
    warm, parsed = cached(top, cache)
    assert warm == uncached(top) and "envs/prod" in parsed and "envs/dev" not in parsed
    assert "envs/prod#aws_vpc.relinked" in warm.estate.vpcs
