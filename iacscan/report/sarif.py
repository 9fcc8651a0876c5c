"""The SARIF 2.1.0 report, shaped for GitHub code scanning (REFERENCES.md section 7).

One run; ``tool.driver.rules`` lists every registered rule (sorted by id, so a rule's
``ruleIndex`` only changes when rules are added) plus any id a result uses that is not
registered (IAC003, the internal-error finding). Every result has a location: findings
without a file (live state, internal errors) point at their resource name.
``partialFingerprints.primaryLocationLineHash`` is the finding's fingerprint, which never
contains a line number, so alerts survive code moving up and down.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from iacscan import __version__
from iacscan.findings import Finding, Severity
from iacscan.report import fingerprinted
from iacscan.report.escape import sarif_message
from iacscan.report.json_report import plain
from iacscan.report.jsontext import WrittenArray, dumps, string, text_array, text_object, write, write_into
from iacscan.report.ruledoc import doc_markdown, remediation_markdown, summary_paragraph
from iacscan.rules.base import RuleMeta, iter_rules

if TYPE_CHECKING:
    from iacscan.scan import ScanResult

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
#: The project's home page; left empty (and omitted from the log) until the project has one.
INFORMATION_URI = ""
LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
          Severity.LOW: "note", Severity.INFO: "note"}
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5",
                     Severity.LOW: "3.0", Severity.INFO: "1.0"}
FAMILY_TAGS = {"parse": "parse-error", "sg": "security-group", "env": "environment",
               "net": "reachability", "aws": "aws-configuration", "drift": "drift"}
#: Reachability is inferred across several resources and unknowns: medium precision.
PRECISION = {"net": "medium"}
_MAX_TEXT = 1024


def render(result: ScanResult) -> str:
    """The SARIF log as JSON text (deterministic: sorted rules and results, fixed keys):
    ``dumps(document(result))`` and a newline, the results written by ``ResultWriter``."""
    return dumps(_document_text(result), "\n")


def document(result: ScanResult) -> dict[str, Any]:
    """The SARIF log as plain data."""
    keyed, index, driver = _run_parts(result)
    run = {"tool": {"driver": driver}, "results": [_result(f, index[f.rule_id], fingerprint) for f, fingerprint in keyed]}
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _document_text(result: ScanResult) -> dict[str, Any]:
    """``document(result)`` with the results as a ``WrittenArray`` (``ResultWriter``)."""
    keyed, index, driver = _run_parts(result)
    results = WrittenArray([(f, index[f.rule_id], fingerprint) for f, fingerprint in keyed], ResultWriter())
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results}]}


def _run_parts(result: ScanResult) -> tuple[list[tuple[Finding, str]], dict[str, int], dict[str, Any]]:
    """The sorted findings with their fingerprints, each rule's index, and the ``tool.driver``."""
    keyed = fingerprinted(result)
    descriptors = _descriptors([finding for finding, _ in keyed])
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    driver: dict[str, Any] = {"name": "iacscan", "semanticVersion": __version__}
    if INFORMATION_URI:
        driver["informationUri"] = INFORMATION_URI
    driver["rules"] = descriptors
    return keyed, index, driver


class ResultWriter:
    """Writes ``(finding, rule_index, fingerprint)`` as ``jsontext.write(_result(...), newline)``
    does, faster: straight from the finding's fields, with the parts many results share
    (rule id, index and level; a file's URI) written once per report. A finding with
    values that are not plain text is written from its dict."""

    def __init__(self) -> None:
        self._heads: dict[tuple[Any, ...], str] = {}
        self._uris: dict[str, str] = {}
        self._frames: dict[str, tuple[str, ...]] = {}

    def __call__(self, item: tuple[Finding, int, str], newline: str, out: list[str]) -> None:
        finding, rule_index, fingerprint = item
        if not _plain_result(finding, rule_index, fingerprint):
            write_into(_result(finding, rule_index, fingerprint), newline, out)
            return
        frame = self._frames.get(newline) or self._frame(newline)
        details = finding.details
        details_text = "" if not details else text_object(details, frame[10])
        if details_text is None:
            details_text = write(plain(details), frame[10])
        head_key = (finding.rule_id, rule_index, finding.severity, newline)
        head = self._heads.get(head_key)
        if head is None:
            head = self._heads[head_key] = frame[0].join(
                ["{", '"ruleId": ' + string(finding.rule_id) + ",", '"ruleIndex": ' + int.__repr__(rule_index) + ",",
                 '"level": ' + string(LEVELS[finding.severity]) + ",", '"message": {'])
        file = finding.file or finding.resource or "unknown"
        uri = self._uris.get(file)
        if uri is None:
            uri = self._uris[file] = string(quote(file, safe="/"))
        environment = finding.environment
        out += (
            head, frame[1], string(sarif_message(finding.message or finding.title)), frame[2], uri, frame[3],
            int.__repr__(max(finding.line, 1)), frame[4], string(fingerprint), frame[5], string(fingerprint),
            frame[6], string(finding.severity._value_), frame[7], string(finding.resource), frame[8],
            "null" if environment is None else string(environment), frame[9],
            text_array(finding.path, frame[10]), frame[11] if details else "", details_text, frame[12],
        )

    def _frame(self, newline: str) -> tuple[str, ...]:
        """The fixed text between the values of a result whose own indent is ``newline``."""
        n1, n2, n3, n4, n5 = (newline + "  " * k for k in range(1, 6))
        frame = (
            n1,
            n2 + '"text": ',
            n1 + "}," + n1 + '"locations": [' + n2 + "{" + n3 + '"physicalLocation": {' + n4
            + '"artifactLocation": {' + n5 + '"uri": ',
            n4 + "}," + n4 + '"region": {' + n5 + '"startLine": ',
            n4 + "}" + n3 + "}" + n2 + "}" + n1 + "]," + n1 + '"partialFingerprints": {' + n2
            + '"primaryLocationLineHash": ',
            n1 + "}," + n1 + '"fingerprints": {' + n2 + '"iacscan/v1": ',
            n1 + "}," + n1 + '"properties": {' + n2 + '"severity": ',
            "," + n2 + '"resource": ',
            "," + n2 + '"environment": ',
            "," + n2 + '"path": ',
            n2,
            "," + n2 + '"details": ',
            n1 + "}" + newline + "}",
        )
        self._frames[newline] = frame
        return frame


def _plain_result(finding: Finding, rule_index: int, fingerprint: str) -> bool:
    """True when ``ResultWriter`` may write ``finding`` from its fields: those it writes directly
    are exact ``str`` (``int`` for the line and index), as ``_result`` keeps them."""
    return (type(finding.rule_id) is str and type(finding.resource) is str and type(finding.file) is str
            and type(finding.message) is str and type(finding.title) is str and type(finding.line) is int
            and type(rule_index) is int and type(fingerprint) is str
            and (finding.environment is None or type(finding.environment) is str)
            and type(finding.severity) is Severity)


def _descriptors(findings: list[Finding]) -> list[dict[str, Any]]:
    by_id = {r.meta.id: rule_descriptor(r.meta) for r in iter_rules()}
    for finding in findings:
        if finding.rule_id not in by_id:
            by_id[finding.rule_id] = _adhoc_descriptor(finding)
    return [by_id[rule_id] for rule_id in sorted(by_id)]


def rule_descriptor(meta: RuleMeta) -> dict[str, Any]:
    """A ``reportingDescriptor`` for a registered rule."""
    doc = meta.doc.strip() or meta.title
    markdown = "\n\n".join([doc_markdown(doc), remediation_markdown(meta.remediation)])
    return {
        "id": meta.id,
        "name": rule_name(meta.title),
        "shortDescription": {"text": _cut(meta.title)},
        "fullDescription": {"text": _cut(summary_paragraph(doc) or meta.title)},
        "help": {"text": doc + _remediation_text(meta), "markdown": markdown},
        "defaultConfiguration": {"level": LEVELS[meta.severity]},
        "properties": {
            "tags": ["security", "aws", FAMILY_TAGS.get(meta.family, meta.family)],
            "security-severity": SECURITY_SEVERITY[meta.severity],
            "precision": PRECISION.get(meta.family, "high"),
        },
    }


def _adhoc_descriptor(finding: Finding) -> dict[str, Any]:
    title = finding.title or finding.rule_id
    return {
        "id": finding.rule_id, "name": rule_name(title),
        "shortDescription": {"text": _cut(title)}, "fullDescription": {"text": _cut(title)},
        "help": {"text": title, "markdown": title},
        "defaultConfiguration": {"level": LEVELS[finding.severity]},
        "properties": {"tags": ["security"], "security-severity": SECURITY_SEVERITY[finding.severity],
                       "precision": "high"},
    }


def _result(finding: Finding, rule_index: int, fingerprint: str) -> dict[str, Any]:
    region = {"startLine": max(finding.line, 1)}
    uri = quote(finding.file, safe="/") if finding.file else quote(finding.resource or "unknown", safe="/")
    properties = {"severity": finding.severity.value, "resource": finding.resource,
                  "environment": finding.environment, "path": [str(p) for p in finding.path]}
    if finding.details:
        properties["details"] = plain(finding.details)
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": sarif_message(finding.message or finding.title)},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": region}}],
        "partialFingerprints": {"primaryLocationLineHash": fingerprint},
        "fingerprints": {"iacscan/v1": fingerprint},
        "properties": properties,
    }


def rule_name(title: str) -> str:
    """A SARIF rule ``name``: the title in PascalCase (``Internet to sensitive port`` →
    ``InternetToSensitivePort``)."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    return "".join(w[:1].upper() + w[1:] for w in words)[:255] or "Rule"


def _remediation_text(meta: RuleMeta) -> str:
    summary = meta.remediation.summary.strip()
    return f"\n\nRemediation: {summary}" if summary else ""


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"
