"""Project configuration: ``.iacscan.yaml`` or ``[tool.iacscan]`` in ``pyproject.toml``.

Keys (all optional):

- ``ruleset``: a ruleset name (``default``, ``strict``) or a YAML file (relative to the
  configuration file);
- ``fail-on``: the ``--fail-on`` severity (``critical`` … ``info``, or ``none``);
- ``exclude``: glob patterns of files and directories not to scan, matched against paths
  relative to the scan root (``vendor``, ``modules/legacy/**``, ``*.generated.tf``);
- ``environments``: environment mapping entries (``{path: "envs/prod/**", environment:
  prod}``, or ``vpc:``/``account:`` instead of ``path:``), placed before the ruleset's own;
- ``baseline``: the ``--baseline`` file (relative to the configuration file).

The file is looked for in the scan root, then in the current directory: ``.iacscan.yaml``
(or ``.iacscan.yml``) first, then a ``pyproject.toml`` that has a ``[tool.iacscan]`` table;
``--config FILE`` names one explicitly. Options given on the command line win. A key
that is not one of these, or a wrong value, stops with exit 2 and names it.
"""
from __future__ import annotations

import argparse
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from iacscan.errors import UserError
from iacscan.findings import Severity

YAML_NAMES = (".iacscan.yaml", ".iacscan.yml")
PYPROJECT = "pyproject.toml"
KEYS = ("ruleset", "fail-on", "exclude", "environments", "baseline")
_MAPPING_KEYS = {"environment", "path", "vpc", "account"}
_LOADED = "_iacscan_config"


@dataclass
class Config:
    """A loaded configuration (empty when no file was found)."""

    path: Path | None = None
    ruleset: str | None = None
    fail_on: str | None = None
    exclude: list[str] = field(default_factory=list)
    environments: list[dict[str, str]] = field(default_factory=list)
    baseline: str | None = None


def find_config(directories: list[Path]) -> tuple[Path, dict[str, Any]] | None:
    """The first configuration file in ``directories`` and its raw table, or None."""
    seen: set[Path] = set()
    for directory in directories:
        directory = directory.resolve()
        if directory in seen:
            continue
        seen.add(directory)
        for name in YAML_NAMES:
            if (directory / name).is_file():
                return directory / name, _read_yaml(directory / name)
        pyproject = directory / PYPROJECT
        if pyproject.is_file():
            table = _read_pyproject(pyproject)
            if table is not None:
                return pyproject, table
    return None


def load_config(path: Path) -> Config:
    """The configuration in ``path`` (``.iacscan.yaml`` or a ``pyproject.toml``)."""
    if path.name == PYPROJECT:
        table = _read_pyproject(path)
        if table is None:
            raise UserError(f"{path}: no [tool.iacscan] table")
        return build(path, table)
    return build(path, _read_yaml(path))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise UserError(f"configuration file not found: {path}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UserError(f"{path}: cannot read configuration: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{path}: the configuration must be a mapping of keys ({', '.join(KEYS)})")
    return data


def _read_pyproject(path: Path) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"{path}: cannot read: {exc}") from None
    table = data.get("tool", {}).get("iacscan") if isinstance(data.get("tool"), dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise UserError(f"{path}: [tool.iacscan] must be a table")
    return table


def build(path: Path, data: dict[str, Any]) -> Config:
    """A ``Config`` from the raw table of ``path``; ``UserError`` naming the first bad key."""
    where = f"{path}" if path.name != PYPROJECT else f"{path} [tool.iacscan]"
    unknown = [str(k) for k in data if k not in KEYS]
    if unknown:
        raise UserError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(KEYS)})")
    base = path.parent
    config = Config(path=path)
    if "ruleset" in data:
        config.ruleset = _ruleset(_text(data["ruleset"], where, "ruleset"), base)
    if "fail-on" in data:
        config.fail_on = _fail_on(data["fail-on"], where)
    if "exclude" in data:
        config.exclude = _strings(data["exclude"], where, "exclude")
    if "environments" in data:
        config.environments = _mapping(data["environments"], where)
    if "baseline" in data:
        config.baseline = str(base / _text(data["baseline"], where, "baseline"))
    return config


def _text(value: Any, where: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UserError(f"{where}: '{key}' must be a non-empty string")
    return value


def _ruleset(value: str, base: Path) -> str:
    candidate = Path(value)
    if candidate.is_absolute():
        return value
    if value.endswith((".yaml", ".yml")) or (base / candidate).exists():
        return str(base / candidate)
    return value  # a shipped ruleset name


def _fail_on(value: Any, where: str) -> str:
    allowed = [s.value for s in Severity] + ["none"]
    if not isinstance(value, str) or value.lower() not in allowed:
        raise UserError(f"{where}: 'fail-on' must be one of {', '.join(allowed)}")
    return value.lower()


def _strings(value: Any, where: str, key: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise UserError(f"{where}: '{key}' must be a list of glob patterns")
    return [v.strip() for v in value]


def _mapping(value: Any, where: str) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise UserError(f"{where}: 'environments' must be a list of mapping entries "
                        "({environment: prod, path: 'envs/prod/**'}; or vpc: / account: instead of path:)")
    out = []
    for i, entry in enumerate(value, 1):
        if not isinstance(entry, dict) or "environment" not in entry:
            raise UserError(f"{where}: 'environments' entry {i} needs an 'environment'")
        unknown = sorted(set(map(str, entry)) - _MAPPING_KEYS)
        if unknown:
            raise UserError(f"{where}: unknown key 'environments[{i}].{unknown[0]}' "
                            f"(allowed: {', '.join(sorted(_MAPPING_KEYS))})")
        if len(entry) < 2:
            raise UserError(f"{where}: 'environments' entry {i} needs a 'path', 'vpc' or 'account'")
        out.append({str(k): str(v) for k, v in entry.items()})
    return out


def configure(args: argparse.Namespace, root: Path) -> Config:
    """Load the configuration for a command (once) and fill in the options the command
    line left unset: ``ruleset``, ``fail_on`` and ``baseline``. Returns the configuration."""
    loaded = getattr(args, _LOADED, None)
    if isinstance(loaded, Config):
        return loaded
    explicit = getattr(args, "config", None)
    if explicit:
        config = load_config(Path(explicit))
    else:
        found = find_config([root, Path.cwd()])
        config = build(*found) if found else Config()
    if getattr(args, "ruleset", None) is None:
        args.ruleset = config.ruleset
    if hasattr(args, "fail_on") and args.fail_on is None:
        args.fail_on = config.fail_on or "high"
    if hasattr(args, "baseline") and args.baseline is None:
        args.baseline = config.baseline
    setattr(args, _LOADED, config)
    return config
