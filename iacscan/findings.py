"""Findings and severities: what rules produce and reporters format."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Severity(str, Enum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        """The severity named by ``text`` (case-insensitive); ValueError otherwise."""
        try:
            return cls(text.lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None


#: ``json.dumps(value, sort_keys=True, default=str)``, without building an encoder per call.
_BASIS = json.JSONEncoder(sort_keys=True, default=str)
#: The instance attribute (not a dataclass field) holding a finding's fingerprint and its basis.
_MEMO = "_fingerprint_memo"

_RANK = {Severity.INFO: 0, Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


@dataclass
class Finding:
    """One problem found: which rule, where, and how to fix it.

    ``resource`` is the public address (Terraform address, CloudFormation logical id or
    live id); ``uid`` the scan-wide unique id it came from. ``details`` holds the facts
    that identify the finding within its resource (protocol, ports, peer…) and go into
    the fingerprint; ``extra`` holds facts that do not (e.g. the share of address space).
    """

    rule_id: str
    severity: Severity
    title: str
    message: str
    resource: str
    file: str
    line: int
    uid: str = ""
    environment: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    remediation: dict[str, str] = field(default_factory=dict)
    scope: str = ""  # module directory / template file / live region; part of the fingerprint

    @property
    def fingerprint(self) -> str:
        """A stable hash of what the finding is, never of where its line is.

        Computed once per finding (sorting, reports and baselines all ask for it) and kept
        while the fields it is made of are the same objects; a finding is never changed in
        place once made (``dataclasses.replace`` gives a new one, with no memo).
        """
        memo = self.__dict__.get(_MEMO)
        if memo is not None and memo[1] is self.rule_id and memo[2] is self.scope \
                and memo[3] is self.resource and memo[4] is self.details and memo[5] is self.path:
            return memo[0]
        basis = _BASIS.encode([self.rule_id, self.scope, self.resource, self.details, self.path])
        fingerprint = hashlib.sha256(basis.encode()).hexdigest()[:32]
        self.__dict__[_MEMO] = (fingerprint, self.rule_id, self.scope, self.resource, self.details, self.path)
        return fingerprint

    def sort_key(self) -> tuple[str, int, str, str, str]:
        return (self.file, self.line, self.rule_id, self.resource, self.fingerprint)
