"""The plan's ``configuration`` section: which resource an unknown attribute refers to.

Before apply, an attribute that holds the id of a resource being created (a rule's
``security_group_id``, an instance's ``vpc_security_group_ids``) is unknown in the plan's
values. The configuration keeps the expression it came from as a list of references
(``["aws_security_group.web.id", "aws_security_group.web"]``); ``ConfigRefs`` turns those
into ``ResourceRef`` objects naming plan instance addresses, following module outputs
(``module.bastion.security_group_id`` → the output's own references inside the module)
and module input variables (``var.x`` inside a module → the caller's argument).

Configuration addresses carry no instance keys and, inside modules, are relative to the
module. A reference without a key to a resource with several instances names all of them,
except with ``count.index``/``each.*`` in the same expression, where the instance with the
referrer's own key is meant.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from iacscan.parsers.plan_address import Address, ModuleStep, split_steps
from iacscan.parsers.tf_types import ResourceRef

#: In a module pattern: any instance key of that module call.
ANY = "*"
MAX_DEPTH = 16
_NOT_RESOURCES = ("local", "each", "count", "path", "self", "terraform", "var", "module")


@dataclass(frozen=True)
class Expression:
    """An attribute's configuration expression and the path steps it still covers
    (non-empty for an element inside an attribute written as one expression)."""

    references: tuple[str, ...]
    rest: tuple[str | int, ...]
    constant: bool


def _expression(value: Any) -> bool:
    return isinstance(value, dict) and ("references" in value or "constant_value" in value)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


class ConfigRefs:
    """Reference resolution over one plan's configuration and instance addresses."""

    def __init__(self, configuration: Any, addresses: list[Address]) -> None:
        self.root = configuration.get("root_module") if isinstance(configuration, dict) else None
        self.addresses = addresses

    # --- configuration lookup ------------------------------------------------------
    def module(self, names: list[str]) -> dict[str, Any] | None:
        """The configuration of the module reached through the call ``names``."""
        current = self.root
        for name in names:
            calls = current.get("module_calls") if isinstance(current, dict) else None
            call = calls.get(name) if isinstance(calls, dict) else None
            current = call.get("module") if isinstance(call, dict) else None
        return current if isinstance(current, dict) else None

    def resource(self, address: Address) -> dict[str, Any] | None:
        """The configuration block of the resource an instance belongs to."""
        module = self.module([name for name, _ in address.modules])
        resources = (module or {}).get("resources")
        for res in resources if isinstance(resources, list) else []:
            if isinstance(res, dict) and res.get("address") in (address.resource, address.config_address):
                return res
        return None

    def expression(self, address: Address, path: tuple[str | int, ...]) -> Expression | None:
        """The expression that sets ``path`` (``("vpc_config", 0, "security_group_ids", 1)``)."""
        res = self.resource(address)
        current: Any = res.get("expressions") if res else None
        for i, step in enumerate(path):
            if _expression(current):
                return Expression(_strings(current.get("references")), path[i:], "constant_value" in current)
            if isinstance(step, str) and isinstance(current, dict):
                current = current.get(step)
            elif isinstance(step, int) and isinstance(current, list) and 0 <= step < len(current):
                current = current[step]
            else:
                return None
        if _expression(current):
            return Expression(_strings(current.get("references")), (), "constant_value" in current)
        return None

    # --- references ----------------------------------------------------------------
    def resolve(self, references: tuple[str, ...], referrer: Address, want_id: bool) -> list[ResourceRef]:
        """The resource attributes ``references`` (written in ``referrer``'s module) name."""
        pattern = tuple(referrer.modules)
        return _unique(self._refs(references, pattern, referrer, want_id, 0))

    def _refs(self, references: tuple[str, ...], prefix: tuple[ModuleStep, ...], referrer: Address,
              want_id: bool, depth: int) -> list[ResourceRef]:
        if depth > MAX_DEPTH:
            return []
        iterates = any(r.startswith(("count.", "each.")) for r in references)
        out: list[ResourceRef] = []
        bare: list[tuple[str, str | None]] = []
        with_attr: set[str] = set()
        for text in references:
            steps = split_steps(text)
            if not steps:
                continue
            head = steps[0][0]
            if head == "var" and len(steps) >= 2:
                out += self._variable(steps[1][0], prefix, referrer, want_id, depth)
            elif head == "module" and len(steps) >= 3:
                out += self._output(steps[1], steps[2][0], prefix, referrer, want_id, depth)
            elif head not in _NOT_RESOURCES:
                target = _resource_step(steps)
                if target is None:
                    continue
                resource, key, attribute = target
                if attribute is None:
                    bare.append((resource, key))
                    continue
                with_attr.add(resource)
                out += [ResourceRef(addr, attribute) for addr in self.targets(prefix, resource, key, referrer, iterates)]
        if want_id and iterates:
            for resource, key in bare:
                if resource not in with_attr:
                    out += [ResourceRef(addr, "id") for addr in self.targets(prefix, resource, key, referrer, True)]
        return out

    def _variable(self, name: str, prefix: tuple[ModuleStep, ...], referrer: Address, want_id: bool,
                  depth: int) -> list[ResourceRef]:
        """``var.name`` inside a module: the references of the caller's argument."""
        if not prefix:
            return []
        parent, (call, _) = prefix[:-1], prefix[-1]
        module = self.module([n for n, _ in parent])
        calls = (module or {}).get("module_calls") or {}
        caller = calls.get(call) if isinstance(calls, dict) else None
        args = caller.get("expressions") if isinstance(caller, dict) else None
        arg = args.get(name) if isinstance(args, dict) else None
        if not isinstance(arg, dict) or not _expression(arg):
            return []
        return self._refs(_strings(arg.get("references")), parent, referrer, want_id, depth + 1)

    def _output(self, call: tuple[str, str | None], output: str, prefix: tuple[ModuleStep, ...],
                referrer: Address, want_id: bool, depth: int) -> list[ResourceRef]:
        """``module.call.output``: the references of the output's expression, in the module."""
        name, key = call
        child = (*prefix, (name, ANY if key is None else key))
        module = self.module([n for n, _ in child])
        outputs = (module or {}).get("outputs")
        out = outputs.get(output) if isinstance(outputs, dict) else None
        expr = out.get("expression") if isinstance(out, dict) else None
        if not isinstance(expr, dict) or not _expression(expr):
            return []
        return self._refs(_strings(expr.get("references")), child, referrer, want_id, depth + 1)

    def targets(self, prefix: tuple[ModuleStep, ...], resource: str, key: str | None, referrer: Address,
                iterates: bool) -> list[str]:
        """Plan addresses of ``resource`` (with ``key`` when given) in the modules ``prefix`` matches."""
        found = [a for a in self.addresses
                 if a.resource == resource and _modules_match(a.modules, prefix) and (key is None or a.key == key)]
        if not found:
            modules = "".join(f"module.{n}" + ("" if k in (None, ANY) else f"[{k}]") + "." for n, k in prefix)
            return [modules + resource + ("" if key is None else f"[{key}]")]
        if key is None and iterates and len(found) > 1 and referrer.key is not None:
            same = [a for a in found if a.key == referrer.key]
            if same:
                found = same
        return [str(a) for a in found]


def _resource_step(steps: list[tuple[str, str | None]]) -> tuple[str, str | None, str | None] | None:
    """``(resource, key, attribute)`` of a resource reference (attribute None when bare)."""
    if steps[0] == ("data", None):
        if len(steps) < 3 or steps[1][1] is not None:
            return None
        rest = steps[3:]
        return f"data.{steps[1][0]}.{steps[2][0]}", steps[2][1], rest[0][0] if rest else None
    if len(steps) < 2 or steps[0][1] is not None:
        return None
    rest = steps[2:]
    return f"{steps[0][0]}.{steps[1][0]}", steps[1][1], rest[0][0] if rest else None


def _modules_match(modules: tuple[ModuleStep, ...], pattern: tuple[ModuleStep, ...]) -> bool:
    if len(modules) != len(pattern):
        return False
    return all(n == pn and (pk == ANY or k == pk) for (n, k), (pn, pk) in zip(modules, pattern))


def _unique(refs: list[ResourceRef]) -> list[ResourceRef]:
    out: list[ResourceRef] = []
    for ref in refs:
        if ref not in out:
            out.append(ref)
    return out
