"""Pull-request mode (``iacscan scan --diff-base REF``): report what a change introduces.

The working tree is scanned as usual; the tree of REF is read with git (``ls-tree`` and
``cat-file``, never touching the user's checkout, index or worktree list) into a temporary
directory and scanned with the same paths and options. Findings are compared by
fingerprint, which hashes the rule, module, resource, details and path but never a line
number, so reformatting and moved code change nothing:

- new: findings of the working tree whose fingerprint REF does not have; an exposure path
  (NET30x) that REF does not have is new, since the path is part of the fingerprint;
- fixed: findings of REF whose fingerprint the working tree does not have.

Only the new findings are reported and judged by ``--fail-on``. Only the files a scan can
read are taken from REF (Terraform, tfvars, YAML, JSON, ``.template``, and symbolic
links); files git ignores (``.terraform/`` of ``terraform init``) exist only in the
working tree.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from iacscan.discover import DOC_SUFFIXES, TF_SUFFIXES, TFVARS_SUFFIXES
from iacscan.errors import UserError
from iacscan.findings import Finding

if TYPE_CHECKING:
    from iacscan.scan import ScanOptions, ScanResult

ScanFn = Callable[[Path, list[Path], "ScanOptions"], "ScanResult"]
_WANTED = TF_SUFFIXES + TFVARS_SUFFIXES + DOC_SUFFIXES
_FILE_MODES = {"100644", "100755"}
_LINK_MODE = "120000"


@dataclass
class Diff:
    """The working tree's scan compared with REF's."""

    ref: str
    commit: str
    head: ScanResult  # the working tree, every finding
    new: list[Finding]
    fixed: list[Finding]

    def new_result(self) -> ScanResult:
        """The working tree's result holding only the new findings (what reports and exit codes see)."""
        return replace(self.head, findings=list(self.new))


def compare(head: list[Finding], base: list[Finding]) -> tuple[list[Finding], list[Finding]]:
    """(new, fixed): findings only in ``head``, findings only in ``base``, by fingerprint.

    Counted as multisets, so a second copy of an existing finding is still new."""
    base_left = Counter(f.fingerprint for f in base)
    new = []
    for finding in head:
        if base_left[finding.fingerprint] > 0:
            base_left[finding.fingerprint] -= 1
        else:
            new.append(finding)
    head_left = Counter(f.fingerprint for f in head)
    fixed = []
    for finding in base:
        if head_left[finding.fingerprint] > 0:
            head_left[finding.fingerprint] -= 1
        else:
            fixed.append(finding)
    return new, fixed


def run_diff(ref: str, root: Path, paths: list[Path], options: ScanOptions, scan: ScanFn) -> Diff:
    """Scan the working tree and REF's tree with ``scan`` and compare them."""
    if not paths:
        raise UserError("--diff-base needs a PATH to scan")
    top = toplevel(paths[0] if paths[0].is_dir() else paths[0].parent)
    commit = resolve_ref(top, ref)
    _check_root(root, top)
    head = scan(root, paths, options)
    with base_tree(top, commit) as tree:
        mapping = _Mapping(root, top, tree)
        base_paths = [p for p in (mapping.path(path) for path in paths) if p is not None and _exists(p)]
        base_options = replace(options, var_files=[mapping.existing(v) for v in options.var_files],
                               parameter_file=mapping.existing(options.parameter_file)
                               if options.parameter_file is not None else None)
        base_findings = scan(mapping.root, base_paths, base_options).findings if base_paths else []
    new, fixed = compare(head.findings, base_findings)
    return Diff(ref=ref, commit=commit, head=head, new=new, fixed=fixed)


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


# --- git ------------------------------------------------------------------------------------


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """Run git in ``cwd``; a failure raises ``UserError`` with git's own message."""
    try:
        done = subprocess.run(["git", "-C", str(cwd), *args], input=stdin, capture_output=True, check=False,
                              env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
    except OSError as exc:
        raise UserError(f"--diff-base needs git, which could not be run: {exc.strerror or exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UserError(f"git {args[0]} failed: {message[-1] if message else 'exit ' + str(done.returncode)}")
    return done.stdout


def toplevel(directory: Path) -> Path:
    """The top directory of the git working tree holding ``directory``."""
    try:
        out = _git(directory, "rev-parse", "--show-toplevel")
    except UserError:
        raise UserError(f"--diff-base: {directory} is not inside a git working tree") from None
    return Path(out.decode("utf-8", "surrogateescape").strip())


def resolve_ref(top: Path, ref: str) -> str:
    """The commit id REF names; ``UserError`` when it names none."""
    if not ref or ref.startswith("-"):
        raise UserError(f"--diff-base: {ref!r} is not a git revision")
    try:
        out = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    except UserError:
        raise UserError(f"--diff-base: unknown git revision {ref!r} (in a shallow clone, fetch it first: "
                        f"git fetch --depth=1 origin {ref})") from None
    return out.decode().strip()


@contextmanager
def base_tree(top: Path, commit: str) -> Iterator[Path]:
    """A temporary directory holding the scannable files of ``commit`` (removed afterwards)."""
    temp = Path(tempfile.mkdtemp(prefix="iacscan-base-"))
    try:
        tree = temp / "tree"
        tree.mkdir()
        materialise(top, commit, tree)
        yield tree
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def materialise(top: Path, commit: str, dest: Path) -> None:
    """Write the scannable files and symbolic links of ``commit`` under ``dest``."""
    files: list[tuple[str, str, str]] = []  # (mode, object id, path)
    for entry in _git(top, "ls-tree", "-r", "-z", "--full-tree", commit).split(b"\0"):
        if not entry:
            continue
        meta, _, raw_path = entry.partition(b"\t")
        mode, kind, oid = meta.decode().split()
        path = raw_path.decode("utf-8", "surrogateescape")
        if kind != "blob" or not _safe(path):
            continue
        if mode == _LINK_MODE or (mode in _FILE_MODES and path.lower().endswith(_WANTED)):
            files.append((mode, oid, path))
    contents = _blobs(top, [oid for _, oid, _ in files])
    links = []
    for mode, oid, path in files:
        if mode == _LINK_MODE:
            links.append((path, contents[oid]))
            continue
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(contents[oid])
    for path, text in links:  # after the files, so that no file is written through a link
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.symlink(os.fsdecode(text), target)
        except OSError:
            continue  # a link over an existing name, or no symlink support: leave it out


def _safe(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and not path.startswith("/") and not any(p in ("..", ".git", "") for p in parts)


def _blobs(top: Path, oids: list[str]) -> dict[str, bytes]:
    """The contents of the given blobs, read in one ``git cat-file --batch``."""
    unique = sorted(set(oids))
    if not unique:
        return {}
    out = _git(top, "cat-file", "--batch", stdin=("\n".join(unique) + "\n").encode())
    found: dict[str, bytes] = {}
    pos = 0
    while pos < len(out):
        end = out.index(b"\n", pos)
        oid, kind, size = out[pos:end].decode().split()
        start = end + 1
        found[oid] = out[start:start + int(size)]
        pos = start + int(size) + 1
    return found


def _check_root(root: Path, top: Path) -> None:
    """The scan root must lie inside the working tree (file names are relative to it on both sides)."""
    real_root, real_top = root.resolve(), top.resolve()
    if real_root != real_top and real_top not in real_root.parents:
        raise UserError(f"--diff-base: scan from inside the git working tree {top} "
                        "(the current directory is outside it)")


class _Mapping:
    """Where a working-tree path lies in REF's tree (the scan root keeps its relative place)."""

    def __init__(self, root: Path, top: Path, tree: Path) -> None:
        self.top, self.tree = top.resolve(), tree
        _check_root(root, top)
        self.root = tree / root.resolve().relative_to(self.top)
        self.root.mkdir(parents=True, exist_ok=True)
        self.head_root = root

    def path(self, path: Path) -> Path | None:
        """``path`` in REF's tree; None when it lies outside the repository."""
        try:
            rel = Path(os.path.abspath(path)).relative_to(self.head_root)
        except ValueError:
            real = Path(os.path.realpath(path))
            if real != self.top and self.top not in real.parents:
                return None
            return self.tree / real.relative_to(self.top)
        return self.root / rel

    def existing(self, path: Path) -> Path:
        """REF's copy of an input file when REF has it, else the file itself."""
        mapped = self.path(path)
        return mapped if mapped is not None and mapped.is_file() else path


# --- reports ---------------------------------------------------------------------------------


def exposure_lines(new: list[Finding]) -> list[str]:
    """``this change lets the internet reach X:port via …`` for each new path finding."""
    from iacscan.report.text import path_text

    lines = []
    for finding in new:
        if not finding.path:
            continue
        steps = path_text(finding).split(" -> ")
        source = "the internet" if finding.path[0] == "internet" else steps[0]
        via = f"via {' -> '.join(steps[1:-1])}" if len(steps) > 2 else "directly"
        lines.append(f"this change lets {source} reach {steps[-1]} {via} ({finding.rule_id})")
    return lines


def text_summary(diff: Diff) -> str:
    """The lines the text report of a diff ends with: counts against REF and new exposure paths."""
    from iacscan.report.escape import terminal

    noun = "finding" if len(diff.new) == 1 else "findings"
    lines = [f"against {terminal(diff.ref)} ({diff.commit[:12]}): {len(diff.new)} new {noun}, "
             f"{len(diff.fixed)} fixed"]
    lines.extend(f"  {terminal(line)}" for line in exposure_lines(diff.new))
    return "\n".join(lines) + "\n"


def render(diff: Diff, fmt: str, color: bool) -> str:
    """The report of a diff in ``fmt``: only new findings; counts of fixed ones where the format can say."""
    from iacscan.report import REPORTERS

    result = diff.new_result()
    if fmt == "markdown":
        from iacscan.report import markdown

        return markdown.render(diff.head, new=diff.new, fixed=len(diff.fixed))
    if fmt == "github":
        from iacscan.report import github

        return github.render(result) + text_summary(diff)
    if fmt == "json":
        from iacscan.report import json_report

        doc = json_report.document(result)
        doc["diff"] = {"base": diff.ref, "commit": diff.commit, "new": len(diff.new), "fixed": len(diff.fixed),
                       "fixed_fingerprints": sorted(f.fingerprint for f in diff.fixed)}
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    text = REPORTERS[fmt](result, color)
    return text + text_summary(diff) if fmt == "text" else text
