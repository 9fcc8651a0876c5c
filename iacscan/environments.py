"""Environment inference for groups, workloads and VPCs.

In order (the first that answers wins): an explicit ruleset mapping (by path glob, VPC
or account), a tag (``Environment``, ``Env``…), a token of the name, a token of the
address, a segment of the file path (``envs/prod/main.tf``), a parser hint (e.g. a
CloudFormation ``Environment`` parameter default). The ruleset owns the lists. Unknown
stays ``None``.
"""
from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

from iacscan.model import Estate, Unknown, Vpc
from iacscan.ruleset import EnvironmentConfig

_SPLIT = re.compile(r"[^a-z0-9]+")


class EnvironmentResolver:
    """Maps the clues of one object to an environment name, per the ruleset."""

    def __init__(self, config: EnvironmentConfig) -> None:
        self.config = config
        self._token_env = {tok: env for env, toks in config.name_tokens.items() for tok in toks}
        self._values = {env.lower(): env for env in config.name_tokens}

    def from_text(self, text: object) -> str | None:
        """The environment a name, value or path names by one of its tokens."""
        if not isinstance(text, str) or not text:
            return None
        for token in _SPLIT.split(text.lower()):
            if token in self._token_env:
                return self._token_env[token]
        return None

    def from_value(self, value: str) -> str | None:
        """A tag value such as ``Production`` or ``prod`` → its environment; others as given."""
        lowered = value.strip().lower()
        if not lowered:
            return None
        return self._token_env.get(lowered) or self._values.get(lowered) or self.from_text(value) or lowered

    def from_tags(self, tags: dict[str, str]) -> str | None:
        for key in self.config.tag_keys:
            value = tags.get(key)
            if isinstance(value, str) and not value.startswith("${"):
                found = self.from_value(value)
                if found:
                    return found
        return None

    def from_mapping(self, file: str, vpc: object) -> str | None:
        for entry in self.config.mapping:
            if "path" in entry and file and fnmatch.fnmatch(file, entry["path"]):
                return entry["environment"]
            if "vpc" in entry and isinstance(vpc, str) and vpc in (entry["vpc"], entry["vpc"].split("#")[-1]):
                return entry["environment"]
        return None

    def from_path(self, file: str) -> str | None:
        if not self.config.path_segments or not file:
            return None
        for segment in reversed(file.split("/")[:-1]):
            if segment.lower() in self._token_env:
                return self._token_env[segment.lower()]
        return None

    def resolve(
        self, *, file: str, vpc: object, tags: dict[str, str], names: Iterable[object], hint: str | None,
    ) -> str | None:
        found = self.from_mapping(file, vpc) or self.from_tags(tags)
        if found:
            return found
        for name in names:
            if not isinstance(name, Unknown):
                found = self.from_text(name)
                if found:
                    return found
        found = self.from_path(file)
        if found:
            return found
        return self.from_value(hint) if hint else None


def assign_environments(estate: Estate, config: EnvironmentConfig) -> None:
    """Fill ``environment`` on every VPC, group and workload of the estate.

    A group or workload with no clue of its own takes its VPC's environment.
    """
    resolver = EnvironmentResolver(config)
    for vpc in estate.vpcs.values():
        vpc.environment = resolver.resolve(
            file=vpc.location.file, vpc=vpc.uid, tags=vpc.tags, names=[vpc.address], hint=None)
    for obj in [*estate.groups.values(), *estate.workloads.values()]:
        names: list[object] = [obj.name, obj.address]
        env = resolver.resolve(file=obj.location.file, vpc=obj.vpc, tags=obj.tags, names=names, hint=obj.env_hint)
        obj.environment = env or _vpc_env(estate, obj.vpc)


def _vpc_env(estate: Estate, vpc: object) -> str | None:
    if isinstance(vpc, str):
        found: Vpc | None = estate.vpcs.get(vpc)
        return found.environment if found else None
    return None
