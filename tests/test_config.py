"""Project configuration: ``.iacscan.yaml`` / ``[tool.iacscan]``, CLI precedence, excludes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from iacscan.cli import main
from iacscan.config import Config, build, find_config
from iacscan.discover import discover, excluded
from tests.helpers import FIXTURES

SSH_OPEN = (FIXTURES / "rules" / "SG101" / "terraform" / "fail" / "main.tf").read_text(encoding="utf-8")
ONE_GROUP = """resource "aws_security_group" "web" {
  description = "web"
  ingress {
    description = "ssh from anywhere"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small repository: envs/prod and vendor/ each hold one group open to SSH."""
    for folder in ("envs/prod", "vendor/mod"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "main.tf").write_text(ONE_GROUP, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _scan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(["scan", *argv, "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out else {}


def _files(doc: dict) -> set[str]:
    return {f["file"] for f in doc["findings"]}


def test_no_config_scans_everything(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _scan(capsys, ".")
    assert code == 1 and _files(doc) == {"envs/prod/main.tf", "vendor/mod/main.tf"}


def test_yaml_config_exclude_fail_on_and_environments(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".iacscan.yaml").write_text(
        "exclude: [vendor]\nfail-on: none\nenvironments:\n  - {path: 'envs/prod/**', environment: live}\n",
        encoding="utf-8")
    code, doc = _scan(capsys, ".")
    assert code == 0  # fail-on none from the config
    assert _files(doc) == {"envs/prod/main.tf"}
    assert {f["environment"] for f in doc["findings"]} == {"live"}  # the mapping beats the path segment
    code, _ = _scan(capsys, ".", "--fail-on", "high")  # the command line wins
    assert code == 1


def test_pyproject_table(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.iacscan]\nexclude = ["envs"]\n'
                                         'fail-on = "critical"\n', encoding="utf-8")
    code, doc = _scan(capsys, ".")
    assert _files(doc) == {"vendor/mod/main.tf"}
    assert code == 1  # SSH open to the world is critical


def test_yaml_wins_over_pyproject_and_a_pyproject_without_the_table_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.other]\nx = 1\n', encoding="utf-8")
    assert find_config([tmp_path]) is None
    (tmp_path / "pyproject.toml").write_text('[tool.iacscan]\nexclude = ["a"]\n', encoding="utf-8")
    assert find_config([tmp_path]) == (tmp_path.resolve() / "pyproject.toml", {"exclude": ["a"]})
    (tmp_path / ".iacscan.yaml").write_text("exclude: [b]\n", encoding="utf-8")
    assert find_config([tmp_path]) == (tmp_path.resolve() / ".iacscan.yaml", {"exclude": ["b"]})


def test_config_in_the_current_directory_when_the_root_has_none(repo: Path, tmp_path_factory: pytest.TempPathFactory,
                                                                capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / ".iacscan.yaml").write_text("exclude: [vendor]\n", encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    code, doc = _scan(capsys, str(repo))  # root is the repo (outside the cwd): no config there
    assert _files(doc) == {"envs/prod/main.tf"}


def test_relative_ruleset_and_baseline_are_read_beside_the_config(repo: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    conf = repo / "conf"
    conf.mkdir()
    (conf / "mine.yaml").write_text("extends: default\nrules:\n  SG101: {severity: low}\n", encoding="utf-8")
    assert main(["baseline", "create", "vendor", "-o", "conf/base.json"]) == 0
    capsys.readouterr()
    (repo / ".iacscan.yaml").write_text("ruleset: conf/mine.yaml\nbaseline: conf/base.json\n", encoding="utf-8")
    code, doc = _scan(capsys, ".")
    assert code == 0 and doc["summary"]["baselined"] == 1  # vendor's finding, from the config's baseline
    assert {(f["rule_id"], f["file"], f["severity"]) for f in doc["findings"]} == \
        {("SG101", "envs/prod/main.tf", "low")}  # the config's ruleset
    code, doc = _scan(capsys, ".", "--ruleset", "default")  # the command line wins
    assert code == 1 and {f["severity"] for f in doc["findings"]} == {"critical"}


def test_explicit_config_option(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "ci.yaml").write_text("exclude: ['envs/**']\n", encoding="utf-8")
    code, doc = _scan(capsys, ".", "--config", "ci.yaml")
    assert _files(doc) == {"vendor/mod/main.tf"}
    assert main(["scan", ".", "--config", "missing.yaml"]) == 2
    assert "configuration file not found: missing.yaml" in capsys.readouterr().err


@pytest.mark.parametrize("name, content, message", [
    (".iacscan.yaml", "exclude: [a]\nfail_on: high\n", "unknown key 'fail_on'"),
    (".iacscan.yaml", "fail-on: sometimes\n", "'fail-on' must be one of"),
    (".iacscan.yaml", "exclude: 3\n", "'exclude' must be a list of glob patterns"),
    (".iacscan.yaml", "environments: {prod: x}\n", "'environments' must be a list"),
    (".iacscan.yaml", "environments: [{environment: prod, branch: main}]\n", "unknown key 'environments[1].branch'"),
    (".iacscan.yaml", "- a\n", "must be a mapping"),
    (".iacscan.yaml", "exclude: [\n", "cannot read configuration"),
    ("pyproject.toml", "[tool.iacscan]\nrulesets = 'strict'\n", "[tool.iacscan]: unknown key 'rulesets'"),
])
def test_bad_config_exits_2_naming_the_key(repo: Path, capsys: pytest.CaptureFixture[str],
                                          name: str, content: str, message: str) -> None:
    (repo / name).write_text(content, encoding="utf-8")
    assert main(["scan", "."]) == 2
    assert message in capsys.readouterr().err


def test_graph_and_baseline_commands_read_the_config_too(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".iacscan.yaml").write_text("exclude: [vendor]\n", encoding="utf-8")
    assert main(["baseline", "create", "."]) == 0
    doc = json.loads((repo / ".iacscan-baseline.json").read_text(encoding="utf-8"))
    assert {e["file"] for e in doc["findings"]} == {"envs/prod/main.tf"}


def test_build_keeps_names_and_resolves_paths(tmp_path: Path) -> None:
    config = build(tmp_path / ".iacscan.yaml", {"ruleset": "strict", "baseline": "b.json", "exclude": "x"})
    assert config == Config(path=tmp_path / ".iacscan.yaml", ruleset="strict", exclude=["x"],
                            baseline=str(tmp_path / "b.json"))


def test_excluded_patterns(tmp_path: Path) -> None:
    root = tmp_path
    assert excluded(root, root / "vendor" / "a" / "main.tf", ["vendor"])
    assert excluded(root, root / "vendor", ["vendor/"])
    assert excluded(root, root / "a" / "test" / "x.tf", ["**/test"])
    assert excluded(root, root / "test" / "x.tf", ["**/test/*"])
    assert excluded(root, root / "a" / "b.generated.tf", ["*.generated.tf"])
    assert not excluded(root, root / "vendored" / "main.tf", ["vendor"])
    assert not excluded(root, root / "a" / "main.tf", [])


def test_discover_skips_excluded_files_and_directories(tmp_path: Path) -> None:
    for rel in ("keep/main.tf", "skip/main.tf", "keep/t.yaml", "keep/gen.yaml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("", encoding="utf-8")
    found = discover(tmp_path, [tmp_path], ["skip", "keep/gen.yaml"])
    assert found.terraform_dirs == [tmp_path / "keep"]
    assert found.documents == [tmp_path / "keep" / "t.yaml"]
