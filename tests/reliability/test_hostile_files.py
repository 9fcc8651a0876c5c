"""Hostile files next to good ones: each becomes an IAC001 finding (or a silent skip for a
file that is not IaC), within the limits of ``iacscan.limits``, and the good files' findings
are all still there. Every fixture is generated here (nothing big is committed)."""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from iacscan import limits
from iacscan.cli import main
from iacscan.model import ParseError
from iacscan.parsers.cloudformation import parse_documents
from iacscan.parsers.tf_files import load_file
from tests.reliability.conftest import GOOD_CFN, GOOD_SG101, good_findings, scan_dir, tuples, write_good

DEEP = 10_000


def errors_by_file(result: object) -> dict[str, str]:
    return {e.file: e.message for e in result.estate.errors}  # type: ignore[attr-defined]


def scan_with(tmp_path: Path, files: dict[str, bytes | str]) -> object:
    """Write the good files and ``files`` (relative name → content) under tmp_path, and scan."""
    write_good(tmp_path)
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    result = scan_dir(tmp_path)
    assert good_findings(result) == GOOD_SG101, "the good files' findings must all survive"
    assert not [f for f in result.findings if f.rule_id == "IAC003"]
    return result


def iac001(result: object) -> dict[str, tuple[int, str]]:
    return {f.file: (f.line, f.message) for f in result.findings if f.rule_id == "IAC001"}  # type: ignore[attr-defined]


# ---------------------------------------------------------------- garbage and encodings


def test_random_bytes_named_tf_is_iac001_and_named_yaml_is_skipped(tmp_path: Path) -> None:
    noise = bytes(random.Random(7).randrange(256) for _ in range(5000))
    result = scan_with(tmp_path, {"bad/main.tf": noise, "bad/noise.yaml": noise, "bad/noise.json": noise})
    assert set(iac001(result)) == {"bad/main.tf"}  # YAML/JSON that does not look like CFN: silent
    assert "not valid UTF-8" in iac001(result)["bad/main.tf"][1]


def test_random_bytes_in_what_looks_like_a_template_is_iac001(tmp_path: Path) -> None:
    noise = bytes(random.Random(8).randrange(128, 256) for _ in range(3000))
    result = scan_with(tmp_path, {"bad/t.yaml": b"AWSTemplateFormatVersion: x\nResources:\n" + noise})
    assert iac001(result) == {"bad/t.yaml": (3, "the file is not valid UTF-8: fix the syntax; the rest of the scan "
                                                 "went on")}


def test_invalid_utf8_in_terraform_names_the_byte(tmp_path: Path) -> None:
    text = b'resource "aws_security_group" "x" {\n  description = "caf\xe9"\n}\n'
    result = scan_with(tmp_path, {"bad/main.tf": text})
    assert iac001(result)["bad/main.tf"][1].startswith("the file is not valid UTF-8 (byte 56)")


def test_utf8_bom_files_parse(tmp_path: Path) -> None:
    """A BOM is valid: Terraform, Terraform JSON and CloudFormation with one parse and are checked."""
    bom = b"\xef\xbb\xbf"
    tf = bom + b'resource "aws_security_group" "bom" {\n  ingress {\n    from_port = 22\n    to_port = 22\n' \
        b'    protocol = "tcp"\n    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n'
    tf_json = bom + json.dumps({"resource": {"aws_security_group": {"bomjson": {"ingress": [{
        "from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}]}}}}, indent=1).encode()
    cfn = bom + b"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Bom:\n    Type: AWS::EC2::SecurityGroup\n" \
        b"    Properties:\n      GroupDescription: b\n      SecurityGroupIngress:\n        - IpProtocol: tcp\n" \
        b"          FromPort: 22\n          ToPort: 22\n          CidrIp: 0.0.0.0/0\n"
    result = scan_with(tmp_path, {"bom/main.tf": tf, "bomjson/main.tf.json": tf_json, "bom/t.yaml": cfn})
    assert not result.estate.errors  # type: ignore[attr-defined]
    assert {t[1:3] for t in tuples(result.findings, "SG101")} >= {  # type: ignore[attr-defined]
        ("aws_security_group.bom", "bom/main.tf"), ("aws_security_group.bomjson", "bomjson/main.tf.json"),
        ("Bom", "bom/t.yaml")}


def test_empty_files(tmp_path: Path) -> None:
    """Empty HCL, YAML, JSON and .template files hold nothing; an empty .tf.json is not valid JSON."""
    result = scan_with(tmp_path, {"e/main.tf": "", "e/a.yaml": "", "e/b.json": "", "e/d.template": "",
                                  "j/main.tf.json": ""})
    assert iac001(result) == {"j/main.tf.json": (1, "invalid JSON: Expecting value: fix the syntax; the rest of "
                                                    "the scan went on")}


# ---------------------------------------------------------------- nesting and expansion


@pytest.mark.parametrize("name, text, line", [
    ("hcl/main.tf", "locals {\n  x = " + "[" * DEEP + "]" * DEEP + "\n}\n", 2),
    ("blocks/main.tf", 'resource "aws_security_group" "x" {\n' + "a {\n" * DEEP + "}\n" * DEEP + "}\n", 101),
    ("json/main.tf.json", '{"locals": {"x": ' + "[" * DEEP + "]" * DEEP + "}}", 1),
    ("cfnjson/t.json", '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"A": {"Type": '
                       '"AWS::EC2::SecurityGroup", "Properties": {"X": ' + "[" * DEEP + "]" * DEEP + "}}}}", 1),
    ("yaml/t.yaml", 'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  A:\n    Type: AWS::EC2::SecurityGroup\n'
                    "    Properties:\n      X: " + "[" * DEEP + "]" * DEEP + "\n", 6),
])
def test_deep_nesting_is_refused_before_parsing(tmp_path: Path, name: str, text: str, line: int) -> None:
    result = scan_with(tmp_path, {name: text})
    assert iac001(result)[name] == (line, "brackets nest more than 100 levels deep (limit depth=100; raise it "
                                          "with 'iacscan scan --limit depth=N' if the file is trusted): fix the "
                                          "syntax; the rest of the scan went on")


def test_deep_block_style_yaml_is_refused(tmp_path: Path) -> None:
    """Block-style nesting has no brackets: the decoded document's depth is checked."""
    lines = ['AWSTemplateFormatVersion: "2010-09-09"', "Resources:", "  A:", "    Type: AWS::EC2::SecurityGroup",
             "    Properties:"]
    lines += [" " * (6 + i) + f"k{i}:" for i in range(150)] + [" " * 156 + "leaf: 1"]
    result = scan_with(tmp_path, {"block/t.yaml": "\n".join(lines) + "\n"})
    assert "the document nests more than 100 levels deep (limit depth=100" in iac001(result)["block/t.yaml"][1]


def test_raising_the_depth_limit_lets_a_deeper_file_parse(tmp_path: Path) -> None:
    text = "locals {\n  x = " + "[" * 150 + "1" + "]" * 150 + "\n}\n"
    refused = scan_with(tmp_path, {"mid/main.tf": text})
    assert "limit depth=100" in iac001(refused)["mid/main.tf"][1]
    with limits.using(limits.Limits(depth=200)):
        accepted = scan_with(tmp_path, {})
    assert "mid/main.tf" not in iac001(accepted)


def _alias_bomb(levels: int) -> str:
    lines = ['AWSTemplateFormatVersion: "2010-09-09"', "Resources:", "  A:", "    Type: AWS::EC2::SecurityGroup",
             "    Properties:", '      a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"      a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_is_not_expanded(tmp_path: Path) -> None:
    """9^10 values if expanded (≈3.5 billion): refused from the shared decoded nodes."""
    result = scan_with(tmp_path, {"bomb/t.yaml": _alias_bomb(10)})
    message = iac001(result)["bomb/t.yaml"][1]
    # Newer cfn-lint releases (1.58) refuse alias amplification in the decoder before our
    # own count runs; older ones (1.51) leave it to iacscan's 'values' limit. Either way the
    # file is refused, with a message that says why.
    ours = message.startswith(
        "YAML anchors and aliases would expand to more than 1000000 values (limit values=1000000; raise it with "
        "'iacscan scan --limit values=N' if the file is trusted)")
    decoder = "YAML aliases are expanded" in message and "amplification" in message
    assert ours or decoder, message


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    result = scan_with(tmp_path, {"few/t.yaml": _alias_bomb(3)})
    assert "few/t.yaml" not in iac001(result)


def test_a_self_containing_alias_is_iac001(tmp_path: Path) -> None:
    text = ('AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  A: &a\n    Type: AWS::EC2::SecurityGroup\n'
            "    Properties:\n      X: *a\n")
    result = scan_with(tmp_path, {"self/t.yaml": text})
    assert iac001(result)["self/t.yaml"][1].startswith("cannot decode template: Template could not be parsed: "
                                                        "found unconstructable recursive node")


# ---------------------------------------------------------------- size and time


def test_a_valid_10_mb_terraform_file_parses_and_is_scanned(tmp_path: Path) -> None:
    """10 MB: 1,500 security groups and a large allow-list local (generated, not committed)."""
    chunks = []
    for i in range(1500):
        chunks.append(f'resource "aws_security_group" "g{i}" {{\n  description = "group {i}"\n  ingress {{\n'
                      f'    description = "https"\n    from_port   = 443\n    to_port     = 443\n'
                      f'    protocol    = "tcp"\n    cidr_blocks = ["10.{i % 256}.0.0/16"]\n  }}\n}}\n\n')
    body = "".join(chunks)
    entries = []
    size = len(body)
    while size < 10 * 1024 * 1024:
        n = len(entries)
        entries.append(f'    "host-{n:07d}.internal.example" = "10.{n % 256}.{(n // 256) % 256}.{n % 7}/32"\n')
        size += len(entries[-1])
    text = body + "locals {\n  allow_list = {\n" + "".join(entries) + "  }\n}\n"
    line = text.count("\n") + 3  # the ingress block of the resource appended below
    text += ('resource "aws_security_group" "last" {\n  description = "last"\n  ingress {\n'
             '    description = "ssh"\n    from_port = 22\n    to_port = 22\n    protocol = "tcp"\n'
             '    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n')
    assert len(text) > 10 * 1024 * 1024
    result = scan_with(tmp_path, {"big/main.tf": text})
    assert not result.estate.errors  # type: ignore[attr-defined]
    assert len([g for g in result.estate.groups.values() if g.location.file == "big/main.tf"]) == 1501  # type: ignore[attr-defined]
    found = tuples(result.findings, "SG101")  # type: ignore[attr-defined]
    assert found == GOOD_SG101 | {("SG101", "aws_security_group.last", "big/main.tf", line)}


def test_file_size_limit(tmp_path: Path) -> None:
    """Over the size limit: Terraform and template-looking files are IAC001; other YAML is skipped."""
    big_tf = 'resource "aws_security_group" "x" {\n  description = "' + "x" * 3000 + '"\n}\n'
    big_cfn = 'AWSTemplateFormatVersion: "2010-09-09"\nResources: {}\n# ' + "x" * 3000 + "\n"
    write_good(tmp_path)
    for name, text in {"big/main.tf": big_tf, "big/t.yaml": big_cfn, "big/ci.yaml": "x: " + "y" * 3000}.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    with limits.using(limits.Limits(file_size=2048)):
        result = scan_dir(tmp_path)
    assert good_findings(result) == GOOD_SG101
    assert iac001(result) == {
        "big/main.tf": (0, f"the file is {len(big_tf)} bytes, larger than iacscan reads (limit file-size=2KB; raise "
                           "it with 'iacscan scan --limit file-size=N' if the file is trusted): fix the syntax; the "
                           "rest of the scan went on"),
        "big/t.yaml": (0, f"the file is {len(big_cfn)} bytes, larger than iacscan reads (limit file-size=2KB; raise "
                          "it with 'iacscan scan --limit file-size=N' if the file is trusted): fix the syntax; the "
                          "rest of the scan went on"),
    }


def test_time_limit_per_file(tmp_path: Path) -> None:
    """A file whose parse outlasts ``file-timeout`` is abandoned (1 ms here; it parses in ~100 ms)."""
    text = "".join(f'resource "aws_security_group" "g{i}" {{\n  description = "g"\n}}\n' for i in range(3000))
    path = tmp_path / "main.tf"
    path.write_text(text)
    with limits.using(limits.Limits(file_timeout=0.001)):
        result = load_file(path, "main.tf")
    assert result.error == ParseError("main.tf", 0, "parsing the file took longer than 0.001 seconds (limit "
                                      "file-timeout=0.001s; raise it with 'iacscan scan --limit file-timeout=N' "
                                      "if the file is trusted)")
    assert load_file(path, "main.tf").error is None  # default limit: parses


def test_limits_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    write_good(tmp_path)
    (tmp_path / "mid").mkdir()
    (tmp_path / "mid" / "main.tf").write_text("locals {\n  x = [[[[[[[[[[1]]]]]]]]]]\n}\n")  # 11 deep
    monkeypatch.chdir(tmp_path)
    assert main(["scan", "--no-cache", "--format", "json", "--limit", "depth=8"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [(f["rule_id"], f["file"]) for f in doc["findings"] if f["rule_id"] == "IAC001"] == [("IAC001", "mid/main.tf")]
    assert main(["scan", "--no-cache", "--format", "json", "--limit", "depth=12", "--limit", "file-size=1MB"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert not [f for f in doc["findings"] if f["rule_id"] == "IAC001"]
    assert main(["scan", "--limit", "depht=3"]) == 2
    assert "--limit expects KEY=VALUE with KEY one of file-size, depth, values, file-timeout" in capsys.readouterr().err
    assert main(["scan", "--limit", "file-size=lots"]) == 2


# ---------------------------------------------------------------- absurd values


ABSURD_TF = """\
resource "aws_security_group" "absurd" {
  description = 42
  name        = ["not", "a", "string"]
  tags        = ["a", "list"]

  ingress {
    from_port   = 70000
    to_port     = 70001
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }

  ingress {
    from_port   = null
    to_port     = null
    protocol    = "banana"
    cidr_blocks = ["999.1.1.1/99"]
  }

  ingress {
    from_port   = "twenty"
    to_port     = {a = 1}
    protocol    = 6
    cidr_blocks = [42, null, {x = 1}]
  }

  egress = "everything"
}

resource "aws_security_group_rule" "weird" {
  type              = "sideways"
  security_group_id = aws_security_group.absurd.id
  from_port         = 99999999999999999999
  to_port           = -1
  protocol          = "banana"
  cidr_blocks       = "0.0.0.0/0"
}
"""

ABSURD_CFN = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Absurd:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: 42
      Tags: {not: a list}
      SecurityGroupIngress:
        - IpProtocol: banana
          FromPort: -5
          ToPort: 22
          CidrIp: 999.1.1.1/99
        - IpProtocol: null
          FromPort: [1, 2]
          ToPort: {a: b}
          CidrIp: 42
        - null
        - "a string"
      SecurityGroupEgress: {not: a list}
  Rule:
    Type: AWS::EC2::SecurityGroupIngress
    Properties:
      GroupId: [1]
      IpProtocol: 6
      FromPort: "x"
      ToPort: null
      CidrIp: null
  Nothing:
    Type: AWS::EC2::SecurityGroup
    Properties: null
"""


def test_absurd_values_are_findings_or_notes_never_errors(tmp_path: Path) -> None:
    result = scan_with(tmp_path, {"absurd/main.tf": ABSURD_TF, "absurd/t.yaml": ABSURD_CFN})
    assert not result.estate.errors  # type: ignore[attr-defined]
    messages = {(f.rule_id, f.file, f.line, f.message) for f in result.findings  # type: ignore[attr-defined]
                if f.rule_id in ("SG107", "IAC002")}
    assert {
        ("SG107", "absurd/main.tf", 6, "invalid ingress rule: port 70000 is outside 0-65535"),
        ("SG107", "absurd/main.tf", 13, "invalid ingress rule: '999.1.1.1/99' is not a valid CIDR block"),
        ("SG107", "absurd/main.tf", 13, "invalid ingress rule: protocol 'banana' is not one AWS accepts (tcp, udp, "
                                        "icmp, icmpv6, -1/all or a number 0-255)"),
        ("SG107", "absurd/main.tf", 20, "invalid ingress rule: '42' is not a valid CIDR block"),
        ("SG107", "absurd/t.yaml", 9, "invalid ingress rule: '999.1.1.1/99' is not a valid CIDR block"),
        ("SG107", "absurd/t.yaml", 13, "invalid ingress rule: '42' is not a valid CIDR block"),
    } <= messages
    notes = {(rule, file, line) for rule, file, line, message in messages if rule == "IAC002"}
    assert {("IAC002", "absurd/main.tf", 20), ("IAC002", "absurd/main.tf", 27), ("IAC002", "absurd/main.tf", 30),
            ("IAC002", "absurd/t.yaml", 9), ("IAC002", "absurd/t.yaml", 13), ("IAC002", "absurd/t.yaml", 20)} <= notes


# ---------------------------------------------------------------- unreadable files and links


def test_unreadable_entries_are_iac001(tmp_path: Path) -> None:
    """As root, chmod 000 does not stop reads: unreadable entries are simulated with a named
    pipe (reading it would block forever), a dangling link and a link loop."""
    write_good(tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "main.tf").write_text('resource "aws_security_group" "ok" {\n  description = "ok"\n}\n')
    os.mkfifo(bad / "pipe.tf")
    os.mkfifo(bad / "pipe.yaml")  # not known to be IaC: skipped silently (and never opened)
    os.mkfifo(bad / "pipe.template")
    (bad / "dangling.tf").symlink_to("nowhere.tf")
    (bad / "loop1.tf").symlink_to("loop2.tf")
    (bad / "loop2.tf").symlink_to("loop1.tf")
    result = scan_dir(tmp_path)
    assert good_findings(result) == GOOD_SG101
    assert errors_by_file(result) == {
        "bad/pipe.tf": "the file is a named pipe, not a regular file; not read",
        "bad/pipe.template": "the file is a named pipe, not a regular file; not read",
        "bad/dangling.tf": "the file is a link whose target does not exist; not read",
        "bad/loop1.tf": "the file is a link that loops; not read",
        "bad/loop2.tf": "the file is a link that loops; not read",
    }
    assert "aws_security_group.ok" in {g.address for g in result.estate.groups.values()}


def test_a_file_removed_between_discovery_and_reading(tmp_path: Path) -> None:
    gone_tf, gone_template = tmp_path / "gone.tf", tmp_path / "gone.template"
    assert load_file(gone_tf, "gone.tf").error == ParseError(
        "gone.tf", 0, "cannot read Terraform file: FileNotFoundError: [Errno 2] No such file or directory: "
                      f"'{gone_tf}'")
    estate = parse_documents(tmp_path, [gone_template, tmp_path / "gone.yaml"], None)
    assert estate.errors == [ParseError("gone.template", 0, "cannot read file: No such file or directory")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_file_without_read_permission(tmp_path: Path) -> None:
    write_good(tmp_path)
    secret = tmp_path / "locked" / "main.tf"
    secret.parent.mkdir()
    secret.write_text('resource "aws_security_group" "x" {}\n')
    secret.chmod(0)
    try:
        assert "Permission denied" in errors_by_file(scan_dir(tmp_path))["locked/main.tf"]
    finally:
        secret.chmod(0o644)


def test_links_that_leave_the_root_are_noted_and_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "open.tf").write_text('resource "aws_security_group" "outside" {\n  ingress {\n    from_port = 22\n'
                                     '    to_port = 22\n    protocol = "tcp"\n    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n')
    (outside / "t.yaml").write_text(GOOD_CFN.replace("Rdp", "Outside"))
    root = tmp_path / "root"
    write_good(root)
    (root / "good" / "linked.tf").symlink_to(outside / "open.tf")
    (root / "good" / "linked.yaml").symlink_to(outside / "t.yaml")
    (root / "shared").symlink_to(outside, target_is_directory=True)
    (root / "up").symlink_to(tmp_path, target_is_directory=True)
    result = scan_dir(root)
    assert tuples(result.findings, "SG101") == GOOD_SG101  # nothing from outside
    assert "aws_security_group.outside" not in {g.address for g in result.estate.groups.values()}
    assert not result.estate.errors
    assert {(f.rule_id, f.resource, f.file) for f in result.findings if f.rule_id == "IAC002"} == {
        ("IAC002", "good/linked.tf", "good/linked.tf"), ("IAC002", "good/linked.yaml", "good/linked.yaml"),
        ("IAC002", "shared", "shared"), ("IAC002", "up", "up")}
    note = next(f for f in result.findings if f.rule_id == "IAC002" and f.resource == "shared")
    assert "leads outside the scanned directory and iacscan reads nothing outside it" in note.message
