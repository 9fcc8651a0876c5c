"""Rules checked in two processes (iacscan/rulepool.py): the same result as in one, rule
errors in the child's half reported as serially, and the parent's fallback when the child
fails. The estate is the synthetic S (scripts/gen_estate.py); it is below the size at which
a scan forks, so the tests lower that size through ``run_rules``'s ``fork_min_size``."""
from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from iacscan import rulepool
from iacscan.findings import Finding, Severity
from iacscan.model import Location
from iacscan.rules.base import REGISTRY, Context, Remediation, iter_rules, rule
from iacscan.ruleset import load_ruleset
from iacscan.scan import ScanOptions, ScanResult, load_estate, run_rules
from tests.helpers import REPO

_SPEC = importlib.util.spec_from_file_location("gen_estate", REPO / "scripts" / "gen_estate.py")
assert _SPEC is not None and _SPEC.loader is not None
gen_estate = importlib.util.module_from_spec(_SPEC)
sys.modules.setdefault("gen_estate", gen_estate)
_SPEC.loader.exec_module(gen_estate)

skip_without_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork")
DOC = "What it finds\nx\n\nWhy it matters\nx\n\nFailing example\n    x\n\nPassing example\n    x\n\nFix\nx"


@pytest.fixture(scope="module")
def estate_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("rulepool") / "S"
    gen_estate.generate("S", out)
    return out, tmp_path_factory.mktemp("rulepool-cache")


def check(estate_dir: tuple[Path, Path], jobs: int | None, fork_min_size: int = 0) -> ScanResult:
    """The rules on a freshly loaded S estate (parsed in this process, through a cache)."""
    root, cache = estate_dir
    estate = load_estate(root, [root], ScanOptions(cache_dir=cache, jobs=1))
    return run_rules(estate, load_ruleset(None), jobs, fork_min_size)


def same(a: ScanResult, b: ScanResult) -> None:
    assert a.findings == b.findings
    assert a.suppressed == b.suppressed
    assert a.rule_errors == b.rule_errors


def no_child_left() -> None:
    with pytest.raises(ChildProcessError):  # every forked child was reaped
        os.waitpid(-1, os.WNOHANG)


def child_ids() -> list[str]:
    ids = [r.meta.id for r in iter_rules()]
    return [ids[i] for i in rulepool.plan(ids)[1]]


@pytest.fixture
def pid_rule() -> Iterator[str]:
    """A rule whose one finding names the process that checked it."""

    @rule(id="TST991", title="Test rule naming its process", severity=Severity.LOW, family="sg",
          remediation=Remediation(summary="none"))
    def which_process(ctx: Context) -> Iterator[Finding]:
        yield ctx.finding(resource="pid", uid="pid", location=Location("", 0), message=str(os.getpid()))
    which_process.__doc__ = DOC
    try:
        yield "TST991"
    finally:
        REGISTRY.pop("TST991", None)


@pytest.fixture
def raising_rule() -> Iterator[str]:
    """A rule that finds one thing and then raises."""

    @rule(id="TST992", title="Test rule that raises", severity=Severity.LOW, family="sg",
          remediation=Remediation(summary="none"))
    def broken(ctx: Context) -> Iterator[Finding]:
        yield ctx.finding(resource="before", uid="before", location=Location("x.tf", 1), message="found first")
        raise KeyError("planted-rule-error")
    broken.__doc__ = DOC
    try:
        yield "TST992"
    finally:
        REGISTRY.pop("TST992", None)


def pid_of(result: ScanResult, rule_id: str) -> int:
    return int(next(f.message for f in result.findings if f.rule_id == rule_id))


@skip_without_fork
def test_two_processes_give_exactly_the_serial_result(estate_dir: tuple[Path, Path]) -> None:
    serial = check(estate_dir, jobs=1)
    parallel = check(estate_dir, jobs=2)
    assert len(serial.findings) == 200 and serial.rule_errors == []
    same(parallel, serial)
    no_child_left()


@skip_without_fork
def test_the_child_half_runs_in_another_process(estate_dir: tuple[Path, Path], pid_rule: str) -> None:
    assert pid_rule in child_ids()
    assert pid_of(check(estate_dir, jobs=2), pid_rule) != os.getpid()
    assert pid_of(check(estate_dir, jobs=1), pid_rule) == os.getpid()  # one job: no fork
    assert pid_of(check(estate_dir, jobs=2, fork_min_size=10_000), pid_rule) == os.getpid()  # small estate
    assert pid_of(check(estate_dir, jobs=None, fork_min_size=10_000), pid_rule) == os.getpid()
    no_child_left()


@skip_without_fork
def test_a_rule_error_in_the_child_half_is_reported_as_serially(estate_dir: tuple[Path, Path],
                                                               raising_rule: str) -> None:
    assert raising_rule in child_ids()
    serial = check(estate_dir, jobs=1)
    parallel = check(estate_dir, jobs=2)
    same(parallel, serial)
    assert [e.splitlines()[0] for e in parallel.rule_errors] == [f"{raising_rule}: Traceback (most recent call last):"]
    assert "KeyError: 'planted-rule-error'" in parallel.rule_errors[0]
    mine = [(f.rule_id, f.resource, f.file, f.line) for f in parallel.findings if raising_rule in (f.rule_id, f.resource)]
    assert mine == [("IAC003", raising_rule, "", 0), (raising_rule, "before", "x.tf", 1)]


@skip_without_fork
@pytest.mark.parametrize("fault", ["exit", "truncate", "garbage", "kill", "raise"])
def test_the_parent_checks_the_childs_half_when_the_child_fails(estate_dir: tuple[Path, Path], raising_rule: str,
                                                                fault: str, monkeypatch: pytest.MonkeyPatch) -> None:
    serial = check(estate_dir, jobs=1)
    monkeypatch.setenv(rulepool.FAULT_ENV, fault)
    same(check(estate_dir, jobs=2), serial)
    no_child_left()


def test_the_split_keeps_order_pins_and_groups() -> None:
    ids = [r.meta.id for r in iter_rules()]
    parent, child = rulepool.plan(ids)
    assert sorted(parent + child) == list(range(len(ids))) and parent == sorted(parent) and child == sorted(child)
    in_parent = {ids[i] for i in parent}
    assert rulepool.PARENT_ONLY <= in_parent
    for group in rulepool.TOGETHER:
        assert group <= in_parent or not group & in_parent, group
    weight = [sum(rulepool.COST.get(ids[i], rulepool.DEFAULT_COST) for i in half) for half in (parent, child)]
    assert abs(weight[0] - weight[1]) < 0.25 * sum(weight)
    assert rulepool.plan(["SG106", "SG111"]) == ([1], [0])  # the heavier first, then the lighter half
    assert rulepool.plan(["AWS407"]) == ([0], [])
