"""hcl_fast reads HCL into the same Block trees as python-hcl2 (tf_files.hcl_blocks), and hands
everything it does not read back to python-hcl2."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from iacscan.parsers.hcl_fast import FastParseError, fast_attributes, fast_blocks
from iacscan.parsers.hcl_parse import parse_template_parts
from iacscan.parsers.tf_files import Block, hcl_blocks, load_file, parse_hcl, parse_uncached
from tests.helpers import FIXTURES


def _strip(node: Any) -> Any:
    """An expression tree without its source text (python-hcl2 re-prints expressions)."""
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return (type(node).__name__,) + tuple(_strip(getattr(node, f.name)) for f in dataclasses.fields(node)
                                              if f.name != "text")
    if isinstance(node, (tuple, list)):
        return tuple(_strip(x) for x in node)
    return node


def norm(value: Any) -> Any:
    if isinstance(value, str) and ("${" in value or "%{" in value):
        return ("template", _strip(parse_template_parts(value)))
    if isinstance(value, list):
        return [norm(v) for v in value]
    if isinstance(value, dict):
        return {str(norm(k)): norm(v) for k, v in value.items()}
    return value


def shape(block: Block) -> tuple[Any, ...]:
    return (block.kind, block.labels, block.line, {k: norm(v) for k, v in block.attrs.items()},
            block.attr_lines, block.element_lines, [shape(c) for c in block.blocks])


def _hcl2_parses(text: str) -> bool:
    try:
        hcl_blocks(text, "")
    except Exception:  # noqa: BLE001
        return False
    return True


FIXTURE_FILES = sorted(p for p in FIXTURES.rglob("*.tf"))


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_same_blocks_as_python_hcl2_on_every_fixture(path: Path) -> None:
    text = path.read_text(encoding="utf-8-sig")
    if not _hcl2_parses(text):
        with pytest.raises(FastParseError):
            fast_blocks(text, "")
        return
    assert [shape(b) for b in fast_blocks(text, "")] == [shape(b) for b in hcl_blocks(text, "")]


SAMPLE = r'''resource "aws_security_group" "web" {
  name        = "web-${var.env}"
  description = "quotes \" and \\ and \n and \u00e9"
  vpc_id      = aws_vpc.main.id
  count       = -1
  ratio       = 1.5
  big         = 1e3
  enabled     = true
  nothing     = null
  type_name   = string
  literal     = "$${not_interpolated}"
  nested      = "a-${join("\n", [for s in var.x : "${s}-z"])}"
  cond = var.a ? "x" : (
    "y"
  )
  ingress = [
    {
      from_port = 22 # ssh
      cidr_blocks = ["10.0.0.0/8"]
    },
    { from_port = 443, cidr_blocks = [var.cidr] },
  ]
  tags = { Name = "web", "a.b" = 1, (var.k) = 2, 3 = 4, c: 5 }
  policy = <<-EOT
    line one
      line two ${var.x}
    EOT
  lifecycle { create_before_destroy = true }
  dynamic "egress" {
    for_each = var.ports
    content {
      from_port = egress.value
    }
  }
  /* a block
     comment */
  empty {}
}
'''


def test_values_lines_and_blocks_of_a_sample() -> None:
    (block,) = fast_blocks(SAMPLE, "main.tf")
    assert (block.kind, block.labels, block.line, block.file) == ("resource", ["aws_security_group", "web"], 1, "main.tf")
    attrs = block.attrs
    assert attrs["name"] == "web-${var.env}"
    assert attrs["description"] == 'quotes " and \\ and \n and é'
    assert attrs["vpc_id"] == "${aws_vpc.main.id}"
    assert (attrs["count"], attrs["ratio"], attrs["big"]) == (-1, 1.5, "${1e3}")
    assert (attrs["enabled"], attrs["nothing"], attrs["type_name"]) == (True, None, "string")
    assert attrs["literal"] == "$${not_interpolated}"
    assert attrs["nested"] == 'a-${join("\\n", [for s in var.x : "${s}-z"])}'
    assert attrs["ingress"] == [{"from_port": 22, "cidr_blocks": ["10.0.0.0/8"]},
                                {"from_port": 443, "cidr_blocks": ["${var.cidr}"]}]
    assert block.element_lines["ingress"] == [17, 21]
    assert attrs["tags"] == {"Name": "web", "a.b": 1, "${(var.k)}": 2, "3": 4, "c": 5}
    assert attrs["policy"] == "line one\n  line two ${var.x}"
    assert block.attr_lines["cond"] == 13 and block.attr_lines["tags"] == 23
    assert [(c.kind, c.labels, c.line) for c in block.blocks] == [
        ("lifecycle", [], 28), ("dynamic", ["egress"], 29), ("empty", [], 37)]
    assert block.blocks[1].blocks[0].attrs == {"from_port": "${egress.value}"}
    assert block.blocks[0].attrs == {"create_before_destroy": True}
    # and python-hcl2 reads the same (apart from re-printed expression text)
    slow = hcl_blocks(SAMPLE, "main.tf")
    assert [shape(b) for b in fast_blocks(SAMPLE, "main.tf")] == [shape(b) for b in slow]


@pytest.mark.parametrize("text", [
    'r "a" {\n a = 1\n',             # unclosed block
    'r "a" {\n a = 1, b = 2\n}\n',   # two attributes on one line
    'r "a" {\n a =\n}\n',            # no value
    'r "a" {\n a = [1 2]\n}\n',      # missing comma
    'r "a" {\n a = foo(\n}\n',
    'r "a" {\n a = 0x10\n}\n',
    'r "a" {\n a = "x\n}\n',         # newline in a string
    'r "a" {\n a = @\n}\n',
    'r "a" {\n a = var.x var.y\n}\n',
    'r "a" {\n a = "${"\n}\n',
    'r "a" {\n a = <<EOT\nx\n}\n',  # unterminated heredoc
])
def test_invalid_text_is_left_to_python_hcl2(text: str, tmp_path: Path) -> None:
    with pytest.raises(FastParseError):
        fast_blocks(text, "")
    assert not _hcl2_parses(text)
    path = tmp_path / "main.tf"
    path.write_text(text, encoding="utf-8")
    result = load_file(path, "main.tf")
    assert result.error is not None and result.error.file == "main.tf" and result.blocks == []


@pytest.mark.parametrize("text", [
    'r "a" {\n a = { b = 1 c = 2 }\n}\n',      # python-hcl2 accepts items without separators
    'r "a" "${x}" {\n}\n',                    # a template as a label
    'r "a" {\n a = "\\q"\n}\n',                # an unknown escape
])
def test_what_hcl_fast_does_not_read_python_hcl2_still_parses(text: str, tmp_path: Path) -> None:
    with pytest.raises(FastParseError):
        fast_blocks(text, "")
    path = tmp_path / "main.tf"
    assert [shape(b) for b in parse_uncached(path, text)] == [shape(b) for b in hcl_blocks(text, "")]


def test_tfvars_attributes() -> None:
    text = 'cidrs = ["10.0.0.0/8", "192.168.0.0/16"]\nport = 22\nname = "a-${x}"\n'
    assert fast_attributes(text) == {"cidrs": ["10.0.0.0/8", "192.168.0.0/16"], "port": 22, "name": "a-${x}"}
    assert parse_hcl(text) == fast_attributes(text)
