"""The model of a Terraform HCL estate built one root module at a time, then merged.

The HCL loader (``terraform.parse_terraform``) builds the model of each root module's
instances on its own (``build_fragment``) and merges the fragments in root order
(``assemble``); ``tf_rootcache`` keeps each root's fragment, so a warm scan decodes models
instead of rebuilding them from instances. The plan parser still calls
``tf_model.build_estate`` on all its instances at once.

Why this equals ``tf_model.build_estate`` over all roots' instances together (the *joint*
build), and what is done where it might not:

- A uid is ``make_uid(scope, address)`` with the root's directory as scope, and every
  reference (``ResourceRef``) resolves within the root that holds it (``Refs.uid``,
  ``Refs.deref``, ``Refs.named`` and the identifier lookups are keyed by scope). Every
  object and instance of a fragment has a uid ``<scope>#…``.
- Model objects are created only in the first phase (and AMI lookups in the data phase),
  and the roots' instances are contiguous and in root order in the joint input, so each
  collection's keys come out in the same order; the account flag
  ``ebs_default_encryption`` is the last one set in both. ``link_vpc`` only follows a
  workload's subnets, which are its own root's uids or literal ids.
- ``Unresolved`` notes come phase by phase in the joint build (all roots' object notes,
  then all piece notes…): each fragment records where each phase's notes end (``marks``)
  and ``assemble`` interleaves them in that order.
- Two things can reach across roots in the joint build, and an estate that has either is
  built jointly instead (the result is then the joint build by definition):
  a managed resource with a literal ``id`` attribute (a live id that literal ids anywhere
  resolve to: ``Refs.by_live``, ``Estate.find_group``; not valid HCL for AWS resources,
  plan values have it), and a literal id containing ``#`` that begins with another root's
  ``<scope>#`` (it could name that root's instance or object by uid).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iacscan.model import Estate, Unknown
from iacscan.parsers import tf_model
from iacscan.parsers.tf_coerce import Refs
from iacscan.parsers.tf_types import ResourceInstance


@dataclass
class Fragment:
    """The model one root module's instances build, with what merging it needs."""

    estate: Estate
    #: ``len(estate.unresolved)`` at the end of each of ``tf_model.PHASES`` phases
    marks: list[int]
    #: the scopes of its instances (one: the root's directory; none when it has no instances)
    scopes: list[str] = field(default_factory=list)
    #: literal ids containing ``#`` that the build looked up (they might be another root's uid)
    literals: list[str] = field(default_factory=list)
    #: some managed instance carries a literal ``id`` (literal ids elsewhere resolve to it)
    live: bool = False


class _RecordingRefs(Refs):
    """``Refs`` that remembers the literal ids with a ``#`` it was asked to resolve."""

    def __init__(self, instances: list[ResourceInstance]) -> None:
        super().__init__(instances)
        self.literals: dict[str, None] = {}

    def uid(self, value: Any, scope: str, types: tuple[str, ...], what: str) -> str | Unknown | None:
        ref = super().uid(value, scope, types, what)
        if type(ref) is str and "#" in ref and isinstance(value, str):
            self.literals[ref] = None
        return ref


def build_fragment(instances: list[ResourceInstance]) -> Fragment:
    """The model of one root module's instances (``tf_model`` phases, this root alone)."""
    managed = [inst for inst in instances if inst.mode == "managed"]
    refs = _RecordingRefs(managed)
    estate = Estate()
    marks = tf_model.run_phases(instances, managed, refs, estate)
    return Fragment(estate, marks, sorted({inst.scope for inst in instances}), sorted(refs.literals),
                    bool(refs.by_live))


def joinable(fragments: list[Fragment]) -> bool:
    """Whether merging ``fragments`` gives the joint build (see the module docstring)."""
    if any(fragment.live for fragment in fragments):
        return False
    if not any(fragment.literals for fragment in fragments):
        return True
    owners: dict[str, set[int]] = {}
    for index, fragment in enumerate(fragments):
        for scope in fragment.scopes:
            owners.setdefault(scope, set()).add(index)
    for index, fragment in enumerate(fragments):
        for literal in fragment.literals:
            for at, char in enumerate(literal):
                if char == "#" and owners.get(literal[:at], {index}) != {index}:
                    return False
    return True


def assemble(fragments: list[Fragment], root: Path) -> Estate:
    """The fragments merged in order, notes in the joint build's order (phase by phase)."""
    estate = Estate(root=str(root))
    for fragment in fragments:
        estate.merge(fragment.estate)
    if len(fragments) > 1:
        notes = []
        starts = [0] * len(fragments)
        for phase in range(tf_model.PHASES):
            for index, fragment in enumerate(fragments):
                end = fragment.marks[phase]
                notes += fragment.estate.unresolved[starts[index]:end]
                starts[index] = end
        estate.unresolved = notes
    return estate


def build_roots(per_root: list[list[ResourceInstance]], root: Path) -> Estate:
    """The model of the roots' instances (each list: one root's, in root order): fragments
    merged, or the joint build when they cannot be."""
    fragments = [build_fragment(instances) for instances in per_root]
    if joinable(fragments):
        return assemble(fragments, root)
    return tf_model.build_estate([inst for instances in per_root for inst in instances], root, [])


def valid_marks(fragment: Fragment) -> bool:
    """Whether ``marks`` can be a fragment's (an entry read from disk is untrusted)."""
    marks, last = fragment.marks, 0
    if len(marks) != tf_model.PHASES:
        return False
    for mark in marks:
        if type(mark) is not int or mark < last:
            return False
        last = mark
    return last == len(fragment.estate.unresolved)
