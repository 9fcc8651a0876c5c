"""Network-intent policies of a ruleset (NET304): parsing, validation, matching.

A policy is a mapping with an ``id`` and exactly one of ``deny`` or ``allow_only``::

    policies:
      - id: no-internet-to-data
        deny: {from: internet, to: {tier: data}}
        severity: critical
      - id: dev-stays-out-of-prod
        deny: {from: {environment: dev}, to: {environment: prod}}
      - id: only-lb-talks-to-app
        allow_only: {to: {tag: {Tier: app}}, from: {tag: {Tier: web}}, ports: [8080]}

- ``deny: {from, to[, ports]}`` — no workload matching ``to`` may be reachable from
  ``from`` (the internet, or any workload matching the selector), directly or through
  other workloads. With ``ports``, only paths whose last hop carries one of them count.
- ``allow_only: {to, from[, ports]}`` — every direct flow into a workload matching
  ``to`` must come from ``from`` and (with ``ports``) only on those ports.

A selector is ``internet`` (only as ``from``) or a mapping whose keys must all match:
``environment`` (name or list), ``tier`` (web/app/data or list), ``tag`` (``{Key: value}``,
value ``"*"`` for any), ``resource`` and ``kind`` (glob or list of globs on the address
/ resource type). ``ports`` is a list of ports or ``"from-to"`` ranges (tcp and udp).
``severity`` (optional) is the findings' severity; ``description`` is free text.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from iacscan.findings import Severity
from iacscan.model import Tier, Workload
from iacscan.net import Traffic

_POLICY_KEYS = {"id", "deny", "allow_only", "severity", "description"}
_BODY_KEYS = {"from", "to", "ports"}
_SELECTOR_KEYS = {"environment", "tier", "tag", "resource", "kind"}
_TIERS = {t.value for t in Tier}
INTERNET = "internet"


class PolicyError(ValueError):
    """A policy that cannot be used; the message names the key."""


@dataclass(frozen=True)
class Selector:
    """Which workloads (or the internet) a side of a policy names."""

    internet: bool = False
    environments: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    resources: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    def matches(self, workload: Workload) -> bool:
        if self.internet:
            return False
        if self.environments and workload.environment not in self.environments:
            return False
        if self.tiers and workload.tier.value not in self.tiers:
            return False
        for key, value in self.tags:
            if key not in workload.tags or (value != "*" and workload.tags[key] != value):
                return False
        if self.resources and not any(fnmatch.fnmatchcase(workload.address, p) for p in self.resources):
            return False
        return not self.kinds or any(fnmatch.fnmatchcase(workload.kind, p) for p in self.kinds)

    def describe(self) -> str:
        if self.internet:
            return INTERNET
        parts = [f"environment={'|'.join(self.environments)}"] if self.environments else []
        parts += [f"tier={'|'.join(self.tiers)}"] if self.tiers else []
        parts += [f"tag {k}={v}" for k, v in self.tags]
        parts += [f"resource={'|'.join(self.resources)}"] if self.resources else []
        parts += [f"kind={'|'.join(self.kinds)}"] if self.kinds else []
        return ", ".join(parts) or "any workload"


@dataclass(frozen=True)
class Policy:
    id: str
    kind: str  # deny | allow_only
    source: Selector
    target: Selector
    ports: Traffic | None = None
    port_text: str = ""
    severity: Severity | None = None
    description: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def parse_policies(value: Any) -> list[Policy]:
    """Parse and validate a ruleset's ``policies`` list; ``PolicyError`` names the key."""
    if not isinstance(value, list):
        raise PolicyError("'policies' must be a list of mappings, each with an 'id'")
    out: list[Policy] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        policy = parse_policy(item, f"policies[{i}]")
        if policy.id in seen:
            raise PolicyError(f"'policies[{i}].id': {policy.id!r} is used twice")
        seen.add(policy.id)
        out.append(policy)
    return out


def parse_policy(item: Any, where: str) -> Policy:
    if not isinstance(item, dict):
        raise PolicyError(f"'{where}' must be a mapping with an 'id'")
    unknown = set(item) - _POLICY_KEYS
    if unknown:
        raise PolicyError(f"unknown key '{where}.{sorted(unknown)[0]}' (allowed: {', '.join(sorted(_POLICY_KEYS))})")
    pid = item.get("id")
    if not isinstance(pid, str) or not pid.strip():
        raise PolicyError(f"'{where}.id' must be a non-empty text")
    kinds = [k for k in ("deny", "allow_only") if k in item]
    if len(kinds) != 1:
        raise PolicyError(f"'{where}' needs exactly one of 'deny' or 'allow_only'")
    kind = kinds[0]
    body = item[kind]
    if not isinstance(body, dict):
        raise PolicyError(f"'{where}.{kind}' must be a mapping with 'from' and 'to'")
    unknown = set(body) - _BODY_KEYS
    if unknown:
        raise PolicyError(f"unknown key '{where}.{kind}.{sorted(unknown)[0]}' (allowed: from, to, ports)")
    for key in ("from", "to"):
        if key not in body:
            raise PolicyError(f"'{where}.{kind}.{key}' is missing")
    source = parse_selector(body["from"], f"{where}.{kind}.from", allow_internet=True)
    target = parse_selector(body["to"], f"{where}.{kind}.to", allow_internet=False)
    ports, text = (None, "")
    if "ports" in body:
        ports, text = parse_ports(body["ports"], f"{where}.{kind}.ports")
    severity = None
    if "severity" in item:
        try:
            severity = Severity.parse(str(item["severity"]))
        except ValueError as exc:
            raise PolicyError(f"'{where}.severity': {exc}") from None
    description = item.get("description", "")
    if not isinstance(description, str):
        raise PolicyError(f"'{where}.description' must be text")
    return Policy(pid, kind, source, target, ports, text, severity, description, dict(item))


def parse_selector(value: Any, where: str, *, allow_internet: bool) -> Selector:
    if value == INTERNET:
        if not allow_internet:
            raise PolicyError(f"'{where}' cannot be 'internet' (only 'from' can)")
        return Selector(internet=True)
    if not isinstance(value, dict) or not value:
        allowed = "'internet' or " if allow_internet else ""
        raise PolicyError(f"'{where}' must be {allowed}a mapping of {', '.join(sorted(_SELECTOR_KEYS))}")
    unknown = set(value) - _SELECTOR_KEYS
    if unknown:
        raise PolicyError(f"unknown key '{where}.{sorted(unknown)[0]}' (allowed: {', '.join(sorted(_SELECTOR_KEYS))})")
    tiers = _texts(value.get("tier", []), f"{where}.tier")
    for tier in tiers:
        if tier not in _TIERS:
            raise PolicyError(f"'{where}.tier': {tier!r} is not one of {', '.join(sorted(_TIERS))}")
    tags = value.get("tag", {})
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, (str, int, float))
                                             for k, v in tags.items()):
        raise PolicyError(f"'{where}.tag' must map tag keys to values")
    return Selector(
        environments=tuple(_texts(value.get("environment", []), f"{where}.environment")),
        tiers=tuple(tiers),
        tags=tuple(sorted((k, str(v)) for k, v in tags.items())),
        resources=tuple(_texts(value.get("resource", []), f"{where}.resource")),
        kinds=tuple(_texts(value.get("kind", []), f"{where}.kind")),
    )


def _texts(value: Any, where: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) and v for v in items):
        raise PolicyError(f"'{where}' must be a text or a list of texts")
    return list(items)


def parse_ports(value: Any, where: str) -> tuple[Traffic, str]:
    """``[8080, "8000-8100"]`` → tcp and udp on those ports, and their text."""
    if not isinstance(value, list) or not value:
        raise PolicyError(f"'{where}' must be a non-empty list of ports or 'from-to' ranges")
    out, texts = Traffic(), []
    for item in value:
        lo_text, _, hi_text = str(item).partition("-")
        try:
            lo, hi = int(lo_text), int(hi_text or lo_text)
        except ValueError:
            raise PolicyError(f"'{where}' entry {item!r} is not a port or range") from None
        if isinstance(item, bool) or not 0 <= lo <= hi <= 65535:
            raise PolicyError(f"'{where}' entry {item!r} is outside 0-65535")
        out = out.union(Traffic.of("tcp", lo, hi)).union(Traffic.of("udp", lo, hi))
        texts.append(str(lo) if lo == hi else f"{lo}-{hi}")
    return out, ",".join(texts)
