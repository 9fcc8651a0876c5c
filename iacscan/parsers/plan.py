"""Terraform plan JSON (``terraform show -json plan.out``) → the model.

The planned state is read from ``planned_values`` (the root module and its
``child_modules``, recursively): one ``ResourceInstance`` per resource, its ``values`` as
attributes, handed to the Terraform model builder (``tf_model.build_estate``), which
reads the same attribute names as for HCL. Resources the plan deletes are not in
``planned_values`` and so not in the model.

Unknown values: a leaf marked ``true`` in ``resource_changes[].change.after_unknown``
becomes ``Unknown("… known only after apply")``, except where the plan's
``configuration`` says which resource it comes from: the id of a group, VPC, subnet…
being created becomes a ``ResourceRef`` to that resource's plan address
(``plan_config``), so rules, workloads and groups link up as in the HCL scan. Inside
``aws_security_group`` ``ingress``/``egress`` (one expression for the whole list in the
configuration) the HCL twin's value is used when the code is at hand.

Ids: a known ``values.id`` is the object's live id; when the planned values lack it, the
``prior_state`` id of the same address is used (unless the plan replaces the resource).
A literal ``sg-…`` in a rule or workload then resolves to that group.

Locations: with the HCL configuration beside the plan (``plan_hcl``), every object points
at its line in the ``.tf`` file and scopes are the module directory, exactly as in the HCL
scan. Without it, locations are the plan file and the line of the resource's
``"address"`` in ``planned_values`` (1 for a one-line plan), and the scope is the plan
file's relative path.

Errors: a file that is not JSON, not a plan, or of an unknown major ``format_version``
is a ``ParseError`` (IAC001); unknown keys are ignored.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iacscan.discover import relative
from iacscan.model import Estate, Location, ParseError, Unknown, make_uid
from iacscan.parsers import plan_hcl
from iacscan.parsers.plan_address import Address, parse_address
from iacscan.parsers.plan_config import ConfigRefs
from iacscan.parsers.tf_types import ResourceInstance, ResourceRef

SUPPORTED_MAJOR = "1"
_ADDRESS_KEY = re.compile(r'"address"\s*:\s*("(?:[^"\\]|\\.)*")')
#: Attributes that hold a list of ids (the rest hold one value).
_LIST_SUFFIXES = ("_ids", "security_groups", "subnets", "vpc_zone_identifier", "cidr_blocks")


class PlanFileError(Exception):
    """The file is not a readable plan (becomes a ParseError)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def is_plan(data: Any) -> bool:
    """True for a decoded ``terraform show -json`` plan."""
    return isinstance(data, dict) and "format_version" in data and (
        "planned_values" in data or "resource_changes" in data)


def parse_plan(root: Path, path: Path) -> Estate:
    """The model of the plan at ``path`` (HCL configuration looked for beside it)."""
    return parse_plan_covering(root, path, [], [])[0]


def parse_plan_covering(root: Path, path: Path, candidates: list[Path],
                        var_files: list[Path]) -> tuple[Estate, set[Path]]:
    """The model of the plan, and the Terraform directories whose code it stands for (the
    root module it was made from and the local modules that root loads), which a scan
    must then not read as HCL too. ``candidates``: scanned Terraform directories where the
    configuration may be, besides the plan file's own directory."""
    path = Path(os.path.abspath(path))
    rel = relative(root, path)
    estate = Estate(root=str(root), files=[rel])
    estate.sources.add("plan")
    try:
        text, data = read_plan(path)
    except PlanFileError as exc:
        estate.errors.append(ParseError(rel, exc.line, exc.message))
        return estate, set()
    config: plan_hcl.HclConfig | None = None
    directory = plan_hcl.config_dir(path, data, candidates)
    if directory is not None:
        config = plan_hcl.load_config(root, directory, var_files)
    builder = _Builder(data, text, rel, config)
    from iacscan.parsers import tf_model

    built = tf_model.build_estate(builder.instances(estate.errors), root, [rel])
    estate.merge(built)
    estate.files = [rel]
    covered: set[Path] = set()
    if config is not None:
        estate.files += config.files
        estate.errors += config.errors
        covered = {(Path(root) / f).parent.resolve() for f in config.files} | {config.directory.resolve()}
    estate.files = sorted(set(estate.files))
    estate.sources = {"plan"}
    return estate, covered


def read_plan(path: Path) -> tuple[str, dict[str, Any]]:
    """The text and decoded JSON of a plan file, or PlanFileError."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PlanFileError(0, f"cannot read plan file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise PlanFileError(line, "plan file is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(exc.lineno, f"plan file is not valid JSON: {exc.msg} (line {exc.lineno}, "
                                        f"column {exc.colno})") from None
    except RecursionError:
        raise PlanFileError(1, "plan file nests too deeply to read") from None
    if not is_plan(data):
        raise PlanFileError(1, "not a Terraform plan: expected the output of 'terraform show -json' "
                               "(format_version and planned_values or resource_changes)")
    version = data.get("format_version")
    major = str(version).split(".", 1)[0] if isinstance(version, (str, int, float)) else ""
    if major != SUPPORTED_MAJOR:
        raise PlanFileError(_line_of(text, '"format_version"'),
                            f"unsupported plan format_version {version!r}: iacscan reads format "
                            f"{SUPPORTED_MAJOR}.x (terraform show -json of Terraform 0.12 to 1.x)")
    return text, data


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _line_of(text: str, needle: str, start: int = 0) -> int:
    found = text.find(needle, start)
    return text.count("\n", 0, found) + 1 if found >= 0 else 1


def planned_resources(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every resource of ``planned_values`` (root module, then child modules, depth first)."""
    planned = data.get("planned_values")
    root = planned.get("root_module") if isinstance(planned, dict) else None
    stack = [root] if isinstance(root, dict) else []
    while stack:
        module = stack.pop(0)
        for res in _list(module.get("resources")):
            if isinstance(res, dict) and isinstance(res.get("address"), str):
                yield res
        children = [c for c in _list(module.get("child_modules")) if isinstance(c, dict)]
        stack[0:0] = children


def _index_prior(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``prior_state`` resources by address."""
    prior = data.get("prior_state")
    values = prior.get("values") if isinstance(prior, dict) else None
    fake = {"planned_values": values} if isinstance(values, dict) else {}
    return {res["address"]: res for res in planned_resources(fake)}


def _index_changes(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``resource_changes[].change`` by address (deposed objects skipped)."""
    out: dict[str, dict[str, Any]] = {}
    for rc in _list(data.get("resource_changes")):
        if isinstance(rc, dict) and isinstance(rc.get("address"), str) and not rc.get("deposed") \
                and isinstance(rc.get("change"), dict):
            out[rc["address"]] = rc["change"]
    return out


def _address_lines(text: str) -> dict[str, int]:
    """The line of each ``"address"`` in ``planned_values`` (the first one elsewhere as fallback)."""
    start = text.find('"planned_values"')
    first: dict[str, int] = {}
    planned: dict[str, int] = {}
    for match in _ADDRESS_KEY.finditer(text):
        try:
            address = json.loads(match.group(1))
        except ValueError:
            continue
        line = text.count("\n", 0, match.start()) + 1
        first.setdefault(address, line)
        if start >= 0 and match.start() > start:
            planned.setdefault(address, line)
    return {**first, **planned}


@dataclass
class _Resource:
    raw: dict[str, Any]
    address: Address


class _Builder:
    """Plan resources → ResourceInstances (unknowns resolved, ids and lines filled in)."""

    def __init__(self, data: dict[str, Any], text: str, rel: str, config: plan_hcl.HclConfig | None) -> None:
        self.data, self.rel, self.config = data, rel, config
        self.changes = _index_changes(data)
        self.prior = _index_prior(data)
        self.lines = _address_lines(text)
        self.resources = [_Resource(r, a) for r in planned_resources(data)
                          if (a := parse_address(r["address"])) is not None]
        self.refs = ConfigRefs(data.get("configuration"), [r.address for r in self.resources])
        self.scope = config.scope if config is not None else rel

    def instances(self, errors: list[ParseError]) -> list[ResourceInstance]:
        """One instance per planned resource; one that cannot be read is a ParseError."""
        out: list[ResourceInstance] = []
        for res in self.resources:
            try:
                out.append(self.instance(res))
            except RecursionError:
                errors.append(ParseError(self.rel, 1, f"{res.raw['address']} nests too deeply to read"))
            except Exception as exc:  # noqa: BLE001 - an unforeseen shape must not stop the scan
                errors.append(ParseError(self.rel, self.lines.get(res.raw["address"], 1),
                                         f"iacscan could not read {res.raw['address']} in the plan: "
                                         f"{type(exc).__name__}: {exc} (please report)"))
        return out

    def instance(self, res: _Resource) -> ResourceInstance:
        raw, address = res.raw, res.address
        rtype, name = address.resource.rsplit(".", 2)[-2:]
        values: dict[str, Any] = raw["values"] if isinstance(raw.get("values"), dict) else {}
        change = self.changes.get(raw["address"], {})
        twin = self.config.twin(address) if self.config is not None else None
        pairs = plan_hcl.pair_elements(rtype, values, twin) if twin is not None else {}
        resolver = _Unknowns(self.refs, address, pairs, twin, rtype)
        applied = resolver.apply(values, change.get("after_unknown"), ())
        attrs = applied if isinstance(applied, dict) else values
        attrs = self._with_id(raw["address"], attrs, change)
        mode = "data" if address.resource.startswith("data.") else "managed"
        if twin is not None:
            attrs = plan_hcl.with_lines(attrs, pairs, twin)
            location, attr_lines = twin.location, dict(twin.attr_lines)
        else:
            location, attr_lines = Location(self.rel, self.lines.get(raw["address"], 1)), {}
        return ResourceInstance(
            uid=make_uid(self.scope, raw["address"]), address=raw["address"], type=rtype, name=name, mode=mode,
            scope=self.scope, module_path=address.module_prefix.rstrip("."), attrs=attrs, location=location,
            attr_lines=attr_lines, source="plan",
        )

    def _with_id(self, address: str, attrs: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
        """The prior id when the planned values lack one and the object is kept."""
        if isinstance(attrs.get("id"), str) and attrs["id"]:
            return attrs
        actions: list[Any] = change["actions"] if isinstance(change.get("actions"), list) else []
        prior = self.prior.get(address)
        prior_id = prior.get("values", {}).get("id") if isinstance(prior, dict) and \
            isinstance(prior.get("values"), dict) else None
        if isinstance(prior_id, str) and prior_id and "delete" not in actions:
            return {**attrs, "id": prior_id}
        return attrs


class _Unknowns:
    """Replaces the unknown leaves of one resource's values."""

    def __init__(self, refs: ConfigRefs, address: Address, pairs: dict[str, list[dict[str, Any] | None]],
                 twin: ResourceInstance | None, rtype: str) -> None:
        self.refs, self.address, self.pairs, self.twin, self.rtype = refs, address, pairs, twin, rtype

    def apply(self, value: Any, unknown: Any, path: tuple[str | int, ...]) -> Any:
        """``value`` with every ``true`` leaf of ``unknown`` (the after_unknown mirror) replaced."""
        if unknown is True:
            return self.whole(path)
        if isinstance(unknown, dict) and (value is None or isinstance(value, dict)):
            out = dict(value or {})
            for key, marker in unknown.items():
                if marker in (False, None, [], {}):
                    continue
                if marker is True and out.get(key) is None and self.unset((*path, key)):
                    out.pop(key, None)
                    continue
                out[key] = self.apply(out.get(key), marker, (*path, key))
            return out
        if isinstance(unknown, list) and (value is None or isinstance(value, list)):
            items = list(value or [])
            items += [None] * (len(unknown) - len(items))
            markers = unknown + [False] * (len(items) - len(unknown))
            scalars = not any(isinstance(x, dict) for x in [*items, *markers])
            if scalars and any(marker is True for marker in markers):
                return self.partial_list(items, markers, path)
            return [Unknown(f"{_dotted((*path, i))} is known only after apply") if marker is True
                    else self.apply(item, marker, (*path, i)) for i, (item, marker) in enumerate(zip(items, markers))]
        return value

    def unset(self, path: tuple[str | int, ...]) -> bool:
        """True when the code does not set ``path``: the provider computes it (``id``, ``arn``,
        an ``egress`` left out…), and it is read as unset, as in the HCL scan. False when the
        resource's configuration is missing (nothing to tell) or the HCL twin holds a set block."""
        if len(path) == 1 and isinstance(path[0], str) and (self.rtype, path[0]) in plan_hcl.SET_BLOCKS \
                and self.twin is not None and isinstance(self.twin.attrs.get(path[0]), list):
            return False
        return self.refs.resource(self.address) is not None and self.refs.expression(self.address, path) is None

    def whole(self, path: tuple[str | int, ...]) -> Any:
        """A whole unknown value: the resources it refers to, else an Unknown. A whole set
        block (``ingress``) unknown in the plan is the HCL twin's when the code is at hand."""
        if len(path) == 1 and isinstance(path[0], str) and (self.rtype, path[0]) in plan_hcl.SET_BLOCKS:
            held = self.twin.attrs.get(path[0]) if self.twin is not None else None
            if isinstance(held, list):
                return list(held)
        found = self.references(path) if _resolvable(path) else []
        leaf = _leaf(path)
        if found and _is_list(leaf) and not isinstance(path[-1], int):
            return found
        if len(found) == 1:
            return found[0]
        where = _dotted(path)
        if len(found) > 1:
            names = ", ".join(f"{r.address}.{r.attribute}" for r in found)
            return Unknown(f"{where} is one of {names}, decided at apply")
        return Unknown(f"{where} is known only after apply")

    def partial_list(self, items: list[Any], unknown: list[Any], path: tuple[str | int, ...]) -> list[Any]:
        """A list of scalars some of which are unknown: the known ones and the references."""
        known = [item for item, marker in zip(items, unknown) if marker is not True and item is not None]
        found = self.references(path) if _resolvable(path) else []
        if found:
            return known + [r for r in found if r not in known]
        return known + [Unknown(f"{_dotted(path)} element is known only after apply")
                        for marker in unknown if marker is True]

    def references(self, path: tuple[str | int, ...]) -> list[ResourceRef]:
        """What the configuration (or, inside an attribute-as-block list, the HCL) says ``path`` is."""
        expr = self.refs.expression(self.address, path)
        want_id = _wants_id(path)
        if expr is not None and all(isinstance(s, int) for s in expr.rest):
            return self.refs.resolve(expr.references, self.address, want_id)
        if expr is None or not expr.rest:
            return []
        from_code = self.from_twin(path)
        if from_code:
            return from_code
        found = self.refs.resolve(expr.references, self.address, want_id)
        return found if len(found) == 1 else []

    def from_twin(self, path: tuple[str | int, ...]) -> list[ResourceRef]:
        """The references the HCL twin's paired element holds at ``path``."""
        if self.twin is None or len(path) < 3 or not isinstance(path[1], int) or not isinstance(path[0], str):
            return []
        paired = self.pairs.get(path[0]) or []
        element = paired[path[1]] if path[1] < len(paired) else None
        if element is None or not isinstance(path[2], str):
            return []
        return plan_hcl.refs_in(element.get(path[2]))


def _is_list(leaf: str) -> bool:
    return leaf.endswith(_LIST_SUFFIXES)


def _leaf(path: tuple[str | int, ...]) -> str:
    return next((s for s in reversed(path) if isinstance(s, str)), "")


def _wants_id(path: tuple[str | int, ...]) -> bool:
    """An attribute that holds ids (a bare ``x[count.index]`` reference means ``x[i].id``)."""
    leaf = _leaf(path)
    return leaf.endswith(("_id", "_ids")) or leaf in ("security_groups", "subnets", "vpc_zone_identifier")


def _resolvable(path: tuple[str | int, ...]) -> bool:
    """An attribute that names another resource (an id, arn, name or identifier)."""
    leaf = _leaf(path)
    return _wants_id(path) or leaf.endswith(("_arn", "_arns", "_name", "identifier")) or \
        leaf in ("instance", "network_interface")


def _dotted(path: tuple[str | int, ...]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text or "value"
