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

from iacscan.model import Estate, SecurityGroup, Unknown, Vpc, Workload
from iacscan.ruleset import EnvironmentConfig

_SPLIT = re.compile(r"[^a-z0-9]+")
#: Word boundaries inside CamelCase and before digits (``ProdWebSG`` → Prod Web SG, ``prod2`` → prod 2).
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=[0-9])")


def tokens(text: str) -> list[str]:
    """The lower-case words of a name: split on non-alphanumerics and CamelCase humps."""
    if text == text.lower():
        # No capitals: the humps can only be letters followed by digits; when no run of
        # letters and digits mixes them, splitting on the rest gives the same words.
        parts = _SPLIT.split(text)
        if all(p.isalpha() or p.isdigit() or not p for p in parts):
            return [p for p in parts if p]
    return [t for t in _SPLIT.split(_CAMEL.sub(" ", text).lower()) if t]


class EnvironmentResolver:
    """Maps the clues of one object to an environment name, per the ruleset."""

    def __init__(self, config: EnvironmentConfig) -> None:
        self.config = config
        self._token_env = {tok: env for env, toks in config.name_tokens.items() for tok in toks}
        self._values = {env.lower(): env for env in config.name_tokens}
        # What a name, a tag value or a file path answers depends on them alone: estates repeat
        # them (the same module in many directories), so each is worked out once.
        self._by_text: dict[str, str | None] = {}
        self._by_value: dict[str, str | None] = {}
        self._by_path: dict[str, str | None] = {}

    def from_text(self, text: object) -> str | None:
        """The environment a name, value or path names by one of its tokens."""
        if not isinstance(text, str) or not text:
            return None
        if text in self._by_text:
            return self._by_text[text]
        found = next((self._token_env[t] for t in tokens(text) if t in self._token_env), None)
        self._by_text[text] = found
        return found

    def from_value(self, value: str) -> str | None:
        """A tag value such as ``Production`` or ``prod`` → its environment; others as given."""
        if value in self._by_value:
            return self._by_value[value]
        lowered = value.strip().lower()
        found = (self._token_env.get(lowered) or self._values.get(lowered) or self.from_text(value) or lowered
                 if lowered else None)
        self._by_value[value] = found
        return found

    def from_tags(self, tags: dict[str, str]) -> str | None:
        if not tags:
            return None
        for key in self.config.tag_keys:
            value = tags.get(key)
            if isinstance(value, str) and not value.startswith("${"):
                found = self.from_value(value)
                if found:
                    return found
        return None

    def from_mapping(self, file: str, vpc: object, vpc_aliases: Iterable[str] = (),
                     account: str | None = None) -> str | None:
        """The first mapping entry whose ``path`` glob matches the file, whose ``vpc``
        names the VPC (by uid, by address — the uid without its scope — or by an alias
        such as the VPC's live ``vpc-…`` id), or whose ``account`` is the object's AWS
        account (live objects)."""
        if not self.config.mapping:
            return None
        names = {n for n in vpc_aliases if n}
        if isinstance(vpc, str) and vpc:
            names |= {vpc, vpc.split("#", 1)[-1]}
        for entry in self.config.mapping:
            if "path" in entry and file and fnmatch.fnmatch(file, entry["path"]):
                return entry["environment"]
            if "vpc" in entry and entry["vpc"] in names:
                return entry["environment"]
            if "account" in entry and account and entry["account"] == account:
                return entry["environment"]
        return None

    def from_path(self, file: str) -> str | None:
        if not self.config.path_segments or not file:
            return None
        if file in self._by_path:
            return self._by_path[file]
        found = next((self._token_env[s.lower()] for s in reversed(file.split("/")[:-1])
                      if s.lower() in self._token_env), None)
        self._by_path[file] = found
        return found

    def resolve(
        self, *, file: str, vpc: object, tags: dict[str, str], names: Iterable[object], hint: str | None,
        vpc_aliases: Iterable[str] = (), account: str | None = None,
    ) -> str | None:
        return self.from_mapping(file, vpc, vpc_aliases, account) or self.from_clues(
            file=file, tags=tags, names=names, hint=hint)

    def from_clues(self, *, file: str, tags: dict[str, str], names: Iterable[object], hint: str | None) -> str | None:
        """``resolve`` without the ruleset mapping: tags, names, the file path, the hint."""
        return self._clues(file, tags, names, hint)

    def _clues(self, file: str, tags: dict[str, str], names: Iterable[object], hint: str | None) -> str | None:
        found = self.from_tags(tags) if tags else None
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

    A group or workload with no clue of its own takes its VPC's environment (a workload
    without a VPC of its own: the VPC of its subnets, when they agree).
    """
    resolver = EnvironmentResolver(config)
    by_live_id: dict[str, Vpc] = {}
    for vpc in estate.vpcs.values():
        if vpc.live_id:
            by_live_id.setdefault(vpc.live_id, vpc)  # the first, as a search in order finds
    for vpc in estate.vpcs.values():
        vpc.environment = resolver.resolve(
            file=vpc.location.file, vpc=vpc.uid, tags=vpc.tags, names=[vpc.address], hint=None,
            vpc_aliases=[vpc.live_id], account=account_of(vpc.uid, vpc.location.resource_id))
    objects: list[SecurityGroup | Workload] = [*estate.groups.values(), *estate.workloads.values()]
    mapped = bool(config.mapping)  # without a mapping, its clues (VPC aliases, account) are not needed
    clues = resolver._clues
    for obj in objects:
        names: list[object] = [obj.name, obj.address]
        vpc_ref = obj.vpc if isinstance(obj.vpc, str) and obj.vpc else None
        if vpc_ref is None and isinstance(obj, Workload):
            vpc_ref = _subnets_vpc(estate, obj.subnets)
        known = _find_vpc(estate, vpc_ref, by_live_id) if vpc_ref is not None else None
        if mapped:
            env = resolver.resolve(file=obj.location.file, vpc=vpc_ref, tags=obj.tags, names=names,
                                   hint=obj.env_hint, vpc_aliases=[known.uid, known.live_id] if known else [],
                                   account=account_of(obj.uid, obj.location.resource_id))
        else:
            env = clues(obj.location.file, obj.tags, names, obj.env_hint)
        obj.environment = env or (known.environment if known else None)


def account_of(uid: str, resource_id: str = "") -> str | None:
    """The AWS account of a live object: from its ``live:<account>:<region>`` scope or ARN."""
    if uid.startswith("live:"):
        account = uid.split(":")[1]
        if account:
            return account
    if resource_id.startswith("arn:"):
        parts = resource_id.split(":")
        if len(parts) > 4 and parts[4]:
            return parts[4]
    return None


def _find_vpc(estate: Estate, ref: object, by_live_id: dict[str, Vpc] | None = None) -> Vpc | None:
    """The model VPC a reference names, by uid or by live id (``by_live_id``: the VPCs by live
    id, the first of each, when the caller has them)."""
    if not isinstance(ref, str) or not ref:
        return None
    found = estate.vpcs.get(ref)
    if found is None:
        if by_live_id is not None:
            return by_live_id.get(ref)
        found = next((v for v in estate.vpcs.values() if v.live_id and v.live_id == ref), None)
    return found


def _subnets_vpc(estate: Estate, subnets: list[str | Unknown]) -> str | None:
    """The one VPC reference all the known subnets share, else None."""
    refs = set()
    for ref in subnets:
        subnet = estate.subnets.get(ref) if isinstance(ref, str) else None
        if subnet is None or not isinstance(subnet.vpc, str):
            return None
        refs.add(subnet.vpc)
    return refs.pop() if len(refs) == 1 else None
