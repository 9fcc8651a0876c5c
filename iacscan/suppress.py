"""Inline suppressions (HCL comments, CloudFormation ``Metadata``) and baselines.

Terraform: a comment ``# iacscan:ignore SG101 reason="..."`` (``//`` and ``/* */`` too;
several ids may be given, comma-separated; ``until=YYYY-MM-DD`` optional) inside a block.
Inside a rule block (``ingress {}``, ``egress {}``, ``dynamic "ingress" {}``, any block
nested in a resource) it covers that block's lines only; elsewhere inside a top-level
block (``resource``, ``module``…) it covers the whole block. Comments are read from the
parse tree, so text inside a string never counts. Terraform JSON has no comments.

CloudFormation: ``Metadata: {iacscan: {ignore: [{id: SG101, reason: "...", until: ...}]}}``
on a resource covers the findings naming that resource or located inside it.

A suppression with no reason, an unknown rule id, a bad or past ``until`` date, or a
place where it covers nothing, hides nothing and is itself a finding (IAC004). Parse
errors (IAC001), internal errors (IAC003) and IAC004 cannot be suppressed inline.

Baseline: ``{"version": 1, "findings": [{"fingerprint", "rule_id", "resource", "file"}]}``;
``apply_baseline`` hides the findings whose fingerprint it lists.
"""
from __future__ import annotations

import json
import os
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from stat import S_ISLNK, S_ISREG
from typing import TYPE_CHECKING, Any

from iacscan.discover import Within
from iacscan.errors import UserError
from iacscan.findings import Finding
from iacscan.limits import current

if TYPE_CHECKING:
    from iacscan.model import Estate
    from iacscan.scan import ScanResult

MARKER = "iacscan:ignore"
UNSUPPRESSIBLE = frozenset({"IAC001", "IAC003", "IAC004"})
BASELINE_VERSION = 1
_KEYS = {"reason", "until"}
_OPTION = re.compile(r"""([A-Za-z_]+)=("[^"]*"|'[^']*'|\S+)""")
_RULE_ID = re.compile(r"[A-Z]+[0-9]+")
_HCL_SUFFIX = ".tf"
_WORD = b"iacscan"  # in every suppression: the comment marker and the CloudFormation Metadata key
_CFN_SUFFIXES = (".yaml", ".yml", ".json", ".template")
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class Suppression:
    """One suppression as written: where, what it names, and the lines it covers."""

    file: str
    line: int  # where it is written
    rule_ids: tuple[str, ...]
    reason: str | None
    until: str | None  # as written (YYYY-MM-DD when valid)
    resource: str  # the block's address (``aws_security_group.web``) or CFN logical id; "" outside
    start: int = 0  # first and last line covered (0: covers nothing)
    end: int = 0
    scope: str = ""  # module directory or template file (for the IAC004 uid)
    problem: str = ""  # a problem found while reading (unknown key, bad shape); see ``problem``

    def covers(self, finding: Finding) -> bool:
        """True when this suppression names the finding's rule and the finding lies in its span."""
        if finding.file != self.file or finding.rule_id not in self.rule_ids:
            return False
        if finding.rule_id in UNSUPPRESSIBLE:
            return False
        in_span = self.start > 0 and self.start <= finding.line <= self.end
        return in_span or bool(self.resource and self.scope == self.file and finding.resource == self.resource)


def problem(item: Suppression, known: set[str], today: date) -> str:
    """Why ``item`` hides nothing ("" when it is valid)."""
    if item.problem:
        return item.problem
    if not item.rule_ids:
        return "names no rule id"
    for rule_id in item.rule_ids:
        if rule_id in UNSUPPRESSIBLE:
            return f"names {rule_id}, which cannot be suppressed inline"
        if rule_id not in known:
            return f"names {rule_id}, which is not a rule id"
    if item.start == 0 and not item.resource:
        return "is outside any block, so it covers nothing: put it inside the resource or rule block"
    if not item.reason or not item.reason.strip():
        return 'has no reason: add reason="why this is acceptable"'
    if item.until is not None:
        try:
            expiry = date.fromisoformat(item.until)
        except ValueError:
            return f"has until={item.until}, which is not a date (YYYY-MM-DD)"
        if expiry < today:
            return f"expired on {expiry.isoformat()}"
    return ""


def collect(estate: Estate) -> list[Suppression]:
    """Every suppression written in the scanned files of ``estate``, in file and line order.

    Read once per estate: IAC004 and ``apply`` both ask for them in the same scan, so the
    result is kept while the estate lives and its root and file list stay the same.
    """
    memo = _memo[0] if _memo else None
    if memo is not None and memo[0]() is estate and memo[1] == estate.root and memo[2] == estate.files:
        return list(memo[3])
    found = _collect(estate)
    _memo[:] = [(weakref.ref(estate), estate.root, list(estate.files), tuple(found))]
    return found


#: The last estate ``collect`` read (by weak reference), its root and files, and what it found.
_memo: list[tuple[weakref.ref[Estate], str, list[str], tuple[Suppression, ...]]] = []


def _collect(estate: Estate) -> list[Suppression]:
    root = Path(estate.root)
    within = Within(root)
    limit = current().file_size
    base = str(root)
    prefix = "" if base == "." else base if base.endswith("/") else base + "/"
    found: list[Suppression] = []
    for rel in sorted(set(estate.files)):
        lower = rel.lower()
        if not (lower.endswith(_HCL_SUFFIX) or lower.endswith(_CFN_SUFFIXES)):
            continue
        path = prefix + rel if _plain_relative(rel) else str(root / rel)  # the text of root / rel
        try:
            stat = os.lstat(path)
            link = S_ISLNK(stat.st_mode)
            if link:
                stat = os.stat(path)
        except OSError:
            continue
        if not S_ISREG(stat.st_mode) or stat.st_size > limit or not within.text(path, link):
            continue  # pipes, files over the size limit, links leaving the root: never read
        found.extend(_file_suppressions(path, rel, stat.st_mtime_ns, stat.st_size))
    return found


def _plain_relative(rel: str) -> bool:
    """True when ``str(root / rel)`` is ``root`` + "/" + ``rel`` (nothing for ``Path`` to tidy)."""
    return bool(rel) and rel != "." and not rel.startswith(("/", "./")) and not rel.endswith(("/", "/.")) \
        and "//" not in rel and "/./" not in rel


@lru_cache(maxsize=4096)
def _file_suppressions(path: str, rel: str, mtime_ns: int, size: int) -> tuple[Suppression, ...]:
    """The suppressions of one file (cached by path, modification time and size).

    Only a file whose bytes hold ``iacscan`` can have one (the comment marker and the
    CloudFormation ``Metadata`` key are both written that way, in ASCII, so in UTF-8 the
    byte test answers exactly as a test of the decoded text would): others are not decoded.
    """
    raw = _read(path, size)
    if raw is None or _WORD not in raw:
        return ()
    try:
        text = _decode(raw)
    except UnicodeDecodeError:
        return ()
    try:
        if rel.lower().endswith(_HCL_SUFFIX):
            return tuple(_hcl_suppressions(text, rel)) if MARKER in text else ()
        return tuple(_cfn_suppressions(text, rel))
    except Exception:  # noqa: BLE001 - a file the parsers rejected is IAC001 already
        return ()


def _read(path: str, size: int) -> bytes | None:
    """The bytes of the regular file ``path`` (``size`` bytes when it was stat'ed), None when it
    cannot be read: ``os.open``/``os.read`` of the expected size, without the buffered file
    object ``open`` builds (a scan reads every file it scanned, most of them to find nothing)."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError:
        return None
    try:
        data = os.read(fd, size + 1)
        if len(data) == size:
            return data
        chunks = [data]  # it grew or shrank since, or a short read (network file systems): on to its end
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _decode(raw: bytes) -> str:
    """``raw`` as ``Path.read_text(encoding="utf-8-sig")`` reads it: BOM dropped, line ends made ``\\n``."""
    return raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")


# ---------------------------------------------------------------- Terraform (HCL comments)


def _hcl_suppressions(text: str, rel: str) -> Iterator[Suppression]:
    import hcl2
    from hcl2.rules.base import BlockRule

    tree = hcl2.parses(text)
    scope = str(Path(rel).parent.as_posix()) if "/" in rel else "."
    spans: list[tuple[int, int, str, list[tuple[int, int]]]] = []
    for block in tree.body.children:
        if isinstance(block, BlockRule):
            inner = [(c._meta.line, c._meta.end_line) for c in block.body.children if isinstance(c, BlockRule)]
            spans.append((block._meta.line, block._meta.end_line, _address(block), inner))
    for line, comment in _comments(tree):
        ids, options, bad = parse_directive(comment)
        top = next(((s, e, a, inner) for s, e, a, inner in spans if s <= line <= e), None)
        start = end = 0
        resource = ""
        if top is not None:
            start, end, resource, inner = top
            child = next(((s, e) for s, e in inner if s <= line <= e), None)
            if child is not None:
                start, end = child
        yield Suppression(rel, line, ids, options.get("reason"), options.get("until"), resource,
                          start, end, scope, bad)


def _comments(tree: Any) -> Iterator[tuple[int, str]]:
    """``(line, text)`` of every comment holding the marker, in line order.

    python-hcl2 keeps comments as tokens of a ``NewLineOrCommentRule`` whose start line
    is recorded; a comment's line is that plus the line breaks of the tokens before it.
    """
    stack = [tree]
    found = []
    while stack:
        node = stack.pop()
        children = getattr(node, "children", None) or []
        for index, child in enumerate(children):
            if type(child).__name__ == "NL_OR_COMMENT_TOKEN":
                text = str(child).strip()
                if MARKER in text and text[:1] in ("#", "/"):
                    start = getattr(getattr(node, "_meta", None), "line", 0) or 0
                    before = "".join(str(c) for c in children[:index]).count("\n")
                    found.append((start + before, text))
            elif hasattr(child, "children"):
                stack.append(child)
    yield from sorted(found)


def _address(block: Any) -> str:
    labels = [str(label.serialize()).strip('"') for label in block.labels]
    if labels and labels[0] == "resource" and len(labels) >= 3:
        return f"{labels[1]}.{labels[2]}"
    if labels and labels[0] in ("data", "module") and len(labels) >= 2:
        return ".".join(labels[:3] if labels[0] == "data" else labels[:2])
    return labels[0] if labels else ""


def parse_directive(comment: str) -> tuple[tuple[str, ...], dict[str, str], str]:
    """The rule ids, options and a problem ("" when none) of one ``iacscan:ignore`` comment."""
    body = comment.split(MARKER, 1)[1]
    body = body.rstrip()
    if body.endswith("*/"):
        body = body[:-2]
    first = _OPTION.search(body)
    head = body[: first.start()] if first else body
    ids = tuple(dict.fromkeys(part.upper() for part in re.split(r"[\s,]+", head.strip()) if part))
    options: dict[str, str] = {}
    bad = ""
    for match in _OPTION.finditer(body):
        key, value = match.group(1).lower(), match.group(2)
        if value[:1] in ('"', "'"):
            value = value[1:-1]
        if key not in _KEYS:
            bad = bad or f"has an unknown option {key!r} (use reason= and until=)"
        options[key] = value
    if not bad and any(not _RULE_ID.fullmatch(rule_id) for rule_id in ids):
        bad = f"names {', '.join(i for i in ids if not _RULE_ID.fullmatch(i))}, which is not a rule id"
    return ids, options, bad


# ---------------------------------------------------------------- CloudFormation (Metadata)


def _cfn_suppressions(text: str, rel: str) -> Iterator[Suppression]:
    from cfnlint.decode import decode_str

    data, matches = decode_str(text)
    resources = data.get("Resources") if isinstance(data, dict) and not matches else None
    if not isinstance(resources, dict):
        return
    for logical_id, body in resources.items():
        metadata = body.get("Metadata") if isinstance(body, dict) else None
        settings = metadata.get("iacscan") if isinstance(metadata, dict) else None
        if settings is None:
            continue
        start, end = _mark(logical_id, 0), _end(body)
        entries = settings.get("ignore") if isinstance(settings, dict) else None
        if not isinstance(entries, list):
            yield Suppression(rel, _mark(settings, start), (), None, None, str(logical_id), start, end, rel,
                              "is not a list: write Metadata: {iacscan: {ignore: [{id: ..., reason: ...}]}}")
            continue
        for entry in entries:
            yield _cfn_entry(entry, rel, str(logical_id), start, end)


def _cfn_entry(entry: Any, rel: str, logical_id: str, start: int, end: int) -> Suppression:
    line = _mark(entry, start)
    if not isinstance(entry, dict):
        return Suppression(rel, line, (), None, None, logical_id, start, end, rel,
                           "is not a mapping with id and reason")
    raw_ids = entry.get("id")
    ids = tuple(str(i) for i in raw_ids) if isinstance(raw_ids, list) else (str(raw_ids),) if raw_ids else ()
    unknown = sorted(set(map(str, entry)) - {"id", "reason", "until"})
    bad = f"has an unknown key {unknown[0]!r} (use id, reason and until)" if unknown else ""
    reason = entry.get("reason")
    until = entry.get("until")
    return Suppression(rel, line, ids, None if reason is None else str(reason),
                       None if until is None else str(until), logical_id, start, end, rel, bad)


def _mark(node: Any, default: int) -> int:
    mark = getattr(node, "start_mark", None)
    return int(mark.line) + 1 if mark is not None else default


def _end(node: Any) -> int:
    mark = getattr(node, "end_mark", None)
    return int(mark.line) + 1 if mark is not None else 0


# ---------------------------------------------------------------- applying


def apply(result: ScanResult) -> None:
    """Move the findings a valid inline suppression covers from ``findings`` to ``suppressed``."""
    from iacscan.rules.base import REGISTRY

    known = set(REGISTRY)
    today = date.today()
    by_file: dict[str, list[Suppression]] = {}  # a suppression covers findings of its own file only
    for item in collect(result.estate):
        if not problem(item, known, today):
            by_file.setdefault(item.file, []).append(item)
    if not by_file:
        return
    kept: list[Finding] = []
    for finding in result.findings:
        if any(s.covers(finding) for s in by_file.get(finding.file, ())):
            result.suppressed.append(finding)
        else:
            kept.append(finding)
    result.findings = kept


def load_baseline(path: Path) -> set[str]:
    """The fingerprints a baseline file lists; ``UserError`` when it is missing or corrupt."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"baseline file not found: {path} (create one with 'iacscan baseline create')") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read baseline file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"baseline file {path} is not valid JSON (line {exc.lineno}): {exc.msg}") from None
    findings = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION or not isinstance(findings, list):
        raise UserError(f"baseline file {path} is not an iacscan baseline (version {BASELINE_VERSION} "
                        "with a 'findings' list); create it again with 'iacscan baseline create'")
    prints = set()
    for i, item in enumerate(findings):
        if not isinstance(item, dict) or not isinstance(item.get("fingerprint"), str):
            raise UserError(f"baseline file {path}: entry {i + 1} has no 'fingerprint'")
        prints.add(item["fingerprint"])
    return prints


def apply_baseline(result: ScanResult, fingerprints: set[str]) -> None:
    """Move the findings whose fingerprint the baseline lists from ``findings`` to ``baselined``."""
    kept: list[Finding] = []
    for finding in result.findings:
        (result.baselined if finding.fingerprint in fingerprints else kept).append(finding)
    result.findings = kept


def baseline_document(findings: list[Finding]) -> dict[str, Any]:
    """The baseline of ``findings``: one entry per fingerprint, sorted."""
    entries = {f.fingerprint: {"fingerprint": f.fingerprint, "rule_id": f.rule_id, "resource": f.resource,
                               "file": f.file} for f in findings}
    ordered = sorted(entries.values(), key=lambda e: (e["file"], e["rule_id"], e["resource"], e["fingerprint"]))
    return {"version": BASELINE_VERSION, "findings": ordered}
