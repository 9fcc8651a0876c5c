"""Terraform HCL loader: module directories → evaluated resource instances → the model.

A directory is one module (every ``*.tf`` and ``*.tf.json`` in it, each file parsed once).
Every given directory that no other given directory calls as a local module is a root;
a root is evaluated with its variable defaults, ``terraform.tfvars``(``.json``),
``*.auto.tfvars``(``.json``) and the ``--var-file``s, and its module calls are followed
(local sources directly, remote ones through ``.terraform/modules/modules.json`` when
``terraform init`` has run). Resources inside modules get ``module.x.`` addresses.

Supported: variables, locals, outputs, string templates and expressions (``hcl_eval``),
``count``/``for_each`` on resources, data sources and modules, ``dynamic`` blocks,
references to stated resource attributes. Not supported: provider schemas (computed
attributes are ``ResourceRef``), override files (``*_override.tf`` are read as ordinary
files, a duplicate declaration keeps the first), variable type conversion and validation.

The model is built per root module and the roots' models merged (``tf_fragments``: the same
model as building all instances at once). With an on-disk parse cache unchanged directories
are not parsed and unchanged roots neither evaluated nor built again: ``tf_rootcache``
replays what they added last time, their models included.
"""
from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from iacscan.discover import relative
from iacscan.model import Estate, Location, ParseError, Unknown, Unresolved, make_uid
from iacscan.parsers.tf_files import Block, ParseCache, load_tfvars
from iacscan.parsers.tf_module import META_BLOCKS, ModuleDef, read_module
from iacscan.parsers.tf_parallel import preparse
from iacscan.parsers.tf_scope import ModuleScope, Thunk
from iacscan.parsers.tf_types import ResourceInstance
from iacscan.parsers.tf_values import Step, safe_eval

MAX_MODULE_DEPTH = 20
RECURSION_LIMIT = 10000


def parse_terraform(root: Path, dirs: list[Path], var_files: list[Path],
                    cache: ParseCache | None = None, jobs: int | None = None) -> Estate:
    """Parse Terraform module directories under root into the model.

    ``cache``: parsed files by content to start from (e.g. ``iacscan.cache.DiskParseCache``);
    ``jobs``: parser processes (None: one per core, 1: parse in this process). Each root's
    model is built on its own and the models merged (``tf_fragments``)."""
    from iacscan.parsers import tf_fragments, tf_model  # built separately; imported when first needed

    loader = Loader(root, cache)
    given = [_norm(d) for d in dirs]
    with _recursion_limit(RECURSION_LIMIT):
        estate: Estate | None = None
        if _root_cache_applies(cache, jobs):
            from iacscan.parsers import tf_rootcache  # evaluated roots kept next to the parse cache

            fragments = tf_rootcache.load_cached(loader, given, var_files, jobs)
            if tf_fragments.joinable(fragments):
                estate = tf_fragments.assemble(fragments, root)
            else:  # built jointly: every root's instances are needed (rare, see tf_fragments)
                loader = Loader(root, cache)
                per_root = _load_all(loader, given, var_files, jobs)
                estate = tf_model.build_estate([i for instances in per_root for i in instances], root, [])
        if estate is None:
            estate = tf_fragments.build_roots(_load_all(loader, given, var_files, jobs), root)
    estate.errors.extend(loader.errors)
    estate.unresolved.extend(loader.unresolved)
    estate.files = sorted(set(loader.files))
    estate.sources.add("terraform")
    return estate


def load_instances(
    root: Path, dirs: list[Path], var_files: list[Path], cache: ParseCache | None = None,
    jobs: int | None = None,
) -> tuple[list[ResourceInstance], list[ParseError], list[Unresolved], list[str]]:
    """The evaluated resource instances of every root module among dirs (+ parse errors,
    unresolved notes, files read); evaluated roots are not cached here (``parse_terraform``
    caches their models)."""
    loader = Loader(root, cache)
    with _recursion_limit(RECURSION_LIMIT):
        _load_all(loader, [_norm(d) for d in dirs], var_files, jobs)
    return loader.instances, loader.errors, loader.unresolved, sorted(set(loader.files))


def _load_all(loader: Loader, given: list[Path], var_files: list[Path],
              jobs: int | None) -> list[list[ResourceInstance]]:
    """Parse every given directory, evaluate every root; each root's instances, in root order."""
    preparse(given, loader.parsed, jobs)
    for directory in given:
        loader.module(directory)
    overrides = [loader.read_tfvars(path) for path in var_files]
    per_root: list[list[ResourceInstance]] = []
    for directory in find_roots(loader, given):
        start = len(loader.instances)
        loader.load_root(directory, overrides)
        per_root.append(loader.instances[start:])
    return per_root


def _root_cache_applies(cache: ParseCache | None, jobs: int | None) -> bool:
    """Evaluated roots are cached whenever a usable on-disk parse cache is (``--jobs`` only
    chooses processes; ``--no-cache`` turns every cache off)."""
    if cache is None:
        return False
    from iacscan.cache import DiskParseCache

    return isinstance(cache, DiskParseCache) and cache.usable


def _norm(path: Path) -> Path:
    return Path(os.path.normpath(os.path.abspath(path)))


@contextmanager
def _recursion_limit(limit: int) -> Iterator[None]:
    """Deep chains of locals and modules recurse; raise Python's limit while loading."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(max(before, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


def is_local_source(source: Any) -> bool:
    """True for ``./x`` and ``../x`` module sources (read from disk directly)."""
    return isinstance(source, str) and source.startswith(("./", "../", ".\\", "..\\"))


def find_roots(loader: Loader, dirs: list[Path]) -> list[Path]:
    """The given dirs that no other given dir calls as a local module."""
    return roots_among(dirs, lambda directory: local_sources(loader.module(directory)))


def local_sources(module: ModuleDef) -> list[str]:
    """The ``source`` of every local module call of ``module``, in declaration order."""
    return [str(source) for source in (call.attrs.get("source") for call in module.calls.values())
            if is_local_source(source)]


def roots_among(dirs: list[Path], sources_of: Callable[[Path], list[str]]) -> list[Path]:
    """The dirs that no other dir of ``dirs`` calls (``sources_of``: its local call sources)."""
    called: set[Path] = set()
    for directory in dirs:
        for source in sources_of(directory):
            target = _norm(directory / source)
            if target != directory:
                called.add(target)
    return [directory for directory in dirs if directory not in called]


class Tracer(Protocol):
    """What ``tf_rootcache`` records while one root is evaluated (its dependencies, in order)."""

    uncacheable: bool

    def reading(self, directory: Path) -> None:
        """``directory`` is about to be read as a module (fingerprint it first)."""

    def module(self, directory: Path, module: ModuleDef, at: int, reported: bool) -> None:
        """The root uses ``module``; ``at``: ``len(errors)`` before its errors were added
        (``reported``: they were added now)."""

    def absent(self, path: Path) -> None:
        """A module source that is not a directory (its later creation changes the result)."""

    def file(self, path: Path) -> None:
        """A file the result depends on is about to be read (``modules.json``)."""


class _NoScope:
    """Scope of ``.tfvars`` values: literals only."""

    def resolve(self, traversal: tuple[Step, ...]) -> Any:
        return Unknown(f"a .tfvars value cannot refer to {'.'.join(map(str, traversal))}")


class Loader:
    """Reads module directories (each once) and evaluates root modules."""

    def __init__(self, root: Path, cache: ParseCache | None = None) -> None:
        self.root = _norm(root)
        self.modules: dict[Path, ModuleDef] = {}
        self.manifests: dict[Path, dict[str, str]] = {}
        self.parsed: ParseCache = cache if cache is not None else {}
        self.instances: list[ResourceInstance] = []
        self.errors: list[ParseError] = []
        self.unresolved: list[Unresolved] = []
        self.files: list[str] = []
        #: modules whose errors and files are in ``errors``/``files`` (once per scan)
        self.reported: set[Path] = set()
        self.trace: Tracer | None = None

    def rel(self, path: Path) -> str:
        """``path`` relative to the scan root; a local module outside it gets a ``../`` path."""
        rel = relative(self.root, path)
        if rel.startswith("/") or (len(rel) > 1 and rel[1] == ":"):
            rel = Path(os.path.relpath(path, self.root)).as_posix()
        return rel

    def module(self, directory: Path) -> ModuleDef:
        """The parsed module in ``directory`` (cached)."""
        found = self.modules.get(directory)
        if found is None:
            if self.trace is not None:
                self.trace.reading(directory)
            found = self.modules[directory] = read_module(directory, self.rel, self.parsed)
        first = directory not in self.reported
        if self.trace is not None:
            self.trace.module(directory, found, len(self.errors), first)
        if first:
            self.reported.add(directory)
            self.errors.extend(found.errors)
            self.files.extend(found.files)
        return found

    # --- variables -------------------------------------------------------------------
    def read_tfvars(self, path: Path) -> dict[str, Any]:
        """Variable values of one tfvars file (a broken file is a ParseError, no values)."""
        rel = self.rel(_norm(path))
        self.files.append(rel)
        try:
            values = load_tfvars(path)
        except Exception as exc:  # noqa: BLE001 - bad input becomes a ParseError
            self.errors.append(ParseError(rel, getattr(exc, "line", 0) or getattr(exc, "lineno", 0) or 0,
                                          f"cannot read variable file: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"))
            return {}
        if path.name.lower().endswith(".json"):
            return values
        return {name: safe_eval(value, _NoScope()) for name, value in values.items()}

    def root_tfvars(self, directory: Path) -> list[dict[str, Any]]:
        """Values of the tfvars files Terraform loads automatically, in its order."""
        names = ["terraform.tfvars", "terraform.tfvars.json"]
        try:
            autos = sorted(p.name for p in directory.iterdir()
                           if p.name.endswith((".auto.tfvars", ".auto.tfvars.json")) and p.is_file())
        except OSError:
            autos = []
        paths = [directory / name for name in names if (directory / name).is_file()]
        return [self.read_tfvars(path) for path in paths + [directory / name for name in autos]]

    # --- evaluation ------------------------------------------------------------------
    def load_root(self, directory: Path, overrides: list[dict[str, Any]]) -> None:
        """Evaluate one root module and collect its resource instances."""
        module = self.module(directory)
        values: dict[str, Any] = {}
        for layer in [*self.root_tfvars(directory), *overrides]:
            values.update(layer)
        inputs: dict[str, Thunk] = {name: _const(value) for name, value in values.items()
                                    if name in module.variables}
        scope = ModuleScope(self, module, "", inputs)
        try:
            self.collect(scope)
        except RecursionError:
            if self.trace is not None:
                self.trace.uncacheable = True
            self.errors.append(ParseError(_first_file(module), 0, "module nests too deeply to evaluate"))

    def collect(self, scope: ModuleScope) -> None:
        """Instances of every resource and data block of ``scope`` and its module calls."""
        for mode, table in (("managed", scope.module.resources), ("data", scope.module.data)):
            for (typ, name), block in table.items():
                try:
                    self.instances.extend(self.block_instances(scope, mode, block))
                except RecursionError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a loader bug must not stop the scan
                    self.errors.append(ParseError(block.file, block.line, "iacscan could not evaluate "
                                                  f"{typ}.{name}: {type(exc).__name__}: {exc} (please report)"))
        for name in scope.module.calls:
            for inst in scope.calls_expansion(name).instances:
                if inst.child is not None:
                    self.collect(inst.child)

    @staticmethod
    def block_instances(scope: ModuleScope, mode: str, block: Block) -> list[ResourceInstance]:
        """The evaluated instances of one resource or data block."""
        typ, name = block.labels
        root_rel = scope.root.module.rel
        lines = dict(block.attr_lines)
        for child in block.blocks:
            if child.kind == "dynamic" and child.labels:
                lines.setdefault(child.labels[0], child.line)
            elif child.kind not in META_BLOCKS:
                lines.setdefault(child.kind, child.line)
        return [ResourceInstance(
            uid=make_uid(root_rel, inst.address), address=inst.address, type=typ, name=name, mode=mode,
            scope=root_rel, module_path=scope.prefix,
            attrs={attr: scope.instance_attr(block, inst, attr) for attr in scope.attr_names(block)},
            location=Location(block.file, block.line), attr_lines=dict(lines),
        ) for inst in scope.expansion(mode, typ, name).instances]

    # --- Host protocol ---------------------------------------------------------------
    def note(self, scope: ModuleScope, address: str, what: str, reason: str, block: Block) -> None:
        """Record a value that could not be resolved (IAC002)."""
        root_rel = scope.root.module.rel
        self.unresolved.append(Unresolved(address, make_uid(root_rel, address), what, reason,
                                          Location(block.file, block.line)))

    def child(self, caller: ModuleScope, name: str, call: Block) -> ModuleDef | Unknown:
        """The module a call loads, or why it cannot be read."""
        source = call.attrs.get("source")
        if caller.depth + 1 > MAX_MODULE_DEPTH:
            return Unknown(f"module {name} nests deeper than {MAX_MODULE_DEPTH} modules")
        if not isinstance(source, str) or "${" in source:
            return Unknown(f"module {name} has no literal source")
        target = (_norm(caller.module.dir / source) if is_local_source(source)
                  else self.downloaded(caller.root.module.dir, ".".join((*caller.calls, name))))
        if target is None:
            return Unknown(f"module {name} (source {source}) is not downloaded; "
                           "run terraform init to let iacscan read it")
        if not target.is_dir():
            if self.trace is not None:
                self.trace.absent(target)
            return Unknown(f"module {name} source {source} is not a directory")
        if target in caller.lineage:
            return Unknown(f"module {name} (source {source}) calls itself (module cycle)")
        return self.module(target)

    def downloaded(self, root_dir: Path, key: str) -> Path | None:
        """Where ``terraform init`` put module ``key`` (``.terraform/modules/modules.json``)."""
        if self.trace is not None:
            self.trace.file(root_dir / ".terraform" / "modules" / "modules.json")
        manifest = self.manifests.get(root_dir)
        if manifest is None:
            manifest = self.manifests[root_dir] = _read_manifest(root_dir)
        found = manifest.get(key)
        return _norm(root_dir / found) if found is not None else None


def _first_file(module: ModuleDef) -> str:
    return module.files[0] if module.files else module.rel


def _const(value: Any) -> Thunk:
    return lambda: value


def _read_manifest(root_dir: Path) -> dict[str, str]:
    path = root_dir / ".terraform" / "modules" / "modules.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return {}
    entries = data.get("Modules") if isinstance(data, dict) else None
    return {str(e["Key"]): str(e["Dir"]) for e in entries or []
            if isinstance(e, dict) and isinstance(e.get("Key"), str) and isinstance(e.get("Dir"), str)}
