"""The JSON report: the machine contract of DESIGN.md ("JSON output"), version 1.

Deterministic: findings sorted (file, line, rule id, resource), keys in a fixed order,
UTF-8 text kept as is (``ensure_ascii=False``), two-space indent, a final newline.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from iacscan import __version__
from iacscan.findings import Finding
from iacscan.model import json_ready
from iacscan.report import fingerprinted, summary
from iacscan.report.jsontext import dumps

if TYPE_CHECKING:
    from iacscan.scan import ScanResult

FORMAT_VERSION = 1


def document(result: ScanResult) -> dict[str, Any]:
    """The report as plain data (the keys in the contract's order)."""
    return {
        "version": FORMAT_VERSION,
        "tool": {"name": "iacscan", "version": __version__},
        "summary": summary(result),
        "findings": [finding_dict(f, fingerprint) for f, fingerprint in fingerprinted(result)],
        "errors": [{"file": e.file, "message": e.message} for e in result.estate.errors],
    }


#: The ``extra`` keys of a finding located at (or attributed to) a CloudTrail event.
EVENT_KEYS = ("event_id", "event_name", "event_time", "actor", "source_ip", "region")


def finding_dict(finding: Finding, fingerprint: str | None = None) -> dict[str, Any]:
    """One finding in the contract's shape; a finding located at a CloudTrail event
    (``iacscan events``) or attributed to one (``iacscan drift --attribute``) also has
    ``"event": {"event_id", "event_name", "event_time", "actor", "source_ip", "region"}``, and
    ``"revoked": {"event_id", "event_time", "actor"}`` in it when a later event revoked the rule.
    ``fingerprint``: the finding's, when the caller has it already."""
    out = _finding_dict(finding, finding.fingerprint if fingerprint is None else fingerprint)
    if finding.extra.get("event_id"):
        out["event"] = {key: plain(finding.extra.get(key, "")) for key in EVENT_KEYS}
        if isinstance(finding.extra.get("revoked"), dict):  # a later event revoked the rule
            out["event"]["revoked"] = plain(finding.extra["revoked"])
    return out


def _finding_dict(finding: Finding, fingerprint: str) -> dict[str, Any]:
    return {
        "rule_id": finding.rule_id,
        "severity": finding.severity.value,
        "title": finding.title,
        "message": finding.message,
        "resource": finding.resource,
        "file": finding.file,
        "line": finding.line,
        "environment": finding.environment,
        "fingerprint": fingerprint,
        "details": plain(finding.details),
        "path": [str(step) for step in finding.path],
        "remediation": dict(finding.remediation),
    }


def plain(value: Any) -> Any:
    """``value`` with model values (Unknown, enums) turned into JSON types, key order kept."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((plain(v) for v in value), key=str)
    value = json_ready(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def render(result: ScanResult) -> str:
    """The JSON report text."""
    return dumps(document(result)) + "\n"
