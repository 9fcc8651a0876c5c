"""Pull-request mode (--diff-base REF) against real git commits."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from iacscan.cli import main
from iacscan.diffmode import compare
from iacscan.findings import Finding, Severity

HEADER = """\
resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}
"""

BASTION = """
resource "aws_security_group" "bastion" {
  name        = "bastion"
  description = "SSH to the bastion"
  vpc_id      = aws_vpc.main.id

  ingress {
    description = "ssh"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""

BASTION_CLOSED = """
resource "aws_security_group" "bastion" {
  name        = "bastion"
  description = "SSH to the bastion"
  vpc_id      = aws_vpc.main.id

  ingress {
    description = "ssh"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/16"]
  }
}
"""

REST = """
resource "aws_security_group" "web" {
  name        = "web"
  description = "HTTPS to the web servers"
  vpc_id      = aws_vpc.main.id

  ingress {
    description = "https"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "db" {
  name        = "db"
  description = "Postgres from the web servers"
  vpc_id      = aws_vpc.main.id

  ingress {
    description     = "postgres from web"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws_security_group.web.id]
  }
}

resource "aws_instance" "bastion" {
  ami                         = "ami-12345678"
  instance_type               = "t3.micro"
  associate_public_ip_address = true
  vpc_security_group_ids      = [aws_security_group.bastion.id]
}

resource "aws_instance" "web" {
  ami                         = "ami-12345678"
  instance_type               = "t3.micro"
  associate_public_ip_address = true
  vpc_security_group_ids      = [aws_security_group.web.id]
}

resource "aws_db_instance" "main" {
  engine                 = "postgres"
  instance_class         = "db.t3.micro"
  publicly_accessible    = true
  vpc_security_group_ids = [aws_security_group.db.id]
}
"""

DB_PUBLIC = """
resource "aws_security_group_rule" "db_public" {
  type              = "ingress"
  description       = "postgres for the analysts"
  from_port         = 5432
  to_port           = 5432
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
  security_group_id = aws_security_group.db.id
}
"""

#: The head state (HEADER + BASTION + REST + DB_PUBLIC), reformatted: split over two files,
#: resources and attributes reordered, other spacing, lists over several lines.
REFORMATTED_NETWORK = """\
resource "aws_security_group_rule" "db_public" {
  security_group_id = aws_security_group.db.id
  cidr_blocks = [
    "0.0.0.0/0",
  ]
  protocol = "tcp"
  to_port = 5432
  from_port = 5432
  description = "postgres for the analysts"
  type = "ingress"
}



resource "aws_security_group" "db" {
  vpc_id = aws_vpc.main.id
  description = "Postgres from the web servers"
  name = "db"
  ingress {
    security_groups = [aws_security_group.web.id]
    protocol = "tcp"
    to_port = 5432
    from_port = 5432
    description = "postgres from web"
  }
}
resource "aws_vpc" "main" { cidr_block = "10.0.0.0/16" }
resource "aws_security_group" "web" {
  name = "web"
  vpc_id = aws_vpc.main.id
  description = "HTTPS to the web servers"
  ingress {
    cidr_blocks = ["0.0.0.0/0"]
    to_port = 443
    from_port = 443
    protocol = "tcp"
    description = "https"
  }
}
resource "aws_security_group" "bastion" {
  ingress {
    protocol = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
    from_port = 22
    to_port = 22
    description = "ssh"
  }
  vpc_id = aws_vpc.main.id
  name = "bastion"
  description = "SSH to the bastion"
}
"""

REFORMATTED_COMPUTE = """\
# the workloads
resource "aws_db_instance" "main" {
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible = true
  engine = "postgres"
  instance_class = "db.t3.micro"
}

resource "aws_instance" "web" {
  vpc_security_group_ids = [aws_security_group.web.id]
  associate_public_ip_address = true
  instance_type = "t3.micro"
  ami = "ami-12345678"
}

resource "aws_instance" "bastion" {
  vpc_security_group_ids = [aws_security_group.bastion.id]
  instance_type = "t3.micro"
  ami = "ami-12345678"
  associate_public_ip_address = true
}
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True)
    return done.stdout


def commit(repo: Path, files: dict[str, str | None], message: str) -> str:
    """Write (or delete, for None) files and commit them; the new commit id."""
    for name, text in files.items():
        path = repo / name
        if text is None:
            path.unlink()
            git(repo, "rm", "-q", "--cached", name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository whose first commit opens SSH to the world and HTTPS to the web servers."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q")
    git(path, "config", "user.email", "dev@example.com")
    git(path, "config", "user.name", "dev")
    git(path, "config", "commit.gpgsign", "false")
    commit(path, {"infra/main.tf": HEADER + BASTION + REST}, "base")
    monkeypatch.chdir(path)
    monkeypatch.setenv("IACSCAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return path


def scan_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["scan", "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def found(doc: dict) -> set[tuple[str, str, str, int]]:
    return {(f["rule_id"], f["resource"], f["file"], f["line"]) for f in doc["findings"]}


def test_a_newly_opened_path_is_reported_and_old_findings_are_not(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    code, before = scan_json(capsys, "infra")
    assert ("SG101", "aws_security_group.bastion", "infra/main.tf", 10) in found(before)
    assert ("NET301", "aws_instance.bastion", "infra/main.tf", 47) in found(before)

    commit(repo, {"infra/main.tf": HEADER + BASTION + REST + DB_PUBLIC}, "let the analysts in")
    code, doc = scan_json(capsys, "infra", "--diff-base", base)
    assert code == 1
    assert found(doc) == {
        ("SG110", "aws_security_group.db", "infra/main.tf", 33),
        ("NET301", "aws_db_instance.main", "infra/main.tf", 61),
        ("SG101", "aws_security_group_rule.db_public", "infra/main.tf", 68),
    }
    path = next(f for f in doc["findings"] if f["rule_id"] == "NET301")
    assert path["path"] == ["internet", "aws_db_instance.main"]
    assert doc["diff"] == {"base": base, "commit": base, "new": 3, "fixed": 0, "fixed_fingerprints": []}

    code = main(["scan", "infra", "--diff-base", "HEAD~1"])
    text = capsys.readouterr().out
    assert code == 1
    assert "aws_security_group.bastion" not in text
    assert text.endswith(
        f"against HEAD~1 ({base[:12]}): 3 new findings, 0 fixed\n"
        "  this change lets the internet reach aws_db_instance.main:5432 directly (NET301)\n")


def test_a_pure_reformat_reports_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, {"infra/main.tf": HEADER + BASTION + REST + DB_PUBLIC}, "head")
    code, all_findings = scan_json(capsys, "infra")
    assert len(all_findings["findings"]) >= 8
    commit(repo, {"infra/main.tf": None, "infra/network.tf": REFORMATTED_NETWORK,
                  "infra/compute.tf": REFORMATTED_COMPUTE}, "reformat and split")
    code, now = scan_json(capsys, "infra")
    assert sorted(f["fingerprint"] for f in now["findings"]) == \
        sorted(f["fingerprint"] for f in all_findings["findings"])
    assert {f["file"] for f in now["findings"]} == {"infra/network.tf", "infra/compute.tf"}

    code, doc = scan_json(capsys, "infra", "--diff-base", "HEAD~1")
    assert (code, doc["findings"], doc["diff"]["new"], doc["diff"]["fixed"]) == (0, [], 0, 0)
    code = main(["scan", "--diff-base", "HEAD~1"])
    assert (code, capsys.readouterr().out.splitlines()[-1]) == (0, f"against HEAD~1 ({git(repo, 'rev-parse', 'HEAD~1')[:12]}): 0 new findings, 0 fixed")


def test_what_a_change_fixes_is_counted(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, {"infra/main.tf": HEADER + BASTION_CLOSED + REST}, "close ssh")
    code, doc = scan_json(capsys, "--diff-base", "HEAD~1")
    assert code == 0 and doc["findings"] == []
    assert doc["diff"]["fixed"] == 2
    code = main(["scan", "--diff-base", "HEAD~1"])
    assert capsys.readouterr().out.splitlines()[-1].endswith(": 0 new findings, 2 fixed")


def test_the_working_tree_is_compared_and_the_checkout_is_left_alone(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "infra" / "main.tf").write_text(HEADER + BASTION + REST + DB_PUBLIC)  # not committed
    (repo / "notes.txt").write_text("untracked\n")
    before = (git(repo, "status", "--porcelain"), git(repo, "rev-parse", "HEAD"),
              git(repo, "worktree", "list"), git(repo, "stash", "list"))
    code, doc = scan_json(capsys, "--diff-base", "HEAD")
    assert code == 1
    assert {f["rule_id"] for f in doc["findings"]} == {"SG101", "SG110", "NET301"}
    after = (git(repo, "status", "--porcelain"), git(repo, "rev-parse", "HEAD"),
             git(repo, "worktree", "list"), git(repo, "stash", "list"))
    assert after == before
    assert (repo / "infra" / "main.tf").read_text().endswith(DB_PUBLIC)


def test_a_module_new_since_ref_is_all_new(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, {"other/main.tf": HEADER + BASTION}, "a new stack")
    code, doc = scan_json(capsys, "other", "--diff-base", "HEAD~1")
    assert code == 1
    assert ("SG101", "aws_security_group.bastion", "other/main.tf", 10) in found(doc)


def test_from_a_subdirectory(repo: Path, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, {"infra/main.tf": HEADER + BASTION + REST + DB_PUBLIC}, "head")
    monkeypatch.chdir(repo / "infra")
    code, doc = scan_json(capsys, "--diff-base", "HEAD~1")
    assert found(doc) == {
        ("SG110", "aws_security_group.db", "main.tf", 33),
        ("NET301", "aws_db_instance.main", "main.tf", 61),
        ("SG101", "aws_security_group_rule.db_public", "main.tf", 68),
    }


def test_an_unknown_revision_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--diff-base", "no-such-branch"]) == 2
    err = capsys.readouterr().err
    assert "unknown git revision 'no-such-branch'" in err
    assert main(["scan", "--diff-base", "--all"]) == 2  # never handed to git as an option


def test_outside_a_git_repository_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "main.tf").write_text(HEADER)
    monkeypatch.chdir(plain)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert main(["scan", "--diff-base", "HEAD"]) == 2
    assert "not inside a git working tree" in capsys.readouterr().err


def test_markdown_in_diff_mode_names_new_and_fixed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, {"infra/main.tf": HEADER + BASTION_CLOSED + REST + DB_PUBLIC}, "swap ssh for postgres")
    assert main(["scan", "--format", "markdown", "--diff-base", "HEAD~1"]) == 1
    text = capsys.readouterr().out
    assert "3 new findings, 2 fixed" in text.splitlines()[0]
    assert "aws_db_instance.main" in text and "New exposure paths" in text


def _finding(rule: str, resource: str, line: int) -> Finding:
    return Finding(rule_id=rule, severity=Severity.HIGH, title="t", message="m", resource=resource,
                   file="main.tf", line=line, scope=".", details={"ports": "22"})


def test_compare_ignores_lines_and_counts_copies() -> None:
    a, b = _finding("SG101", "aws_security_group.a", 3), _finding("SG101", "aws_security_group.b", 9)
    moved = _finding("SG101", "aws_security_group.a", 40)
    new, fixed = compare([moved, b, b], [a, b])
    assert new == [b] and fixed == []
    new, fixed = compare([moved], [a, b])
    assert new == [] and fixed == [b]


# --- the GitHub Action (action.yml) ---------------------------------------------------------
# GitHub Actions cannot run here: the action's structure is checked, and its shell steps are
# run with bash the way a runner would (inputs reach the scripts only through env).

ACTION = Path(__file__).resolve().parent.parent / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load_action() -> dict:
    import yaml

    return yaml.safe_load(ACTION.read_text())


def test_the_action_is_a_well_formed_composite_action() -> None:
    action = load_action()
    assert action["runs"]["using"] == "composite" and action["name"] and action["description"]
    inputs = action["inputs"]
    assert set(inputs) == {"path", "fail-on", "ruleset", "base-ref", "python-version", "upload-sarif", "sarif-file"}
    assert inputs["base-ref"]["default"] == "${{ github.event.pull_request.base.sha }}"
    assert all("description" in spec and "default" in spec for spec in inputs.values())
    text = ACTION.read_text()
    assert set(re.findall(r"\binputs\.([A-Za-z0-9_-]+)", text)) <= set(inputs)

    steps = action["runs"]["steps"]
    seen: list[str] = []
    for step in steps:
        body = json.dumps(step)
        for ref in re.findall(r"\bsteps\.([A-Za-z0-9_-]+)\.", body):
            assert ref in seen, f"step {step.get('name')} refers to {ref} before it runs"
        if "run" in step:
            assert step["shell"] == "bash"
            assert "${{" not in step["run"], "inputs must reach scripts through env, never inline"
        else:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@v\d+", step["uses"]), step["uses"]
        if "id" in step:
            seen.append(step["id"])
    for output in action["outputs"].values():
        ref = re.search(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)", output["value"])
        assert ref and ref.group(1) in seen and f"{ref.group(2)}=" in text
    uses = {step["uses"].split("@")[0] for step in steps if "uses" in step}
    assert uses == {"actions/setup-python", "github/codeql-action/upload-sarif"}
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert upload["if"].startswith("always()")


def _step(name_part: str) -> dict:
    return next(s for s in load_action()["runs"]["steps"] if name_part in s.get("name", ""))


def _run_step(step: dict, inputs: dict[str, str], cwd: Path, tmp: Path) -> tuple[int, str, dict[str, str]]:
    """Run a ``run:`` step with bash as a runner does: (exit code, stdout, outputs written)."""
    action_inputs = {name: str(spec.get("default", "")) for name, spec in load_action()["inputs"].items()}
    action_inputs.update(inputs)

    def resolve(value: str) -> str:
        return EXPRESSION.sub(lambda m: action_inputs[m.group(1).removeprefix("inputs.")], value)

    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    wrapper = bin_dir / "iacscan"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m iacscan "$@"\n')
    wrapper.chmod(0o755)
    output, summary = tmp / "github_output", tmp / "step_summary"
    output.write_text("")
    env = {**os.environ, **{k: resolve(str(v)) for k, v in step.get("env", {}).items()},
           "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "GITHUB_OUTPUT": str(output),
           "GITHUB_STEP_SUMMARY": str(summary), "PYTHONPATH": str(ACTION.parent)}
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=cwd,
                          env=env, capture_output=True, text=True, check=False)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return done.returncode, done.stdout, outputs


def test_the_action_scan_step_reports_what_the_pull_request_adds(repo: Path, tmp_path: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    commit(repo, {"infra/main.tf": HEADER + BASTION + REST + DB_PUBLIC}, "let the analysts in")
    code, out, outputs = _run_step(_step("annotations"), {"base-ref": base, "path": "infra"}, repo, tmp_path)
    assert code == 0 and outputs["exit-code"] == "1"
    assert "::error file=infra/main.tf,line=68,title=SG101" in out
    assert "::error file=infra/main.tf,line=61,title=NET301" in out
    assert "aws_security_group.bastion" not in out
    summary = (tmp_path / "step_summary").read_text()
    assert "3 new findings, 0 fixed" in summary.splitlines()[0]

    code, out, outputs = _run_step(_step("SARIF of every"), {"path": "infra"}, repo, tmp_path)
    assert code == 0 and outputs["sarif-file"] == "iacscan.sarif"
    sarif = json.loads((repo / "iacscan.sarif").read_text())
    results = {(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
               for r in sarif["runs"][0]["results"]}
    assert {("SG101", 10), ("SG101", 68), ("NET301", 61)} <= results  # every finding, old ones too


def test_the_action_scan_step_outside_a_pull_request_and_on_bad_input(repo: Path, tmp_path: Path) -> None:
    code, out, outputs = _run_step(_step("annotations"), {"base-ref": "", "fail-on": "critical"}, repo, tmp_path)
    assert (code, outputs["exit-code"]) == (0, "1")
    assert "::error file=infra/main.tf,line=10,title=SG101" in out
    code, out, outputs = _run_step(_step("annotations"), {"base-ref": "", "fail-on": "none"}, repo, tmp_path)
    assert (code, outputs["exit-code"]) == (0, "0")
    code, out, outputs = _run_step(_step("annotations"), {"base-ref": "no-such-ref"}, repo, tmp_path)
    assert (code, outputs["exit-code"]) == (2, "2")
    assert "::error title=iacscan::iacscan could not run" in out


def test_the_documented_workflows_are_valid_yaml_and_use_real_inputs() -> None:
    import yaml

    inputs = set(load_action()["inputs"])
    docs = ACTION.parent
    blocks = []
    for name in ("README.md", "docs/ci.md"):
        text = (docs / name).read_text()
        blocks += [(name, b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]
    workflows = 0
    for name, block in blocks:
        data = yaml.safe_load(block)
        assert data is not None, name
        for job in (data.get("jobs") or {}).values() if isinstance(data, dict) else []:
            for step in job["steps"]:
                if "iacscan@" in step.get("uses", ""):
                    workflows += 1
                    assert set(step.get("with", {})) <= inputs, (name, step)
    assert workflows == 2  # README and docs/ci.md
    gitlab = next(yaml.safe_load(b) for n, b in blocks if "CI_MERGE_REQUEST_DIFF_BASE_SHA" in b)
    assert all("--diff-base \"$CI_MERGE_REQUEST_DIFF_BASE_SHA\"" in line for line in gitlab["iacscan"]["script"])


def test_scanning_from_above_the_repository_is_a_usage_error(
        repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo.parent)
    assert main(["scan", "--diff-base", "HEAD", "repo/infra"]) == 2
    assert "scan from inside the git working tree" in capsys.readouterr().err


def test_exposure_lines_name_the_target_and_the_hops_between() -> None:
    from iacscan.diffmode import exposure_lines

    finding = Finding(rule_id="NET302", severity=Severity.HIGH, title="t", message="m",
                      resource="aws_db_instance.main", file="main.tf", line=9, scope=".",
                      path=["internet", "aws_lb.web", "aws_instance.app", "aws_db_instance.main"],
                      extra={"hops": [{"resource": "aws_lb.web", "protocol": "tcp", "ports": "443"},
                                      {"resource": "aws_instance.app", "protocol": "tcp", "ports": "8080"},
                                      {"resource": "aws_db_instance.main", "protocol": "tcp", "ports": "5432"}]})
    plain = _finding("SG101", "aws_security_group.a", 3)
    assert exposure_lines([plain, finding]) == [
        "this change lets the internet reach aws_db_instance.main:5432 via aws_lb.web:443 -> aws_instance.app:8080 (NET302)"]
