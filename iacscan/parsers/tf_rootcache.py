"""Evaluated Terraform root modules kept next to the parse cache, reused while their inputs hold.

A warm scan of a large estate spent most of its Terraform time evaluating every root module
again and reading every file's parse-cache entry. With an on-disk parse cache in use
(``iacscan.cache.DiskParseCache``; ``--no-cache`` turns it off) ``load_cached`` replaces the loader's
plain sequence (parse all, find the roots, evaluate each) with:

1. Fingerprint every given directory: a hash over the names and content digests of its
   ``.tf``/``.tf.json``/``.tfvars``/``.tfvars.json`` files (a new file changes it; a
   directory with a symbolic link among them, an unreadable or an over-limit file has no
   fingerprint and is never reused). A manifest entry per scan root keeps, per directory,
   its fingerprint, its local module sources, its parse errors and files: a directory
   whose fingerprint is unchanged is not parsed, its record stands in for it (its errors
   are reported at the same place as before, which roots exist follows from the sources).
2. Each root's entry (key: its path, the ``--var-file`` paths and digests) records, like a
   compiler's depfile, every directory it read (root, local and downloaded modules,
   sources that were not directories) and file (``modules.json``) with their fingerprint
   when it was evaluated. All still equal: the stored result is replayed (the model its
   instances built, ``tf_fragments.Fragment``, the error trace with module errors reported
   by the first root that reads the module, unresolved notes, files). Else the root is
   evaluated as usual, its fragment built and its entry rewritten; only the files of such
   roots are parsed (the worker pool included). ``load_cached`` returns every root's
   fragment in root order; ``terraform.parse_terraform`` merges them.

Not cached: a root whose evaluation recursed too deeply, read a file that hit a limit
(``iacscan.limits``: size, depth, time) or depends on something without a fingerprint,
a fragment with a literal ``id`` attribute (``tf_fragments``: such an estate is built
jointly; a fragment with literals that may name another root is kept, and whether the
fragments can be merged is decided when they are), and a result that the codecs cannot
round-trip (``tf_rootcodec``, ``iacscan.model_codec``). Entries carry the parser tag
(versions and parser source), the entry format, the model, model codec, limits and
discovery sources and the limits in force. The result of a scan is the same, in the same
order, as without this cache.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from iacscan import limits
from iacscan.cache import DiskParseCache, parser_tag
from iacscan.cache_store import EntryStore
from iacscan.gcpause import gc_paused
from iacscan.model import ParseError
from iacscan.parsers import tf_rootcodec
from iacscan.parsers.terraform import Loader, _norm, local_sources, roots_among
from iacscan.parsers.tf_fragments import Fragment, build_fragment
from iacscan.parsers.tf_module import ModuleDef
from iacscan.parsers.tf_parallel import preparse
from iacscan.parsers.tf_rootcodec import ModuleMark, RootResult

#: Fingerprint of a path that is not a directory (or file) at all.
ABSENT = "-"
#: Fingerprint of what cannot be trusted to stay the same (links, unreadable, over a limit).
NONE = ""
_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json")
_LIMIT_MARK = "iacscan scan --limit"  # every LimitExceeded message says how to raise the limit

DirRecord = tuple[str, list[str], list[ParseError], list[str]]  # fingerprint, sources, errors, files


class Fingerprints:
    """Content fingerprints of directories and files, each computed once per scan."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.size_limit = limits.current().file_size
        self.memo: dict[str, str] = {}
        self.keys: dict[Path, str] = {}
        self.paths: dict[str, Path] = {}
        text = str(root)
        self._prefix = text if text.endswith(os.sep) else text + os.sep

    def key(self, path: Path) -> str:
        """``path`` relative to the scan root, as ``_norm(root / key)`` gives it back."""
        found = self.keys.get(path)
        if found is None:
            text = str(path)
            if text.startswith(self._prefix) and os.path.normpath(text) == text:
                found = text[len(self._prefix):]  # what relpath gives, without its cost
            else:
                found = os.path.relpath(path, self.root)
            found = self.keys[path] = found.replace(os.sep, "/")
            self.paths.setdefault(found, path)
        return found

    def path(self, key: str) -> Path:
        found = self.paths.get(key)
        if found is None:
            found = self.paths[key] = _norm(self.root / key)
        return found

    def dep(self, dep: str, path: Path | None = None) -> str:
        """Fingerprint of a dependency written ``d<key>`` (directory) or ``f<key>`` (file)."""
        found = self.memo.get(dep)
        if found is None:
            where = self.path(dep[1:]) if path is None else path
            found = self.memo[dep] = _dir_print(where, self.size_limit) if dep[:1] == "d" else \
                _file_print(where, self.size_limit)
        return found

    def dir(self, path: Path) -> str:
        return self.dep("d" + self.key(path), path)

    def file(self, path: Path) -> str:
        return self.dep("f" + self.key(path), path)


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _dir_print(directory: Path, size_limit: int) -> str:
    try:
        with os.scandir(directory) as entries:
            found = [(entry.name, entry.path, entry.is_symlink(), entry.is_file()) for entry in entries
                     if entry.name.lower().endswith(_SUFFIXES)]
    except (FileNotFoundError, NotADirectoryError):
        return ABSENT
    except OSError:
        return NONE
    combined = hashlib.blake2b(digest_size=16)
    for name, path, link, is_file in sorted(found):
        if link:
            return NONE
        if not is_file:
            continue
        try:
            data = _read(path, size_limit)
        except OSError:
            return NONE
        if data is None:
            return NONE
        combined.update(name.encode("utf-8", "surrogateescape") + b"\0" + _digest(data))
    return combined.hexdigest()


def _file_print(path: Path, size_limit: int) -> str:
    try:
        data = _read(str(path), size_limit)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return ABSENT
    except OSError:
        return NONE
    return NONE if data is None else _digest(data).hex()


def _read(path: str, size_limit: int) -> bytes | None:
    """The bytes of a file, None when it is larger than ``size_limit`` (os-level reads: ~3x
    cheaper than a buffered file object for thousands of small files)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        if size > size_limit:
            return None
        data = os.read(fd, size + 1)
        if len(data) < size:  # a short read: collect the rest
            chunks = [data]
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            data = b"".join(chunks)
    finally:
        os.close(fd)
    return None if len(data) > size_limit else data


@functools.lru_cache(maxsize=1)
def _code_tag() -> str:
    """The parser tag plus the source of the other modules a root's result depends on."""
    from iacscan import discover, model, model_codec

    digest = hashlib.sha256(sys.version.encode())
    for module in (model, model_codec, limits, discover):
        try:
            digest.update(Path(str(module.__file__)).read_bytes())
        except OSError:
            return parser_tag() + "/unknown"
    # model_codec.FORMAT: the encoding, the model's layout and the codec's source (model_codegen too)
    return f"{parser_tag()}/roots-{tf_rootcodec.FORMAT}-{model_codec.FORMAT}-{digest.hexdigest()[:16]}"


def _tag() -> str:
    return f"{_code_tag()}/{limits.current()!r}"


# --------------------------------------------------------------------------- recording


class Trace:
    """Records what one root's evaluation added to the loader and what it depended on."""

    def __init__(self, loader: Loader, prints: Fingerprints) -> None:
        self.loader, self.prints = loader, prints
        self.starts = (len(loader.instances), len(loader.errors), len(loader.unresolved), len(loader.files))
        self.uncacheable = False
        self.deps: dict[str, None] = {}
        self.marks: list[tuple[int, int, ModuleMark]] = []  # (errors index, errors it added, mark)
        self.modules: list[ModuleDef] = []

    def reading(self, directory: Path) -> None:
        self.prints.dir(directory)  # before its files are read

    def module(self, directory: Path, module: ModuleDef, at: int, reported: bool) -> None:
        dep = "d" + self.prints.key(directory)
        if dep in self.deps:
            return
        self.deps[dep] = None
        self.modules.append(module)
        self.marks.append((at, len(module.errors) if reported else 0,
                           ModuleMark(dep[1:], list(module.errors))))

    def absent(self, path: Path) -> None:
        dep = "d" + self.prints.key(path)
        self.deps.setdefault(dep, None)
        self.prints.dep(dep, path)  # now, not after the evaluation (it may appear meanwhile)

    def file(self, path: Path) -> None:
        dep = "f" + self.prints.key(path)
        self.deps.setdefault(dep, None)
        self.prints.dep(dep, path)  # before it is read

    def result(self, fragment: Fragment) -> RootResult | None:
        """What the root added (``fragment``: what its instances built), or None when it must
        not be cached."""
        loader = self.loader
        _, first_error, first_note, first_file = self.starts
        trace: list[ParseError | ModuleMark] = []
        position = first_error
        for at, added, mark in self.marks:
            trace.extend(loader.errors[position:at])
            trace.append(mark)
            position = at + added
        trace.extend(loader.errors[position:])
        deps = [[dep, self.prints.dep(dep)] for dep in self.deps]
        errors = [e for item in trace for e in (item.errors if isinstance(item, ModuleMark) else [item])]
        if self.uncacheable or any(fp == NONE for _, fp in deps) or any(_LIMIT_MARK in e.message for e in errors):
            return None
        files = dict.fromkeys(loader.files[first_file:])
        for module in self.modules:
            files.update(dict.fromkeys(module.files))
        return RootResult(fragment=fragment, trace=trace,
                          unresolved=loader.unresolved[first_note:], files=list(files), deps=deps)


def replay(loader: Loader, result: RootResult, prints: Fingerprints) -> Fragment:
    """Add a stored root's result to the loader as its evaluation would have; its fragment."""
    for item in result.trace:
        if isinstance(item, ModuleMark):
            directory = prints.path(item.key)
            if directory not in loader.reported:
                loader.reported.add(directory)
                loader.errors.extend(item.errors)
        else:
            loader.errors.append(item)
    loader.unresolved.extend(result.unresolved)
    loader.files.extend(result.files)
    return result.fragment


# --------------------------------------------------------------------------- the scan


class RootCache:
    """The manifest of one scan root and the entries of its roots."""

    def __init__(self, directory: Path, root: Path) -> None:
        tag = _tag()
        self.manifest_store = EntryStore(directory, "tfdirs", tag)
        self.roots = EntryStore(directory, "tfroots", tag)
        self.root = root
        self.manifest_key = "manifest\0" + str(root)
        self.records = _decode_manifest(self.manifest_store.read(self.manifest_key))

    def write_manifest(self, records: dict[str, DirRecord]) -> None:
        """Store the records of this scan's directories, keeping those of other directories
        that still exist (a scan of part of the tree must not drop the rest)."""
        merged = {key: record for key, record in self.records.items()
                  if key not in records and os.path.isdir(self.root / key)}
        merged.update(records)
        if merged != self.records:
            self.manifest_store.write(self.manifest_key, {"dirs": {
                key: [fp, sources, [[e.file, e.line, e.message] for e in errors], files]
                for key, (fp, sources, errors, files) in merged.items()}})

    def read_root(self, key: str, prints: Fingerprints) -> tuple[RootResult | None, list[str]]:
        """The stored result of a root if every dependency is unchanged, and the dependencies
        it had (to parse them ahead when it is stale)."""
        body = self.roots.read_body(key)
        loaded = None if body is None else tf_rootcodec.load(body)
        if loaded is None:
            return None, []
        data, deps = loaded
        if all(fp != NONE and prints.dep(dep) == fp for dep, fp in deps):
            return tf_rootcodec.finish(data, deps), []  # the model is decoded only now
        return None, [dep[1:] for dep, _ in deps if dep.startswith("d")]


def _decode_manifest(data: Any) -> dict[str, DirRecord]:
    """The directory records of a manifest (untrusted JSON): a bad one is dropped."""
    dirs = data.get("dirs") if isinstance(data, dict) else None
    records: dict[str, DirRecord] = {}
    for key, value in (dirs.items() if isinstance(dirs, dict) else ()):
        try:
            fp, sources, errors, files = value
            if not (isinstance(fp, str) and _all_str(sources) and _all_str(files) and isinstance(errors, list)):
                continue
            parsed = [ParseError(f, n, m) for f, n, m in errors
                      if isinstance(f, str) and isinstance(n, int) and not isinstance(n, bool) and isinstance(m, str)]
            if len(parsed) == len(errors):
                records[key] = (fp, sources, parsed, files)
        except (TypeError, ValueError):
            continue
    return records


def _all_str(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def load_cached(loader: Loader, given: list[Path], var_files: list[Path], jobs: int | None) -> list[Fragment]:
    """Every root's fragment in root order, with evaluated roots and directory records reused
    (see the module docstring); adds to ``loader`` exactly what the uncached path adds, but
    for the instances of replayed roots."""
    assert isinstance(loader.parsed, DiskParseCache)
    store = RootCache(loader.parsed.directory, loader.root)
    prints = Fingerprints(loader.root)
    records, sources = _read_dirs(loader, store, prints, given, jobs)
    var_deps = [[prints.key(_norm(path)), prints.file(_norm(path))] for path in var_files]
    cacheable = all(fp != NONE for _, fp in var_deps)
    var_key = json.dumps(var_deps)
    overrides = [loader.read_tfvars(path) for path in var_files]
    roots = roots_among(given, lambda directory: sources[directory])
    stored: dict[Path, RootResult | None] = {}
    stale: dict[Path, None] = {}
    with gc_paused():  # decoding builds ~1M containers: collecting them while they all live is waste
        for directory in roots:
            result, deps = store.read_root(_root_key(prints, directory, var_key), prints) if cacheable else (None, [])
            stored[directory] = result
            if result is None:
                stale.update(dict.fromkeys([directory, *(prints.path(key) for key in deps)]))
    preparse([d for d in stale if d not in loader.modules], loader.parsed, jobs)
    fragments: list[Fragment] = []
    for directory in roots:
        result = stored[directory]
        if result is not None:
            fragments.append(replay(loader, result, prints))
            continue
        start = len(loader.instances)
        trace = loader.trace = Trace(loader, prints)
        try:
            loader.load_root(directory, overrides)
        finally:
            loader.trace = None
        fragment = build_fragment(loader.instances[start:])
        fragments.append(fragment)
        fresh = trace.result(fragment) if cacheable else None
        body = None if fresh is None else tf_rootcodec.encode(fresh)
        if body is not None:
            store.roots.write_body(_root_key(prints, directory, var_key), body)
    store.write_manifest(records)
    return fragments


def _root_key(prints: Fingerprints, directory: Path, var_key: str) -> str:
    return f"root\0{prints.key(directory)}\0{var_key}"


def _read_dirs(loader: Loader, store: RootCache, prints: Fingerprints, given: list[Path],
               jobs: int | None) -> tuple[dict[str, DirRecord], dict[Path, list[str]]]:
    """Every given directory's parse errors and files added to ``loader`` in order, from its
    record when its fingerprint is unchanged, else by reading it (changed ones parsed ahead).
    Returns the records to keep and each directory's local module sources."""
    keys = {directory: prints.key(directory) for directory in given}
    valid: dict[Path, DirRecord] = {}
    for directory in given:
        record = store.records.get(keys[directory])
        fp = prints.dir(directory)
        if record is not None and fp != NONE and record[0] == fp:
            valid[directory] = record
    preparse([d for d in given if d not in valid], loader.parsed, jobs)
    records: dict[str, DirRecord] = {}
    sources: dict[Path, list[str]] = {}
    for directory in given:
        record = valid.get(directory)
        if record is None:
            module = loader.module(directory)
            record = (prints.dir(directory), local_sources(module), list(module.errors), list(module.files))
        elif directory not in loader.reported:
            loader.reported.add(directory)
            loader.errors.extend(record[2])
            loader.files.extend(record[3])
        sources[directory] = record[1]
        if record[0] != NONE and not any(_LIMIT_MARK in e.message for e in record[2]):
            records[keys[directory]] = record
    return records, sources
