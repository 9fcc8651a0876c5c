"""One Terraform module directory, parsed and indexed, and the evaluation of blocks.

``ModuleDef`` holds a directory's blocks by kind (variables, locals, resources, data
sources, module calls, outputs). ``BlockEvaluator`` turns a resource's body into the
attribute dict a ``ResourceInstance`` carries: attributes evaluated, nested blocks as
lists of dicts with their line under ``LINE``, ``dynamic`` blocks expanded.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iacscan.model import ParseError, Unknown
from iacscan.parsers.tf_files import Block, ParseCache, load_file
from iacscan.parsers.tf_types import LINE, Scope
from iacscan.parsers.tf_values import dynamic_items, safe_eval, walk

#: Meta-arguments and blocks that are not resource attributes.
META_ATTRS = frozenset({"count", "for_each", "provider", "depends_on"})
META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection", "dynamic"})


@dataclass
class ModuleDef:
    """The blocks of one module directory (every ``*.tf`` and ``*.tf.json`` in it)."""

    dir: Path
    rel: str
    files: list[str] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    variables: dict[str, Block] = field(default_factory=dict)
    locals: dict[str, tuple[Any, Block]] = field(default_factory=dict)
    resources: dict[tuple[str, str], Block] = field(default_factory=dict)
    data: dict[tuple[str, str], Block] = field(default_factory=dict)
    calls: dict[str, Block] = field(default_factory=dict)
    outputs: dict[str, Block] = field(default_factory=dict)

    def add(self, block: Block) -> None:
        """Index one top-level block (a duplicate declaration keeps the first)."""
        if block.kind == "locals":
            for name, value in block.attrs.items():
                self.locals.setdefault(name, (value, block))
            return
        table: dict[Any, Block] | None = {
            "variable": self.variables, "module": self.calls, "output": self.outputs,
        }.get(block.kind)
        if table is not None and len(block.labels) == 1:
            table.setdefault(block.labels[0], block)
        elif block.kind in ("resource", "data") and len(block.labels) == 2:
            target = self.resources if block.kind == "resource" else self.data
            target.setdefault((block.labels[0], block.labels[1]), block)


def tf_files(directory: Path) -> list[Path]:
    """The Terraform files of a directory, sorted by name."""
    try:
        entries = list(directory.iterdir())
    except OSError:
        return []
    return sorted((p for p in entries if p.name.lower().endswith((".tf", ".tf.json")) and p.is_file()),
                  key=lambda p: p.name)


def read_module(directory: Path, rel_of: Callable[[Path], str], cache: ParseCache | None = None) -> ModuleDef:
    """Parse every Terraform file of ``directory`` (each file once) into a ``ModuleDef``."""
    module = ModuleDef(dir=directory, rel=rel_of(directory))
    for path in tf_files(directory):
        if path.is_symlink() and rel_of(path.resolve()).startswith("..") and not module.rel.startswith(".."):
            continue  # a link leaving the scan root is not read (discovery notes it: IAC002)
        rel = rel_of(path)
        module.files.append(rel)
        result = load_file(path, rel, cache)
        if result.error is not None:
            module.errors.append(result.error)
        for block in result.blocks:
            module.add(block)
    return module


Note = Callable[[str, str, Block], None]


class IterScope:
    """A ``dynamic`` block's iterator (``name.key``, ``name.value``) over a parent scope."""

    def __init__(self, parent: Scope, name: str, key: Any, value: Any) -> None:
        self.parent, self.name, self.value = parent, name, {"key": key, "value": value}

    def resolve(self, traversal: tuple[str | int, ...]) -> Any:
        """The iterator's key/value, else whatever the parent scope says."""
        if traversal and traversal[0] == self.name:
            return walk(self.value, tuple(traversal[1:]), self._missing)
        return self.parent.resolve(traversal)


    def _missing(self, rest: tuple[str | int, ...]) -> Any:
        raise LookupError(f"{self.name} has no attribute {'.'.join(map(str, rest))}")


class BlockEvaluator:
    """Evaluates block bodies; ``note(what, reason, block)`` records what stays unresolved."""

    def __init__(self, note: Note) -> None:
        self.note = note

    def attribute(self, block: Block, name: str, scope: Scope) -> Any:
        """One attribute of ``block`` evaluated; list elements that are objects get their line."""
        value = safe_eval(block.attrs[name], scope)
        if isinstance(value, list) and any(isinstance(item, dict) for item in value):
            lines = block.element_lines.get(name) or []
            default = block.attr_lines.get(name, block.line)
            value = [{**item, LINE: lines[i] if i < len(lines) and lines[i] else default}
                     if isinstance(item, dict) else item for i, item in enumerate(value)]
        return value

    def nested(self, block: Block, name: str, scope: Scope) -> list[dict[str, Any]]:
        """All nested blocks called ``name`` (static and ``dynamic``), in source order."""
        found: list[dict[str, Any]] = []
        for child in block.blocks:
            if child.kind == name:
                found.append(self.body(child, scope))
            elif child.kind == "dynamic" and child.labels[:1] == [name]:
                found.extend(self.dynamic(child, scope))
        return found

    def nested_names(self, block: Block) -> list[str]:
        """Names of the nested block types of ``block`` (dynamic ones by their label)."""
        names: dict[str, None] = {}
        for child in block.blocks:
            if child.kind == "dynamic" and child.labels:
                names[child.labels[0]] = None
            elif child.kind not in META_BLOCKS:
                names[child.kind] = None
        return list(names)

    def body(self, block: Block, scope: Scope, line: int = 0) -> dict[str, Any]:
        """A nested block's body as a dict with its start line under ``LINE``."""
        result: dict[str, Any] = {name: self.attribute(block, name, scope) for name in block.attrs}
        for name in self.nested_names(block):
            result[name] = self.nested(block, name, scope)
        result[LINE] = line or block.line
        return result

    def dynamic(self, block: Block, scope: Scope) -> list[dict[str, Any]]:
        """The blocks a ``dynamic "x" { for_each ...; content {...} }`` block generates."""
        label = block.labels[0] if block.labels else "dynamic"
        iterator = str(block.attrs.get("iterator") or label).strip()
        if iterator.startswith("${") and iterator.endswith("}"):
            iterator = iterator[2:-1].strip()
        content = next((child for child in block.blocks if child.kind == "content"), None)
        if content is None:
            return []
        items = dynamic_items(safe_eval(block.attrs.get("for_each"), scope))
        if isinstance(items, Unknown):
            self.note(f"for_each of dynamic {label} block", items.reason, block)
            items = [(items, items)]
        return [self.body(content, IterScope(scope, iterator, key, value), line=block.line)
                for key, value in items]
