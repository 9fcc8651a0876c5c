"""The JSON report: the machine contract of DESIGN.md ("JSON output"), version 1.

Deterministic: findings sorted (file, line, rule id, resource), keys in a fixed order,
UTF-8 text kept as is (``ensure_ascii=False``), two-space indent, a final newline.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from iacscan import __version__
from iacscan.findings import Finding, Severity
from iacscan.model import json_ready
from iacscan.report import fingerprinted, summary
from iacscan.report.jsontext import WrittenArray, dumps, string, text_array, text_object, write, write_into

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
    """The JSON report text: ``dumps(document(result))`` and a newline, with the findings
    written by ``FindingWriter`` (the same text, without a dict per finding)."""
    doc = document_head(result)
    doc["findings"] = WrittenArray(fingerprinted(result), FindingWriter())
    doc["errors"] = [{"file": e.file, "message": e.message} for e in result.estate.errors]
    return dumps(doc, "\n")


def document_head(result: ScanResult) -> dict[str, Any]:
    """The keys of ``document`` before ``findings``."""
    return {"version": FORMAT_VERSION, "tool": {"name": "iacscan", "version": __version__},
            "summary": summary(result)}


class FindingWriter:
    """Writes ``(finding, fingerprint)`` as ``jsontext.write(finding_dict(finding, fingerprint),
    newline)`` does, faster: the parts shared by many findings (rule id, severity and title;
    the remediation texts, the bulk of a report, identical for findings of the same rule on
    the same resource and facts) are written once per report, the rest straight from the
    finding. A finding with anything unusual in it (a CloudTrail event, values that are not
    plain text) is written from its dict."""

    def __init__(self) -> None:
        self._heads: dict[tuple[Any, ...], str] = {}
        self._remediations: dict[tuple[Any, ...], str] = {}

    def __call__(self, item: tuple[Finding, str], newline: str, out: list[str]) -> None:
        finding, fingerprint = item
        environment = finding.environment
        if (finding.extra.get("event_id") or type(finding.message) is not str or type(finding.resource) is not str
                or type(finding.file) is not str or type(finding.line) is not int or type(fingerprint) is not str
                or not (environment is None or type(environment) is str)):
            write_into(finding_dict(finding, fingerprint), newline, out)
            return
        inner = newline + "  "
        head = self._head(finding, newline)
        remediation = self._remediation(finding.remediation, inner)
        if head is None or remediation is None:
            write_into(finding_dict(finding, fingerprint), newline, out)
            return
        details = text_object(finding.details, inner)
        if details is None:
            details = write(plain(finding.details), inner)
        out += (
            head, ",", inner, '"message": ', string(finding.message), ",", inner, '"resource": ',
            string(finding.resource), ",", inner, '"file": ', string(finding.file), ",", inner, '"line": ',
            int.__repr__(finding.line), ",", inner, '"environment": ',
            "null" if environment is None else string(environment), ",", inner, '"fingerprint": ',
            string(fingerprint), ",", inner, '"details": ', details, ",", inner,
            '"path": ', text_array(finding.path, inner), ",", inner, '"remediation": ', remediation, newline, "}",
        )

    def _head(self, finding: Finding, newline: str) -> str | None:
        """``{`` and the rule id, severity and title (None when they are not plain text)."""
        key = (finding.rule_id, finding.severity, finding.title, newline)
        head = self._heads.get(key)
        if head is None:
            severity = finding.severity
            if not (type(key[0]) is str and type(key[2]) is str and type(severity) is Severity):
                return None
            inner = newline + "  "
            head = self._heads[key] = (
                "{" + inner + '"rule_id": ' + string(finding.rule_id) + "," + inner + '"severity": '
                + string(severity.value) + "," + inner + '"title": ' + string(finding.title))
        return head

    def _remediation(self, remediation: dict[str, str], newline: str) -> str | None:
        """The remediation object, kept by its items (None when they are not all exact ``str``:
        values of other types can be equal as keys and be written differently, 1 and True)."""
        try:
            key = (newline, *remediation.items())
            text = self._remediations.get(key)
        except (TypeError, AttributeError):  # not a dict, or values that cannot be keys
            return None
        if text is None:
            text = text_object(remediation, newline)
            if text is not None:
                self._remediations[key] = text
        return text
