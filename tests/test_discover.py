"""Discovery: the os.scandir walk finds what os.walk-order classification finds, in Path order."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from iacscan.discover import discover


def _touch(path: Path, text: str = "x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _tree(root: Path) -> None:
    for rel in ("main.tf", "a/main.tf", "a/b/c/x.tf.json", "a-b/main.tf", "a.b/s.tf", "a/stack.yaml",
                "a/b/t.template", "a-b/p.json", "vars/prod.tfvars", "vars/prod.tfvars.json", "z/README.md",
                ".git/x.tf", "node_modules/m/x.tf", "a/.terraform/modules/m/main.tf", "Upper/Main.TF",
                "Upper/T.YML"):
        _touch(root / rel)


def test_directories_and_documents_in_path_order(tmp_path: Path) -> None:
    _tree(tmp_path)
    found = discover(tmp_path, [tmp_path])
    rel = [p.relative_to(tmp_path).as_posix() for p in found.terraform_dirs]
    assert rel == [".", "Upper", "a", "a/b/c", "a-b", "a.b"]
    assert found.terraform_dirs == sorted(found.terraform_dirs)
    assert [p.relative_to(tmp_path).as_posix() for p in found.documents] == [
        "Upper/T.YML", "a/b/t.template", "a/stack.yaml", "a-b/p.json"]
    assert found.skipped_links == [] and found.unreadable == []


def test_relative_root_gives_relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    found = discover(Path("."), [Path(".")])
    assert [str(p) for p in found.terraform_dirs] == [".", "Upper", "a", "a/b/c", "a-b", "a.b"]
    assert [str(p) for p in found.documents] == ["Upper/T.YML", "a/b/t.template", "a/stack.yaml", "a-b/p.json"]
    sub = discover(Path("."), [Path("a")])
    assert [str(p) for p in sub.terraform_dirs] == ["a", "a/b/c"]


@pytest.mark.skipif(not hasattr(os, "symlink") or not hasattr(os, "mkfifo"), reason="needs links and fifos")
def test_links_and_files_that_cannot_be_read(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    _touch(root / "a/main.tf")
    _touch(outside / "main.tf")
    _touch(outside / "t.yaml")
    (root / "links").mkdir()
    os.symlink(root / "a", root / "links/inside_dir")  # inside the root: kept, not walked twice
    os.symlink(outside, root / "links/outside_dir")
    os.symlink(outside / "t.yaml", root / "links/outside.yaml")
    os.symlink(root / "a/main.tf", root / "links/inside.tf")
    os.symlink(root / "nowhere.tf", root / "links/dangling.tf")
    os.symlink(root / "links/loop.tf", root / "links/loop.tf")
    os.mkfifo(root / "links/pipe.tf")
    os.symlink(root / "nowhere.yaml", root / "links/dangling.yaml")  # not known to be a template: silent
    found = discover(root, [root])
    assert [p.relative_to(root).as_posix() for p in found.terraform_dirs] == ["a", "links"]
    assert found.documents == []
    assert sorted(p.relative_to(root).as_posix() for p in found.skipped_links) == [
        "links/outside.yaml", "links/outside_dir"]
    assert [(p.relative_to(root).as_posix(), why) for p, why in found.unreadable] == [
        ("links/dangling.tf", "the file is a link whose target does not exist; not read"),
        ("links/loop.tf", "the file is a link that loops; not read"),
        ("links/pipe.tf", "the file is a named pipe, not a regular file; not read"),
    ]


def test_excluded_paths_are_not_walked(tmp_path: Path) -> None:
    _tree(tmp_path)
    found = discover(tmp_path, [tmp_path], ["a", "*.json"])
    assert [p.relative_to(tmp_path).as_posix() for p in found.terraform_dirs] == [".", "Upper", "a-b", "a.b"]
    assert [p.relative_to(tmp_path).as_posix() for p in found.documents] == ["Upper/T.YML"]


def test_a_named_file_and_a_missing_path(tmp_path: Path) -> None:
    _tree(tmp_path)
    found = discover(tmp_path, [tmp_path / "a/stack.yaml", tmp_path / "a-b/main.tf", tmp_path / "missing"])
    assert found.documents == [tmp_path / "a/stack.yaml"]
    assert found.terraform_dirs == [tmp_path / "a-b"]
