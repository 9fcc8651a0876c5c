"""The HCL configuration beside a plan: which directory it is, and its lines.

A plan carries no line numbers. When the Terraform root module the plan was made from is
at hand (the plan file's directory, or a scanned directory), it is loaded with the HCL
loader and each plan instance borrows its twin's location: the ``resource`` line, the
top-level attribute lines and the start line (``LINE``) of each nested block element.

Twins are found by address (the exact instance address, else the first HCL instance of
the same configuration address: keys may differ when ``count``/``for_each`` could not be
evaluated from the code alone). Elements of set blocks (security group and NACL ``ingress``/``egress``, route table
``route``) are in the plan's order, not the code's: they are paired by content (protocol,
ports and destination must agree; the most other values in common wins); other nested
blocks by position.

Which directory: the candidate that declares the most of the plan's root-module
resources and module calls (a cheap text scan of ``*.tf`` and ``*.tf.json``), the plan
file's own directory first on a tie; none when no candidate declares any of them.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iacscan.model import ParseError, Unknown
from iacscan.net import normalize_protocol
from iacscan.parsers.plan_address import Address
from iacscan.parsers.tf_types import LINE, ResourceInstance, ResourceRef

_DECL = re.compile(r'^[ \t]*(resource|data)[ \t]+"?([A-Za-z0-9_-]+)"?[ \t]+"?([A-Za-z0-9_-]+)"?', re.M)
_MODULE = re.compile(r'^[ \t]*module[ \t]+"?([A-Za-z0-9_-]+)"?[ \t]*\{', re.M)
#: Nested blocks the provider keeps as a set: the plan's order is not the code's.
SET_BLOCKS = {(t, k) for t in ("aws_security_group", "aws_default_security_group", "aws_network_acl",
                               "aws_default_network_acl") for k in ("ingress", "egress")} | \
    {("aws_route_table", "route"), ("aws_default_route_table", "route")}
#: Values that must agree for two set elements to be the same one.
_STRICT = ("protocol", "from_port", "to_port", "cidr_block", "ipv6_cidr_block", "rule_no", "action")


@dataclass
class HclConfig:
    """The evaluated HCL instances of a plan's root module, by address."""

    directory: Path
    scope: str
    by_address: dict[str, ResourceInstance] = field(default_factory=dict)
    by_config: dict[str, list[ResourceInstance]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)

    def twin(self, address: Address) -> ResourceInstance | None:
        """The HCL instance a plan instance was made from."""
        found = self.by_address.get(str(address))
        if found is not None:
            return found
        same = self.by_config.get(address.config_address)
        return same[0] if same else None


# --- which directory -----------------------------------------------------------------
def plan_declarations(plan: dict[str, Any]) -> set[str]:
    """``type.name``/``data.type.name`` of the root module's resources and ``module.call``."""
    config = plan.get("configuration")
    root = config.get("root_module") if isinstance(config, dict) else None
    if not isinstance(root, dict):
        return set()
    resources, calls = root.get("resources"), root.get("module_calls")
    out = {r["address"] for r in (resources if isinstance(resources, list) else [])
           if isinstance(r, dict) and isinstance(r.get("address"), str)}
    out |= {f"module.{name}" for name in (calls if isinstance(calls, dict) else {}) if isinstance(name, str)}
    return out


def declared(directory: Path) -> set[str]:
    """What the ``*.tf``/``*.tf.json`` files of ``directory`` declare (text scan)."""
    out: set[str] = set()
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return out
    for name in names:
        path = directory / name
        try:
            if name.endswith(".tf"):
                text = path.read_text(encoding="utf-8", errors="replace")
                out |= {(f"data.{t}.{n}" if kind == "data" else f"{t}.{n}") for kind, t, n in _DECL.findall(text)}
                out |= {f"module.{n}" for n in _MODULE.findall(text)}
            elif name.endswith(".tf.json"):
                out |= _json_declared(json.loads(path.read_text(encoding="utf-8-sig")))
        except (OSError, ValueError):
            continue
    return out


def _json_declared(data: Any) -> set[str]:
    out: set[str] = set()
    if not isinstance(data, dict):
        return out
    for kind, prefix in (("resource", ""), ("data", "data.")):
        for typ, named in (data.get(kind) or {}).items() if isinstance(data.get(kind), dict) else ():
            if isinstance(named, dict):
                out |= {f"{prefix}{typ}.{name}" for name in named}
    if isinstance(data.get("module"), dict):
        out |= {f"module.{name}" for name in data["module"]}
    return out


def config_dir(plan_path: Path, plan: dict[str, Any], candidates: list[Path]) -> Path | None:
    """The directory holding the root module the plan was made from, or None."""
    wanted = plan_declarations(plan)
    if not wanted:
        return None
    best: Path | None = None
    best_score = 0
    seen: set[Path] = set()
    for directory in [plan_path.parent, *candidates]:
        directory = Path(os.path.normpath(os.path.abspath(directory)))
        if directory in seen:
            continue
        seen.add(directory)
        score = len(wanted & declared(directory))
        if score > best_score:
            best, best_score = directory, score
    return best


def load_config(root: Path, directory: Path, var_files: list[Path]) -> HclConfig:
    """Evaluate the root module in ``directory`` with the HCL loader."""
    from iacscan.parsers import terraform

    instances, errors, _unresolved, files = terraform.load_instances(root, [directory], var_files)
    scope = next((i.scope for i in instances if i.module_path == ""), "") or _rel(root, directory)
    config = HclConfig(directory, scope, files=files, errors=errors)
    for inst in instances:
        if inst.scope != scope:
            continue
        config.by_address.setdefault(inst.address, inst)
        key = _config_address(inst)
        config.by_config.setdefault(key, []).append(inst)
    return config


def _rel(root: Path, directory: Path) -> str:
    from iacscan.discover import relative

    rel = relative(root, directory)
    return rel or "."


def _config_address(inst: ResourceInstance) -> str:
    from iacscan.parsers.plan_address import parse_address

    parsed = parse_address(inst.address)
    return parsed.config_address if parsed else inst.address


# --- element pairing -----------------------------------------------------------------
def pair_elements(rtype: str, attrs: dict[str, Any], twin: ResourceInstance) -> dict[str, list[dict[str, Any] | None]]:
    """For each nested-block list of ``attrs``, the twin's element paired with each element."""
    out: dict[str, list[dict[str, Any] | None]] = {}
    for key, value in attrs.items():
        if not isinstance(value, list) or not value or not all(isinstance(e, dict) for e in value):
            continue
        theirs = twin.attrs.get(key)
        theirs = [e for e in theirs if isinstance(e, dict)] if isinstance(theirs, list) else []
        if (rtype, key) in SET_BLOCKS:
            out[key] = _by_content(value, theirs)
        else:
            out[key] = [theirs[i] if i < len(theirs) else None for i in range(len(value))]
    return out


def _by_content(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    used: set[int] = set()
    out: list[dict[str, Any] | None] = []
    for element in ours:
        scored = [(_score(element, other), -j, j) for j, other in enumerate(theirs) if j not in used]
        scored = [s for s in scored if s[0] >= 0]
        if not scored:
            out.append(None)
            continue
        _, _, best = max(scored)
        used.add(best)
        out.append(theirs[best])
    if len(ours) == len(theirs) and all(o is None for o in out):
        return list(theirs)
    return out


def _score(ours: dict[str, Any], theirs: dict[str, Any]) -> int:
    """-1 when a deciding value (protocol, ports, destination) differs, else how many other
    values agree (list entries in common, equal scalars)."""
    score = 0
    for key, mine in ours.items():
        other = theirs.get(key)
        if isinstance(mine, list) and isinstance(other, list):
            score += len({str(v) for v in mine if v is not None} & {str(v) for v in other if _known(v)})
            continue
        if not _known(mine) or not _known(other) or isinstance(mine, (dict, list)) or isinstance(other, (dict, list)):
            continue
        if key == "protocol":
            same = normalize_protocol(str(mine)) == normalize_protocol(str(other))
        else:
            same = str(mine).lower() == str(other).lower()
        if not same and key in _STRICT:
            return -1
        score += 1 if same and mine not in (False, 0) else 0
    return score


def _known(value: Any) -> bool:
    return value is not None and value != "" and not isinstance(value, (Unknown, ResourceRef))


def with_lines(attrs: dict[str, Any], pairs: dict[str, list[dict[str, Any] | None]],
               twin: ResourceInstance) -> dict[str, Any]:
    """``attrs`` with each nested block element carrying its twin's ``LINE`` (else the line
    of the attribute or first block, when the code has one)."""
    out = dict(attrs)
    for key, paired in pairs.items():
        value = out.get(key)
        if not isinstance(value, list):
            continue
        fallback = twin.attr_lines.get(key)
        elements = []
        for i, element in enumerate(value):
            if not isinstance(element, dict):
                elements.append(element)
                continue
            other = paired[i] if i < len(paired) else None
            line = other.get(LINE) if other is not None else fallback
            elements.append({**element, LINE: line} if isinstance(line, int) and line > 0 else element)
        out[key] = elements
    return out


def refs_in(value: Any) -> list[ResourceRef]:
    """The ResourceRefs in an HCL value (a ref or a list of them)."""
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, ResourceRef)]
