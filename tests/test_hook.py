"""The pre-commit hook: named files read with their whole module, findings reported in them only.

The first tests call the CLI in-process. The ``test_precommit_*`` tests drive the real ``pre-commit``
tool: it clones a snapshot of this checkout (``.pre-commit-hooks.yaml``, ``pyproject.toml``,
``iacscan/``), installs it into its own virtualenv with ``pip install .`` (once per test run,
in a temporary ``PRE_COMMIT_HOME``; the virtualenv may see the already installed dependencies
so nothing but the build backend is downloaded) and runs the hook on ``git commit``.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from iacscan.cli import main
from tests.helpers import FIXTURES, REPO

HOOK_FIXTURES = FIXTURES / "hook"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of fixtures/hook as the current directory."""
    target = tmp_path / "work"
    shutil.copytree(HOOK_FIXTURES, target)
    monkeypatch.chdir(target)
    monkeypatch.setenv("IACSCAN_CACHE_DIR", str(tmp_path / "cache"))
    return target


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, set[tuple[str, str, str, int]]]:
    code = main(["scan", "--format", "json", *args])
    doc = json.loads(capsys.readouterr().out)
    return code, {(f["rule_id"], f["resource"], f["file"], f["line"]) for f in doc["findings"]}


def test_a_named_file_reports_its_own_findings_with_its_module_in_view(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, found = scan(capsys, "two_file/rules_ssh.tf")
    # the rule resolves the group declared in groups.tf (else it would be dropped as IAC002),
    # and groups.tf's own RDP finding is not reported
    assert (code, found) == (1, {("SG101", "aws_security_group_rule.ssh", "two_file/rules_ssh.tf", 2)})
    code, found = scan(capsys, "two_file/rules_https.tf")
    assert (code, found) == (0, set())


def test_whole_module_reports_every_finding_of_the_module(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, found = scan(capsys, "--whole-module", "two_file/rules_https.tf")
    assert (code, found) == (1, {
        ("SG110", "aws_security_group.app", "two_file/groups.tf", 2),
        ("SG101", "aws_security_group.app", "two_file/groups.tf", 6),
        ("SG101", "aws_security_group_rule.ssh", "two_file/rules_ssh.tf", 2),
    })


def test_a_named_directory_reports_everything_under_it(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, found = scan(capsys, "two_file", "ssh_open/main.tf")
    assert ("SG101", "aws_security_group.app", "two_file/groups.tf", 6) in found
    assert ("SG101", "aws_security_group.ssh", "ssh_open/main.tf", 5) in found


def test_a_tfvars_file_reports_the_findings_of_its_module(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, found = scan(capsys, "tfvars/terraform.tfvars")
    assert (code, found) == (1, {("SG101", "aws_security_group.admin", "tfvars/main.tf", 10)})
    lonely = work / "vars" / "prod.tfvars"
    lonely.parent.mkdir()
    lonely.write_text('admin_cidr = "0.0.0.0/0"\n')
    assert scan(capsys, "vars/prod.tfvars") == (0, set())


def test_yaml_and_json_that_are_not_iac_are_skipped(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "package.json").write_text('{"name": "x", "version": "1.0.0"}\n')
    (work / "ci.yml").write_text("on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n")
    (work / "broken.yaml").write_text("key: [unclosed\n")
    code = main(["scan", "package.json", "ci.yml", "broken.yaml", "clean/main.tf"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("0 findings")


def test_a_broken_named_file_is_reported_a_broken_neighbour_is_not(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "ssh_open" / "broken.tf").write_text('resource "aws_security_group" "x" {\n  name = \n')
    code, found = scan(capsys, "ssh_open/main.tf")
    assert (code, found) == (1, {("SG101", "aws_security_group.ssh", "ssh_open/main.tf", 5)})
    code, found = scan(capsys, "ssh_open/broken.tf")
    assert code == 1 and {(f[0], f[2]) for f in found} == {("IAC001", "ssh_open/broken.tf")}


def test_a_named_plan_is_read_as_a_plan_and_reported_whole(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(FIXTURES / "plan" / "module", work / "stack")
    code, found = scan(capsys, "--fail-on", "critical", "stack/plan.json", "clean/main.tf")
    assert code == 1
    assert found == {
        ("AWS402", "aws_vpc.main", "stack/main.tf", 4),
        ("SG109", "aws_security_group.app", "stack/main.tf", 14),
        ("AWS405", "aws_instance.bastion", "stack/main.tf", 29),
        ("NET301", "aws_instance.bastion", "stack/main.tf", 29),
        ("SG101", "module.bastion.aws_vpc_security_group_ingress_rule.ssh", "stack/modules/bastion/main.tf", 15),
    }
    # named together with a file of the code it was made from, nothing is reported twice
    main(["scan", "--format", "json", "stack/plan.json", "stack/main.tf"])
    again = [(f["rule_id"], f["resource"], f["file"], f["line"]) for f in json.loads(capsys.readouterr().out)["findings"]]
    # (the code file also shows its hard-coded AMI, AWS407 info, which a planned value cannot tell)
    assert sorted(again) == sorted(found | {("AWS407", "aws_instance.bastion", "stack/main.tf", 29)})


def test_the_manifest() -> None:
    import yaml

    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "iacscan")
    assert hook["language"] == "python" and hook["require_serial"] is True
    assert hook["entry"].split()[:2] == ["iacscan", "scan"]
    import re

    files, exclude = re.compile(hook["files"]), re.compile(hook["exclude"])
    for name in ("main.tf", "env/prod.tfvars", "x.tf.json", "cfn/stack.yaml", "cfn/stack.yml",
                 "cfn/stack.json", "cfn/stack.template", "plan.json", "terraform.tfvars.json"):
        assert files.search(name) and not exclude.search(name), name
    for name in ("README.md", "main.py", ".terraform.lock.hcl"):
        assert not files.search(name), name
    for name in (".terraform/modules/x/main.tf", "envs/prod/.terraform/modules/modules.json"):
        assert exclude.search(name), name


# --- the real pre-commit ------------------------------------------------------------------


def _git(repo: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=False)


@pytest.fixture(scope="module")
def hook_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Path, str]]:
    """(environment, hook repository, its commit): a snapshot of this checkout as a hook repository
    and a pre-commit home in which the hook's virtualenv is built once for the module."""
    base = tmp_path_factory.mktemp("precommit")
    gitconfig = base / "gitconfig"
    gitconfig.write_text("[user]\n\tname = dev\n\temail = dev@example.com\n[commit]\n\tgpgsign = false\n"
                         "[init]\n\tdefaultBranch = main\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT", "GITHUB_"))}
    env.update(GIT_CONFIG_GLOBAL=str(gitconfig), GIT_CONFIG_NOSYSTEM="1", PRE_COMMIT_HOME=str(base / "home"),
               IACSCAN_CACHE_DIR=str(base / "cache"), VIRTUALENV_SYSTEM_SITE_PACKAGES="true",
               PIP_DISABLE_PIP_VERSION_CHECK="1", NO_COLOR="1")
    hook_repo = base / "iacscan-hook"
    hook_repo.mkdir()
    for name in (".pre-commit-hooks.yaml", "pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, hook_repo / name)
    shutil.copytree(REPO / "iacscan", hook_repo / "iacscan", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _git(hook_repo, "init", "-q", env=env)
    _git(hook_repo, "add", "-A", env=env)
    assert _git(hook_repo, "commit", "-q", "-m", "snapshot", env=env).returncode == 0
    rev = _git(hook_repo, "rev-parse", "HEAD", env=env).stdout.strip()
    warmup = _configured_repo(base / "warmup", env, hook_repo, rev)
    done = subprocess.run([sys.executable, "-m", "pre_commit", "install-hooks"], cwd=warmup, env=env,
                          capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    yield env, hook_repo, rev


def _configured_repo(repo: Path, env: dict[str, str], hook_repo: Path, rev: str) -> Path:
    repo.mkdir()
    _git(repo, "init", "-q", env=env)
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n      - id: iacscan\n")
    _git(repo, "add", ".pre-commit-config.yaml", env=env)
    assert _git(repo, "commit", "-q", "--no-verify", "-m", "pre-commit config", env=env).returncode == 0
    return repo


@pytest.fixture
def user_repo(tmp_path: Path, hook_env: tuple[dict[str, str], Path, str]) -> tuple[Path, dict[str, str]]:
    """A git repository whose .pre-commit-config.yaml uses the iacscan hook, installed as its pre-commit hook."""
    env, hook_repo, rev = hook_env
    repo = _configured_repo(tmp_path / "user", env, hook_repo, rev)
    done = subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=repo, env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return repo, env


def _stage(repo: Path, env: dict[str, str], files: dict[str, Path | str]) -> None:
    for name, source in files.items():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read_text() if isinstance(source, Path) else source)
        assert _git(repo, "add", name, env=env).returncode == 0


def _commit(repo: Path, env: dict[str, str], message: str) -> tuple[bool, str]:
    """Commit through the installed hook: (committed?, what the hook printed)."""
    before = _git(repo, "rev-parse", "HEAD", env=env).stdout
    done = _git(repo, "commit", "-m", message, env=env)
    after = _git(repo, "rev-parse", "HEAD", env=env).stdout
    assert (done.returncode == 0) == (before != after)
    return done.returncode == 0, done.stdout + done.stderr


def test_precommit_refuses_ssh_open_to_the_world_and_passes_a_clean_file(
        user_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = user_repo
    _stage(repo, env, {"net/main.tf": HOOK_FIXTURES / "ssh_open" / "main.tf"})
    ok, out = _commit(repo, env, "open ssh")
    assert not ok
    assert "iacscan" in out and "Failed" in out
    assert "net/main.tf" in out
    assert "5  CRITICAL  SG101   aws_security_group.ssh  tcp 22 from 0.0.0.0/0 admits the whole internet" in out

    _git(repo, "reset", "-q", "HEAD", "--", "net/main.tf", env=env)
    (repo / "net" / "main.tf").unlink()
    _stage(repo, env, {"app/main.tf": HOOK_FIXTURES / "clean" / "main.tf",
                       "package.json": '{"name": "site", "private": true}\n',
                       ".github/workflows/ci.yml": "on: push\njobs: {}\n"})
    ok, out = _commit(repo, env, "clean app")
    assert ok, out
    assert "Passed" in out and "Failed" not in out


def test_precommit_judges_one_file_of_a_module_with_the_other_in_view(
        user_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = user_repo
    module = HOOK_FIXTURES / "two_file"
    _stage(repo, env, {"net/groups.tf": module / "groups.tf"})
    assert _git(repo, "commit", "-q", "--no-verify", "-m", "the group, before the hook", env=env).returncode == 0

    _stage(repo, env, {"net/rules.tf": module / "rules_ssh.tf"})
    ok, out = _commit(repo, env, "ssh rule")
    assert not ok
    assert "net/rules.tf" in out
    assert "2  CRITICAL  SG101   aws_security_group_rule.ssh  tcp 22 from 0.0.0.0/0" in out
    assert "groups.tf" not in out and "3389" not in out and "IAC002" not in out

    _stage(repo, env, {"net/rules.tf": module / "rules_https.tf"})
    ok, out = _commit(repo, env, "https rule")
    assert ok, out  # groups.tf's old RDP finding is not this commit's business


def test_precommit_tfvars_change_is_judged_on_its_module(user_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = user_repo
    _stage(repo, env, {"admin/main.tf": HOOK_FIXTURES / "tfvars" / "main.tf"})
    ok, out = _commit(repo, env, "admin group, closed by default")
    assert ok, out
    _stage(repo, env, {"admin/terraform.tfvars": HOOK_FIXTURES / "tfvars" / "terraform.tfvars"})
    ok, out = _commit(repo, env, "open it")
    assert not ok
    assert "admin/main.tf" in out and "10  CRITICAL  SG101   aws_security_group.admin  tcp 22 from 0.0.0.0/0" in out
