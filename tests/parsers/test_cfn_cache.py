"""The CloudFormation model cache: a warm scan gives the same estate without decoding anything."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from iacscan.limits import Limits, using
from iacscan.model import Estate, ParseError, PeerKind
from iacscan.parsers.cfn_cache import KIND
from iacscan.parsers.cloudformation import parse_documents
from tests.helpers import FIXTURES

HERE = FIXTURES / "parsers" / "cloudformation"
SSH = textwrap.dedent("""\
    AWSTemplateFormatVersion: "2010-09-09"
    Parameters:
      Cidr: {Type: String, Default: 10.0.0.0/8}
    Resources:
      Web:
        Type: AWS::EC2::SecurityGroup
        Properties:
          GroupDescription: web
          SecurityGroupIngress:
            - {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: !Ref Cidr}
    """)


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    """The parser fixtures (templates, broken templates, other YAML/JSON) plus a small template."""
    root = tmp_path / "src"
    shutil.copytree(HERE, root)
    (root / "ssh.yaml").write_text(SSH)
    return root


def documents(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml", ".json", ".template"))


def entries(cache: Path) -> list[Path]:
    return sorted(p for p in (cache / KIND).rglob("*") if p.is_file()) if (cache / KIND).is_dir() else []


def test_cold_warm_and_uncached_estates_are_equal(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    plain = parse_documents(tree, documents(tree), None)
    cold = parse_documents(tree, documents(tree), None, cache)
    written = entries(cache)
    warm = parse_documents(tree, documents(tree), None, cache)
    assert cold == plain and warm == plain
    assert plain.errors and plain.groups and "cloudformation" in warm.sources
    assert plain.groups["ssh.yaml#Web"].rules[0].peer.value == "10.0.0.0/8"
    # decode failures are kept too; non-templates that reached the decoder leave an (empty) entry
    assert any(e.file == "broken/syntax.yaml" and e.message.startswith("cannot decode") for e in warm.errors)
    assert len(written) > len(plain.files) - len([e for e in plain.errors if "UTF-8" in e.message])
    assert entries(cache) == written


def test_a_warm_scan_does_not_import_cfn_lint(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    parse_documents(tree, documents(tree), None, cache)
    probe = textwrap.dedent(f"""\
        import sys
        from pathlib import Path
        from iacscan.parsers.cloudformation import parse_documents
        root = Path({str(tree)!r})
        files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml", ".json", ".template"))
        estate = parse_documents(root, files, None, Path({str(cache)!r}))
        print(len(estate.groups), "cfnlint" in sys.modules)
        """)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(len(parse_documents(tree, documents(tree), None).groups)), "False"]
    (tree / "ssh.yaml").write_text(SSH.replace("22", "23"))  # one changed template: decoded again
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out[1] == "True"


def test_a_changed_template_is_read_again(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    parse_documents(tree, documents(tree), None, cache)
    (tree / "ssh.yaml").write_text(SSH.replace("FromPort: 22", "FromPort: 20"))
    rule = parse_documents(tree, documents(tree), None, cache).groups["ssh.yaml#Web"].rules[0]
    assert (rule.from_port, rule.to_port, rule.location.line) == (20, 22, 10)


def test_the_same_bytes_at_another_path_get_their_own_uids(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    parse_documents(tree, documents(tree), None, cache)
    (tree / "ssh.yaml").rename(tree / "moved.yaml")
    warm = parse_documents(tree, documents(tree), None, cache)
    assert "moved.yaml#Web" in warm.groups and "ssh.yaml#Web" not in warm.groups
    assert warm.groups["moved.yaml#Web"].location.file == "moved.yaml"
    assert warm == parse_documents(tree, documents(tree), None)


def test_parameter_overrides_are_part_of_the_key(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"Parameters": {"Cidr": "0.0.0.0/0"}}))
    files = [tree / "ssh.yaml"]
    assert parse_documents(tree, files, None, cache).groups["ssh.yaml#Web"].rules[0].peer.value == "10.0.0.0/8"
    warm = parse_documents(tree, files, params, cache)
    assert warm.groups["ssh.yaml#Web"].rules[0].peer.value == "0.0.0.0/0"
    assert warm == parse_documents(tree, files, params)


def test_files_refused_by_a_limit_are_not_kept(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    files = [tree / "ssh.yaml"]
    with using(Limits(depth=3)):
        refused = parse_documents(tree, files, None, cache)
    assert [e.file for e in refused.errors] == ["ssh.yaml"] and "limit depth=3" in refused.errors[0].message
    assert entries(cache) == []
    # the limits are part of the key: the default limits read the template, then reuse it
    assert parse_documents(tree, files, None, cache).groups["ssh.yaml#Web"].rules[0].peer.kind is PeerKind.CIDR
    assert len(entries(cache)) == 1
    with using(Limits(depth=3)):
        assert parse_documents(tree, files, None, cache) == refused


def test_the_file_timeout_is_part_of_the_key(tree: Path, tmp_path: Path) -> None:
    """An entry made under one ``file-timeout`` is not reused under another: that scan could
    have refused the file, and a cached scan gives what an uncached one would."""
    cache = tmp_path / "cache"
    files = [tree / "ssh.yaml"]
    parse_documents(tree, files, None, cache)
    with using(Limits(file_timeout=30.0)):
        parse_documents(tree, files, None, cache)
    assert len(entries(cache)) == 2


def test_a_damaged_entry_is_a_miss_and_is_rewritten(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    files = [tree / "ssh.yaml"]
    cold = parse_documents(tree, files, None, cache)
    (entry,) = entries(cache)
    good = entry.read_bytes()
    for damaged in (good[:-5], good.replace(b"10.0.0.0/8", b"10.0.0.0/9"), b"", b"{}\n[]"):
        entry.write_bytes(damaged)
        assert parse_documents(tree, files, None, cache) == cold
        assert entry.read_bytes() == good


def test_a_well_formed_entry_of_the_wrong_shape_is_a_miss(tree: Path, tmp_path: Path) -> None:
    """An entry whose checksum is right but whose body is not an encoded estate is not trusted."""
    from iacscan.parsers.cfn_cache import TemplateCache

    cache = tmp_path / "cache"
    files = [tree / "ssh.yaml"]
    store = TemplateCache(cache, {})
    key = store.key((tree / "ssh.yaml").read_bytes(), "ssh.yaml")
    store.store.write(key, {"groups": ["not", "an", "estate"]})
    assert store.get(key) is None
    estate = parse_documents(tree, files, None, cache)
    assert estate == parse_documents(tree, files, None)
    kept = store.get(key)  # rewritten: the file's own contribution
    assert kept is not None and kept.groups == estate.groups and kept.files == ["ssh.yaml"]


def test_an_unreadable_template_and_a_non_utf8_file_are_reported_on_every_run(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    files = [tree / "broken" / "latin1.yaml", tree / "missing.template"]
    expected = parse_documents(tree, files, None)
    assert [e.file for e in expected.errors] == ["broken/latin1.yaml", "missing.template"]
    assert parse_documents(tree, files, None, cache) == expected == parse_documents(tree, files, None, cache)
    assert isinstance(expected.errors[0], ParseError) and entries(cache) == []


def test_an_unusable_cache_directory_changes_nothing(tree: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert parse_documents(tree, documents(tree), None, blocker / "cache") == \
        parse_documents(tree, documents(tree), None)
    assert isinstance(parse_documents(tree, [], None, blocker), Estate)


def test_a_scan_with_a_cache_directory_keeps_and_reuses_template_models(tmp_path: Path) -> None:
    from iacscan.scan import ScanOptions
    from tests.helpers import hits, rule_fixture, scan_path

    root = tmp_path / "sg101"
    shutil.copytree(rule_fixture("SG101", "cloudformation"), root)
    expected = {("SG101", "FailSsh", "fail.yaml", 9), ("SG101", "FailRdpIngress", "fail.yaml", 29),
                ("SG101", "FailPostgres", "fail.yaml", 24)}
    plain = scan_path(root)
    cold = scan_path(root, options=ScanOptions(cache_dir=tmp_path / "cache"))
    assert len(entries(tmp_path / "cache")) == 2  # fail.yaml and pass.yaml
    warm = scan_path(root, options=ScanOptions(cache_dir=tmp_path / "cache"))
    for result in (plain, cold, warm):
        assert hits(result, "SG101") == expected
    assert [f.fingerprint for f in warm.findings] == [f.fingerprint for f in plain.findings]
    assert warm.estate == plain.estate
