"""Rulesets: which rules run at which severity, with which options, and policy data.

A ruleset is a YAML file (``iacscan/rulesets/default.yaml`` and ``strict.yaml`` ship with
the package; ``--ruleset`` takes a name or a path). It may ``extends`` another ruleset;
keys of the child replace the parent's, except ``rules`` which merge per rule id.
A ruleset is validated when loaded; a wrong one raises ``RulesetError`` naming the key.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from iacscan.findings import Severity

RULESET_DIR = Path(__file__).parent / "rulesets"

_TOP_KEYS = {
    "version", "extends", "sensitive_ports", "admin_ports", "environments", "rules",
    "policies", "wide_port_range", "broad_range_share", "data_ports",
}
_ENV_KEYS = {"tag_keys", "name_tokens", "path_segments", "mapping"}
_RULE_KEYS = {"enabled", "severity", "options"}


class RulesetError(Exception):
    """A ruleset that cannot be used; the message names the file and key."""


@dataclass
class EnvironmentConfig:
    tag_keys: list[str]
    name_tokens: dict[str, list[str]]
    path_segments: bool = True
    mapping: list[dict[str, str]] = field(default_factory=list)


@dataclass
class RuleSettings:
    enabled: bool = True
    severity: Severity | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Ruleset:
    name: str
    sensitive_ports: list[tuple[int, int]]
    admin_ports: list[int]
    environments: EnvironmentConfig
    rules: dict[str, RuleSettings] = field(default_factory=dict)
    policies: list[dict[str, Any]] = field(default_factory=list)
    wide_port_range: int = 1024
    broad_range_share: float = 0.0

    def settings(self, rule_id: str) -> RuleSettings:
        return self.rules.get(rule_id, RuleSettings())

    def enabled(self, rule_id: str) -> bool:
        return self.settings(rule_id).enabled

    def pins_severity(self, rule_id: str) -> bool:
        """True when the ruleset sets this rule's severity (per-finding severities yield)."""
        return self.settings(rule_id).severity is not None

    def is_sensitive(self, port: int) -> bool:
        return any(lo <= port <= hi for lo, hi in self.sensitive_ports)


def load_ruleset(spec: str | None = None) -> Ruleset:
    """Load a ruleset by shipped name (``default``, ``strict``) or by path."""
    data = _load_merged(spec or "default", seen=set())
    return _build(spec or "default", data)


def _resolve(spec: str) -> Path:
    path = Path(spec)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise RulesetError(f"ruleset file {spec} does not exist")
        return path
    shipped = RULESET_DIR / f"{spec}.yaml"
    if not shipped.is_file():
        names = ", ".join(sorted(p.stem for p in RULESET_DIR.glob("*.yaml")))
        raise RulesetError(f"unknown ruleset {spec!r}: give a file path or one of: {names}")
    return shipped


def _load_merged(spec: str, seen: set[Path]) -> dict[str, Any]:
    path = _resolve(spec)
    if path.resolve() in seen:
        raise RulesetError(f"{path}: 'extends' loops back to itself")
    seen.add(path.resolve())
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RulesetError(f"{path}: cannot read ruleset: {exc}") from None
    if not isinstance(data, dict):
        raise RulesetError(f"{path}: a ruleset must be a mapping of keys")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise RulesetError(f"{path}: unknown key {sorted(unknown)[0]!r} (allowed: {', '.join(sorted(_TOP_KEYS))})")
    data = dict(data)
    data["__file__"] = str(path)
    parent_name = data.pop("extends", None)
    if parent_name is None:
        return data
    if not isinstance(parent_name, str):
        raise RulesetError(f"{path}: 'extends' must be a ruleset name or path")
    if not Path(parent_name).is_absolute() and (path.parent / parent_name).is_file():
        parent_name = str(path.parent / parent_name)
    parent = _load_merged(parent_name, seen)
    merged = {**parent, **{k: v for k, v in data.items() if k != "rules"}}
    rules = dict(parent.get("rules") or {})
    for rule_id, settings in (data.get("rules") or {}).items():
        previous = rules.get(rule_id)
        base: dict[str, Any] = previous if isinstance(previous, dict) else {}
        rules[rule_id] = {**base, **settings} if isinstance(settings, dict) else settings
    merged["rules"] = rules
    return merged


def _build(name: str, data: dict[str, Any]) -> Ruleset:
    where = data.get("__file__", name)
    return Ruleset(
        name=name,
        sensitive_ports=_ports(data.get("sensitive_ports", []), where, "sensitive_ports"),
        admin_ports=[lo for lo, hi in _ports(data.get("admin_ports", [22, 3389]), where, "admin_ports")
                     for _ in [0] if lo == hi] or [22, 3389],
        environments=_environments(data.get("environments") or {}, where),
        rules=_rules(data.get("rules") or {}, where),
        policies=_policies(data.get("policies") or [], where),
        wide_port_range=_int(data.get("wide_port_range", 1024), where, "wide_port_range"),
        broad_range_share=_share(data.get("broad_range_share", 0.0), where),
    )


def _ports(value: Any, where: str, key: str) -> list[tuple[int, int]]:
    if not isinstance(value, list):
        raise RulesetError(f"{where}: '{key}' must be a list of ports or 'from-to' ranges")
    out = []
    for item in value:
        text = str(item)
        lo_text, _, hi_text = text.partition("-")
        try:
            lo, hi = int(lo_text), int(hi_text or lo_text)
        except ValueError:
            raise RulesetError(f"{where}: '{key}' entry {item!r} is not a port or range") from None
        if not (0 <= lo <= hi <= 65535):
            raise RulesetError(f"{where}: '{key}' entry {item!r} is outside 0-65535")
        out.append((lo, hi))
    return out


def _int(value: Any, where: str, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RulesetError(f"{where}: '{key}' must be a non-negative whole number")
    return value


def _share(value: Any, where: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
        raise RulesetError(f"{where}: 'broad_range_share' must be a number from 0 to 1")
    return float(value)


def _environments(value: Any, where: str) -> EnvironmentConfig:
    if not isinstance(value, dict):
        raise RulesetError(f"{where}: 'environments' must be a mapping")
    unknown = set(value) - _ENV_KEYS
    if unknown:
        raise RulesetError(f"{where}: unknown key 'environments.{sorted(unknown)[0]}'")
    tokens = value.get("name_tokens", {})
    if not isinstance(tokens, dict) or not all(isinstance(v, list) for v in tokens.values()):
        raise RulesetError(f"{where}: 'environments.name_tokens' must map an environment to a list of tokens")
    tag_keys = value.get("tag_keys", [])
    if not isinstance(tag_keys, list):
        raise RulesetError(f"{where}: 'environments.tag_keys' must be a list")
    mapping = value.get("mapping", [])
    if not isinstance(mapping, list) or not all(isinstance(m, dict) and "environment" in m for m in mapping):
        raise RulesetError(f"{where}: 'environments.mapping' entries need an 'environment' and a 'path', 'vpc' or 'account'")
    return EnvironmentConfig(
        tag_keys=[str(k) for k in tag_keys],
        name_tokens={str(env): [str(t).lower() for t in toks] for env, toks in tokens.items()},
        path_segments=bool(value.get("path_segments", True)),
        mapping=[{str(k): str(v) for k, v in m.items()} for m in mapping],
    )


def _rules(value: Any, where: str) -> dict[str, RuleSettings]:
    if not isinstance(value, dict):
        raise RulesetError(f"{where}: 'rules' must map rule ids to settings")
    out = {}
    for rule_id, settings in value.items():
        if settings is False or settings is True:
            out[str(rule_id)] = RuleSettings(enabled=bool(settings))
            continue
        if not isinstance(settings, dict):
            raise RulesetError(f"{where}: 'rules.{rule_id}' must be a mapping or true/false")
        unknown = set(settings) - _RULE_KEYS
        if unknown:
            raise RulesetError(f"{where}: unknown key 'rules.{rule_id}.{sorted(unknown)[0]}'")
        severity = None
        if "severity" in settings:
            try:
                severity = Severity.parse(str(settings["severity"]))
            except ValueError as exc:
                raise RulesetError(f"{where}: 'rules.{rule_id}.severity': {exc}") from None
        options = settings.get("options", {})
        if not isinstance(options, dict):
            raise RulesetError(f"{where}: 'rules.{rule_id}.options' must be a mapping")
        out[str(rule_id)] = RuleSettings(bool(settings.get("enabled", True)), severity, dict(options))
    return out


def _policies(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(p, dict) and "id" in p for p in value):
        raise RulesetError(f"{where}: 'policies' must be a list of mappings, each with an 'id'")
    from iacscan.policies import PolicyError, parse_policies

    try:
        parse_policies(value)
    except PolicyError as exc:
        raise RulesetError(f"{where}: {exc}") from None
    return [dict(p) for p in value]


def check_rule_ids(ruleset: Ruleset, known: set[str]) -> None:
    """Raise when the ruleset configures a rule id that does not exist."""
    for rule_id in ruleset.rules:
        if rule_id not in known:
            raise RulesetError(f"{ruleset.name}: 'rules.{rule_id}' is not a rule id (see 'iacscan rules')")
