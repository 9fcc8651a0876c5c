"""Types shared by the Terraform loader, the expression evaluator and the model builder.

Terraform is read in three steps, each in its own module:

1. ``hcl_eval`` evaluates one expression (as python-hcl2 serialises it: ``"${...}"``
   strings, lists, dicts, literals) against a ``Scope`` and returns a Python value,
   ``ResourceRef`` objects for attributes only known after apply (ids, arns), or
   ``Unknown``.
2. ``terraform`` loads module directories (files, line numbers, variables, tfvars,
   locals, modules, ``count``/``for_each``, ``dynamic`` blocks) and yields one
   ``ResourceInstance`` per resource instance, its attributes evaluated.
3. ``tf_model`` turns ``ResourceInstance`` objects into the model (``Estate``). The plan
   parser reuses it: plan JSON ``values`` have the same attribute shapes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from iacscan.model import Location

#: Key under which a nested block's (or a block element's) 1-based start line is kept in
#: the evaluated attribute dicts of a ResourceInstance, e.g. ``attrs["ingress"][0][LINE]``.
LINE = "__line__"


@dataclass(frozen=True)
class ResourceRef:
    """An attribute of a managed resource or data source that is only known after apply.

    ``address`` is absolute within its root module, instance key included
    (``module.net.aws_security_group.this[0]``); ``attribute`` e.g. ``id`` or ``arn``.
    """

    address: str
    attribute: str

    def __str__(self) -> str:
        return f"${{{self.address}.{self.attribute}}}"


class Scope(Protocol):
    """What the evaluator asks for the value of a reference."""

    def resolve(self, traversal: tuple[str | int, ...]) -> Any:
        """The value of a static traversal: root name first (``var``, ``local``, ``module``,
        ``data``, ``count``, ``each``, ``path``, ``self``, an iterator name, or a resource
        type), then attribute names (str) and literal indexes (int or str keys). Returns the
        value (possibly a dict/list the evaluator keeps indexing into), a ResourceRef, or
        Unknown. ``"*"`` stands for a splat step."""
        ...


@dataclass
class ResourceInstance:
    """One instance of a Terraform resource or data source, attributes evaluated.

    ``address``: full address within the root (``module.a.aws_instance.web[1]``);
    ``uid``: ``make_uid(scope, address)`` where ``scope`` is the root module directory
    relative to the scan root (``"."`` for the root itself); ``attrs``: evaluated
    attributes; nested blocks (``ingress``, ``egress``, ``root_block_device``,
    ``vpc_config``, ``dynamic``-expanded blocks…) are lists of dicts, each with its start
    line under ``LINE``. Attribute-form lists (``ingress = [{...}]``) have the same shape,
    each element with the line of its ``{``.
    """

    uid: str
    address: str
    type: str
    name: str
    mode: str  # managed | data
    scope: str
    module_path: str  # "" for the root, "module.a.module.b" inside modules
    attrs: dict[str, Any]
    location: Location
    attr_lines: dict[str, int] = field(default_factory=dict)  # top-level attribute → line
    source: str = "terraform"  # terraform | plan
