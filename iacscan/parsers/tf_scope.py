"""The scope of one Terraform module instance: what ``var.x``, ``local.y``, ``module.z.out``,
``aws_vpc.main.cidr_block``, ``data.t.n.id``, ``path.module``, ``count.index`` and
``each.value`` mean inside it.

Everything is evaluated lazily and memoised (a value is computed the first time something
refers to it); a reference back to a value being computed is a cycle and yields
``Unknown``. Resource attributes that the code states are their evaluated value; any other
attribute is a ``ResourceRef`` (known only after apply).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from iacscan.model import Unknown
from iacscan.parsers.tf_files import Block
from iacscan.parsers.tf_module import META_ATTRS, BlockEvaluator, ModuleDef
from iacscan.parsers.tf_types import ResourceRef
from iacscan.parsers.tf_values import (
    ResourceObject, Step, count_value, for_each_items, key_suffix, ref_path, safe_eval, walk,
)

Thunk = Callable[[], Any]


class Host(Protocol):
    """What a module scope needs from the loader."""

    def note(self, scope: ModuleScope, address: str, what: str, reason: str, block: Block) -> None: ...

    def child(self, caller: ModuleScope, name: str, call: Block) -> ModuleDef | Unknown: ...


@dataclass
class Instance:
    """One instance of a resource, data source or module call."""

    key: str | int | None
    address: str
    scope: InstanceScope
    child: ModuleScope | None = None


@dataclass
class Expansion:
    """The instances of one block; ``keyed`` when ``count``/``for_each`` gave known keys."""

    instances: list[Instance] = field(default_factory=list)
    keyed: bool = False
    kind: str = ""  # "count" / "for_each" / "" (no meta-argument)
    unknown: str = ""  # "count" / "for_each" when that value is unknown (one instance, no key)
    failure: Unknown | None = None  # module calls that cannot be loaded


class InstanceScope:
    """A module scope plus ``count.index`` / ``each.key`` / ``each.value`` of one instance."""

    def __init__(self, parent: ModuleScope, key: str | int | None, value: Any = None,
                 mode: str = "") -> None:
        self.parent, self.key, self.value, self.mode = parent, key, value, mode

    def resolve(self, traversal: tuple[Step, ...]) -> Any:
        """``count``/``each`` here, everything else from the module scope."""
        head, rest = traversal[0], tuple(traversal[1:])
        if head == "count" and self.mode == "count" and rest[:1] == ("index",):
            return walk(self.key, rest[1:], _no_element("count.index"))
        if head == "each" and self.mode == "for_each" and rest:
            value = self.key if rest[0] == "key" else self.value if rest[0] == "value" else None
            return walk(value, rest[1:], _no_element(f"each.{rest[0]}"))
        if head == "each" and self.mode == "unknown":
            return self.value
        if head == "count" and self.mode == "unknown":
            return self.value
        return self.parent.resolve(traversal)


class MissingValue(LookupError):
    """A traversal into a known value finds nothing: an error in Terraform, so ``try()``
    and ``can()`` in the evaluator can fall back (``try(var.x.y, null)``)."""


def _no_element(label: str) -> Callable[[tuple[Step, ...]], Any]:
    def missing(rest: tuple[Step, ...]) -> Any:
        raise MissingValue(f"{label} has no element {'.'.join(map(str, rest))}")
    return missing


class ModuleScope:
    """One instance of a module (the root, or ``module.a[0].module.b``)."""

    def __init__(self, host: Host, module: ModuleDef, prefix: str, inputs: dict[str, Thunk],
                 root: ModuleScope | None = None, calls: tuple[str, ...] = (), depth: int = 0) -> None:
        self.host, self.module, self.prefix, self.inputs = host, module, prefix, inputs
        self.root = root or self
        self.calls, self.depth = calls, depth  # module call names from the root (modules.json keys)
        self.evaluator = BlockEvaluator(self._note_block)
        self.lineage: tuple[Any, ...] = (module.dir,)
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._busy: set[tuple[Any, ...]] = set()

    # --- plumbing --------------------------------------------------------------------
    def address(self, local: str) -> str:
        """``local`` (``aws_x.y``) prefixed with this module's address."""
        return f"{self.prefix}.{local}" if self.prefix else local

    def where(self) -> str:
        return self.prefix or "the root module"

    def memo(self, key: tuple[Any, ...], label: str, compute: Thunk) -> Any:
        """``compute()`` once per key; a reference back into a running computation is a cycle."""
        if key in self._memo:
            return self._memo[key]
        if key in self._busy:
            return Unknown(f"{label} refers to itself (cycle)")
        self._busy.add(key)
        try:
            value = compute()
        finally:
            self._busy.discard(key)
        self._memo[key] = value
        return value

    def _note_block(self, what: str, reason: str, block: Block) -> None:
        self.host.note(self, self.where(), what, reason, block)

    # --- resolution ------------------------------------------------------------------
    def resolve(self, traversal: tuple[Step, ...]) -> Any:
        """The value of a static traversal inside this module (see ``tf_types.Scope``)."""
        head, rest = str(traversal[0]), tuple(traversal[1:])
        if head in ("var", "local") and rest:
            getter = self.var if head == "var" else self.local
            return walk(getter(str(rest[0])), rest[1:], _no_element(f"{head}.{rest[0]}"))
        if head == "module" and rest:
            return self._module_value(str(rest[0]), rest[1:])
        if head == "data" and len(rest) >= 2:
            return self._resource_value("data", str(rest[0]), str(rest[1]), rest[2:])
        if head == "path" and rest:
            value = {"module": self.module.rel, "root": self.root.module.rel, "cwd": "."}.get(str(rest[0]))
            return value if value is not None else Unknown(f"path.{rest[0]} is not supported")
        if head == "terraform" and rest[:1] == ("workspace",):
            return "default"
        if head in ("count", "each", "self"):
            return Unknown(f"{head}.{'.'.join(map(str, rest))} is not available here")
        if rest:
            return self._resource_value("managed", head, str(rest[0]), rest[1:])
        return Unknown(f"{head} is not a known name")

    def var(self, name: str) -> Any:
        """The value of ``var.name``: the caller's input, else the default, else Unknown."""
        return self.memo(("var", name), f"var.{name}", lambda: self._var(name))

    def _var(self, name: str) -> Any:
        declared = self.module.variables.get(name)
        if name in self.inputs:
            return self.inputs[name]()
        if declared is None:
            return Unknown(f"var.{name} is not declared in {self.where()}")
        if "default" in declared.attrs:
            return safe_eval(declared.attrs["default"], self)
        return Unknown(f"var.{name} has no value")

    def local(self, name: str) -> Any:
        """The value of ``local.name``."""
        found = self.module.locals.get(name)
        if found is None:
            return Unknown(f"local.{name} is not declared in {self.where()}")
        return self.memo(("local", name), f"local.{name}", lambda: safe_eval(found[0], self))

    def output(self, name: str) -> Any:
        """The value of output ``name`` of this module."""
        block = self.module.outputs.get(name)
        if block is None or "value" not in block.attrs:
            return Unknown(f"{self.where()} has no output {name}")
        return self.memo(("output", name), f"output {name}", lambda: safe_eval(block.attrs["value"], self))

    # --- resources -------------------------------------------------------------------
    def block_of(self, mode: str, typ: str, name: str) -> Block | None:
        table = self.module.resources if mode == "managed" else self.module.data
        return table.get((typ, name))

    def expansion(self, mode: str, typ: str, name: str) -> Expansion:
        """The instances of a resource or data block (memoised)."""
        local = f"{typ}.{name}" if mode == "managed" else f"data.{typ}.{name}"
        block = self.block_of(mode, typ, name)
        assert block is not None
        return self.memo(("expand", mode, typ, name), local, lambda: self.expand(block, self.address(local)))

    def expand(self, block: Block, address: str) -> Expansion:
        """Instances per ``count``/``for_each`` (unknown → one instance without key + a note)."""
        if "count" in block.attrs:
            count = count_value(safe_eval(block.attrs["count"], self))
            if not isinstance(count, Unknown):
                scopes = [InstanceScope(self, index, mode="count") for index in range(count)]
                return Expansion([Instance(s.key, address + key_suffix(s.key), s) for s in scopes], True, "count")
            return self._unknown_expansion(block, address, "count", count)
        if "for_each" in block.attrs:
            items = for_each_items(safe_eval(block.attrs["for_each"], self))
            if not isinstance(items, Unknown):
                scopes = [InstanceScope(self, key, value, mode="for_each") for key, value in items]
                return Expansion([Instance(s.key, address + key_suffix(s.key), s) for s in scopes], True,
                                 "for_each")
            return self._unknown_expansion(block, address, "for_each", items)
        return Expansion([Instance(None, address, InstanceScope(self, None))])

    def _unknown_expansion(self, block: Block, address: str, what: str, unknown: Unknown) -> Expansion:
        self.host.note(self, address, what, unknown.reason, block)
        scope = InstanceScope(self, None, Unknown(f"{what} of {address}: {unknown.reason}"), mode="unknown")
        return Expansion([Instance(None, address, scope)], kind=what, unknown=what)

    def _resource_value(self, mode: str, typ: str, name: str, rest: tuple[Step, ...]) -> Any:
        label = f"{typ}.{name}" if mode == "managed" else f"data.{typ}.{name}"
        block = self.block_of(mode, typ, name)
        if block is None:
            if mode == "data":
                return ResourceRef(self.address(label), ref_path("", rest))
            return Unknown(f"{label} is not declared in {self.where()}")
        expansion = self.expansion(mode, typ, name)
        return self._select(expansion, rest, lambda inst, more: self.instance_value(block, inst, more))

    def _select(self, expansion: Expansion, rest: tuple[Step, ...],
                value: Callable[[Instance, tuple[Step, ...]], Any]) -> Any:
        """Pick instances by index/key (or splat) then evaluate the rest against them."""
        if not expansion.keyed:
            return self._select_single(expansion, rest, value)
        instances = expansion.instances
        if not rest:
            if expansion.kind == "count":
                return [value(inst, ()) for inst in instances]
            return {str(inst.key): value(inst, ()) for inst in instances}
        if rest[0] == "*":
            return [value(inst, rest[1:]) for inst in instances]
        for inst in instances:
            if inst.key == rest[0] or (isinstance(inst.key, int) and str(inst.key) == str(rest[0])):
                return value(inst, rest[1:])
        if isinstance(rest[0], str) and instances and isinstance(instances[0].key, int) and rest[0].isidentifier():
            raise MissingValue(f"{expansion_label(expansion)} has count; index it before .{rest[0]}")
        raise MissingValue(f"no instance [{rest[0]!r}] of {expansion_label(expansion)}")

    @staticmethod
    def _select_single(expansion: Expansion, rest: tuple[Step, ...],
                       value: Callable[[Instance, tuple[Step, ...]], Any]) -> Any:
        """Without known keys there is one instance: an index or key picks it. The whole
        collection of an unknown ``count`` is taken as that one instance (as splats are)."""
        only = expansion.instances[0]
        if rest[:1] == ("*",):
            return [value(only, rest[1:])]
        if expansion.unknown == "count":
            if not rest:
                return [value(only, ())]
            if isinstance(rest[0], int):
                rest = rest[1:]
        elif expansion.unknown == "for_each":
            if not rest:
                return Unknown(getattr(only.scope.value, "reason", f"for_each of {only.address} is unknown"))
            rest = rest[1:]
        return value(only, rest)

    def instance_value(self, block: Block, inst: Instance, rest: tuple[Step, ...]) -> Any:
        """A stated attribute's value, else a ``ResourceRef`` (the whole object when no rest)."""
        if not rest:
            obj = ResourceObject({name: ResourceRef(inst.address, name) for name in ("id", "arn")})
            obj.update({name: self.instance_attr(block, inst, name) for name in self.attr_names(block)})
            obj.address = inst.address
            return obj
        attr = str(rest[0])
        if attr not in block.attrs and attr not in self.evaluator.nested_names(block) or attr in META_ATTRS:
            return ResourceRef(inst.address, ref_path(attr, rest[1:]))
        return walk(self.instance_attr(block, inst, attr), rest[1:],
                    lambda more: ResourceRef(inst.address, ref_path(attr, rest[1:])))

    def attr_names(self, block: Block) -> list[str]:
        """The attribute and nested block names of a resource (meta-arguments left out)."""
        names = [name for name in block.attrs if name not in META_ATTRS]
        return names + [name for name in self.evaluator.nested_names(block) if name not in block.attrs]

    def instance_attr(self, block: Block, inst: Instance, name: str) -> Any:
        """One evaluated top-level attribute (or nested block list) of one instance."""
        def compute() -> Any:
            evaluator = BlockEvaluator(lambda what, reason, blk: self.host.note(self, inst.address, what, reason, blk))
            if name in block.attrs:
                return evaluator.attribute(block, name, inst.scope)
            return evaluator.nested(block, name, inst.scope)
        return self.memo(("attr", inst.address, name), f"{inst.address}.{name}", compute)

    # --- module calls ----------------------------------------------------------------
    def calls_expansion(self, name: str) -> Expansion:
        """The instances of module call ``name`` with their module scopes (memoised)."""
        return self.memo(("call", name), f"module.{name}", lambda: self._expand_call(name))

    def _expand_call(self, name: str) -> Expansion:
        call = self.module.calls[name]
        address = self.address(f"module.{name}")
        loaded = self.host.child(self, name, call)
        if isinstance(loaded, Unknown):
            self.host.note(self, address, "module", loaded.reason, call)
            return Expansion(failure=loaded)
        expansion = self.expand(call, address)
        for inst in expansion.instances:
            inputs = {key: _input(call, key, inst.scope) for key in call.attrs
                      if key not in META_ATTRS and key not in ("source", "version", "providers")}
            inst.child = ModuleScope(self.host, loaded, inst.address, inputs, self.root,
                                     (*self.calls, name), self.depth + 1)
            inst.child.lineage = (*self.lineage, loaded.dir)
        return expansion

    def _module_value(self, name: str, rest: tuple[Step, ...]) -> Any:
        if name not in self.module.calls:
            return Unknown(f"module.{name} is not declared in {self.where()}")
        expansion = self.calls_expansion(name)
        if expansion.failure is not None:
            return expansion.failure
        return self._select(expansion, rest, _output_of)


def _output_of(inst: Instance, rest: tuple[Step, ...]) -> Any:
    child = inst.child
    assert child is not None
    if not rest:
        return {name: child.output(name) for name in child.module.outputs}
    return walk(child.output(str(rest[0])), rest[1:], _no_element(f"{inst.address}.{rest[0]}"))


def _input(call: Block, key: str, scope: InstanceScope) -> Thunk:
    return lambda: safe_eval(call.attrs[key], scope)


def expansion_label(expansion: Expansion) -> str:
    first = expansion.instances[0].address if expansion.instances else "?"
    return first.rsplit("[", 1)[0]
