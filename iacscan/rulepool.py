"""Checking the rules in two processes on large estates (``iacscan scan --jobs``).

``iacscan.scan.run_rules`` hands its rules here. On a large estate with at least two jobs
(``--jobs``, default one per core) the enabled rules are split into two halves of about
equal cost: the process forks (``os.fork``) once the environments are assigned and the
``EstateGraph`` is made, the child checks its half and sends the outcome of each rule
(its findings and, when it raised, its ``rule_errors`` entry and IAC003 finding) back
through a pipe, pickled, while the parent checks the other half; then the parent reads.
The outcomes are put back in rule order, so the result is exactly the serial loop's.

The split (``plan``):

- ``PARENT_ONLY`` rules stay in the parent: AWS407 and AWS409 make most of the findings of
  a large estate (8,000 and 3,000 on the synthetic L) and would cost more to pickle than
  to check; IAC004 reads the suppressions through ``suppress.collect``, whose memo the
  parent reuses when it applies them after the rules; the NET30x rules build the graph's
  reachability (``EstateGraph.reach``), which the graph reports (``iacscan graph``) use
  after the rules.
- ``TOGETHER`` groups share state built on first use (the reachability; SG101-SG104's
  internet exposure per group, ``rules/_sg_exposure.py``; the graph's member and
  referrer indexes): a group goes to one half, so the state is built once.
- Everything else is balanced by ``COST``: CPU seconds each rule took on a warm scan of
  the synthetic L estate (``docs/performance.md``), heaviest first into the lighter half.
  Unlisted rules weigh ``DEFAULT_COST``. The costs only balance the halves; they never
  change a result.

No rule changes the estate or the graph (they only read them and fill their own
memos), so whatever the child builds and drops is rebuilt by the parent on demand.

No fork (the rules run in order in this process) when ``os.fork`` is missing (Windows),
with one job, with other threads running (a forked child could inherit a held lock), on
an estate smaller than ``FORK_MIN_SIZE`` groups + workloads (checking them costs less
than the fork), or when either half would be empty. When the child dies, is killed, or
sends incomplete or unreadable data, the parent checks the child's half itself, so the
result is the same, only slower. The child leaves through ``os._exit`` (no atexit
handlers, no second flush of the parent's buffers: they are flushed before the fork),
keeps the cyclic collector paused (``iacscan.gcpause``: collecting would touch, and so
copy, the whole shared heap) and is always reaped.

Test hook: the environment variable ``IACSCAN_TEST_RULEPOOL_FAULT`` makes the child fail
on purpose (``exit``: leave before sending anything; ``truncate``: send half its data;
``garbage``: send well-framed bytes that do not unpickle; ``kill``: SIGKILL itself;
``raise``: raise before checking). It exists for ``tests/test_rulepool.py``.
"""
from __future__ import annotations

import gc
import os
import pickle
import signal
import struct
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from iacscan.findings import Finding
from iacscan.rules.base import Context, RegisteredRule

#: Below this many groups + workloads the rules run in one process. Measured warm (CPU of
#: all rules): the 657 of the S estate take 0.03 s, the 6,507 of M 0.3 s, the 39,000 of
#: L 1.8 s; forking and the copy-on-write faults that follow cost 10-40 ms.
FORK_MIN_SIZE = 3000

PARENT_ONLY = frozenset({"AWS407", "AWS409", "IAC004", "NET301", "NET302", "NET303", "NET304"})

TOGETHER: tuple[frozenset[str], ...] = (
    frozenset({"NET301", "NET302", "NET303", "NET304"}),  # EstateGraph.reach
    frozenset({"SG101", "SG102", "SG103", "SG104"}),  # _sg_exposure.internet_exposure
    frozenset({"SG108", "SG109", "ENV201", "ENV203"}),  # EstateGraph members/referrers/groups_of
)

#: CPU seconds on a warm scan of L (2026-11-27): balance weights only.
COST: dict[str, float] = {
    "NET301": 0.57, "IAC004": 0.17, "SG101": 0.12, "NET303": 0.12, "SG111": 0.11, "SG108": 0.08,
    "AWS407": 0.08, "SG106": 0.07, "IAC002": 0.07, "SG109": 0.06, "SG104": 0.06, "AWS409": 0.05,
    "SG107": 0.04, "ENV201": 0.04, "ENV202": 0.03, "SG105": 0.03, "NET302": 0.03, "ENV203": 0.03,
    "SG110": 0.02, "SG103": 0.02, "SG102": 0.02, "AWS405": 0.01,
}
DEFAULT_COST = 0.001

FAULT_ENV = "IACSCAN_TEST_RULEPOOL_FAULT"
_HEADER = struct.Struct("<Q")

Task = tuple[RegisteredRule, Context]
ErrorFinding = Callable[[Context, str], Finding]


@dataclass
class Outcome:
    """What checking one rule gave: its findings (with the IAC003 finding last when it
    raised, after whatever it found before) and its ``rule_errors`` entry, if any."""

    findings: list[Finding] = field(default_factory=list)
    error: str | None = None


def check_one(registered: RegisteredRule, ctx: Context, internal_error: ErrorFinding) -> Outcome:
    """Run one rule; a rule's bug must not take the others down."""
    outcome = Outcome()
    try:
        outcome.findings.extend(registered.check(ctx))
    except Exception:
        outcome.error = f"{registered.meta.id}: {traceback.format_exc()}"
        outcome.findings.append(internal_error(ctx, registered.meta.id))
    return outcome


def check_all(tasks: Sequence[Task], internal_error: ErrorFinding, *, jobs: int | None = 1,
              size: int = 0, min_size: int = FORK_MIN_SIZE) -> list[Outcome]:
    """The outcome of every task, in order: in two processes when it pays (module doc),
    else one after the other. ``jobs`` as ``--jobs`` (None: one per core); ``size``: the
    estate's groups + workloads, compared with ``min_size``."""
    if not _may_fork(jobs, size, min_size):
        return _here(list(tasks), internal_error)
    mine, theirs = plan([registered.meta.id for registered, _ in tasks])
    if not mine or not theirs:
        return _here(list(tasks), internal_error)
    parent = [tasks[i] for i in mine]
    child = [tasks[i] for i in theirs]
    got_parent, got_child = _forked(parent, child, internal_error)
    out: list[Outcome | None] = [None] * len(tasks)
    for index, outcome in zip(mine, got_parent):
        out[index] = outcome
    for index, outcome in zip(theirs, got_child):
        out[index] = outcome
    return [o for o in out if o is not None]


def _may_fork(jobs: int | None, size: int, min_size: int) -> bool:
    if not hasattr(os, "fork") or size < min_size:
        return False
    if jobs is None:
        from iacscan.parsers.tf_parallel import default_jobs

        jobs = default_jobs()
    return jobs >= 2 and threading.active_count() == 1


def plan(rule_ids: Sequence[str]) -> tuple[list[int], list[int]]:
    """Split ``rule_ids`` (positions kept, in order) into the parent's half and the child's
    (module doc): ``PARENT_ONLY`` and their ``TOGETHER`` groups in the parent, the other
    groups and rules heaviest first into the lighter half."""
    units: dict[str, list[int]] = {}  # a TOGETHER group (by its first member) or a lone rule
    for index, rule_id in enumerate(rule_ids):
        group = next((g for g in TOGETHER if rule_id in g), None)
        units.setdefault(min(group) if group else rule_id, []).append(index)
    parent: list[int] = []
    child: list[int] = []
    weight = [0.0, 0.0]
    free = []
    for members in units.values():
        cost = sum(COST.get(rule_ids[i], DEFAULT_COST) for i in members)
        if any(rule_ids[i] in PARENT_ONLY for i in members):
            parent.extend(members)
            weight[0] += cost
        else:
            free.append((cost, rule_ids[members[0]], members))
    for cost, _, members in sorted(free, key=lambda u: (-u[0], u[1])):
        side = 1 if weight[1] < weight[0] else 0
        (child if side else parent).extend(members)
        weight[side] += cost
    return sorted(parent), sorted(child)


def _forked(parent: list[Task], child: list[Task], internal_error: ErrorFinding) -> tuple[list[Outcome], list[Outcome]]:
    """Check ``child`` in a forked process and ``parent`` here; the child's half here too
    when the child fails."""
    try:
        for stream in (sys.stdout, sys.stderr):  # or the child would write their buffers again
            if stream is not None:
                stream.flush()
        read_fd, write_fd = os.pipe()
    except (OSError, ValueError):  # out of descriptors, a closed stream: check both halves here
        return _here(parent, internal_error), _here(child, internal_error)
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return _here(parent, internal_error), _here(child, internal_error)
    if pid == 0:
        _child(read_fd, write_fd, child, internal_error)
    os.close(write_fd)
    try:
        mine = _here(parent, internal_error)
        data = _read_all(read_fd)
    except BaseException:
        _kill(pid)
        raise
    finally:
        os.close(read_fd)
        status = _reap(pid)
    theirs = _decode(data, len(child)) if status == 0 else None
    if theirs is None:
        theirs = _here(child, internal_error)
    return mine, theirs


def _here(tasks: list[Task], internal_error: ErrorFinding) -> list[Outcome]:
    """``tasks`` checked in this process, in order."""
    return [check_one(r, c, internal_error) for r, c in tasks]


def _child(read_fd: int, write_fd: int, tasks: list[Task], internal_error: ErrorFinding) -> NoReturn:
    """The forked process: check ``tasks``, send their outcomes, leave without cleanup."""
    code = 1
    try:
        os.close(read_fd)
        gc.disable()
        fault = os.environ.get(FAULT_ENV, "")
        if fault == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if fault == "raise":
            raise RuntimeError("rulepool test fault")
        if fault != "exit":
            payload = pickle.dumps(_here(tasks, internal_error),
                                   protocol=pickle.HIGHEST_PROTOCOL)
            if fault == "garbage":
                payload = b"\x80\x05not a pickle" + payload[:8]
            data = _HEADER.pack(len(payload)) + payload
            if fault == "truncate":
                data = data[:len(data) // 2]
            _write_all(write_fd, data)
        code = 0
    finally:
        os._exit(code)  # also when a BaseException (KeyboardInterrupt) is on its way


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _decode(data: bytes, count: int) -> list[Outcome] | None:
    """The child's outcomes, or None when the data is incomplete or unreadable."""
    if len(data) < _HEADER.size or _HEADER.unpack_from(data)[0] != len(data) - _HEADER.size:
        return None
    try:
        outcomes = pickle.loads(memoryview(data)[_HEADER.size:])
    except Exception:
        return None
    if not isinstance(outcomes, list) or len(outcomes) != count or \
            not all(isinstance(o, Outcome) for o in outcomes):
        return None
    return outcomes


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _reap(pid: int) -> int:
    """Wait for the child; its exit code, negative when a signal ended it, -1 when someone
    else (a SIGCHLD handler of the program) reaped it: its data is then not trusted."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return -1
    return os.waitstatus_to_exitcode(status)
