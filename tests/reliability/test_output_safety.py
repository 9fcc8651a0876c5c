"""Scanned text cannot inject into any output: terminal escapes, Markdown/HTML, workflow
commands, SARIF links. One planted fixture (file and directory names, resource names,
descriptions, tags); every format is checked against it."""
from __future__ import annotations

import json
import re

import pytest

from iacscan.cli import main

ESC = "\x1b[2J\x1b[31m"
BIDI = "\u202e"
HTML = "<img src=x onerror=alert(1)>"
LINK = "[click](https://evil.example/)"
MENTION = "@octo-org"
CLOSE = "</details><details open>"
CMD = "\n::error file=forged.tf::forged annotation"
#: Written with HCL escapes (\u001b, \n) inside the scanned code.
HCL_PAYLOAD = (r"x\u001b[2J\u001b[31m\u202e<img src=x onerror=alert(1)>[click](https://evil.example/)"
               r"@octo-org</details><details open>\n::error file=forged.tf::forged annotation")
DIR = f"m{ESC}{BIDI}<img src=x>[l](javascript:alert(1))@octo-org%0A::warning::pwn|`"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("planted")
    module = root / DIR
    module.mkdir()
    (module / "main.tf").write_text(f'''\
resource "aws_security_group" "{HCL_PAYLOAD}" {{
  name        = "{HCL_PAYLOAD}"
  description = "{HCL_PAYLOAD}"
  tags = {{
    Name        = "{HCL_PAYLOAD}"
    Environment = "prod{HCL_PAYLOAD}"
  }}
  ingress {{
    description = "{HCL_PAYLOAD}"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}
''', encoding="utf-8")
    (root / "t.yaml").write_text(f'''\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Web:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: {json.dumps(ESC + BIDI + HTML + LINK + MENTION + CLOSE + CMD)}
      Tags:
        - Key: Environment
          Value: {json.dumps("prod" + CMD + HTML)}
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 3389
          ToPort: 3389
          CidrIp: 0.0.0.0/0
          Description: {json.dumps(LINK + ESC + CMD)}
''', encoding="utf-8")
    out: dict[str, str] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        for fmt in ("text", "json", "sarif", "markdown", "github"):
            target = root / f"out.{fmt}"
            assert main(["scan", "--no-cache", "--format", fmt, "--output", str(target), ".", "--fail-on",
                         "none"]) == 0
            out[fmt] = target.read_text(encoding="utf-8")
    return out


def test_the_payloads_reach_the_findings(outputs: dict[str, str]) -> None:
    """The JSON keeps the scanned values exactly (JSON escaping makes them inert), so the
    other formats really had the payloads to escape."""
    doc = json.loads(outputs["json"])
    resources = {f["resource"] for f in doc["findings"]}
    planted = next(r for r in resources if r.startswith("aws_security_group."))
    assert ESC in planted and BIDI in planted and HTML in planted and LINK in planted and CMD in planted
    assert any(DIR in f["file"] for f in doc["findings"])
    assert "\x1b" not in outputs["json"]  # control characters are \u escapes in JSON text


@pytest.mark.parametrize("fmt", ["text", "markdown", "github", "sarif", "json"])
def test_no_terminal_control_or_direction_override(outputs: dict[str, str], fmt: str) -> None:
    text = outputs[fmt]
    if fmt == "sarif":  # SARIF properties are data like JSON; what GitHub shows is the message
        text = "\n".join(r["message"]["text"] for r in json.loads(text)["runs"][0]["results"])
    if fmt != "json":  # JSON keeps U+202E as text inside a string (it is data there)
        assert BIDI not in text
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)


def test_terminal_lines_are_not_forged(outputs: dict[str, str]) -> None:
    assert not [line for line in outputs["text"].splitlines() if line.startswith("::")]
    assert "\\x1b[2J" in outputs["text"]  # shown, not executed


def test_github_annotations_cannot_start_a_command(outputs: dict[str, str]) -> None:
    lines = outputs["github"].splitlines()
    for line in lines[:-1]:
        assert re.match(r"^::(error|warning|notice) [^\n]*::", line), line
    assert not lines[-1].startswith("::")
    assert not any("::error file=forged.tf" in line.split("::", 2)[1] for line in lines[:-1])
    assert "\\x0a::error file=forged.tf::forged annotation" in outputs["github"]  # inert, mid-line


def test_markdown_is_inert(outputs: dict[str, str]) -> None:
    md = outputs["markdown"]
    for raw in ("<img", "](https://evil", "](javascript", "@octo-org", CLOSE, "\n::error"):
        assert raw not in md, raw
    assert md.count("<details>") == md.count("</details>") > 0
    assert md.count("<summary>") == md.count("</summary>")


def test_sarif_messages_have_no_live_links(outputs: dict[str, str]) -> None:
    doc = json.loads(outputs["sarif"])
    results = doc["runs"][0]["results"]
    assert results
    for result in results:
        message = result["message"]["text"]
        assert not re.search(r"(?<!\\)\[", message), message
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert not re.search(r"[\x00-\x20<>\[\]`|]", uri), uri
