"""Rules checked in two processes (iacscan/rulepool.py): the same result as in one, rule
errors in the child's half reported as serially, and the parent's fallback when the child
fails. The estate is the synthetic S (scripts/gen_estate.py); it is below the size at which
a scan forks, so the tests lower that size through ``run_rules``'s ``fork_min_size``.

``run_rules`` never forks while other threads run (other tests leave moto servers running
in this process), so each check runs in a fresh spawned process (``worker``)."""
from __future__ import annotations

import importlib.util
import multiprocessing
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from iacscan import rulepool
from iacscan.findings import Finding, Severity
from iacscan.model import Location
from iacscan.rules.base import REGISTRY, Context, Remediation, iter_rules, rule
from iacscan.ruleset import load_ruleset
from iacscan.scan import ScanOptions, load_estate, run_rules
from tests.helpers import REPO

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork")

PID_RULE, RAISING_RULE = "TST991", "TST992"
DOC = "What it finds\nx\n\nWhy it matters\nx\n\nFailing example\n    x\n\nPassing example\n    x\n\nFix\nx"


def which_process(ctx: Context) -> Iterator[Finding]:
    """A finding naming the process that checked the rule."""
    yield ctx.finding(resource="pid", uid="pid", location=Location("", 0), message=str(os.getpid()))


def broken(ctx: Context) -> Iterator[Finding]:
    """A finding, then an error."""
    yield ctx.finding(resource="before", uid="before", location=Location("x.tf", 1), message="found first")
    raise KeyError("planted-rule-error")


def run(root: Path, cache: Path, jobs: int | None, fork_min_size: int = 0, fault: str = "",
        raising: bool = False, closed_stdout: bool = False) -> dict[str, Any]:
    """(In the worker.) The rules on a freshly loaded estate, with the test rules registered:
    everything but the pid rule's finding, which process checked the pid rule, and whether
    a child was left unreaped."""
    os.environ.pop(rulepool.FAULT_ENV, None)
    if fault:
        os.environ[rulepool.FAULT_ENV] = fault
    tests = [(PID_RULE, which_process)] + ([(RAISING_RULE, broken)] if raising else [])
    for rule_id, fn in tests:
        fn.__doc__ = DOC
        rule(id=rule_id, title=f"Test rule {fn.__name__}", severity=Severity.LOW, family="sg",
             remediation=Remediation(summary="none"))(fn)
    try:
        estate = load_estate(root, [root], ScanOptions(cache_dir=cache, jobs=1))
        real = sys.stdout
        if closed_stdout:  # flushing it before a fork raises ValueError
            sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - closed at once
            sys.stdout.close()
        try:
            result = run_rules(estate, load_ruleset(None), jobs, fork_min_size)
        finally:
            sys.stdout = real
    finally:
        for rule_id, _ in tests:
            REGISTRY.pop(rule_id, None)
    try:
        os.waitpid(-1, os.WNOHANG)
        left = True
    except ChildProcessError:
        left = False
    return {
        "findings": [f for f in result.findings if f.rule_id != PID_RULE],
        "suppressed": result.suppressed, "rule_errors": result.rule_errors,
        "forked": next(f.message for f in result.findings if f.rule_id == PID_RULE) != str(os.getpid()),
        "child_left": left,
    }


@pytest.fixture(scope="module")
def estate_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    spec = importlib.util.spec_from_file_location("gen_estate", REPO / "scripts" / "gen_estate.py")
    assert spec is not None and spec.loader is not None
    gen_estate = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_estate", gen_estate)
    spec.loader.exec_module(gen_estate)
    out = tmp_path_factory.mktemp("rulepool") / "S"
    gen_estate.generate("S", out)
    return out, tmp_path_factory.mktemp("rulepool-cache")


@pytest.fixture(scope="module")
def worker() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def check(worker: ProcessPoolExecutor, estate_dir: tuple[Path, Path], jobs: int | None, **kw: Any) -> dict[str, Any]:
    return worker.submit(run, *estate_dir, jobs, **kw).result()


def same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a["findings"] == b["findings"]
    assert a["suppressed"] == b["suppressed"]
    assert a["rule_errors"] == b["rule_errors"]
    assert not a["child_left"] and not b["child_left"]


def child_half(*extra: str) -> list[str]:
    ids = sorted([r.meta.id for r in iter_rules()] + list(extra))
    return [ids[i] for i in rulepool.plan(ids)[1]]


def test_two_processes_give_exactly_the_serial_result(worker: ProcessPoolExecutor,
                                                      estate_dir: tuple[Path, Path]) -> None:
    assert PID_RULE in child_half(PID_RULE)
    serial = check(worker, estate_dir, jobs=1)
    parallel = check(worker, estate_dir, jobs=2)
    assert parallel["forked"] and not serial["forked"]
    assert len(serial["findings"]) == 200 and serial["rule_errors"] == []
    same(parallel, serial)


def test_no_fork_with_one_job_or_a_small_estate(worker: ProcessPoolExecutor, estate_dir: tuple[Path, Path]) -> None:
    assert not check(worker, estate_dir, jobs=2, fork_min_size=10_000)["forked"]  # S: 657 groups + workloads
    assert not check(worker, estate_dir, jobs=None, fork_min_size=10_000)["forked"]
    assert check(worker, estate_dir, jobs=2, fork_min_size=657)["forked"]


def test_a_rule_error_in_the_child_half_is_reported_as_serially(worker: ProcessPoolExecutor,
                                                               estate_dir: tuple[Path, Path]) -> None:
    assert RAISING_RULE in child_half(PID_RULE, RAISING_RULE)
    serial = check(worker, estate_dir, jobs=1, raising=True)
    parallel = check(worker, estate_dir, jobs=2, raising=True)
    assert parallel["forked"]
    same(parallel, serial)
    errors = parallel["rule_errors"]
    assert [e.splitlines()[0] for e in errors] == [f"{RAISING_RULE}: Traceback (most recent call last):"]
    assert "KeyError: 'planted-rule-error'" in errors[0]
    mine = [(f.rule_id, f.resource, f.file, f.line) for f in parallel["findings"] if RAISING_RULE in (f.rule_id, f.resource)]
    assert mine == [("IAC003", RAISING_RULE, "", 0), (RAISING_RULE, "before", "x.tf", 1)]


@pytest.mark.parametrize("fault", ["exit", "truncate", "garbage", "kill", "raise"])
def test_the_parent_checks_the_childs_half_when_the_child_fails(worker: ProcessPoolExecutor,
                                                                estate_dir: tuple[Path, Path], fault: str) -> None:
    serial = check(worker, estate_dir, jobs=1, raising=True)
    failed = check(worker, estate_dir, jobs=2, raising=True, fault=fault)
    assert not failed["forked"]  # the pid rule was checked again here
    same(failed, serial)


def test_no_fork_when_the_output_cannot_be_flushed(worker: ProcessPoolExecutor,
                                                   estate_dir: tuple[Path, Path]) -> None:
    serial = check(worker, estate_dir, jobs=1)
    unflushable = check(worker, estate_dir, jobs=2, closed_stdout=True)
    assert not unflushable["forked"]
    same(unflushable, serial)


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
    assert rulepool.plan(["SG106", "SG111"]) == ([1], [0])  # the heavier first, then into the lighter half
    assert rulepool.plan(["AWS407"]) == ([0], [])
