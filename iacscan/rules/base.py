"""What a rule is, how it is registered, and what it receives.

A rule is a function decorated with ``@rule(...)`` in a module of ``iacscan.rules``.
Its docstring is its documentation (``iacscan rules ID`` prints it) and must have the
sections ``What it finds``, ``Why it matters``, ``Failing example``, ``Passing example``
and ``Fix``. The function receives a ``Context`` and yields ``Finding`` objects, built
with ``ctx.finding(...)`` so that metadata, severity overrides and remediation are applied
in one place.
"""
from __future__ import annotations

import inspect
import string
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from iacscan.findings import Finding, Severity
from iacscan.model import Location

if TYPE_CHECKING:
    from iacscan.graph import EstateGraph
    from iacscan.model import Estate
    from iacscan.ruleset import Ruleset


@dataclass(frozen=True)
class Remediation:
    """How to fix a finding in each place users fix things. Templates may use
    ``{resource}``, ``{live_id}``, ``{protocol}``, ``{ports}``, ``{peer}`` and any key of
    the finding's ``details``; a missing key leaves the placeholder as written."""

    summary: str
    console: str = ""
    cli: str = ""
    boto3: str = ""
    terraform: str = ""
    cloudformation: str = ""

    def render(self, values: dict[str, Any]) -> dict[str, str]:
        plan, names, fixed_only = _render_plan(self)
        if fixed_only:
            return {key: fixed for key, _, fixed in plan}  # type: ignore[misc]
        # only the values the templates name (all of them when a name is not plain)
        keys = values.keys() if names is None else [k for k in names if k in values]
        safe = _SafeDict({k: str(values[k]) for k in keys})
        if safe.get("protocol") == "all" and safe.get("ports", "all") in ("all", "", "None"):
            safe["ports"] = "traffic"  # "{protocol} {ports}" reads "all traffic", not "all all"
        return {key: text.format_map(safe) if fixed is None else fixed for key, text, fixed in plan}


Plan = list[tuple[str, str, "str | None"]]
#: Per remediation (by identity, kept alive here): its non-empty templates in order, each
#: with its text when it has no placeholder (the same whatever the values), else None; the
#: names the others use (with ``protocol`` and ``ports``, which decide the "all traffic"
#: wording), None when one is not a plain name; and whether every template is fixed.
_PLANS: dict[int, tuple[Remediation, tuple[Plan, frozenset[str] | None, bool]]] = {}
_FORMATTER = string.Formatter()


def _render_plan(remediation: Remediation) -> tuple[Plan, frozenset[str] | None, bool]:
    found = _PLANS.get(id(remediation))
    if found is not None and found[0] is remediation:
        return found[1]
    plan: Plan = []
    names: set[str] | None = {"protocol", "ports"}
    for key in ("summary", "console", "cli", "boto3", "terraform", "cloudformation"):
        text = getattr(remediation, key)
        if not text:
            continue
        try:
            fields = [name for _, name, _, _ in _FORMATTER.parse(text) if name is not None]
        except ValueError:
            fields, names = [""], None  # let format_map report it as it always did
        if names is not None:
            if all(name.isidentifier() for name in fields):
                names.update(fields)
            else:
                names = None
        plan.append((key, text, None if fields else text.format_map({})))
    result = (plan, None if names is None else frozenset(names), all(fixed is not None for _, _, fixed in plan))
    _PLANS[id(remediation)] = (remediation, result)
    return result


class _SafeDict(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class RuleMeta:
    id: str
    title: str
    severity: Severity
    family: str  # parse | sg | env | net | aws | drift
    remediation: Remediation
    doc: str
    options: dict[str, Any] = field(default_factory=dict)  # defaults; rulesets override
    module: str = ""


CheckFn = Callable[["Context"], Iterable[Finding]]


@dataclass(frozen=True)
class RegisteredRule:
    meta: RuleMeta
    check: CheckFn


REGISTRY: dict[str, RegisteredRule] = {}


def rule(
    id: str,
    title: str,
    severity: Severity,
    family: str,
    remediation: Remediation,
    options: dict[str, Any] | None = None,
) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated check function under ``id`` (ids are unique and permanent)."""

    def register(fn: CheckFn) -> CheckFn:
        if id in REGISTRY:
            raise RuntimeError(f"rule id {id} registered twice")
        doc = inspect.cleandoc(fn.__doc__ or "")
        meta = RuleMeta(id, title, severity, family, remediation, doc, dict(options or {}), fn.__module__)
        REGISTRY[id] = RegisteredRule(meta, fn)
        return fn

    return register


@dataclass
class Context:
    """What a rule sees: the model, the graph, its ruleset options, and a finding factory."""

    estate: Estate
    graph: EstateGraph
    ruleset: Ruleset
    meta: RuleMeta
    options: dict[str, Any]
    severity: Severity

    def _pins_severity(self) -> bool:
        """``ruleset.pins_severity`` of this rule, asked once per context (rules that give
        each finding its severity ask it per finding)."""
        found = self.__dict__.get("_pinned")
        if found is None:
            found = self.__dict__["_pinned"] = self.ruleset.pins_severity(self.meta.id)
        return bool(found)

    def finding(
        self,
        *,
        resource: str,
        uid: str,
        location: Location,
        message: str,
        details: dict[str, Any] | None = None,
        severity: Severity | None = None,
        environment: str | None = None,
        extra: dict[str, Any] | None = None,
        path: list[str] | None = None,
        live_id: str = "",
    ) -> Finding:
        """A finding of this rule. ``severity`` overrides the rule's for this finding
        only (e.g. SG101 is critical on admin ports) unless the ruleset pinned one."""
        details = dict(details or {})
        sev = severity if severity is not None and not self._pins_severity() else self.severity
        values: dict[str, Any] = {"resource": resource, "live_id": live_id or "<group-id>", **details}
        return Finding(
            rule_id=self.meta.id, severity=sev, title=self.meta.title, message=message,
            resource=resource, file=location.file, line=location.line, uid=uid,
            environment=environment, details=details,
            extra={**location.event_facts(), **(extra or {})} if location.event_id else dict(extra or {}),
            path=list(path or []), remediation=self.meta.remediation.render(values),
            scope=uid.split("#", 1)[0] if "#" in uid else location.file,
        )


def iter_rules() -> Iterator[RegisteredRule]:
    """Every registered rule, sorted by id (imports the rule modules first)."""
    from iacscan.rules import load_all

    load_all()
    for rule_id in sorted(REGISTRY):
        yield REGISTRY[rule_id]
