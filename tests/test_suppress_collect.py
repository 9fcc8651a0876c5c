"""Reading suppressions from the files of a scan: only files holding ``iacscan`` are decoded,
each directory is resolved once (``discover.Within``), and a scan reads them once."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iacscan import suppress
from iacscan.discover import Within, inside
from iacscan.model import Estate
from tests.helpers import scan_path

SG = """resource "aws_security_group" "open" {{
  description = "x"
  ingress {{
    {comment}
    description = "ssh"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}
"""


def _hits(findings: list) -> set[tuple[str, str, str, int]]:
    return {(f.rule_id, f.resource, f.file, f.line) for f in findings}


@pytest.mark.parametrize("comment", [
    '# iacscan:ignore SG101 reason="vpn only"',
    "// iacscan:ignore sg101 REASON=vpn",  # rule ids and option names in any case
    "/* iacscan:ignore SG101,SG106 reason='vpn only' */",
])
def test_a_suppression_is_found_when_only_its_file_mentions_iacscan(tmp_path: Path, comment: str) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "main.tf").write_text(SG.format(comment=comment), encoding="utf-8")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "main.tf").write_text(SG.format(comment="# nothing to see"), encoding="utf-8")
    result = scan_path(tmp_path)
    assert ("SG101", "aws_security_group.open", "a/main.tf", 3) in _hits(result.suppressed)
    assert ("SG101", "aws_security_group.open", "b/main.tf", 3) in _hits(result.findings)
    assert not [f for f in result.findings if f.rule_id == "IAC004"]


def test_bom_and_crlf_files_keep_their_suppressions_and_lines(tmp_path: Path) -> None:
    text = SG.format(comment='# iacscan:ignore SG101 reason="vpn"').replace("\n", "\r\n")
    (tmp_path / "main.tf").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (tmp_path / "t.yaml").write_bytes(b"\xef\xbb\xbf" + CFN.replace("\n", "\r\n").encode("utf-8"))
    result = scan_path(tmp_path)
    assert _hits(result.suppressed) >= {("SG101", "aws_security_group.open", "main.tf", 3),
                                        ("SG101", "OpenSG", "t.yaml", 7)}
    found = suppress.collect(result.estate)
    assert [(s.file, s.line, s.rule_ids, s.reason) for s in found] == [
        ("main.tf", 4, ("SG101",), "vpn"), ("t.yaml", 11, ("SG101",), "bastion")]


CFN = """Resources:
  OpenSG:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: open
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0}
    Metadata:
      iacscan:
        ignore:
          - id: SG101
            reason: bastion
"""


def test_marker_spelt_otherwise_or_undecodable_file_suppresses_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.tf").write_text(SG.format(comment='# IACSCAN:IGNORE SG101 reason="x"'), encoding="utf-8")
    latin = SG.format(comment='# iacscan:ignore SG101 reason="caf\xe9"').encode("latin-1")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "main.tf").write_bytes(latin)
    estate = Estate(root=str(tmp_path), files=["a.tf", "b/main.tf"])
    assert suppress.collect(estate) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "é", "\r", "\n", "\r\n", "\ufeff", " ", "iacscan"])).map("".join),
       st.booleans())
def test_decode_reads_as_read_text_does(tmp_path_factory: pytest.TempPathFactory, text: str, bom: bool) -> None:
    path = tmp_path_factory.mktemp("d") / "f.tf"
    raw = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    path.write_bytes(raw)
    assert suppress._decode(raw) == path.read_text(encoding="utf-8-sig")
    assert (b"iacscan" in raw) == ("iacscan" in path.read_text(encoding="utf-8-sig"))


def test_collect_reads_once_per_estate_and_again_when_the_files_change(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(SG.format(comment='# iacscan:ignore SG101 reason="x"'), encoding="utf-8")
    estate = Estate(root=str(tmp_path), files=["main.tf"])
    first = suppress.collect(estate)
    assert suppress.collect(estate) == first and len(first) == 1
    (tmp_path / "other.tf").write_text(SG.format(comment='# iacscan:ignore SG106 reason="y"'), encoding="utf-8")
    estate.files.append("other.tf")
    assert [s.file for s in suppress.collect(estate)] == ["main.tf", "other.tf"]
    assert [s.file for s in suppress.collect(Estate(root=str(tmp_path), files=["other.tf"]))] == ["other.tf"]


def test_within_answers_as_inside_does(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "d").mkdir(parents=True)
    (outside / "d" / "x.tf").write_text("", encoding="utf-8")
    real = tmp_path / "real"
    (real / "a" / "b").mkdir(parents=True)
    (real / "a" / "b" / "main.tf").write_text("", encoding="utf-8")
    (real / "top.tf").write_text("", encoding="utf-8")
    os.symlink(real / "a", real / "alias")  # a link to a directory inside
    os.symlink(outside / "d", real / "away")  # a link to a directory outside
    os.symlink(outside / "d" / "x.tf", real / "a" / "out.tf")  # a file link leaving the root
    os.symlink(real / "top.tf", real / "a" / "in.tf")  # a file link staying inside
    os.symlink(real / "gone.tf", real / "a" / "dangling.tf")
    os.symlink(real / "a" / "loop.tf", real / "a" / "loop.tf")
    link_root = tmp_path / "root-link"
    os.symlink(real, link_root)  # the scan root itself reached through a link
    for root in (real, link_root):
        within = Within(root)
        for rel in ["top.tf", "a/b/main.tf", "alias/b/main.tf", "away/x.tf", "a/out.tf", "a/in.tf",
                    "a/dangling.tf", "a/loop.tf", "a/b/../b/main.tf", "a/../away/x.tf", "missing/x.tf",
                    "alias/../top.tf"]:
            path = root / rel
            assert within(path, path.is_symlink()) == inside(root, path), (root, rel)
            assert within.text(str(path), path.is_symlink()) == inside(root, path), (root, rel)


def test_collect_with_a_relative_root_and_untidy_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "main.tf").write_text(SG.format(comment='# iacscan:ignore SG101 reason="x"'), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for root, files in ((".", ["m/main.tf"]), ("m", ["main.tf"]), (str(tmp_path), ["m//main.tf", "./m/main.tf"])):
        found = suppress.collect(Estate(root=root, files=files))
        assert [(s.line, s.rule_ids) for s in found] == [(4, ("SG101",))] * len(files), (root, files)
        assert {s.file for s in found} == set(files)


def test_discover_classifies_links_pipes_and_plain_files(tmp_path: Path) -> None:
    from iacscan.discover import discover

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "out" / "x").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "hidden.tf").write_text("", encoding="utf-8")
    (tmp_path / "a" / "b" / "main.tf").write_text("", encoding="utf-8")
    for name in ("t.json", "v.tfvars", "B.TF", "T.YAML", "x.template", "notes.txt"):
        (tmp_path / "a" / name).write_text("", encoding="utf-8")
    (tmp_path / "out" / "x" / "o.tf").write_text("", encoding="utf-8")
    os.symlink("../out/x", tmp_path / "a" / "away")  # a directory link: listed, not walked
    os.symlink("../out/x/none.tf", tmp_path / "a" / "dangle.tf")
    os.symlink("a/b/main.tf", tmp_path / "link.tf")
    os.symlink("loop.tf", tmp_path / "loop.tf")
    os.mkfifo(tmp_path / "a" / "pipe.tf")
    os.mkfifo(tmp_path / "a" / "pipe.yaml")
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere.yaml"
    elsewhere.write_text("", encoding="utf-8")
    os.symlink(elsewhere, tmp_path / "a" / "host.yaml")  # a link leaving the root
    found = discover(tmp_path, [tmp_path])

    def rel(paths: list[Path]) -> list[str]:
        return [p.relative_to(tmp_path).as_posix() for p in paths]

    assert rel(found.terraform_dirs) == [".", "a", "a/b", "out/x"]
    assert rel(found.documents) == ["a/T.YAML", "a/t.json", "a/x.template"]
    assert rel(found.skipped_links) == ["a/host.yaml"]
    assert [(p.relative_to(tmp_path).as_posix(), why) for p, why in found.unreadable] == [
        ("loop.tf", "the file is a link that loops; not read"),
        ("a/dangle.tf", "the file is a link whose target does not exist; not read"),
        ("a/pipe.tf", "the file is a named pipe, not a regular file; not read")]
    excluded = discover(tmp_path, [tmp_path], ["out", "*.template"])
    assert rel(excluded.terraform_dirs) == [".", "a", "a/b"] and rel(excluded.documents) == ["a/T.YAML", "a/t.json"]


def test_relative_paths() -> None:
    from iacscan.discover import relative

    root = Path("/scan/root")
    assert relative(root, root / "envs" / "prod" / "main.tf") == "envs/prod/main.tf"
    assert relative(root, root) == "."
    assert relative(root, Path("/scan/rootless/main.tf")) == "/scan/rootless/main.tf"
    assert relative(Path("/"), Path("/a/b.tf")) == "a/b.tf"
    assert relative(Path("rel"), Path("rel/x/y.tf")) == "x/y.tf"
