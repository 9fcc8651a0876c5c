"""The small readers under ``suppress.collect``: whole files by ``os.read``, paths split inline."""
from __future__ import annotations

import posixpath
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from iacscan.discover import _posix_split
from iacscan.suppress import _read


def test_read_gives_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "main.tf"
    body = b"# iacscan:ignore SG101 reason=\"x\"\n" + bytes(range(256)) * 300
    path.write_bytes(body)
    assert _read(str(path), len(body)) == body
    assert _read(str(path), 10) == body  # grown since it was stat'ed: read to its end
    assert _read(str(path), len(body) + 50) == body  # shrunk since
    path.write_bytes(b"")
    assert _read(str(path), 0) == b""


def test_read_of_what_cannot_be_read_is_none(tmp_path: Path) -> None:
    assert _read(str(tmp_path / "missing.tf"), 3) is None
    assert _read(str(tmp_path), 3) is None  # a directory


@given(st.lists(st.sampled_from(["", "/", "a", "b.tf", ".", "..", "//", "x y"]), max_size=6).map("".join))
def test_posix_split_is_posixpath_split(path: str) -> None:
    assert _posix_split(path) == posixpath.split(path)


SUPPRESSED = '''resource "aws_security_group" "web" {
  name        = "web"
  description = "web"
  ingress {
    # iacscan:ignore SG101 reason="bastion, reviewed"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
    description = "ssh"
  }
}
'''


def test_a_suppression_covers_findings_of_its_own_file_only(tmp_path: Path) -> None:
    from tests.helpers import scan_path

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a/main.tf").write_text(SUPPRESSED)
    (tmp_path / "b/main.tf").write_text(SUPPRESSED.replace('    # iacscan:ignore SG101 reason="bastion, reviewed"\n',
                                                           "    # nothing to see\n"))
    result = scan_path(tmp_path)
    assert {(f.rule_id, f.file, f.line) for f in result.suppressed} == {("SG101", "a/main.tf", 4)}
    assert ("SG101", "b/main.tf", 4) in {(f.rule_id, f.file, f.line) for f in result.findings}
